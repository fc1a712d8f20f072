/**
 * MemoryObjectStore: finished objects (the bytes of completed uploads) in one process's memory.
 *
 * Theory of operation. A `Map` from object id to the object, in insertion order, and the total of their
 * sizes. Ids are 128 random bits in hex, so one id says nothing about another. Beyond `maxTotalBytes` the
 * oldest objects are evicted first (a message may then name an object that is gone: a memory store is
 * for tests, demos and single-process servers, not an archive).
 */
import { integerOption } from "../options.js";
import type { ObjectStore, StoredObjectInfo } from "../stores.js";

/** Options of {@link MemoryObjectStore}. */
export interface MemoryObjectOptions {
  /** Total bytes kept; the oldest objects are evicted first. Default 256 MiB. */
  maxTotalBytes?: number;
  /** Fills `target` with random bytes, for object ids. Default `crypto.getRandomValues`. */
  randomBytes?: (target: Uint8Array) => void;
}

interface StoredObject extends StoredObjectInfo {
  readonly bytes: Uint8Array;
}

function cryptoRandomBytes(target: Uint8Array): void {
  globalThis.crypto.getRandomValues(target);
}

/** Finished objects in memory, bounded by total size. See the theory of operation above. */
export class MemoryObjectStore implements ObjectStore {
  readonly #maxTotalBytes: number;
  readonly #randomBytes: (target: Uint8Array) => void;
  readonly #objects = new Map<string, StoredObject>();
  #totalBytes = 0;

  /**
   * @throws RangeError if `maxTotalBytes` is not a non-negative integer.
   * @throws TypeError if `randomBytes` is given and is not a function.
   */
  constructor(options: MemoryObjectOptions = {}) {
    this.#maxTotalBytes = integerOption("maxTotalBytes", options.maxTotalBytes, 256 * 1024 * 1024, 0);
    if (options.randomBytes !== undefined && typeof options.randomBytes !== "function") throw new TypeError("randomBytes must be a function");
    this.#randomBytes = options.randomBytes ?? cryptoRandomBytes;
  }

  /** Bytes held now. */
  get totalBytes(): number {
    return this.#totalBytes;
  }

  /** Objects held now. */
  get size(): number {
    return this.#objects.size;
  }

  /**
   * @inheritDoc Keeps `bytes` by reference: pass an array nobody modifies afterwards.
   * @throws (rejects) RangeError if the object alone exceeds `maxTotalBytes`; Error if the random source
   *   keeps producing ids already in use (it is broken).
   */
  async put(owner: string, contentType: string, bytes: Uint8Array): Promise<string> {
    if (bytes.byteLength > this.#maxTotalBytes) throw new RangeError(`object of ${bytes.byteLength} bytes exceeds the store's ${this.#maxTotalBytes}`);
    let id = this.#newId();
    for (let attempt = 1; this.#objects.has(id); attempt++) {
      if (attempt === 8) throw new Error("the random source keeps repeating object ids");
      id = this.#newId();
    }
    this.#objects.set(id, { owner, contentType, size: bytes.byteLength, bytes });
    this.#totalBytes += bytes.byteLength;
    for (const [oldest, object] of this.#objects) {
      if (this.#totalBytes <= this.#maxTotalBytes) break;
      this.#objects.delete(oldest);
      this.#totalBytes -= object.size;
    }
    return id;
  }

  /** @inheritDoc */
  async stat(objectId: string): Promise<StoredObjectInfo | undefined> {
    const object = this.#objects.get(objectId);
    return object === undefined ? undefined : { owner: object.owner, contentType: object.contentType, size: object.size };
  }

  /** @inheritDoc Returns the stored array itself (a view the caller must not modify). */
  async read(objectId: string): Promise<Uint8Array | undefined> {
    return this.#objects.get(objectId)?.bytes;
  }

  #newId(): string {
    const bytes = new Uint8Array(16);
    this.#randomBytes(bytes);
    let hex = "";
    for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
    return hex;
  }
}
