/**
 * CHUNK (docs/PROTOCOL.md §11.6): checks a part against its own fields and its CRC-32, stores it in the
 * upload store (any order, duplicates ignored), and completes the object when the last part is in:
 * read the parts, check their total, store the object, mark the upload complete (set-if-absent, so a
 * racing completion on another link answers with the same id). The answer is CHUNK_ACK, or a refusal
 * (ACK REJECTED) the client must not retry unchanged.
 */
import type { Chunk, ChunkAck } from "../../gen/syncwire/v1/chunk_pb.js";
import { crc32 } from "../crc32.js";
import type { ServerStores, UploadLimits, UploadState } from "../stores.js";

/** What a CHUNK needs from its connection. */
export interface UploadContext {
  readonly stores: ServerStores;
  readonly user: string;
  readonly now: number;
  readonly limits: UploadLimits;
}

/** Most indexes a CHUNK_ACK lists as missing. */
export const MAX_MISSING_LISTED = 1024;

/** Longest upload_id accepted. */
export const MAX_UPLOAD_ID_LENGTH = 256;

/** The answer to a CHUNK. */
export type ChunkOutcome = { readonly ack: ChunkAck } | { readonly refused: string };

/**
 * The lowest indexes below `partCount` not in the ascending `received`, at most MAX_MISSING_LISTED.
 * @returns a fresh array; never throws.
 */
export function missingParts(received: readonly number[], partCount: number): number[] {
  const missing: number[] = [];
  let r = 0;
  for (let i = 0; i < partCount && missing.length < MAX_MISSING_LISTED; i++) {
    while (r < received.length && received[r]! < i) r++;
    if (received[r] !== i) missing.push(i);
  }
  return missing;
}

function chunkAck(uploadId: string, received: number[], missing: number[], objectId = ""): ChunkAck {
  return { $typeName: "syncwire.v1.ChunkAck", uploadId, received, missing, complete: objectId !== "", objectId };
}

function answer(chunk: Chunk, state: UploadState | undefined, storedNow: boolean): ChunkAck {
  if (state?.objectId !== undefined) return chunkAck(chunk.uploadId, [chunk.partIndex], [], state.objectId);
  const received = state?.received ?? [];
  const has = storedNow || received.includes(chunk.partIndex);
  return chunkAck(chunk.uploadId, has ? [chunk.partIndex] : [], missingParts(received, state?.meta.partCount ?? chunk.partCount));
}

/** Why a part is refused on its own fields, or undefined. */
function invalid(chunk: Chunk, limits: UploadLimits): string | undefined {
  if (chunk.uploadId === "" || chunk.uploadId.length > MAX_UPLOAD_ID_LENGTH) return `upload_id must have 1 to ${MAX_UPLOAD_ID_LENGTH} characters`;
  if (chunk.totalSize > BigInt(limits.maxObjectSize)) return `TOO_LARGE: total_size ${chunk.totalSize} exceeds the limit of ${limits.maxObjectSize} bytes`;
  const total = Number(chunk.totalSize);
  if (chunk.partCount < 1 || chunk.partCount > Math.max(1, total)) return `META_MISMATCH: part_count ${chunk.partCount} does not fit total_size ${total}`;
  if (chunk.partIndex >= chunk.partCount) return `META_MISMATCH: part_index ${chunk.partIndex} is not below part_count ${chunk.partCount}`;
  if (chunk.data.byteLength > total) return `META_MISMATCH: ${chunk.data.byteLength} bytes of data exceed total_size ${total}`;
  return undefined;
}

/**
 * Handles one CHUNK of the authenticated user's upload.
 * @returns the CHUNK_ACK, or the reason for an ACK REJECTED.
 * @throws (rejects) whatever a store call rejects with; nothing was answered then.
 */
export async function acceptChunk(ctx: UploadContext, chunk: Chunk): Promise<ChunkOutcome> {
  const { stores, user, limits, now } = ctx;
  const reason = invalid(chunk, limits);
  if (reason !== undefined) return { refused: reason };
  if (crc32(chunk.data) !== chunk.crc32) {
    // Not stored: the answer lists it as missing (unless an intact copy is already in), the client resends.
    return { ack: answer(chunk, await stores.uploads.state(user, chunk.uploadId, limits, now), false) };
  }
  const meta = { partCount: chunk.partCount, totalSize: chunk.totalSize, contentType: chunk.contentType };
  const result = await stores.uploads.putPart(user, chunk.uploadId, meta, chunk.partIndex, chunk.data.slice(), limits, now);
  if ("refused" in result) return { refused: result.refused };
  if (result.objectId !== undefined || result.received.length < result.meta.partCount) return { ack: answer(chunk, result, true) };
  if (BigInt(result.receivedBytes) !== result.meta.totalSize) {
    return { refused: `META_MISMATCH: the parts hold ${result.receivedBytes} bytes, total_size is ${result.meta.totalSize}` };
  }
  const parts = await stores.uploads.readParts(user, chunk.uploadId);
  if (parts === undefined) {
    // Completed (or expired) by a racing call between our putPart and this read: report what stands.
    return { ack: answer(chunk, await stores.uploads.state(user, chunk.uploadId, limits, now), true) };
  }
  const bytes = new Uint8Array(result.receivedBytes);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.byteLength;
  }
  const objectId = await stores.objects.put(user, result.meta.contentType, bytes);
  const standing = await stores.uploads.complete(user, chunk.uploadId, objectId, limits, now);
  return { ack: chunkAck(chunk.uploadId, [chunk.partIndex], [], standing) };
}
