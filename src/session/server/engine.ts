/**
 * ServerEngine: what the links of one server share — options, stores, the registry of authenticated
 * long links (to replace an older link of the same device), and housekeeping — and the factory of
 * `ServerConnection`s.
 *
 * Theory of operation. The engine holds no protocol state of its own: each link is a `ServerConnection`
 * and all shared state lives in the stores, so several engines (nodes) over the same stores serve one
 * user base. Locally it keeps every open connection (for `shutdown`) and a map (user, client_id) → the
 * device's open long link; a new link of the same device replaces the older one with DISCONNECT
 * REPLACED. (Across nodes that needs a presence message the stores do not define yet: it is local.)
 * Housekeeping (dropping idle uploads) has no timer of its own: it runs from connections' calls, at most
 * once per quarter of the upload idle time, and through `expireUploads(now)` for adapters that want it.
 */
import { DisconnectCode } from "../../gen/syncwire/v1/session_pb.js";
import { checkNow, integerOption, pairKey } from "../options.js";
import { ServerConnection, type AcceptOptions, type ConnectionHost } from "./connection.js";
import { resolveServerOptions, type ResolvedServerOptions, type ServerEngineOptions } from "./options.js";

const SHUTDOWN_REASON = "the server is shutting down";

/** A server: accepts links (`accept`), shuts them all down (`shutdown`). See the theory of operation above. */
export class ServerEngine {
  readonly #options: ResolvedServerOptions;
  readonly #host: ConnectionHost;
  readonly #open = new Set<ServerConnection>();
  readonly #devices = new Map<string, ServerConnection>();
  readonly #deviceOf = new Map<ServerConnection, string>();
  #sessionCounter = 0;
  #nextMaintenance = -Infinity;
  #maintenance: Promise<unknown> = Promise.resolve();
  #shutdown: { retryAfterMs: number } | undefined;

  /**
   * @throws TypeError if `stores` or `authenticate` is missing, or a hook is not a function.
   * @throws RangeError if a numeric option is out of range (see `ServerEngineOptions`).
   */
  constructor(options: ServerEngineOptions) {
    this.#options = resolveServerOptions(options);
    const engine = this;
    this.#host = {
      options: this.#options,
      newSessionId: () => engine.#newSessionId(),
      register: (link, user, clientId) => engine.#register(link, user, clientId),
      unregister: (link) => engine.#unregister(link),
      maintain: (now) => engine.#maintain(now),
    };
  }

  /** The options with their defaults applied. */
  get options(): ResolvedServerOptions {
    return this.#options;
  }

  /** Links accepted and not yet closed. */
  get connectionCount(): number {
    return this.#open.size;
  }

  /**
   * A new link: the adapter feeds it what the transport receives and drains what it must send.
   * After `shutdown` the link starts closed, with DISCONNECT SERVER_SHUTDOWN queued.
   * @param now the adapter's clock in ms since the Unix epoch (it becomes server_time_ms).
   * @returns a fresh connection in state "handshaking".
   * @throws TypeError if `options.wake` is not a function; RangeError if `now` is not finite.
   */
  accept(now: number, options: AcceptOptions): ServerConnection {
    checkNow(now);
    if (options === null || typeof options !== "object" || typeof options.wake !== "function") throw new TypeError("accept needs { wake: () => void }");
    const link = new ServerConnection(this.#host, now, options);
    this.#open.add(link);
    if (this.#shutdown !== undefined) link.disconnect(DisconnectCode.SERVER_SHUTDOWN, SHUTDOWN_REASON, this.#shutdown.retryAfterMs);
    return link;
  }

  /**
   * Every open link gets DISCONNECT SERVER_SHUTDOWN with `retryAfterMs` and goes "closed" (each adapter
   * is woken to write it and close); links accepted later start that way. Store work already started
   * finishes (await each link's `idle()` to drain it).
   * @throws RangeError if `now` is not finite or `retryAfterMs` is not a u32.
   */
  shutdown(now: number, retryAfterMs = 0): void {
    checkNow(now);
    integerOption("retryAfterMs", retryAfterMs, 0, 0, 0xffff_ffff);
    this.#shutdown = { retryAfterMs };
    for (const link of [...this.#open]) link.disconnect(DisconnectCode.SERVER_SHUTDOWN, SHUTDOWN_REASON, retryAfterMs);
  }

  /**
   * Drops uploads idle for longer than the upload idle time, now.
   * @returns how many were dropped.
   * @throws (rejects) whatever the upload store rejects with; RangeError (thrown) if `now` is not finite.
   */
  expireUploads(now: number): Promise<number> {
    checkNow(now);
    return this.#options.stores.uploads.expire(now, this.#options.uploads.idleMs);
  }

  /**
   * Resolves when no store work is pending on any open link, nor housekeeping.
   * @returns a promise that never rejects.
   */
  async idle(): Promise<void> {
    for (;;) {
      const links = [...this.#open];
      await Promise.all([...links.map((l) => l.idle()), this.#maintenance]);
      if (links.every((l) => !this.#open.has(l) || l.inFlight === 0)) return;
    }
  }

  #newSessionId(): string {
    const word = () => Math.floor(this.#options.random() * 0x1_0000_0000).toString(16).padStart(8, "0");
    return `${word()}${word()}-${(++this.#sessionCounter).toString(36)}`;
  }

  #register(link: ServerConnection, user: string, clientId: string): void {
    if (clientId === "") return;
    const key = pairKey(user, clientId);
    const older = this.#devices.get(key);
    this.#devices.set(key, link);
    this.#deviceOf.set(link, key);
    if (older !== undefined && older !== link) {
      this.#deviceOf.delete(older);
      older.disconnect(DisconnectCode.REPLACED, "the same device connected again");
    }
  }

  #unregister(link: ServerConnection): void {
    this.#open.delete(link);
    const key = this.#deviceOf.get(link);
    if (key === undefined) return;
    this.#deviceOf.delete(link);
    if (this.#devices.get(key) === link) this.#devices.delete(key);
  }

  #maintain(now: number): void {
    if (now < this.#nextMaintenance) return;
    this.#nextMaintenance = now + Math.max(1, Math.floor(this.#options.uploads.idleMs / 4));
    // Failures are retried at the next opportunity; there is no link to report them on.
    this.#maintenance = this.expireUploads(now).catch(() => 0);
  }
}
