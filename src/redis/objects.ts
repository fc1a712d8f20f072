/**
 * RedisObjectStore: finished objects — their facts (owner, content type, size) in Redis under
 * `PREFIX obj:{<id>}`, their bytes in a {@link BlobStore}.
 *
 * `put` first reserves a fresh id (`SET key "pending" NX PX 1h`: 128 random bits in hex; a collision,
 * 2^-128, is a retry and never touches another object's bytes), then writes the bytes, then replaces the
 * reservation with the facts: an object is visible (stat answers) only once its bytes are durable, so a
 * message can never name an object whose bytes are missing. A node that dies in between leaves a
 * reservation that expires and an unnamed blob (garbage, never visible). Objects are kept until the
 * application deletes them (`delete`): Redis and the blob store are the archive.
 */
import { randomBytes } from "node:crypto";
import type { ObjectStore, StoredObjectInfo } from "../session/stores.js";
import type { BlobStore } from "./blob-store.js";
import { RedisStoreError, text, type RedisCommander } from "./commander.js";
import type { RedisKeys } from "./keys.js";

const PENDING = "pending";
const RESERVATION_MS = 3_600_000;

function parseInfo(value: unknown): StoredObjectInfo | undefined {
  if (text(value) === PENDING) return undefined;
  try {
    const { owner, contentType, size } = JSON.parse(text(value)) as Record<string, unknown>;
    if (typeof owner === "string" && typeof contentType === "string" && Number.isSafeInteger(size)) return { owner, contentType, size: size as number };
  } catch {
    // fall through
  }
  throw new RedisStoreError("CORRUPT_REPLY", "an object record is not what the store writes");
}

/** Objects: facts in Redis, bytes in a blob store. See the theory of operation above. */
export class RedisObjectStore implements ObjectStore {
  readonly #redis: RedisCommander;
  readonly #keys: RedisKeys;
  readonly #blobs: BlobStore;

  /** @internal Use `createRedisStores`. */
  constructor(redis: RedisCommander, keys: RedisKeys, blobs: BlobStore) {
    this.#redis = redis;
    this.#keys = keys;
    this.#blobs = blobs;
  }

  /**
   * @inheritDoc The bytes are written to the blob store before the facts go to Redis (three steps, see above).
   * @throws (rejects) whatever the blob store or Redis rejects with; Error if random ids keep colliding.
   */
  async put(owner: string, contentType: string, bytes: Uint8Array): Promise<string> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const id = randomBytes(16).toString("hex");
      const key = this.#keys.object(id);
      if ((await this.#redis.send(key, ["SET", key, PENDING, "NX", "PX", String(RESERVATION_MS)])) === null) continue;
      await this.#blobs.put(id, bytes);
      await this.#redis.send(key, ["SET", key, JSON.stringify({ owner, contentType, size: bytes.byteLength })]);
      return id;
    }
    throw new Error("the random source keeps repeating object ids");
  }

  /** @inheritDoc */
  async stat(objectId: string): Promise<StoredObjectInfo | undefined> {
    const key = this.#keys.object(objectId);
    const value = await this.#redis.send(key, ["GET", key]);
    return value === null ? undefined : parseInfo(value);
  }

  /** @inheritDoc Returns a fresh copy from the blob store. */
  async read(objectId: string): Promise<Uint8Array | undefined> {
    if ((await this.stat(objectId)) === undefined) return undefined;
    return this.#blobs.get(objectId);
  }

  /** Deletes an object: its facts first (it stops being visible), then its bytes. Harmless if unknown. */
  async delete(objectId: string): Promise<void> {
    const key = this.#keys.object(objectId);
    await this.#redis.send(key, ["DEL", key]);
    await this.#blobs.delete(objectId);
  }
}
