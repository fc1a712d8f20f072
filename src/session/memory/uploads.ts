/**
 * MemoryUploadStore: unfinished uploads and the records of finished ones, in one process's memory.
 *
 * Theory of operation. Uploads are kept per owner (a map of maps). An upload holds its facts (from its
 * first part; the content type from the first part that names one), its parts by index, the stored
 * indexes in ascending order, the bytes stored, and the time of its last part. Every method runs to
 * completion before its promise settles, so each call is atomic.
 *
 * - An upload is *idle* once more than `idleMs` passed since its last part. Idle uploads are dropped
 *   lazily (a `putPart` or `state` on them, or a `putPart` of their owner that counts open uploads) and
 *   in bulk by `expire`, which the engine calls from time to time: either way their parts are freed.
 * - `complete` replaces the parts by the object id: a completed record costs a few dozen bytes and
 *   answers late duplicates until it too has been idle for `idleMs`.
 * - Open (not completed) uploads per owner are bounded by `maxOpenUploads`, and each by
 *   `maxObjectSize`, so the bytes held are at most owners × maxOpenUploads × maxObjectSize.
 */
import { pairKey } from "../options.js";
import type { UploadLimits, UploadMeta, UploadRefusal, UploadState, UploadStore } from "../stores.js";

interface Upload {
  meta: UploadMeta;
  /** Stored parts by index; emptied when completed. */
  readonly parts: Map<number, Uint8Array>;
  /** Stored indexes, ascending. */
  readonly received: number[];
  receivedBytes: number;
  lastActive: number;
  objectId?: string;
}

/** Index where `value` belongs in the ascending `list`. */
function insertionPoint(list: readonly number[], value: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function stateOf(upload: Upload): UploadState {
  if (upload.objectId !== undefined) {
    const all = Array.from({ length: upload.meta.partCount }, (_, i) => i);
    return { meta: upload.meta, received: all, receivedBytes: Number(upload.meta.totalSize), objectId: upload.objectId };
  }
  return { meta: upload.meta, received: upload.received.slice(), receivedBytes: upload.receivedBytes };
}

function isIdle(upload: Upload, now: number, idleMs: number): boolean {
  return now - upload.lastActive > idleMs;
}

/** Uploads in memory. See the theory of operation above. */
export class MemoryUploadStore implements UploadStore {
  readonly #owners = new Map<string, Map<string, Upload>>();

  /** Uploads held now (open and completed records, idle ones not yet dropped included). */
  get size(): number {
    let count = 0;
    for (const uploads of this.#owners.values()) count += uploads.size;
    return count;
  }

  /** Bytes of parts held now. */
  get bytesHeld(): number {
    let bytes = 0;
    for (const uploads of this.#owners.values()) {
      for (const upload of uploads.values()) if (upload.objectId === undefined) bytes += upload.receivedBytes;
    }
    return bytes;
  }

  /** @inheritDoc */
  async putPart(
    owner: string,
    uploadId: string,
    meta: UploadMeta,
    index: number,
    data: Uint8Array,
    limits: UploadLimits,
    now: number,
  ): Promise<UploadState | { readonly refused: UploadRefusal }> {
    let uploads = this.#owners.get(owner);
    let upload = uploads?.get(uploadId);
    if (upload !== undefined && isIdle(upload, now, limits.idleMs)) {
      uploads!.delete(uploadId);
      upload = undefined;
    }
    if (upload === undefined) {
      const open = uploads === undefined ? 0 : this.#openCount(uploads, now, limits.idleMs);
      let refused: UploadRefusal | undefined;
      if (open >= limits.maxOpenUploads) refused = "TOO_MANY_UPLOADS";
      else if (meta.totalSize > BigInt(limits.maxObjectSize)) refused = "TOO_LARGE";
      else if (!(index >= 0 && index < meta.partCount)) refused = "META_MISMATCH";
      if (refused !== undefined) {
        if (uploads?.size === 0) this.#owners.delete(owner);
        return { refused };
      }
      upload = { meta: { ...meta }, parts: new Map(), received: [], receivedBytes: 0, lastActive: now };
      if (uploads === undefined) this.#owners.set(owner, (uploads = new Map()));
      uploads.set(uploadId, upload);
    }
    upload.lastActive = now;
    if (upload.objectId !== undefined) return stateOf(upload);
    if (meta.partCount !== upload.meta.partCount || meta.totalSize !== upload.meta.totalSize || !(index >= 0 && index < meta.partCount)) {
      return { refused: "META_MISMATCH" };
    }
    if (upload.meta.contentType === "" && meta.contentType !== "") upload.meta = { ...upload.meta, contentType: meta.contentType };
    if (upload.parts.has(index)) return stateOf(upload);
    const bytes = upload.receivedBytes + data.byteLength;
    if (BigInt(bytes) > upload.meta.totalSize || bytes > limits.maxObjectSize) return { refused: "TOO_LARGE" };
    upload.parts.set(index, data);
    upload.received.splice(insertionPoint(upload.received, index), 0, index);
    upload.receivedBytes = bytes;
    return stateOf(upload);
  }

  /** @inheritDoc */
  async state(owner: string, uploadId: string, limits: UploadLimits, now: number): Promise<UploadState | undefined> {
    const uploads = this.#owners.get(owner);
    const upload = uploads?.get(uploadId);
    if (upload === undefined) return undefined;
    if (isIdle(upload, now, limits.idleMs)) {
      this.#drop(owner, uploads!, uploadId);
      return undefined;
    }
    return stateOf(upload);
  }

  /** @inheritDoc */
  async readParts(owner: string, uploadId: string): Promise<readonly Uint8Array[] | undefined> {
    const upload = this.#owners.get(owner)?.get(uploadId);
    if (upload === undefined || upload.objectId !== undefined || upload.parts.size !== upload.meta.partCount) return undefined;
    return upload.received.map((index) => upload.parts.get(index)!);
  }

  /** @inheritDoc */
  async complete(owner: string, uploadId: string, objectId: string, _limits: UploadLimits, now: number): Promise<string> {
    const upload = this.#owners.get(owner)?.get(uploadId);
    if (upload === undefined) return objectId;
    if (upload.objectId !== undefined) return upload.objectId;
    upload.objectId = objectId;
    upload.parts.clear();
    upload.received.length = 0;
    upload.lastActive = now;
    return objectId;
  }

  /** @inheritDoc */
  async expire(now: number, idleMs: number): Promise<number> {
    let dropped = 0;
    for (const [owner, uploads] of this.#owners) {
      for (const [uploadId, upload] of uploads) {
        if (!isIdle(upload, now, idleMs)) continue;
        uploads.delete(uploadId);
        dropped++;
      }
      if (uploads.size === 0) this.#owners.delete(owner);
    }
    return dropped;
  }

  /** Open uploads of one owner, dropping the idle ones on the way. */
  #openCount(uploads: Map<string, Upload>, now: number, idleMs: number): number {
    let open = 0;
    for (const [uploadId, upload] of uploads) {
      if (isIdle(upload, now, idleMs)) uploads.delete(uploadId);
      else if (upload.objectId === undefined) open++;
    }
    return open;
  }

  #drop(owner: string, uploads: Map<string, Upload>, uploadId: string): void {
    uploads.delete(uploadId);
    if (uploads.size === 0) this.#owners.delete(owner);
  }
}
