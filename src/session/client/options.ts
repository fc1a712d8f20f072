/**
 * The client engine's options, their defaults (the reference client of docs/PROTOCOL.md §11) and their
 * validation. Everything is checked once, in the constructor: a bad option is the caller's bug and
 * throws there, never later on a timer.
 */
import type { SyncKey } from "../../gen/syncwire/v1/sync_pb.js";
import { DEFAULT_MAX_FRAME_SIZE, HEADER_SIZE, MAX_FRAME_SIZE_LIMIT } from "../../wire/header.js";
import { checkBackoffPolicy } from "../backoff.js";

/** Options of `new ClientEngine(…)`. Only `clientId`, `token` and `random` are required. */
export interface ClientEngineOptions {
  /** This installation (Hello.client_id): stable across restarts of the app on one device. */
  clientId: string;
  /** The credential HELLO carries (Hello.token), opaque to syncwire. May be replaced on `connect()`. */
  token: string;
  /**
   * Randomness for retransmission jitter, client message ids and upload ids: returns a number in
   * [0, 1). Required, so the engine stays deterministic under test: pass `Math.random` in an app and a
   * seeded generator in a simulation. (A fixed default would make every client jitter alike, which is
   * what jitter exists to prevent.)
   */
  random: () => number;
  /**
   * The user this client logs in as, if the application knows it. Only used to mark synced messages
   * `own`: with it, a message is own when this device sent its client id *and* its sender is this user.
   */
  userId?: string;
  /** Where to resume (Hello.sync_key), as persisted from the last `synced` event. Default: from the start. */
  syncKey?: SyncKey;
  /** Protocol versions offered in HELLO, preferred first. Default `[1]`. */
  versions?: readonly number[];
  /** Largest frame this client accepts from the server (Capabilities.max_frame_size). Default 1 MiB. */
  maxFrameSize?: number;
  /** Accept BATCH frames from the server (Capabilities.batching). Default true. */
  batching?: boolean;
  /**
   * Client message ids for messages that do not carry one. Default: `createClientMsgIdGenerator` fed
   * with the engine's `now` and `random` (so `now` must then be Unix time, 2024…2093).
   */
  clientMsgId?: () => bigint;
  /** First wait for a SEND's ACK, ms. Default 3000. */
  ackTimeoutMs?: number;
  /** Retransmissions of an unacknowledged SEND before it is failed. Default 3. */
  maxRetries?: number;
  /** Multiplier of every retransmission wait. Default 2. */
  backoffFactor?: number;
  /** Relative jitter of every retransmission wait (0.2 = ±20 %). Default 0.2. */
  backoffJitter?: number;
  /** Cap on every retransmission wait before jitter, ms. Default 60,000. */
  maxBackoffMs?: number;
  /** Messages queued or in flight at most; at the bound `send()` throws SEND_QUEUE_FULL. Default 1024. */
  maxPendingSends?: number;
  /** Failed messages kept for `resend()`; beyond it the oldest is forgotten. Default 1024. */
  maxFailedSends?: number;
  /** Consecutive missed HEARTBEAT_ACKs after which the link is dead. Default 2. */
  maxMissedHeartbeats?: number;
  /** A link without WELCOME this long after HELLO is dead. Default 10,000 ms. */
  handshakeTimeoutMs?: number;
  /** SyncRequest.limit: most messages per SYNC_RESULT (0 = the server's choice). Default 0. */
  syncLimit?: number;
  /** First wait for a SYNC_RESULT (and a SYNC_COMMIT's ACK) before asking again, ms. Default 5000. */
  syncTimeoutMs?: number;
  /**
   * Sync when no SYNC was sent for this long on an open link, ms; 0: only after WELCOME and on NOTIFY.
   * A safety net for a NOTIFY lost by a transport that drops a frame yet keeps the link (docs/PROTOCOL.md
   * §11.5). Default 300,000 (5 min).
   */
  syncIntervalMs?: number;
  /** (conversation, server id) pairs remembered to drop re-delivered messages. Default 10,000. */
  processedIdCapacity?: number;
  /** Upload part size in bytes, lowered to fit the server's max_frame_size. Default 65,536. */
  partSize?: number;
  /** Parts of one upload unanswered at once. Default 4. */
  uploadWindow?: number;
  /** Uploads open at once; at the bound `upload()` throws UPLOAD_QUEUE_FULL. Default 16. */
  maxUploads?: number;
  /** First wait for a part's CHUNK_ACK, ms. Default 10,000. */
  partTimeoutMs?: number;
  /** Retransmissions of one part (timeouts, CRC refusals) before the upload fails. Default 3. */
  maxPartRetries?: number;
}

/** Options with every default applied. Internal. */
export interface ResolvedClientOptions {
  readonly clientId: string;
  readonly userId: string | undefined;
  readonly versions: readonly number[];
  readonly maxFrameSize: number;
  readonly batching: boolean;
  readonly ackTimeoutMs: number;
  readonly maxRetries: number;
  readonly backoffFactor: number;
  readonly backoffJitter: number;
  readonly maxBackoffMs: number;
  readonly maxPendingSends: number;
  readonly maxFailedSends: number;
  readonly maxMissedHeartbeats: number;
  readonly handshakeTimeoutMs: number;
  readonly syncLimit: number;
  readonly syncTimeoutMs: number;
  readonly syncIntervalMs: number;
  readonly processedIdCapacity: number;
  readonly partSize: number;
  readonly uploadWindow: number;
  readonly maxUploads: number;
  readonly partTimeoutMs: number;
  readonly maxPartRetries: number;
}

const MAX_U32 = 0xffff_ffff;

function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/**
 * A token (Hello.token) checked for type.
 * @throws TypeError if it is not a string.
 */
export function checkToken(token: unknown): string {
  if (typeof token !== "string") throw new TypeError("token must be a string");
  return token;
}

/**
 * Applies defaults and checks every option.
 * @throws TypeError for a missing or wrongly typed required option.
 * @throws RangeError for a number out of its range, an empty `versions` list or a version that is not a u16.
 */
export function resolveClientOptions(options: ClientEngineOptions): ResolvedClientOptions {
  if (options === null || typeof options !== "object") throw new TypeError("ClientEngine options must be an object");
  if (typeof options.clientId !== "string") throw new TypeError("clientId must be a string");
  checkToken(options.token);
  if (typeof options.random !== "function") throw new TypeError("random must be a function returning a number in [0, 1)");
  if (options.userId !== undefined && typeof options.userId !== "string") throw new TypeError("userId must be a string");
  if (options.clientMsgId !== undefined && typeof options.clientMsgId !== "function") throw new TypeError("clientMsgId must be a function returning a bigint");
  if (options.batching !== undefined && typeof options.batching !== "boolean") throw new TypeError("batching must be a boolean");
  const versions = options.versions ?? [1];
  if (!Array.isArray(versions) || versions.length === 0) throw new RangeError("versions must be a non-empty array");
  for (const v of versions) integer("each version", v, 0, 1, 0xffff);
  const ackTimeoutMs = integer("ackTimeoutMs", options.ackTimeoutMs, 3000, 1, MAX_U32);
  const backoffFactor = options.backoffFactor ?? 2;
  const backoffJitter = options.backoffJitter ?? 0.2;
  const maxBackoffMs = integer("maxBackoffMs", options.maxBackoffMs, 60_000, 1, MAX_U32);
  const syncTimeoutMs = integer("syncTimeoutMs", options.syncTimeoutMs, 5000, 1, MAX_U32);
  const partTimeoutMs = integer("partTimeoutMs", options.partTimeoutMs, 10_000, 1, MAX_U32);
  for (const initialMs of [ackTimeoutMs, syncTimeoutMs, partTimeoutMs]) {
    checkBackoffPolicy({ initialMs, factor: backoffFactor, jitter: backoffJitter, maxMs: Math.max(maxBackoffMs, initialMs) });
  }
  return {
    clientId: options.clientId,
    userId: options.userId,
    versions: [...versions],
    maxFrameSize: integer("maxFrameSize", options.maxFrameSize, DEFAULT_MAX_FRAME_SIZE, HEADER_SIZE, MAX_FRAME_SIZE_LIMIT),
    batching: options.batching ?? true,
    ackTimeoutMs,
    maxRetries: integer("maxRetries", options.maxRetries, 3, 0, 1000),
    backoffFactor,
    backoffJitter,
    maxBackoffMs,
    maxPendingSends: integer("maxPendingSends", options.maxPendingSends, 1024, 1, 2 ** 24),
    maxFailedSends: integer("maxFailedSends", options.maxFailedSends, 1024, 0, 2 ** 24),
    maxMissedHeartbeats: integer("maxMissedHeartbeats", options.maxMissedHeartbeats, 2, 1, 1000),
    handshakeTimeoutMs: integer("handshakeTimeoutMs", options.handshakeTimeoutMs, 10_000, 1, MAX_U32),
    syncLimit: integer("syncLimit", options.syncLimit, 0, 0, MAX_U32),
    syncTimeoutMs,
    syncIntervalMs: integer("syncIntervalMs", options.syncIntervalMs, 300_000, 0, MAX_U32),
    processedIdCapacity: integer("processedIdCapacity", options.processedIdCapacity, 10_000, 1, 2 ** 24),
    partSize: integer("partSize", options.partSize, 65_536, 1, MAX_FRAME_SIZE_LIMIT),
    uploadWindow: integer("uploadWindow", options.uploadWindow, 4, 1, 1024),
    maxUploads: integer("maxUploads", options.maxUploads, 16, 1, 4096),
    partTimeoutMs,
    maxPartRetries: integer("maxPartRetries", options.maxPartRetries, 3, 0, 1000),
  };
}
