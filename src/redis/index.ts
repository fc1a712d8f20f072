/**
 * `syncwire/redis`: the server stores (src/session/stores.ts) on Redis, so any number of server nodes
 * share one state — dedupe records, message ids, sync logs, uploads, object facts, and NOTIFY fan-out
 * over pub/sub — through the official client, node-redis (`redis`, an optional peer dependency: install
 * it to use this entry). Node-only; the root entry never loads it.
 *
 * ```ts
 * import { createRedisStores } from "syncwire/redis";
 * const stores = await createRedisStores({ url: "redis://127.0.0.1:6379", blobDirectory: "/srv/blobs" });
 * const engine = new ServerEngine({ stores, authenticate });
 * // … on shutdown: await stores.close();
 * ```
 *
 * Key layout: keys.ts. Durability, Cluster and failure behaviour: README "Several nodes on Redis".
 * @packageDocumentation
 */
import { createClient } from "redis";
import { backoffDelay, checkBackoffPolicy, type BackoffPolicy } from "../session/backoff.js";
import { integerOption } from "../session/options.js";
import type { ServerStores } from "../session/stores.js";
import { FsBlobStore, type BlobStore } from "./blob-store.js";
import { closeConnection, RedisCommander, type RedisClientLike, type RedisClusterLike } from "./commander.js";
import { RedisDedupeStore } from "./dedupe.js";
import { RedisMessageIdAllocator } from "./ids.js";
import { RedisKeys } from "./keys.js";
import { RedisObjectStore } from "./objects.js";
import { RedisPresence, type PubSubMode } from "./presence.js";
import { RedisSyncLog, type RedisSyncLogOptions } from "./sync-log.js";
import { RedisUploadStore } from "./uploads.js";

export { FsBlobStore, type BlobStore, type FsBlobStoreOptions } from "./blob-store.js";
export { RedisStoreError, type RedisStoreErrorCode, type RedisClientLike, type RedisClusterLike, type BufferListener, type CommandOptionsLike } from "./commander.js";
export { RedisDedupeStore } from "./dedupe.js";
export { RedisMessageIdAllocator } from "./ids.js";
export { RedisKeys } from "./keys.js";
export { RedisObjectStore } from "./objects.js";
export { RedisPresence, type PubSubMode } from "./presence.js";
export { RedisSyncLog, type RedisSyncLogOptions } from "./sync-log.js";
export { RedisUploadStore } from "./uploads.js";

/** Options of {@link createRedisStores}. Exactly one of `client`, `cluster` and `url`; one of `blobs` and `blobDirectory`. */
export interface RedisStoresOptions {
  /**
   * A node-redis client (`createClient()` from `redis`), connected or not (it is connected here if it is
   * not open). The stores use it and a `duplicate()` of it for subscriptions; `close()` closes only the
   * duplicate — the client stays yours. Recommended: `disableOfflineQueue: true` (see the README), and
   * an "error" listener of your own.
   */
  client?: RedisClientLike;
  /** A node-redis Cluster client (`createCluster()` from `redis`), as `client`. Not tested in this version (README). */
  cluster?: RedisClusterLike;
  /**
   * A Redis URL (`redis://host:port`, `rediss://…` for TLS): the stores make their own client with the
   * offline queue off (store calls fail at once while Redis is unreachable) and reconnection with
   * backoff (`reconnect`), and `close()` closes it.
   */
  url?: string;
  /** Prepended to every key and channel, so deployments can share a Redis. Default "syncwire:". */
  prefix?: string;
  /** Where finished objects' bytes go. */
  blobs?: BlobStore;
  /** Shorthand for `blobs: new FsBlobStore(blobDirectory)` (shared by every node: see the README). */
  blobDirectory?: string;
  /** Sync log bounds (as the memory log's) and the idempotency keys' lifetime. */
  log?: RedisSyncLogOptions;
  /** Pub/sub commands for NOTIFY fan-out: "auto" (default: sharded where the server has it), "sharded", "classic". */
  pubsub?: PubSubMode;
  /** Longest a single Redis command may take before its store call rejects, ms (0: no limit). Default 5,000. */
  commandTimeoutMs?: number;
  /**
   * Whether the hot store calls of one event-loop turn (dedupe records, message ids, log appends) share
   * one command per kind — an MGET, or one script call that runs them in turn — instead of one command
   * each. Default true; false is for comparing (bench/redis.js) and costs a busy node several times the
   * CPU per message.
   */
  coalesce?: boolean;
  /** Waits between reconnection attempts of a client made from `url`. Default 50 ms × 2 up to 2 s, ±20 %. */
  reconnect?: BackoffPolicy;
  /** Called with errors of the connections made here (a lost connection, a failed reconnect), for logging. */
  onError?: (error: unknown) => void;
}

/** The Redis stores, with their concrete types, and `close()`. */
export interface RedisStores extends ServerStores {
  readonly dedupe: RedisDedupeStore;
  readonly ids: RedisMessageIdAllocator;
  readonly log: RedisSyncLog;
  readonly uploads: RedisUploadStore;
  readonly objects: RedisObjectStore;
  readonly presence: RedisPresence;
  /** The key names of this deployment. */
  readonly keys: RedisKeys;
  /**
   * Closes the subscriber connection, and the client if it was made from `url` (waiting up to 2 s for
   * replies in flight, then dropping the connections). Harmless twice; never rejects.
   */
  close(): Promise<void>;
}

const DEFAULT_RECONNECT: BackoffPolicy = { initialMs: 50, factor: 2, maxMs: 2_000, jitter: 0.2 };

/**
 * Connects (if needed) and builds every server store on Redis.
 * @returns the stores, once the connection is up (with `url`, it keeps retrying until Redis answers).
 * @throws (rejects) TypeError if not exactly one of `client`/`cluster`/`url`, or neither `blobs` nor
 *   `blobDirectory`, or `pubsub` is not a mode; RangeError for an out-of-range number (see each option);
 *   whatever node-redis rejects the connection with.
 */
export async function createRedisStores(options: RedisStoresOptions): Promise<RedisStores> {
  if (options === null || typeof options !== "object") throw new TypeError("createRedisStores needs an options object");
  const targets = [options.client, options.cluster, options.url].filter((t) => t !== undefined);
  if (targets.length !== 1) throw new TypeError("createRedisStores needs exactly one of client, cluster and url");
  if (options.url !== undefined && typeof options.url !== "string") throw new TypeError("url must be a string");
  const prefix = options.prefix ?? "syncwire:";
  if (typeof prefix !== "string") throw new TypeError("prefix must be a string");
  const pubsub = options.pubsub ?? "auto";
  if (pubsub !== "auto" && pubsub !== "sharded" && pubsub !== "classic") throw new TypeError(`pubsub must be "auto", "sharded" or "classic", got ${String(pubsub)}`);
  const commandTimeoutMs = integerOption("commandTimeoutMs", options.commandTimeoutMs, 5_000, 0);
  const coalesce = options.coalesce ?? true;
  if (typeof coalesce !== "boolean") throw new TypeError("coalesce must be a boolean");
  const reconnect = options.reconnect ?? DEFAULT_RECONNECT;
  checkBackoffPolicy(reconnect);
  if (options.blobs === undefined && options.blobDirectory === undefined) throw new TypeError("createRedisStores needs blobs or blobDirectory (where finished uploads go)");
  const blobs = options.blobs ?? new FsBlobStore(options.blobDirectory!);
  const onError = options.onError ?? (() => undefined);
  if (typeof onError !== "function") throw new TypeError("onError must be a function");

  let owned: RedisClientLike | undefined;
  let target: { client: RedisClientLike } | { cluster: RedisClusterLike };
  if (options.url !== undefined) {
    owned = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: (retries: number) => backoffDelay(Math.min(retries, 64), reconnect, Math.random) },
    });
    target = { client: owned };
  } else if (options.cluster !== undefined) {
    target = { cluster: options.cluster };
  } else {
    target = { client: options.client! };
  }
  const connection = "cluster" in target ? target.cluster : target.client;
  if (owned !== undefined) owned.on("error", onError);
  if (!connection.isOpen) await connection.connect();

  const redis = new RedisCommander(target, commandTimeoutMs, coalesce);
  const keys = new RedisKeys(prefix);
  const log = new RedisSyncLog(redis, keys, options.log);
  const presence = new RedisPresence(redis, keys, {
    mode: pubsub,
    makeSubscriber: () => {
      const duplicate = connection.duplicate();
      duplicate.on("error", onError);
      return duplicate;
    },
    headOf: (user) => log.head(user),
  });
  let closing: Promise<void> | undefined;
  return {
    dedupe: new RedisDedupeStore(redis, keys),
    ids: new RedisMessageIdAllocator(redis, keys),
    log,
    uploads: new RedisUploadStore(redis, keys),
    objects: new RedisObjectStore(redis, keys, blobs),
    presence,
    keys,
    close: () =>
      (closing ??= (async () => {
        await presence.close();
        if (owned !== undefined) await closeConnection(owned);
      })()),
  };
}
