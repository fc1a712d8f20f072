/**
 * SyncwireClient: the reconnecting client. It drives a `ClientEngine` over any `ClientTransport` (TCP,
 * TLS, WebSocket, HTTP short links) and is the only reconnect logic in the package: the Node client
 * (`syncwire/node`'s `createClient`), the browser client and the short-link client are this class with
 * different transports.
 *
 * Theory of operation. The engine owns the protocol; this class owns the link and the clock:
 *
 *   idle ──start()──▶ connecting ──transport open──▶ handshaking ──WELCOME──▶ open
 *                         ▲                                │                   │
 *                         │                   link closed, reset, DISCONNECT, dead link
 *                         │                                ▼                   ▼
 *                         └──────backoff timer──────── waiting ◀───────────────┘
 *                                                          │ AUTH_FAILED, REPLACED, UNSUPPORTED_VERSION,
 *                                                          ▼ disconnect(), close()
 *                                                       stopped
 *
 * - **The adapter loop** (src/session/link.ts): after every input (bytes, a message, a timer, an
 *   application call) `#pump` hands the engine's events to the listeners, writes what `pollTransmit()`
 *   gives while the link takes it, re-arms one timer at `pollTimeout()`, and closes the link once the
 *   engine's state is "closed" and its last frame (a DISCONNECT, if any) is written. `#pump` never
 *   nests: a listener that calls `send()` makes the running pump go round once more.
 * - **Links have generations.** Every link gets a number; callbacks of an older link are ignored, so a
 *   late response or a late close of an abandoned link can never reach the engine's current link.
 * - **Reconnect.** When a link ends (its transport closed, or the engine closed it), the engine is told
 *   (`linkClosed`), and unless reconnecting is ruled out the next attempt waits
 *   `max(retry_after_ms, backoffDelay(failures, policy, random))` — the same function the engine times
 *   its retransmissions with. `failures` counts links that ended without reaching WELCOME since the last
 *   WELCOME. After WELCOME the engine resends what was not confirmed (same client ids) and syncs, so
 *   nothing is lost and nothing is shown twice. No reconnect after DISCONNECT AUTH_FAILED, REPLACED or
 *   UNSUPPORTED_VERSION (the engine's `reconnect: false`), after `disconnect()` or `close()`: state
 *   "stopped"; `start()` may begin again (with a new token, say).
 * - **Observable**: every engine event, plus `state` (each state change), `reconnecting` (attempt and
 *   delay) and `transport-closed` (why the transport went away). RTT comes with the engine's
 *   `heartbeat` events and `rttMs`.
 *
 * Platform-neutral: timers are the global `setTimeout`, the clock is `Date.now` unless given; no Node API.
 */
import { DisconnectCode } from "../gen/syncwire/v1/session_pb.js";
import type { SyncKey } from "../gen/syncwire/v1/sync_pb.js";
import { backoffDelay, checkBackoffPolicy, type BackoffPolicy } from "../session/backoff.js";
import { ClientEngine, type OutgoingMessageInit } from "../session/client/engine.js";
import type { ClientEvent } from "../session/client/events.js";
import type { ClientEngineOptions } from "../session/client/options.js";
import type { UploadHandle } from "../session/client/uploads.js";
import { SessionError } from "../session/errors.js";
import { DeadlineTimer } from "./deadline-timer.js";
import type { ClientTransport, TransportHandlers, TransportLink } from "./transport.js";

/** Where the client is (see the diagram at the top of this file). */
export type ClientLinkState = "idle" | "connecting" | "handshaking" | "open" | "waiting" | "stopped";

/** The client's state changed. */
export interface ClientStateEvent {
  readonly type: "state";
  readonly state: ClientLinkState;
  /** The transport kind ("tcp", "ws", …). */
  readonly transport: string;
  /** Why, for "stopped" (and "waiting": what ended the link). */
  readonly reason?: string;
}

/** A reconnect is scheduled. */
export interface ClientReconnectingEvent {
  readonly type: "reconnecting";
  /** 1 for the first attempt after a link that reached WELCOME; counts up while attempts fail. */
  readonly attempt: number;
  /** The wait before it, ms (the backoff, or the server's retry_after_ms if longer). */
  readonly delayMs: number;
  /** What ended the last link. */
  readonly reason: string;
}

/** The transport went away (it closed, was reset, or never opened). */
export interface ClientTransportClosedEvent {
  readonly type: "transport-closed";
  readonly reason: string;
}

/** Everything `SyncwireClient` reports: the engine's events and its own. */
export type SyncwireClientEvent = ClientEvent | ClientStateEvent | ClientReconnectingEvent | ClientTransportClosedEvent;

/** The event of one `type`. */
export type SyncwireClientEventOf<T extends SyncwireClientEvent["type"]> = Extract<SyncwireClientEvent, { type: T }>;

/** Options of {@link SyncwireClient}. */
export interface SyncwireClientOptions {
  /** How to reach the server. */
  readonly transport: ClientTransport;
  /**
   * The engine, or the options to make one (`random` defaults to `Math.random` here). Give an engine
   * of your own to resume from a persisted SyncKey with your own options, or to inspect it in tests.
   */
  readonly engine: ClientEngine | (Omit<ClientEngineOptions, "random"> & { random?: () => number });
  /** Waits between reconnect attempts. Default `{ initialMs: 500, factor: 2, jitter: 0.2, maxMs: 30000 }`. */
  readonly reconnect?: BackoffPolicy;
  /** A link not open this long after it was started is given up (and retried). Default 10,000 ms. */
  readonly connectTimeoutMs?: number;
  /** The clock: Unix time in ms (it also stamps client message ids). Default `Date.now`. */
  readonly now?: () => number;
  /** Randomness for reconnect jitter, in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

const DEFAULT_RECONNECT: BackoffPolicy = { initialMs: 500, factor: 2, jitter: 0.2, maxMs: 30_000 };

type Listener = (event: SyncwireClientEvent) => void;
type Timer = ReturnType<typeof setTimeout>;

function rethrowLater(error: unknown): void {
  // A listener's bug must not break the loop that called it, nor vanish: surface it as uncaught.
  setTimeout(() => {
    throw error;
  }, 0);
}

/**
 * A client that stays connected: see the theory of operation at the top of this file.
 *
 * Example (browser): `new SyncwireClient({ transport: webSocketTransport("wss://chat.example/ws"),
 * engine: { clientId, token } }).start()`; Node: `createClient({ url: "tcp://127.0.0.1:9000", … })`.
 */
export class SyncwireClient {
  /** The engine (read `syncKey`, `pendingSends`, `rttMs`…; call its methods only through this class, or `pump()` after). */
  readonly engine: ClientEngine;
  readonly #transport: ClientTransport;
  readonly #policy: BackoffPolicy;
  readonly #connectTimeoutMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #listeners = new Set<Listener>();

  #state: ClientLinkState = "idle";
  #link: TransportLink | undefined;
  /** The link's transport said "open" (the engine has a link). */
  #linkOpen = false;
  #closing = false;
  #generation = 0;
  #blocked = false;
  #failures = 0;
  #retryAfterMs = 0;
  #mayReconnect = true;
  #stopReason = "";
  /** A token for the next HELLO (start()'s), then forgotten. */
  #token: string | undefined;
  readonly #engineTimer = new DeadlineTimer(() => {
    if (!this.#linkOpen) return;
    this.engine.handleTimeout(this.#now());
    this.#pump();
  });
  #reconnectTimer: Timer | undefined;
  #connectTimer: Timer | undefined;
  #pumping = false;
  #again = false;
  #quietWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #stopWaiters: (() => void)[] = [];

  /**
   * @throws TypeError / RangeError for bad engine options (see `ClientEngineOptions`), a transport
   *   without `connect`, or a bad reconnect policy or timeout.
   */
  constructor(options: SyncwireClientOptions) {
    if (options === null || typeof options !== "object") throw new TypeError("SyncwireClient needs an options object");
    const transport = options.transport;
    if (transport === null || typeof transport !== "object" || typeof transport.connect !== "function") throw new TypeError("transport must have a connect() method");
    this.#transport = transport;
    this.engine = options.engine instanceof ClientEngine ? options.engine : new ClientEngine({ random: Math.random, ...options.engine });
    this.#policy = options.reconnect ?? DEFAULT_RECONNECT;
    checkBackoffPolicy(this.#policy);
    const timeout = options.connectTimeoutMs ?? 10_000;
    if (!Number.isInteger(timeout) || timeout < 1) throw new RangeError(`connectTimeoutMs must be a positive integer, got ${timeout}`);
    this.#connectTimeoutMs = timeout;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    if (typeof this.#now !== "function" || typeof this.#random !== "function") throw new TypeError("now and random must be functions");
  }

  // ── What a UI reads ──────────────────────────────────────────────────────────────────────────────

  /** Where the client is. */
  get state(): ClientLinkState {
    return this.#state;
  }

  /** The transport kind ("tcp", "tls", "ws", "http", …). */
  get transportKind(): string {
    return this.#transport.kind;
  }

  /** The last round-trip time measured by heartbeats, ms, or undefined. */
  get rttMs(): number | undefined {
    return this.engine.rttMs;
  }

  /** The SyncKey of everything handed over so far (persist it with the messages). */
  get syncKey(): SyncKey {
    return this.engine.syncKey;
  }

  /** Failed reconnect attempts since the last WELCOME. */
  get failures(): number {
    return this.#failures;
  }

  // ── Listening ────────────────────────────────────────────────────────────────────────────────────

  /**
   * Calls `listener` with every event of this `type` (or every event, for `"*"`).
   * @returns a function that removes the listener.
   * @throws TypeError if `listener` is not a function.
   */
  on<T extends SyncwireClientEvent["type"]>(type: T | "*", listener: (event: SyncwireClientEventOf<T>) => void): () => void {
    if (typeof listener !== "function") throw new TypeError("listener must be a function");
    const wrapped: Listener = (event) => {
      if (type === "*" || event.type === type) listener(event as SyncwireClientEventOf<T>);
    };
    this.#listeners.add(wrapped);
    return () => void this.#listeners.delete(wrapped);
  }

  /**
   * The next event of this `type` that passes `filter`.
   * @returns a promise of the event; it rejects with an Error after `timeoutMs` (default 30 s).
   */
  once<T extends SyncwireClientEvent["type"]>(type: T, filter: (event: SyncwireClientEventOf<T>) => boolean = () => true, timeoutMs = 30_000): Promise<SyncwireClientEventOf<T>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${type} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(type, (event) => {
        if (!filter(event)) return;
        clearTimeout(timer);
        off();
        resolve(event);
      });
    });
  }

  // ── The link ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * Connects (state "connecting"), and keeps reconnecting until `disconnect()`, `close()` or a
   * DISCONNECT that rules it out. Does nothing if already started and not stopped.
   * @param options `token` replaces the credential for the next HELLO (e.g. after AUTH_FAILED).
   * @returns this.
   * @throws SessionError CLOSED after `disconnect()`/`close()` (the engine is closed for good).
   */
  start(options?: { token?: string }): this {
    if (this.#state !== "idle" && this.#state !== "stopped") return this;
    if (this.engine.state === "closed") throw new SessionError("CLOSED", "the client was closed: make a new one");
    this.#token = options?.token;
    this.#mayReconnect = true;
    this.#stopReason = "";
    this.#failures = 0;
    this.#retryAfterMs = 0;
    this.#openLink();
    return this;
  }

  /**
   * Ends the session gracefully: DISCONNECT (default NORMAL) is written, the link closes, no reconnect.
   * Pending messages are dropped (the application still has them), open uploads fail.
   * @returns a promise that resolves once the transport is closed (at most `timeoutMs`, default 5 s,
   *   then the link is dropped).
   * @throws RangeError if `code` is not a u32.
   */
  disconnect(code: DisconnectCode = DisconnectCode.NORMAL, reason = "", timeoutMs = 5000): Promise<void> {
    this.#mayReconnect = false;
    this.#stopReason = "disconnect() was called";
    clearTimeout(this.#reconnectTimer);
    this.engine.disconnect(this.#now(), code, reason);
    if (this.#link === undefined || !this.#linkOpen) {
      // Nothing to say on a link that is not open: drop it (if any) and stop.
      if (this.#link !== undefined) this.#abort("disconnected while connecting");
      else this.#stop();
      return Promise.resolve();
    }
    const stopped = new Promise<void>((resolve) => this.#stopWaiters.push(resolve));
    const timer = setTimeout(() => this.#abort("disconnect timed out"), timeoutMs);
    this.#pump();
    return stopped.finally(() => clearTimeout(timer));
  }

  /** Stops at once: no DISCONNECT, the link is dropped, pending messages dropped, uploads failed. Idempotent. */
  close(): void {
    this.#mayReconnect = false;
    if (this.#stopReason === "") this.#stopReason = "close() was called";
    clearTimeout(this.#reconnectTimer);
    this.engine.close();
    if (this.#link !== undefined) this.#abort("closed by the application");
    else this.#stop();
    this.#pump();
  }

  /**
   * Resolves once the link is open and no request waits for its reply (messages acked, sync and
   * uploads done) — e.g. before a short-link client reports a sync finished.
   * @returns a promise that rejects with SessionError CLOSED if the client stops first.
   */
  quiet(): Promise<void> {
    if (this.#state === "stopped") return Promise.reject(new SessionError("CLOSED", `the client stopped: ${this.#stopReason || "stopped"}`));
    return new Promise((resolve, reject) => {
      this.#quietWaiters.push({ resolve, reject });
      this.#pump();
    });
  }

  /**
   * Runs the adapter loop now: for callers that used `engine` directly. Never throws (a listener's
   * exception is rethrown asynchronously).
   */
  pump(): void {
    this.#pump();
  }

  // ── Requests (the engine's, with this client's clock) ────────────────────────────────────────────

  /** `engine.send`: queues a message. See `ClientEngine.send` for what it throws. @returns its client id. */
  send(message: OutgoingMessageInit): bigint {
    const id = this.engine.send(message, this.#now());
    this.#pump();
    return id;
  }

  /** `engine.resend`: sends a failed message again with the same id. Throws as `ClientEngine.resend`. */
  resend(clientMsgId: bigint): void {
    this.engine.resend(clientMsgId, this.#now());
    this.#pump();
  }

  /** `engine.upload`: uploads an object in parts. Throws as `ClientEngine.upload`. */
  upload(bytes: Uint8Array, contentType: string, options?: { uploadId?: string }): UploadHandle {
    const handle = this.engine.upload(bytes, contentType, this.#now(), options);
    this.#pump();
    return handle;
  }

  /** `engine.sync`: starts a sync cycle now. Throws as `ClientEngine.sync`. */
  sync(): void {
    this.engine.sync(this.#now());
    this.#pump();
  }

  /** `engine.sendApplication`: an application frame (op ≥ 1000). Throws as `ClientEngine.sendApplication`. */
  sendApplication(op: number, body: Uint8Array): void {
    this.engine.sendApplication(op, body, this.#now());
    this.#pump();
  }

  // ── Inside ───────────────────────────────────────────────────────────────────────────────────────

  #openLink(): void {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const generation = ++this.#generation;
    const current = (): boolean => generation === this.#generation;
    this.#linkOpen = false;
    this.#closing = false;
    this.#blocked = false;
    this.#setState("connecting");
    const handlers: TransportHandlers = {
      open: () => current() && this.#onOpen(),
      bytes: (chunk) => {
        if (!current() || !this.#linkOpen) return;
        this.engine.receiveBytes(chunk, this.#now());
        this.#pump();
      },
      message: (message) => {
        if (!current() || !this.#linkOpen) return;
        this.engine.receiveMessage(message, this.#now());
        this.#pump();
      },
      writable: () => {
        if (!current()) return;
        this.#blocked = false;
        this.#pump();
      },
      closed: (reason) => {
        if (current()) this.#onClosed(String(reason));
      },
    };
    let link: TransportLink;
    try {
      link = this.#transport.connect(handlers);
    } catch (error) {
      const reason = `cannot connect: ${error instanceof Error ? error.message : String(error)}`;
      queueMicrotask(() => handlers.closed(reason));
      return;
    }
    this.#link = link;
    this.#connectTimer = setTimeout(() => {
      if (current() && !this.#linkOpen) this.#abort(`not connected within ${this.#connectTimeoutMs} ms`);
    }, this.#connectTimeoutMs);
  }

  #onOpen(): void {
    clearTimeout(this.#connectTimer);
    if (this.engine.state === "closed") {
      // close()/disconnect() came while connecting: there is nothing to say on this link.
      this.#abort("the client was closed");
      return;
    }
    this.#linkOpen = true;
    const token = this.#token;
    this.#token = undefined;
    this.engine.connect(this.#now(), { ...(token === undefined ? {} : { token }), short: this.#transport.short === true });
    this.#setState(this.engine.state === "open" ? "open" : "handshaking");
    this.#pump();
  }

  /** The current link is over (its transport closed, or it was dropped): tell the engine, then reconnect or stop. */
  #onClosed(reason: string): void {
    this.#generation++; // anything more from that link is ignored
    this.#link = undefined;
    this.#linkOpen = false;
    this.#blocked = false;
    clearTimeout(this.#connectTimer);
    this.engine.linkClosed(this.#now());
    this.#emit({ type: "transport-closed", reason });
    this.#pump();
    if (this.engine.state === "closed" || !this.#mayReconnect) {
      this.#stop();
      return;
    }
    const delay = Math.max(this.#retryAfterMs, backoffDelay(this.#failures, this.#policy, this.#random));
    this.#failures++;
    this.#retryAfterMs = 0;
    this.#setState("waiting", reason);
    this.#emit({ type: "reconnecting", attempt: this.#failures, delayMs: delay, reason });
    this.#reconnectTimer = setTimeout(() => this.#openLink(), delay);
  }

  #abort(reason: string): void {
    const link = this.#link;
    if (link !== undefined) {
      try {
        link.abort();
      } catch {
        // The link is being dropped anyway.
      }
    }
    if (this.#link !== undefined || this.#state === "connecting") this.#onClosed(reason);
  }

  #stop(): void {
    this.#engineTimer.cancel();
    this.#setState("stopped", this.#stopReason || "stopped");
    const error = new SessionError("CLOSED", `the client stopped: ${this.#stopReason || "stopped"}`);
    for (const waiter of this.#quietWaiters.splice(0)) waiter.reject(error);
    for (const resolve of this.#stopWaiters.splice(0)) resolve();
  }

  #setState(state: ClientLinkState, reason?: string): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit(reason === undefined ? { type: "state", state, transport: this.#transport.kind } : { type: "state", state, transport: this.#transport.kind, reason });
  }

  #emit(event: SyncwireClientEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        rethrowLater(error);
      }
    }
  }

  #onEngineEvent(event: ClientEvent): void {
    switch (event.type) {
      case "open":
        this.#failures = 0;
        this.#setState("open");
        break;
      case "disconnected":
        this.#retryAfterMs = event.retryAfterMs;
        if (!event.reconnect) {
          this.#mayReconnect = false;
          this.#stopReason = `DISCONNECT ${DisconnectCode[event.code] ?? event.code}${event.reason === "" ? "" : `: ${event.reason}`}`;
        }
        break;
    }
    this.#emit(event);
  }

  /** The adapter loop (see the theory of operation). Never nests; never throws. */
  #pump(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        const now = this.#now();
        for (let event = this.engine.pollEvent(); event !== undefined; event = this.engine.pollEvent()) this.#onEngineEvent(event);
        const link = this.#link;
        let drained = true;
        if (link !== undefined && this.#linkOpen && !this.#closing) {
          while (!this.#blocked) {
            const frame = this.engine.pollTransmit(now);
            if (frame === undefined) break;
            if (!link.send(frame)) this.#blocked = true;
          }
          drained = !this.#blocked;
          if (drained && this.engine.state === "closed") {
            // The engine ended the link (DISCONNECT either way, a dead link, a protocol error): its last
            // frame is written, so close; the transport's closed() then takes us to reconnect or stop.
            this.#closing = true;
            link.close();
          }
        }
        this.#engineTimer.arm(this.#linkOpen ? this.engine.pollTimeout() : undefined, now);
        if (this.#quietWaiters.length > 0 && drained && this.#linkOpen && !this.#closing && this.engine.state === "open" && this.engine.requestsInFlight === 0) {
          for (const waiter of this.#quietWaiters.splice(0)) waiter.resolve();
        }
      } while (this.#again);
    } catch (error) {
      // Only a caller's broken `random` or clock can make the engine throw here.
      rethrowLater(error);
    } finally {
      this.#pumping = false;
    }
  }
}
