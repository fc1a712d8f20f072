/**
 * Hand-written encoders for every body message (and the messages nested in them). Each writes exactly the bytes protobuf-es's `toBinary` writes — fields in number
 * order, default values of implicit-presence fields left out, `optional` fields written when present
 * even if empty, unknown fields (`$unknown`) last — which test/bodies/fast-path.test.ts proves.
 *
 * Anything that is not a well-typed value (a `number` where a `bigint` belongs, a value out of range,
 * a malformed `$unknown`) makes the encoder give up with {@link Bail}; the codec then runs protobuf-es,
 * which either accepts the value its own way or throws. So the fast path never has to reproduce
 * protobuf-es's handling of bad input to stay equivalent.
 */
import type { Ack, MediaRef, MessagePacket } from "../gen/syncwire/v1/message_pb.js";
import type { Chunk, ChunkAck } from "../gen/syncwire/v1/chunk_pb.js";
import type { Capabilities, Disconnect, Heartbeat, HeartbeatAck, Hello, Limits, Welcome } from "../gen/syncwire/v1/session_pb.js";
import type { Notify, SyncCommit, SyncKey, SyncKeyEntry, SyncRequest, SyncResult } from "../gen/syncwire/v1/sync_pb.js";
import { MAX_U32 } from "../wire/bytes.js";
import { Op } from "../wire/ops.js";
import type { BodyWriter } from "./writer.js";

/** A hand-written encoder: the message's fields at the writer's position; throws {@link Bail} to defer to protobuf-es. */
export type FastWrite = (w: BodyWriter, m: never) => void;

/** Thrown (never escapes the codec) when a value needs protobuf-es's judgement. */
export class Bail {
  private constructor() {}
  /** The one instance. */
  static readonly it = new Bail();
}

const MAX_U64 = 0xffff_ffff_ffff_ffffn;

function u64(v: unknown): bigint {
  if (typeof v !== "bigint" || v < 0n || v > MAX_U64) throw Bail.it;
  return v;
}

/**
 * A uint64 field with implicit presence: nothing when 0, else its tag and varint. Values below 2^53 (every
 * timestamp and id in practice) go through one `Number()` conversion instead of several `bigint`
 * comparisons, which cost more than the rest of a small message.
 */
function uint64Field(w: BodyWriter, tag: number, v: unknown): void {
  if (typeof v !== "bigint") throw Bail.it;
  const n = Number(v);
  // Exact, and the value itself, whenever the double lands in 0…2^53 − 1 (larger bigints round to ≥ 2^53).
  if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) {
    if (n === 0) return;
    w.uint32(tag);
    if (n <= MAX_U32) w.uint32(n);
    else w.varint64Parts(n >>> 0, (n - (n >>> 0)) / 0x1_0000_0000);
    return;
  }
  if (v < 0n || v > MAX_U64) throw Bail.it;
  w.uint32(tag);
  w.uint64(v);
}

function u32(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > MAX_U32) throw Bail.it;
  return v;
}

function i32(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < -0x8000_0000 || v > 0x7fff_ffff) throw Bail.it;
  return v;
}

function str(v: unknown): string {
  if (typeof v !== "string") throw Bail.it;
  return v;
}

function bin(v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw Bail.it;
  return v;
}

function bool(v: unknown): boolean {
  if (typeof v !== "boolean") throw Bail.it;
  return v;
}

/** A repeated uint32 field, packed as protobuf-es writes it (nothing when empty). */
function writePackedUint32(w: BodyWriter, tag: number, list: unknown): void {
  if (!Array.isArray(list)) throw Bail.it;
  const n = list.length;
  if (n === 0) return;
  w.uint32(tag);
  const at = w.beginNested();
  for (let i = 0; i < n; i++) w.uint32(u32(list[i]));
  w.endNested(at);
}

/** A singular message field: tag, length, then `write`'s fields; nothing when the field is unset. */
function writeMessageField<M>(w: BodyWriter, tag: number, m: M | undefined, write: (w: BodyWriter, m: M) => void): void {
  if (m === undefined) return;
  w.uint32(tag);
  const at = w.beginNested();
  write(w, m);
  w.endNested(at);
}

function checkType(m: { $typeName?: unknown } | undefined, typeName: string): void {
  if (m === null || typeof m !== "object" || m.$typeName !== typeName) throw Bail.it;
}

/** Writes `$unknown` (if any) as protobuf-es does: tag, then the stored value bytes. */
function writeUnknown(w: BodyWriter, unknown: unknown): void {
  if (unknown === undefined) return;
  if (!Array.isArray(unknown)) throw Bail.it;
  for (const field of unknown as unknown[]) {
    if (field === null || typeof field !== "object") throw Bail.it;
    const { no, wireType, data } = field as { no: unknown; wireType: unknown; data: unknown };
    if (typeof no !== "number" || !Number.isInteger(no) || no < 1 || no > 0x1fff_ffff) throw Bail.it;
    if (typeof wireType !== "number" || !Number.isInteger(wireType) || wireType < 0 || wireType > 5) throw Bail.it;
    w.uint32(((no << 3) | wireType) >>> 0);
    w.raw(bin(data));
  }
}

/** MediaRef's fields (no tag, no length). */
export function writeMediaRef(w: BodyWriter, m: MediaRef): void {
  checkType(m, "syncwire.v1.MediaRef");
  const objectId = str(m.objectId);
  if (objectId.length > 0) {
    w.uint32(10);
    w.string(objectId);
  }
  const contentType = str(m.contentType);
  if (contentType.length > 0) {
    w.uint32(18);
    w.string(contentType);
  }
  uint64Field(w, 24, m.size);
  if (m.thumbnail !== undefined) {
    w.uint32(34);
    w.bytes(bin(m.thumbnail));
  }
  writeUnknown(w, m.$unknown);
}

/** MessagePacket's fields. */
export function writeMessagePacket(w: BodyWriter, m: MessagePacket): void {
  checkType(m, "syncwire.v1.MessagePacket");
  const clientMsgId = u64(m.clientMsgId);
  if (clientMsgId !== 0n) {
    w.uint32(9);
    w.fixed64(clientMsgId);
  }
  uint64Field(w, 16, m.serverMsgId);
  const conversationId = str(m.conversationId);
  if (conversationId.length > 0) {
    w.uint32(26);
    w.string(conversationId);
  }
  const senderId = str(m.senderId);
  if (senderId.length > 0) {
    w.uint32(34);
    w.string(senderId);
  }
  const recipientId = str(m.recipientId);
  if (recipientId.length > 0) {
    w.uint32(42);
    w.string(recipientId);
  }
  const kind = i32(m.kind);
  if (kind !== 0) {
    w.uint32(48);
    w.int32(kind);
  }
  const content = bin(m.content);
  if (content.byteLength > 0) {
    w.uint32(58);
    w.bytes(content);
  }
  if (m.media !== undefined) {
    w.uint32(66);
    const at = w.beginNested();
    writeMediaRef(w, m.media);
    w.endNested(at);
  }
  uint64Field(w, 72, m.createdAtMs);
  writeUnknown(w, m.$unknown);
}

/** Ack's fields. */
export function writeAck(w: BodyWriter, m: Ack): void {
  checkType(m, "syncwire.v1.Ack");
  const status = i32(m.status);
  if (status !== 0) {
    w.uint32(8);
    w.int32(status);
  }
  const clientMsgId = u64(m.clientMsgId);
  if (clientMsgId !== 0n) {
    w.uint32(17);
    w.fixed64(clientMsgId);
  }
  uint64Field(w, 24, m.serverMsgId);
  uint64Field(w, 32, m.serverTimeMs);
  const error = str(m.error);
  if (error.length > 0) {
    w.uint32(42);
    w.string(error);
  }
  writeUnknown(w, m.$unknown);
}

/** SyncKeyEntry's fields. */
export function writeSyncKeyEntry(w: BodyWriter, m: SyncKeyEntry): void {
  checkType(m, "syncwire.v1.SyncKeyEntry");
  const key = u32(m.key);
  if (key !== 0) {
    w.uint32(8);
    w.uint32(key);
  }
  uint64Field(w, 16, m.version);
  writeUnknown(w, m.$unknown);
}

/** SyncKey's fields. */
export function writeSyncKey(w: BodyWriter, m: SyncKey): void {
  checkType(m, "syncwire.v1.SyncKey");
  const entries: unknown = m.entries;
  if (!Array.isArray(entries)) throw Bail.it;
  for (const entry of entries as SyncKeyEntry[]) {
    w.uint32(10);
    const at = w.beginNested();
    writeSyncKeyEntry(w, entry);
    w.endNested(at);
  }
  writeUnknown(w, m.$unknown);
}

// ---- sync.proto ----

/** Notify's fields. */
export function writeNotify(w: BodyWriter, m: Notify): void {
  checkType(m, "syncwire.v1.Notify");
  writeMessageField(w, 10, m.syncKey, writeSyncKey);
  const selector = u32(m.selector);
  if (selector !== 0) {
    w.uint32(16);
    w.uint32(selector);
  }
  writeUnknown(w, m.$unknown);
}

/** SyncRequest's fields. */
export function writeSyncRequest(w: BodyWriter, m: SyncRequest): void {
  checkType(m, "syncwire.v1.SyncRequest");
  writeMessageField(w, 10, m.syncKey, writeSyncKey);
  const limit = u32(m.limit);
  if (limit !== 0) {
    w.uint32(16);
    w.uint32(limit);
  }
  writeUnknown(w, m.$unknown);
}

/** SyncResult's fields. */
export function writeSyncResult(w: BodyWriter, m: SyncResult): void {
  checkType(m, "syncwire.v1.SyncResult");
  const messages: unknown = m.messages;
  if (!Array.isArray(messages)) throw Bail.it;
  for (const message of messages as MessagePacket[]) {
    w.uint32(10);
    const at = w.beginNested();
    writeMessagePacket(w, message);
    w.endNested(at);
  }
  writeMessageField(w, 18, m.syncKey, writeSyncKey);
  if (bool(m.hasMore)) {
    w.uint32(24);
    w.uint32(1);
  }
  writeUnknown(w, m.$unknown);
}

/** SyncCommit's fields. */
export function writeSyncCommit(w: BodyWriter, m: SyncCommit): void {
  checkType(m, "syncwire.v1.SyncCommit");
  writeMessageField(w, 10, m.syncKey, writeSyncKey);
  writeUnknown(w, m.$unknown);
}

// ---- session.proto ----

/** Capabilities' fields. */
export function writeCapabilities(w: BodyWriter, m: Capabilities): void {
  checkType(m, "syncwire.v1.Capabilities");
  const maxFrameSize = u32(m.maxFrameSize);
  if (maxFrameSize !== 0) {
    w.uint32(8);
    w.uint32(maxFrameSize);
  }
  if (bool(m.batching)) {
    w.uint32(16);
    w.uint32(1);
  }
  writeUnknown(w, m.$unknown);
}

/** Hello's fields. */
export function writeHello(w: BodyWriter, m: Hello): void {
  checkType(m, "syncwire.v1.Hello");
  writePackedUint32(w, 10, m.versions);
  const clientId = str(m.clientId);
  if (clientId.length > 0) {
    w.uint32(18);
    w.string(clientId);
  }
  const token = str(m.token);
  if (token.length > 0) {
    w.uint32(26);
    w.string(token);
  }
  writeMessageField(w, 34, m.capabilities, writeCapabilities);
  writeMessageField(w, 42, m.syncKey, writeSyncKey);
  writeUnknown(w, m.$unknown);
}

/** Limits' fields. */
export function writeLimits(w: BodyWriter, m: Limits): void {
  checkType(m, "syncwire.v1.Limits");
  const maxFrameSize = u32(m.maxFrameSize);
  if (maxFrameSize !== 0) {
    w.uint32(8);
    w.uint32(maxFrameSize);
  }
  const maxBatchFrames = u32(m.maxBatchFrames);
  if (maxBatchFrames !== 0) {
    w.uint32(16);
    w.uint32(maxBatchFrames);
  }
  const maxInFlight = u32(m.maxInFlight);
  if (maxInFlight !== 0) {
    w.uint32(24);
    w.uint32(maxInFlight);
  }
  writeUnknown(w, m.$unknown);
}

/** Welcome's fields. */
export function writeWelcome(w: BodyWriter, m: Welcome): void {
  checkType(m, "syncwire.v1.Welcome");
  const version = u32(m.version);
  if (version !== 0) {
    w.uint32(8);
    w.uint32(version);
  }
  const sessionId = str(m.sessionId);
  if (sessionId.length > 0) {
    w.uint32(18);
    w.string(sessionId);
  }
  const heartbeatIntervalMs = u32(m.heartbeatIntervalMs);
  if (heartbeatIntervalMs !== 0) {
    w.uint32(24);
    w.uint32(heartbeatIntervalMs);
  }
  writeMessageField(w, 34, m.limits, writeLimits);
  uint64Field(w, 40, m.serverTimeMs);
  writeUnknown(w, m.$unknown);
}

/** Heartbeat's fields. */
export function writeHeartbeat(w: BodyWriter, m: Heartbeat): void {
  checkType(m, "syncwire.v1.Heartbeat");
  uint64Field(w, 8, m.clientTimeMs);
  writeUnknown(w, m.$unknown);
}

/** HeartbeatAck's fields. */
export function writeHeartbeatAck(w: BodyWriter, m: HeartbeatAck): void {
  checkType(m, "syncwire.v1.HeartbeatAck");
  uint64Field(w, 8, m.clientTimeMs);
  uint64Field(w, 16, m.serverTimeMs);
  writeUnknown(w, m.$unknown);
}

/** Disconnect's fields. */
export function writeDisconnect(w: BodyWriter, m: Disconnect): void {
  checkType(m, "syncwire.v1.Disconnect");
  const code = i32(m.code);
  if (code !== 0) {
    w.uint32(8);
    w.int32(code);
  }
  const reason = str(m.reason);
  if (reason.length > 0) {
    w.uint32(18);
    w.string(reason);
  }
  const retryAfterMs = u32(m.retryAfterMs);
  if (retryAfterMs !== 0) {
    w.uint32(24);
    w.uint32(retryAfterMs);
  }
  writeUnknown(w, m.$unknown);
}

// ---- chunk.proto ----

/** Chunk's fields. */
export function writeChunk(w: BodyWriter, m: Chunk): void {
  checkType(m, "syncwire.v1.Chunk");
  const uploadId = str(m.uploadId);
  if (uploadId.length > 0) {
    w.uint32(10);
    w.string(uploadId);
  }
  const partIndex = u32(m.partIndex);
  if (partIndex !== 0) {
    w.uint32(16);
    w.uint32(partIndex);
  }
  const partCount = u32(m.partCount);
  if (partCount !== 0) {
    w.uint32(24);
    w.uint32(partCount);
  }
  uint64Field(w, 32, m.totalSize);
  const contentType = str(m.contentType);
  if (contentType.length > 0) {
    w.uint32(42);
    w.string(contentType);
  }
  const crc32 = u32(m.crc32);
  if (crc32 !== 0) {
    w.uint32(53);
    w.fixed32(crc32);
  }
  const data = bin(m.data);
  if (data.byteLength > 0) {
    w.uint32(58);
    w.bytes(data);
  }
  writeUnknown(w, m.$unknown);
}

/** ChunkAck's fields. */
export function writeChunkAck(w: BodyWriter, m: ChunkAck): void {
  checkType(m, "syncwire.v1.ChunkAck");
  const uploadId = str(m.uploadId);
  if (uploadId.length > 0) {
    w.uint32(10);
    w.string(uploadId);
  }
  writePackedUint32(w, 18, m.received);
  writePackedUint32(w, 26, m.missing);
  if (bool(m.complete)) {
    w.uint32(32);
    w.uint32(1);
  }
  const objectId = str(m.objectId);
  if (objectId.length > 0) {
    w.uint32(42);
    w.string(objectId);
  }
  writeUnknown(w, m.$unknown);
}

/** The writer of each typed op's body, indexed by op (see body-table.ts). */
export const BODY_WRITERS: readonly (FastWrite | undefined)[] = (() => {
  const table: (FastWrite | undefined)[] = [];
  table[Op.HEARTBEAT] = writeHeartbeat;
  table[Op.HEARTBEAT_ACK] = writeHeartbeatAck;
  table[Op.SEND] = writeMessagePacket;
  table[Op.ACK] = writeAck;
  table[Op.DISCONNECT] = writeDisconnect;
  table[Op.HELLO] = writeHello;
  table[Op.WELCOME] = writeWelcome;
  table[Op.NOTIFY] = writeNotify;
  table[Op.SYNC] = writeSyncRequest;
  table[Op.SYNC_RESULT] = writeSyncResult;
  table[Op.SYNC_COMMIT] = writeSyncCommit;
  table[Op.CHUNK] = writeChunk;
  table[Op.CHUNK_ACK] = writeChunkAck;
  return table;
})();
