/**
 * Uploads: an object split into parts, sent as CHUNK frames with a window of parts in flight, until a
 * CHUNK_ACK says `complete` with the object id (docs/PROTOCOL.md §11.6).
 *
 * Theory of operation. An upload is split when it first gets to the wire (the part size must fit the
 * server's `max_frame_size`, known only from WELCOME) and keeps that split for life. Each part is in
 * one state:
 *
 *   unsent ──pump──▶ in flight ──CHUNK_ACK lists it received──▶ acked
 *                     │   ▲  │
 *     timeout; its own │   │  └─ a later CHUNK_ACK lists it missing (its CHUNK was lost) ─┐
 *     ack without it ▼   │                                                              │
 *                    queued ◀─────── acked, but a later CHUNK_ACK lists it missing ◀──────┘
 *                              (the server dropped the upload after its idle timeout)
 *
 * - **Window**: at most `uploadWindow` parts of one upload in flight, and never more than the engine's
 *   in-flight budget. Queued parts (lowest index first) go before unsent ones.
 * - **Order of evidence**: every transmission gets an increasing `order`. A CHUNK_ACK answering the
 *   transmission of order `o` lists the server's missing parts *as of processing it*; a part sent before
 *   `o` (or acked by an answer before `o`) that it lists missing was lost, and only then is it sent
 *   again. Parts sent after `o` are left alone: the server had not seen them yet.
 * - **Retries**: each part may be sent again `maxPartRetries` times (timeouts, CRC refusals, losses);
 *   one more and the upload fails. A lost link puts in-flight parts back in the queue without counting.
 * - A CHUNK_ACK with `complete` finishes the upload (`done` resolves with the object id); ACK REJECTED
 *   answering any of its CHUNKs fails it. If every part is acked but no answer said `complete`, the
 *   last part is sent again as a probe: a CHUNK of a completed upload is answered `complete` (§11.6).
 *
 * The object's bytes are the caller's: parts are views of them (no copy until a CHUNK is encoded), so
 * they must not change until the upload ends.
 */
import { create } from "@bufbuild/protobuf";
import { ChunkSchema, type ChunkAck } from "../../gen/syncwire/v1/chunk_pb.js";
import { encodeBody } from "../../bodies/codec.js";
import { HEADER_SIZE } from "../../wire/header.js";
import { Op } from "../../wire/ops.js";
import { crc32 } from "../crc32.js";
import { SessionError } from "../errors.js";
import type { ResolvedClientOptions } from "./options.js";
import type { ClientPort } from "./port.js";

const UNSENT = 0;
const QUEUED = 1;
const IN_FLIGHT = 2;
const ACKED = 3;

/** Bytes the `data` field adds beyond the data: its tag and a length varint of up to 5 bytes. */
const DATA_FIELD_OVERHEAD = 1 + 5;

/** What `ClientEngine.upload()` returns. */
export interface UploadHandle {
  /** The upload's id (CHUNK.upload_id), as given or generated. */
  readonly uploadId: string;
  /**
   * Resolves with the object id once the server assembled the object; rejects with SessionError
   * `UPLOAD_FAILED` (refused, or a part unanswered too often) or `CLOSED` (the engine closed). A
   * rejection nobody awaits is not reported as unhandled: the `upload-failed` event says it too.
   */
  readonly done: Promise<{ objectId: string }>;
}

interface PartInFlight {
  seq: number;
  order: number;
  deadline: number;
}

/** One upload. Internal. */
export interface Upload {
  readonly id: string;
  readonly bytes: Uint8Array;
  readonly contentType: string;
  /** 0 until split. */
  partSize: number;
  partCount: number;
  partState: Uint8Array;
  /** Retransmissions per part so far. */
  attempts: Uint16Array;
  /** The `order` of the answer that acked each part. */
  ackedOrder: Float64Array;
  /** Parts to send again, ascending. */
  queue: number[];
  /** The lowest part never sent. */
  nextUnsent: number;
  readonly inFlight: Map<number, PartInFlight>;
  /** Every seq of this upload still routed on this link. */
  readonly seqs: Set<number>;
  ackedCount: number;
  finished: boolean;
  readonly resolve: (value: { objectId: string }) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The open uploads. See the theory of operation above. Internal: methods throw only where they say so,
 * and RangeError from a caller's `random()` that breaks its contract.
 */
export class Uploads {
  readonly #port: ClientPort;
  readonly #options: ResolvedClientOptions;
  readonly #uploads = new Map<string, Upload>();
  #order = 0;
  #inFlight = 0;

  constructor(port: ClientPort, options: ResolvedClientOptions) {
    this.#port = port;
    this.#options = options;
  }

  /** Parts in flight over all uploads (they count against `max_in_flight`). */
  get inFlightCount(): number {
    return this.#inFlight;
  }

  /** Uploads open now. */
  get size(): number {
    return this.#uploads.size;
  }

  /** True if an upload with this id is open. */
  has(uploadId: string): boolean {
    return this.#uploads.has(uploadId);
  }

  /**
   * Opens an upload (the engine checked the arguments and the bound).
   * @throws RangeError if even a one-byte part would not fit `maxFrameSize` with this id and content type.
   */
  start(uploadId: string, bytes: Uint8Array, contentType: string, maxFrameSize: number): UploadHandle {
    if (maxFrameSize - chunkOverhead(uploadId, contentType, bytes.byteLength) < 1) {
      throw new RangeError(`upload id and content type leave no room for data in a ${maxFrameSize}-byte frame`);
    }
    let resolve!: (value: { objectId: string }) => void;
    let reject!: (error: Error) => void;
    const done = new Promise<{ objectId: string }>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A handled branch, so an upload whose failure only the event reports raises no unhandled rejection.
    done.catch(() => undefined);
    this.#uploads.set(uploadId, {
      id: uploadId,
      bytes,
      contentType,
      partSize: 0,
      partCount: 0,
      partState: new Uint8Array(0),
      attempts: new Uint16Array(0),
      ackedOrder: new Float64Array(0),
      queue: [],
      nextUnsent: 0,
      inFlight: new Map(),
      seqs: new Set(),
      ackedCount: 0,
      finished: false,
      resolve,
      reject,
    });
    return { uploadId, done };
  }

  /** Sends parts while windows and the in-flight budget allow (the link is open). */
  pump(now: number): void {
    for (const upload of this.#uploads.values()) {
      if (upload.partSize === 0) this.#split(upload);
      while (!upload.finished && upload.inFlight.size < this.#options.uploadWindow) {
        if (!this.#port.canRequest()) return;
        const part = upload.queue.length > 0 ? upload.queue.shift()! : upload.nextUnsent < upload.partCount ? upload.nextUnsent++ : undefined;
        if (part === undefined) break;
        this.#transmit(upload, part, now);
      }
    }
  }

  /** WELCOME of a new link: uploads split for an earlier link must still fit this server's limit. */
  checkFit(maxFrameSize: number): void {
    for (const upload of this.#uploads.values()) {
      if (upload.partSize === 0) continue;
      const needed = chunkOverhead(upload.id, upload.contentType, upload.bytes.byteLength) + upload.partSize;
      if (needed > maxFrameSize) this.#fail(upload, `its ${needed}-byte parts exceed the server's max_frame_size (${maxFrameSize})`);
    }
  }

  /** A CHUNK_ACK answering the transmission of `part` with this `order` and `seq`. */
  onChunkAck(upload: Upload, part: number, order: number, seq: number, ack: ChunkAck): void {
    this.#port.forget(seq);
    upload.seqs.delete(seq);
    if (upload.finished) return;
    const current = upload.inFlight.get(part);
    const answersCurrent = current !== undefined && current.seq === seq;
    if (answersCurrent) this.#leaveFlight(upload, part);
    if (ack.complete && ack.objectId !== "") {
      this.#complete(upload, ack.objectId);
      return;
    }
    const ackedBefore = upload.ackedCount;
    let stored = false;
    for (const index of ack.received) {
      if (index >= upload.partCount) continue;
      if (index === part) stored = true;
      this.#markAcked(upload, index, order);
    }
    // Not stored (a CRC mismatch, or the server dropped it): send it again.
    if (!stored && answersCurrent && upload.partState[part] !== ACKED) this.#requeue(upload, part, true);
    for (const index of ack.missing) {
      if (upload.finished || index >= upload.partCount) continue;
      const state = upload.partState[index];
      if (state === ACKED && upload.ackedOrder[index]! < order) {
        upload.ackedCount--; // the server lost it: its upload expired and started anew
        this.#requeue(upload, index, true);
      } else if (state === IN_FLIGHT && upload.inFlight.get(index)!.order < order) {
        this.#leaveFlight(upload, index); // sent before the answered CHUNK, yet not stored: lost
        this.#requeue(upload, index, true);
      }
    }
    if (upload.finished) return;
    if (upload.ackedCount !== ackedBefore) {
      this.#port.emit({ type: "upload-progress", uploadId: upload.id, acked: upload.ackedCount, total: upload.partCount });
    }
    if (upload.ackedCount === upload.partCount && upload.inFlight.size === 0 && upload.queue.length === 0) {
      // Every part acked but nobody said complete: ask again with the last part (a probe).
      upload.ackedCount--;
      this.#requeue(upload, upload.partCount - 1, true);
    }
  }

  /** ACK REJECTED answering one of `upload`'s CHUNKs: the server refused the upload. */
  onRejected(upload: Upload, seq: number, reason: string): void {
    this.#port.forget(seq);
    upload.seqs.delete(seq);
    if (!upload.finished) this.#fail(upload, reason === "" ? "rejected" : reason);
  }

  /** Parts whose CHUNK_ACK is overdue are queued again (or their upload fails). */
  handleTimeout(now: number): void {
    for (const upload of this.#uploads.values()) {
      for (const [part, flight] of upload.inFlight) {
        if (flight.deadline > now) continue;
        this.#leaveFlight(upload, part);
        this.#requeue(upload, part, true);
        if (upload.finished) break;
      }
    }
  }

  /** The earliest part deadline, or undefined. */
  nextDeadline(): number | undefined {
    let earliest: number | undefined;
    for (const upload of this.#uploads.values()) {
      for (const flight of upload.inFlight.values()) if (earliest === undefined || flight.deadline < earliest) earliest = flight.deadline;
    }
    return earliest;
  }

  /** The link is gone: parts in flight are queued again, without counting a retry. */
  linkLost(): void {
    for (const upload of this.#uploads.values()) {
      for (const part of [...upload.inFlight.keys()]) {
        this.#leaveFlight(upload, part);
        this.#requeue(upload, part, false);
      }
      upload.seqs.clear();
    }
  }

  /** Fails every upload (the engine is closed). */
  close(): void {
    for (const upload of this.#uploads.values()) this.#fail(upload, "closed", new SessionError("CLOSED", "the engine was closed before the upload completed"));
  }

  #split(upload: Upload): void {
    const room = this.#port.maxFrameSize - chunkOverhead(upload.id, upload.contentType, upload.bytes.byteLength);
    if (room < 1) {
      this.#fail(upload, `the server's max_frame_size (${this.#port.maxFrameSize}) leaves no room for data`);
      return;
    }
    const partSize = Math.min(this.#options.partSize, room);
    const partCount = Math.ceil(upload.bytes.byteLength / partSize);
    if (partCount > 0xffff_ffff) {
      this.#fail(upload, `${partCount} parts exceed the u32 part_count`);
      return;
    }
    upload.partSize = partSize;
    upload.partCount = partCount;
    upload.partState = new Uint8Array(partCount);
    upload.attempts = new Uint16Array(partCount);
    upload.ackedOrder = new Float64Array(partCount);
  }

  #transmit(upload: Upload, part: number, now: number): void {
    const start = part * upload.partSize;
    const data = upload.bytes.subarray(start, Math.min(start + upload.partSize, upload.bytes.byteLength));
    const chunk = create(ChunkSchema, {
      uploadId: upload.id,
      partIndex: part,
      partCount: upload.partCount,
      totalSize: BigInt(upload.bytes.byteLength),
      // With every part (not only part 0): a server that dropped an idle upload restarts it from any part.
      contentType: upload.contentType,
      crc32: crc32(data),
      data,
    });
    const order = ++this.#order;
    const seq = this.#port.request(Op.CHUNK, encodeBody(Op.CHUNK, chunk), { kind: "chunk", upload, part, order });
    upload.seqs.add(seq);
    upload.inFlight.set(part, { seq, order, deadline: now + this.#port.backoff(upload.attempts[part]!, this.#options.partTimeoutMs) });
    upload.partState[part] = IN_FLIGHT;
    this.#inFlight++;
  }

  #leaveFlight(upload: Upload, part: number): void {
    if (upload.inFlight.delete(part)) this.#inFlight--;
  }

  #markAcked(upload: Upload, part: number, order: number): void {
    const state = upload.partState[part];
    if (state === ACKED) return;
    if (state === IN_FLIGHT) this.#leaveFlight(upload, part);
    else if (state === QUEUED) upload.queue.splice(upload.queue.indexOf(part), 1);
    else if (state === UNSENT && part >= upload.nextUnsent) return; // never sent: not ours to believe
    upload.partState[part] = ACKED;
    upload.ackedOrder[part] = order;
    upload.ackedCount++;
  }

  /** Queues `part` to be sent again; counting a retry may fail the upload. */
  #requeue(upload: Upload, part: number, countRetry: boolean): void {
    if (countRetry && ++upload.attempts[part]! > this.#options.maxPartRetries) {
      this.#fail(upload, `part ${part} was not stored after ${upload.attempts[part]} transmissions`);
      return;
    }
    upload.partState[part] = QUEUED;
    const queue = upload.queue;
    let at = queue.length;
    while (at > 0 && queue[at - 1]! > part) at--;
    queue.splice(at, 0, part);
  }

  #complete(upload: Upload, objectId: string): void {
    if (upload.ackedCount !== upload.partCount) {
      this.#port.emit({ type: "upload-progress", uploadId: upload.id, acked: upload.partCount, total: upload.partCount });
    }
    this.#finish(upload);
    this.#port.emit({ type: "upload-complete", uploadId: upload.id, objectId });
    upload.resolve({ objectId });
  }

  #fail(upload: Upload, reason: string, error: Error = new SessionError("UPLOAD_FAILED", `upload ${upload.id} failed: ${reason}`)): void {
    this.#finish(upload);
    this.#port.emit({ type: "upload-failed", uploadId: upload.id, reason });
    upload.reject(error);
  }

  #finish(upload: Upload): void {
    upload.finished = true;
    this.#inFlight -= upload.inFlight.size;
    upload.inFlight.clear();
    for (const seq of upload.seqs) this.#port.forget(seq);
    upload.seqs.clear();
    this.#uploads.delete(upload.id);
  }
}

const MAX_U32 = 0xffff_ffff;

/**
 * Bytes of a CHUNK frame besides its data: the header and every field at its largest encoding.
 * @returns an upper bound, so parts of `maxFrameSize − overhead` bytes always fit.
 * @throws RangeError if `totalSize` is not a safe integer ≥ 0 (BigInt conversion, u64 range).
 */
export function chunkOverhead(uploadId: string, contentType: string, totalSize: number): number {
  const empty = create(ChunkSchema, {
    uploadId,
    partIndex: MAX_U32,
    partCount: MAX_U32,
    totalSize: BigInt(totalSize),
    contentType,
    crc32: MAX_U32,
  });
  return HEADER_SIZE + encodeBody(Op.CHUNK, empty).byteLength + DATA_FIELD_OVERHEAD;
}
