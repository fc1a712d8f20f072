/**
 * ServerEngine options: what a server author sets, their defaults (the reference server's values in
 * docs/PROTOCOL.md §11), and the checks that turn a bad value into a RangeError at construction.
 */
import type { Hello } from "../../gen/syncwire/v1/session_pb.js";
import type { DisconnectCode } from "../../gen/syncwire/v1/session_pb.js";
import type { Frame } from "../../wire/decode.js";
import { DEFAULT_MAX_FRAME_SIZE, HEADER_SIZE, MAX_FRAME_SIZE_LIMIT } from "../../wire/header.js";
import { integerOption } from "../options.js";
import type { ServerStores, UploadLimits } from "../stores.js";
import type { ServerConnection } from "./connection.js";

/** What {@link ServerEngineOptions.authenticate} learns about the link besides HELLO. */
export interface AuthenticateInfo {
  /** The session id WELCOME will carry. */
  readonly sessionId: string;
  /** True for a short link (one HTTP request). */
  readonly short: boolean;
  /** The peer's address, as the adapter gave it to `accept`. */
  readonly remote?: string;
  /** The time HELLO arrived. */
  readonly now: number;
}

/** The verdict of {@link ServerEngineOptions.authenticate}. */
export type AuthenticateResult =
  /** Accept: the link belongs to `user` (a non-empty string). */
  | { readonly user: string }
  /** Refuse with DISCONNECT `refuse` (usually AUTH_FAILED), echoing HELLO's seq. */
  | { readonly refuse: DisconnectCode; readonly reason: string; readonly retryAfterMs?: number };

/** Limits the server states in WELCOME and enforces on what the client sends. */
export interface ServerLimits {
  /** Largest frame accepted from the client, header included. Default 1 MiB. */
  maxFrameSize?: number;
  /** Most frames in one BATCH from the client; 0 refuses BATCH. Default 64. */
  maxBatchFrames?: number;
  /** Most client requests unanswered at once; more closes the link with RATE_LIMITED. Default 128. */
  maxInFlight?: number;
}

/** Upload limits (docs/PROTOCOL.md §11.6). */
export interface ServerUploadLimits {
  /** Largest object, in bytes. Default 16 MiB. */
  maxObjectSize?: number;
  /** Uploads one user may have open at once. Default 8. */
  maxOpenUploads?: number;
  /** An upload without a new part for this long is dropped. Default 60,000 ms. */
  idleMs?: number;
}

/** Options of `ServerEngine`. */
export interface ServerEngineOptions {
  /** Shared state: `createMemoryStores()`, or stores on Redis for several nodes. */
  readonly stores: ServerStores;
  /**
   * Decides who a HELLO belongs to. May be async. If it throws (or rejects, or returns something that is
   * neither verdict), the handshake is refused with SERVER_SHUTDOWN and `retryAfterMs`: the failure is
   * the server's, so the client should come back, and an `error` event carries what was thrown.
   */
  readonly authenticate: (hello: Hello, info: AuthenticateInfo) => AuthenticateResult | Promise<AuthenticateResult>;
  /** WELCOME's heartbeat_interval_ms; 0: no heartbeats and no idle timeout. Default 30,000. */
  heartbeatIntervalMs?: number;
  /** A long link with no frame for this long gets DISCONNECT IDLE_TIMEOUT. Default 3 × heartbeatIntervalMs. */
  idleTimeoutMs?: number;
  /** A link without a finished handshake this long after `accept` gets DISCONNECT IDLE_TIMEOUT. Default 10,000. */
  handshakeTimeoutMs?: number;
  limits?: ServerLimits;
  /** Most entries per SYNC_RESULT (a SYNC's limit is capped to it; 0 asks for it). Default 100. */
  syncPageLimit?: number;
  uploads?: ServerUploadLimits;
  /** How long dedupe records live; must outlast any client's retries. Default 24 h. */
  dedupeTtlMs?: number;
  /** `retry_after_ms` advised with RATE_LIMITED and with refusals the server is to blame for. Default 1,000. */
  retryAfterMs?: number;
  /** A random number in [0, 1), for session ids. Default: from `crypto.getRandomValues`. */
  random?: () => number;
  /**
   * Called with every application frame (op ≥ 1000) after WELCOME, in arrival order, besides the
   * `application` event. The frame's body is a view of the received bytes: copy what you keep. Reply
   * with `link.sendApplicationFrame`. Must not throw (a throw becomes an `error` event).
   */
  onApplicationFrame?: (frame: Frame, link: ServerConnection, now: number) => void;
}

/** Options with every default applied and checked. */
export interface ResolvedServerOptions {
  readonly stores: ServerStores;
  readonly authenticate: ServerEngineOptions["authenticate"];
  readonly heartbeatIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly maxFrameSize: number;
  readonly maxBatchFrames: number;
  readonly maxInFlight: number;
  readonly syncPageLimit: number;
  readonly uploads: UploadLimits;
  readonly dedupeTtlMs: number;
  readonly retryAfterMs: number;
  readonly random: () => number;
  readonly onApplicationFrame: ServerEngineOptions["onApplicationFrame"];
}

const U32 = 0xffff_ffff;
const DAY_MS = 86_400_000;

function cryptoRandom(): number {
  const word = new Uint32Array(1);
  globalThis.crypto.getRandomValues(word);
  return word[0]! / 2 ** 32;
}

/**
 * Applies defaults and checks every option.
 * @returns a fresh, frozen object.
 * @throws TypeError if `stores` is missing a store, or `authenticate`, `random` or `onApplicationFrame`
 *   is not a function.
 * @throws RangeError if a number is not an integer in its range (u32 for values sent in WELCOME).
 */
export function resolveServerOptions(options: ServerEngineOptions): ResolvedServerOptions {
  if (options === null || typeof options !== "object") throw new TypeError("ServerEngine needs an options object");
  const stores = options.stores;
  for (const name of ["dedupe", "ids", "log", "uploads", "objects", "presence"] as const) {
    if (stores === undefined || stores === null || typeof stores[name] !== "object" || stores[name] === null) throw new TypeError(`stores.${name} is missing`);
  }
  if (typeof options.authenticate !== "function") throw new TypeError("authenticate must be a function");
  if (options.random !== undefined && typeof options.random !== "function") throw new TypeError("random must be a function");
  if (options.onApplicationFrame !== undefined && typeof options.onApplicationFrame !== "function") throw new TypeError("onApplicationFrame must be a function");
  const heartbeatIntervalMs = integerOption("heartbeatIntervalMs", options.heartbeatIntervalMs, 30_000, 0, U32);
  const limits = options.limits ?? {};
  const uploads = options.uploads ?? {};
  return Object.freeze({
    stores,
    authenticate: options.authenticate,
    heartbeatIntervalMs,
    idleTimeoutMs: integerOption("idleTimeoutMs", options.idleTimeoutMs, 3 * heartbeatIntervalMs, 0),
    handshakeTimeoutMs: integerOption("handshakeTimeoutMs", options.handshakeTimeoutMs, 10_000, 1),
    maxFrameSize: integerOption("limits.maxFrameSize", limits.maxFrameSize, DEFAULT_MAX_FRAME_SIZE, HEADER_SIZE, MAX_FRAME_SIZE_LIMIT),
    maxBatchFrames: integerOption("limits.maxBatchFrames", limits.maxBatchFrames, 64, 0, U32),
    maxInFlight: integerOption("limits.maxInFlight", limits.maxInFlight, 128, 1, U32),
    syncPageLimit: integerOption("syncPageLimit", options.syncPageLimit, 100, 1, U32),
    uploads: Object.freeze({
      maxObjectSize: integerOption("uploads.maxObjectSize", uploads.maxObjectSize, 16 * 1024 * 1024, 0),
      maxOpenUploads: integerOption("uploads.maxOpenUploads", uploads.maxOpenUploads, 8, 1),
      idleMs: integerOption("uploads.idleMs", uploads.idleMs, 60_000, 1),
    }),
    dedupeTtlMs: integerOption("dedupeTtlMs", options.dedupeTtlMs, DAY_MS, 1),
    retryAfterMs: integerOption("retryAfterMs", options.retryAfterMs, 1_000, 0, U32),
    random: options.random ?? cryptoRandom,
    onApplicationFrame: options.onApplicationFrame,
  });
}
