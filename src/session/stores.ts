/**
 * The server's shared state, as interfaces: what a `ServerEngine` needs to remember across links and
 * across server nodes. The engines only ever talk to these; `src/session/memory/` implements them in one
 * process and `syncwire/redis` on Redis, and both pass one contract suite (test/session/stores/).
 *
 * Every method is async (a store may be remote) and every write is **idempotent or atomic** as its doc
 * says, because the engine must give exactly-once results on top of at-least-once delivery: a SEND may
 * be retransmitted to another node while the first copy is still being stored, and a node may die
 * between two writes. The engine's SEND path (docs/PROTOCOL.md §11.4) is:
 *
 *   1. `dedupe.get(sender, id)`: a record means a retry → re-run step 3 (idempotent), answer DUPLICATE;
 *   2. `ids.next(conversation)`, then `dedupe.putIfAbsent(sender, id, record)`: whoever's record stands
 *      wins; a loser uses the winner's ids (a concurrent retry on another node);
 *   3. `log.append(user, …, idempotencyKey)` for the recipient and the sender: a second append with the
 *      same key returns the first one's version and appends nothing;
 *   4. only then ACK, then `presence.publish(user, head)` for each user whose log grew.
 *
 * A crash after 2 leaves a record without log entries; the client's retry finds the record (step 1) and
 * completes step 3. So every acked message is stored once, and no message is stored twice.
 *
 * Store methods reject (the promise fails) on infrastructure errors; the engine then answers nothing
 * (the client retries) and never a false OK. They never throw synchronously.
 *
 * Ownership: a store may keep the values it is given by reference (memory) or serialise them (Redis).
 * Callers pass values nobody modifies afterwards and whose bytes are not views of receive buffers; the
 * engine copies what it takes from a frame before storing it. Values a store returns are read-only.
 *
 * Time: methods that expire things take `now` (ms, the engine's clock). A memory store expires by it; a
 * Redis store may use its own clock (key TTLs) and ignore it.
 */
import type { MessagePacket } from "../gen/syncwire/v1/message_pb.js";
import type { SyncKey } from "../gen/syncwire/v1/sync_pb.js";

/** What the server told the sender when it first accepted a message: the ids every later ACK repeats. */
export interface AcceptedMessage {
  /** The id the server assigned (MessagePacket.server_msg_id). */
  readonly serverMsgId: bigint;
  /** The server's clock when it accepted the message, ms since the Unix epoch. */
  readonly serverTimeMs: bigint;
}

/**
 * Dedupe records: (sender, client_msg_id) → the ids of the first acceptance (MQTT QoS 2's packet-id
 * record). Bounded: records expire after a time-to-live (and, in memory, beyond a capacity, oldest first);
 * the TTL must outlast any client's retries.
 */
export interface DedupeStore {
  /**
   * @param now the caller's clock (ms): a record whose time-to-live has run out by `now` is absent.
   * @returns the record for (sender, clientMsgId), or undefined if none (never stored, or expired).
   */
  get(sender: string, clientMsgId: bigint, now: number): Promise<AcceptedMessage | undefined>;
  /**
   * Stores `record` for (sender, clientMsgId) unless a live record exists: atomic set-if-absent (of two
   * concurrent calls, exactly one stores). The record lives for `ttlMs` from `now` (Redis: `SET … NX PX`);
   * the engine passes its dedupe TTL, which must outlast any client's retries.
   * @returns the record that stands afterwards — `record` itself (same object or equal fields) if it
   *   was stored, else the existing one. Compare `serverMsgId` to know which.
   */
  putIfAbsent(sender: string, clientMsgId: bigint, record: AcceptedMessage, now: number, ttlMs: number): Promise<AcceptedMessage>;
}

/** Server message ids. */
export interface MessageIdAllocator {
  /**
   * A fresh server_msg_id for a message of `conversationId`: never returned before for that conversation,
   * and greater than every id returned before for it (ids may skip numbers).
   */
  next(conversationId: string): Promise<bigint>;
}

/** One entry of a user's sync log. */
export interface SyncLogEntry {
  /** The SyncKey stream this entry belongs to (1: messages). */
  readonly key: number;
  /** The entry's version within `key` for this user: 1, 2, 3, … in append order. */
  readonly version: bigint;
  /** The message, with server_msg_id and sender_id filled in. */
  readonly message: MessagePacket;
}

/** Result of {@link SyncLogStore.append}. */
export interface AppendResult {
  /** The entry's version (the existing entry's, if `appended` is false). */
  readonly version: bigint;
  /** False if an entry with the same idempotency key was already in the log: nothing was appended. */
  readonly appended: boolean;
}

/** Result of {@link SyncLogStore.read}. */
export interface ReadResult {
  /** Entries newer than the given key, in append order (version order within each stream key). */
  readonly entries: readonly SyncLogEntry[];
  /** True if more entries newer than the key exist beyond `limit`. */
  readonly hasMore: boolean;
}

/**
 * Per-user sync logs (WeChat's SyncKey model): an append-only, per-user list of entries, each with a
 * version per stream key; devices read "everything after my key" and commit what they stored.
 */
export interface SyncLogStore {
  /**
   * Appends `message` to `user`'s log under stream `key`, allocating the next version of that stream,
   * in one atomic step — unless an entry with `idempotencyKey` is already in the user's log, in which
   * case nothing is appended and that entry's version is returned. Idempotency keys are remembered as
   * long as their entries are, and after their entries are trimmed for as long as a dedupe record may
   * still lead the engine to append again (Redis: the dedupe TTL; memory: the most recent trimmed keys,
   * bounded like the dedupe records themselves). Forgetting one sooner could store a late retry twice.
   */
  append(user: string, key: number, message: MessagePacket, idempotencyKey: string): Promise<AppendResult>;
  /**
   * Entries of `user`'s log newer than `after` (per stream key: version > after's version of that key;
   * absent keys count as 0), oldest first, at most `limit` (an integer ≥ 1; otherwise the promise
   * rejects with a RangeError). Entries already trimmed are simply not there.
   */
  read(user: string, after: SyncKey, limit: number): Promise<ReadResult>;
  /** The newest version of every stream of `user`'s log, as a SyncKey (empty for an empty log). */
  head(user: string): Promise<SyncKey>;
  /**
   * Records that `device` of `user` has stored everything up to `key` (merged with what it committed
   * before: commits never go back). The store may then trim entries every known device has committed,
   * beyond its retention bound.
   */
  commit(user: string, device: string, key: SyncKey): Promise<void>;
  /** What `device` of `user` has committed (the empty key if nothing). */
  committed(user: string, device: string): Promise<SyncKey>;
}

/** The fixed facts of an upload, from its parts' Chunk fields. */
export interface UploadMeta {
  readonly partCount: number;
  readonly totalSize: bigint;
  readonly contentType: string;
}

/** An upload's state after a part was offered. */
export interface UploadState {
  /** The upload's facts: those of its first part, with the first non-empty content type any part carried. */
  readonly meta: UploadMeta;
  /** Indexes of the parts stored, ascending (every index once the upload is complete). */
  readonly received: readonly number[];
  /** Bytes stored so far (sum of the stored parts' sizes). */
  readonly receivedBytes: number;
  /** Set once the upload completed (see {@link UploadStore.complete}). */
  readonly objectId?: string;
}

/** Why {@link UploadStore.putPart} refused a part. */
export type UploadRefusal =
  /** The owner already has `maxOpenUploads` uploads open. */
  | "TOO_MANY_UPLOADS"
  /** part_count or total_size differ from the upload's first part, or the index is not below part_count. */
  | "META_MISMATCH"
  /** Stored bytes would exceed total_size or the store's object size limit. */
  | "TOO_LARGE";

/** Limits an {@link UploadStore} enforces, passed on every call so nodes agree. */
export interface UploadLimits {
  readonly maxObjectSize: number;
  readonly maxOpenUploads: number;
  /** An upload with no new part for this long is dropped, its memory freed. */
  readonly idleMs: number;
}

/**
 * Unfinished uploads (parts received so far, per owner and upload id) and the record of finished ones.
 * Parts may arrive in any order, on any link, on any node, more than once.
 */
export interface UploadStore {
  /**
   * Stores part `index` of `owner`'s upload `uploadId` (creating the upload with `meta` on its first
   * part) unless that part is already stored; refreshes the idle deadline. Atomic per upload. An upload
   * idle for longer than `limits.idleMs` at `now` is dropped first (this part starts it anew). A part of a
   * completed upload stores nothing and returns the completed state (with `objectId`), whatever its meta.
   * Refusals are checked in this order: TOO_MANY_UPLOADS (creating one more open upload than
   * `limits.maxOpenUploads`), TOO_LARGE (`meta.totalSize` above `limits.maxObjectSize`), META_MISMATCH,
   * TOO_LARGE (the stored bytes would exceed `totalSize`).
   * @returns the state afterwards, or a refusal (nothing stored).
   */
  putPart(
    owner: string,
    uploadId: string,
    meta: UploadMeta,
    index: number,
    data: Uint8Array,
    limits: UploadLimits,
    now: number,
  ): Promise<UploadState | { readonly refused: UploadRefusal }>;
  /**
   * The state of `owner`'s upload `uploadId` without changing it (the idle deadline is not refreshed).
   * @returns undefined if there is no such upload (never started, or idle for longer than `limits.idleMs`).
   */
  state(owner: string, uploadId: string, limits: UploadLimits, now: number): Promise<UploadState | undefined>;
  /**
   * The stored parts of a complete upload, in index order (views or copies: the caller only reads them).
   * @returns undefined if the upload is unknown or a part is missing.
   */
  readParts(owner: string, uploadId: string): Promise<readonly Uint8Array[] | undefined>;
  /**
   * Marks the upload complete with `objectId` unless it already is (set-if-absent), frees its parts,
   * and keeps the record until it has been idle for `limits.idleMs` so late duplicate parts are answered.
   * If the upload is gone (expired meanwhile) nothing is recorded.
   * @returns the object id that stands (the existing one if another call completed it first; `objectId`
   *   if the upload is gone).
   */
  complete(owner: string, uploadId: string, objectId: string, limits: UploadLimits, now: number): Promise<string>;
  /**
   * Drops uploads idle for longer than `idleMs` (memory stores; Redis expires keys by itself).
   * @returns how many were dropped.
   */
  expire(now: number, idleMs: number): Promise<number>;
}

/** A finished object's facts. */
export interface StoredObjectInfo {
  readonly owner: string;
  readonly contentType: string;
  readonly size: number;
}

/** Finished objects (the bytes of completed uploads). */
export interface ObjectStore {
  /**
   * Stores a finished object and gives it an id (unique; not guessable from another object's id).
   * @returns the new object id.
   */
  put(owner: string, contentType: string, bytes: Uint8Array): Promise<string>;
  /** @returns the object's facts, or undefined if there is no such object. */
  stat(objectId: string): Promise<StoredObjectInfo | undefined>;
  /** @returns the object's bytes (a copy or a view the caller must not modify), or undefined. */
  read(objectId: string): Promise<Uint8Array | undefined>;
}

/** Cancels a {@link Presence.subscribe}. */
export type Unsubscribe = () => Promise<void>;

/**
 * Presence and fan-out: which users have live links on this node, and a way to poke all of a user's
 * links on every node when their log grows (NOTIFY). In memory a map; on Redis, pub/sub per user.
 */
export interface Presence {
  /**
   * Calls `listener` with the user's newest key whenever `publish(user, …)` is called on any node, until
   * unsubscribed. The listener must not throw.
   */
  subscribe(user: string, listener: (head: SyncKey) => void): Promise<Unsubscribe>;
  /** Tells every subscriber of `user`, on every node, that the user's log grew to `head`. */
  publish(user: string, head: SyncKey): Promise<void>;
}

/** Everything a `ServerEngine` stores, passed in as one object. */
export interface ServerStores {
  readonly dedupe: DedupeStore;
  readonly ids: MessageIdAllocator;
  readonly log: SyncLogStore;
  readonly uploads: UploadStore;
  readonly objects: ObjectStore;
  readonly presence: Presence;
}
