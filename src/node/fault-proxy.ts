/**
 * createFaultProxy: a TCP proxy that forwards both ways and breaks the link on demand — cut writes into
 * pieces, merge them, delay them, drop whole frames, kill the link after so many frames or bytes, or
 * kill every link at once. What `syncwire proxy` runs, and what integration tests put between a client
 * and a server. Node-only: exported from `syncwire/node`.
 *
 * Theory of operation. Each accepted client is a link: the proxy connects to the upstream for it (the
 * client's socket stays paused until then) and runs two lanes (`fault-lane.ts`), `up` (client → server)
 * and `down` (server → client), each with its own decoder, faults, seeded drop generator and queue.
 * Both sockets allow half-open streams: a side that ends its stream has it ended on the other side once
 * everything before it was forwarded. A link closes when both sockets have closed; a socket that closes
 * abruptly (an error, a reset, a close without ending its stream first) takes the other one down with
 * it. `setFaults` reaches every open link at once and every link opened later.
 *
 * Kills: a kill limit ends the lane's queue with a marker; when the writer reaches it, the receiving
 * socket is ended after its last bytes are handed to the kernel (`destroySoon`) and the sending one is
 * destroyed at once. `killAll()` destroys both sockets of every link at once, dropping whatever the
 * proxy still held. Either way the peers see their connection close, as when a link dies.
 */
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { FrameDecoder } from "../stream/frame-decoder.js";
import type { Frame } from "../wire/decode.js";
import type { DirectionStats, FaultProxyEvent, FaultProxyStats, FrameLike, FrameSplitter } from "./fault-events.js";
import { directionStats, Lane, newStats, type LaneHost, type MutableDirectionStats } from "./fault-lane.js";
import { DIRECTIONS, NO_FAULTS, resolveFaults, type Direction, type FaultSettings, type ResolvedFaults } from "./fault-settings.js";

/** Default `highWaterMark`: 64 KiB per direction of each link. */
const DEFAULT_HIGH_WATER_MARK = 64 * 1024;
/** How long `close()` lets a link finish writing before destroying it. */
const CLOSE_GRACE_MS = 1000;
/** How long a killed link's last bytes may take to reach the kernel before the socket is destroyed anyway. */
const KILL_GRACE_MS = 1000;

/** Options of {@link createFaultProxy}. */
export interface FaultProxyOptions<F extends FrameLike = Frame> {
  /** Where to listen. Default `{ host: "127.0.0.1", port: 0 }` (a free port: read `address`). */
  listen?: { host?: string; port?: number };
  /** Where each client's link goes. `host` defaults to "127.0.0.1". */
  upstream: { host?: string; port: number };
  /** The faults from the start (see {@link FaultSettings}); default none. Change them with `setFaults`. */
  faults?: FaultSettings;
  /** Seed of the drop generator (any integer). Default 1: runs are reproducible unless asked otherwise. */
  seed?: number;
  /**
   * How each direction's bytes are cut into frames: a factory called once per direction of each link.
   * Default: the wire core's `FrameDecoder` with `versions: "any"` and its default `maxFrameSize`
   * (1 MiB), which reads syncwire, goim and Bilibili streams. `null`: no framing — bytes are forwarded
   * as they are read, and the frame faults (`drop`, `killAfterFrames`) do nothing.
   */
  framing?: (() => FrameSplitter<F>) | null;
  /**
   * Called for everything that happens, in order (see {@link FaultProxyEvent}). If it returns a promise,
   * the direction the event came from stops reading until the promise settles (what `syncwire proxy`
   * does while stdout is behind). It must not throw; a throw or a rejection is rethrown from a
   * microtask (an uncaught exception), the link carrying on.
   */
  onEvent?: (event: FaultProxyEvent<F>) => void | PromiseLike<unknown>;
  /**
   * Bytes waiting to be written in one direction of a link before the proxy stops reading that
   * direction (a frame still being gathered does not count). Default 64 KiB.
   */
  highWaterMark?: number;
}

/** A running fault proxy. */
export interface FaultProxy {
  /** Where it listens. */
  readonly address: { readonly host: string; readonly port: number };
  /** A snapshot of the counters (a fresh object each read). */
  readonly stats: FaultProxyStats;
  /**
   * Replaces the faults of every open link and of links opened later (`{}`: none). Kill limits count
   * from now; bytes already queued keep the delay they were queued with.
   * @throws TypeError / RangeError for invalid settings (see {@link FaultSettings}); nothing changes then.
   */
  setFaults(settings: FaultSettings): void;
  /**
   * Kills every open link now: both sockets are destroyed and what the proxy held is dropped.
   * @returns how many links were killed.
   */
  killAll(): number;
  /**
   * Stops listening and closes every link: reading stops, what is held is written at once (delays and
   * splits skipped), both streams are ended; a link still open after 1 s is destroyed.
   * @returns a promise that resolves when every socket is closed. Calling it again returns the same one.
   */
  close(): Promise<void>;
}

/** Internals a link needs from its proxy. */
interface ProxyState<F extends FrameLike> {
  readonly upstream: { readonly host: string; readonly port: number };
  faults: Record<Direction, ResolvedFaults>;
  readonly seed: number;
  readonly framing: (() => FrameSplitter<F>) | null;
  readonly highWaterMark: number;
  readonly totals: Record<Direction, MutableDirectionStats>;
  readonly emit: (event: FaultProxyEvent<F>) => PromiseLike<unknown> | undefined;
  readonly killed: () => void;
}

const addressOf = (socket: Socket): string => `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;

/** One client and its upstream connection. */
class Link<F extends FrameLike> implements LaneHost<F> {
  readonly link: number;
  readonly closed: Promise<void>;
  readonly #state: ProxyState<F>;
  readonly #client: Socket;
  readonly #upstream: Socket;
  #lanes: Record<Direction, Lane<F>> | undefined;
  #reason: "ended" | "reset" | "refused" | "killed" | "proxy-closed" | undefined;
  #error: string | undefined;
  #open = 2;
  #timers: ReturnType<typeof setTimeout>[] = [];

  constructor(state: ProxyState<F>, id: number, client: Socket) {
    this.#state = state;
    this.link = id;
    this.#client = client;
    let resolveClosed!: () => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    state.emit({ type: "open", link: id, time: Date.now(), client: addressOf(client) });
    const upstream = createConnection({ host: state.upstream.host, port: state.upstream.port, allowHalfOpen: true });
    this.#upstream = upstream;
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    upstream.once("connect", () => this.#connected());
    for (const [socket, side] of [
      [client, "client"],
      [upstream, "upstream"],
    ] as const) {
      socket.on("error", (error: NodeJS.ErrnoException) => {
        this.#error ??= `${side}: ${error.code ?? error.message}`;
        if (side === "upstream" && this.#lanes === undefined) this.#reason ??= "refused";
        this.#abort();
      });
      socket.once("close", () => {
        if (!this.#closedGracefully(side)) this.#abort();
        if (--this.#open === 0) {
          this.#finished();
          resolveClosed();
        }
      });
    }
  }

  /** The current lanes' faults follow the proxy's. */
  setFaults(faults: Record<Direction, ResolvedFaults>): void {
    if (this.#lanes === undefined) return;
    for (const direction of DIRECTIONS) this.#lanes[direction].setFaults(faults[direction]);
  }

  /** Kills the link now (`killAll`). @returns false if it was already closing. */
  killNow(): boolean {
    if (this.#reason !== undefined || this.#open === 0) return false;
    this.#reason = "killed";
    this.#state.killed();
    this.#state.emit({ type: "kill", link: this.link, time: Date.now(), reason: "killAll" });
    this.#abort();
    return true;
  }

  /** Ends the link gracefully (`close`), destroying it after a grace period. */
  shutdown(): void {
    if (this.#open === 0) return;
    this.#reason ??= "proxy-closed";
    if (this.#lanes === undefined) return this.#abort();
    for (const direction of DIRECTIONS) this.#lanes[direction].finish();
    this.#timers.push(setTimeout(() => this.#abort(), CLOSE_GRACE_MS));
  }

  // LaneHost
  emit(event: FaultProxyEvent<F>): PromiseLike<unknown> | undefined {
    return this.#state.emit(event);
  }

  killing(): void {
    for (const direction of DIRECTIONS) this.#lanes?.[direction].stopInput();
  }

  kill(from: Direction, reason: "killAfterFrames" | "killAfterBytes"): void {
    if (this.#reason !== undefined && this.#reason !== "proxy-closed") return;
    this.#reason = "killed";
    this.#state.killed();
    this.#state.emit({ type: "kill", link: this.link, time: Date.now(), direction: from, reason });
    for (const direction of DIRECTIONS) this.#lanes?.[direction].stop();
    const [target, source] = from === "up" ? [this.#upstream, this.#client] : [this.#client, this.#upstream];
    source.destroy();
    target.destroySoon();
    this.#timers.push(setTimeout(() => target.destroy(), KILL_GRACE_MS));
  }

  #connected(): void {
    if (this.#reason !== undefined || this.#client.destroyed) return;
    const state = this.#state;
    const lane = (direction: Direction, source: Socket, target: Socket): Lane<F> =>
      new Lane<F>({
        direction,
        source,
        target,
        host: this,
        faults: state.faults[direction],
        decoder: state.framing === null ? undefined : state.framing(),
        seed: state.seed,
        highWaterMark: state.highWaterMark,
        totals: state.totals[direction],
      });
    const lanes = { up: lane("up", this.#client, this.#upstream), down: lane("down", this.#upstream, this.#client) };
    this.#lanes = lanes;
    this.#client.on("data", (chunk: Buffer) => lanes.up.receive(chunk));
    this.#upstream.on("data", (chunk: Buffer) => lanes.down.receive(chunk));
    this.#client.on("end", () => lanes.up.sourceEnd());
    this.#upstream.on("end", () => lanes.down.sourceEnd());
    lanes.up.start();
    lanes.down.start();
  }

  /** True when `side` closed after both of its streams ended normally: the other side closes by itself. */
  #closedGracefully(side: "client" | "upstream"): boolean {
    const lanes = this.#lanes;
    if (lanes === undefined || this.#error !== undefined) return false;
    const [from, to] = side === "client" ? [lanes.up, lanes.down] : [lanes.down, lanes.up];
    return from.sourceEnded && to.targetEnded;
  }

  /** Destroys both sockets now. */
  #abort(): void {
    for (const direction of DIRECTIONS) this.#lanes?.[direction].stop();
    this.#client.destroy();
    this.#upstream.destroy();
  }

  #finished(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    for (const direction of DIRECTIONS) this.#lanes?.[direction].stop();
    const stats = (d: Direction): DirectionStats => directionStats(this.#lanes?.[d].stats ?? newStats());
    const reason = this.#reason ?? (this.#error === undefined && this.#lanes?.up.sourceEnded && this.#lanes.down.sourceEnded ? "ended" : "reset");
    this.#state.emit({
      type: "close",
      link: this.link,
      time: Date.now(),
      reason,
      ...(this.#error === undefined ? {} : { error: this.#error }),
      up: stats("up"),
      down: stats("down"),
    });
  }
}

/** Checks a port number. */
function checkPort(name: string, port: unknown, min: number): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < min || port > 65535) throw new RangeError(`${name} must be an integer from ${min} to 65535, got ${String(port)}`);
  return port;
}

/**
 * Starts a fault proxy: listens, and gives each client that connects its own connection to `upstream`,
 * forwarding both ways through the faults. See the theory of operation at the top of this file and
 * {@link FaultSettings} for the faults.
 *
 * Copies: bytes are forwarded as the views Node's sockets read them into; only a frame that straddles
 * reads is joined into a fresh array (once) before it is forwarded.
 *
 * @returns a promise of the running proxy, once it listens.
 * @throws TypeError / RangeError (synchronously) for invalid options or faults; the promise rejects with
 *   Node's error if the address cannot be listened on (EADDRINUSE, EACCES…).
 */
export function createFaultProxy<F extends FrameLike = Frame>(options: FaultProxyOptions<F>): Promise<FaultProxy> {
  if (options === null || typeof options !== "object") throw new TypeError("createFaultProxy needs an options object");
  if (options.upstream === null || typeof options.upstream !== "object") throw new TypeError("upstream must be { host?, port }");
  const upstream = { host: options.upstream.host ?? "127.0.0.1", port: checkPort("upstream.port", options.upstream.port, 1) };
  const listen = { host: options.listen?.host ?? "127.0.0.1", port: checkPort("listen.port", options.listen?.port ?? 0, 0) };
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 1) throw new RangeError(`highWaterMark must be a positive integer, got ${highWaterMark}`);
  const framing = options.framing === undefined ? () => new FrameDecoder({ versions: "any" }) as unknown as FrameSplitter<F> : options.framing;
  if (framing !== null && typeof framing !== "function") throw new TypeError("framing must be a function returning a decoder, or null");
  const onEvent = options.onEvent;
  if (onEvent !== undefined && typeof onEvent !== "function") throw new TypeError("onEvent must be a function");

  const counts = { opened: 0, killed: 0 };
  const links = new Set<Link<F>>();
  const state: ProxyState<F> = {
    upstream,
    faults: options.faults === undefined ? { up: NO_FAULTS, down: NO_FAULTS } : resolveFaults(options.faults),
    seed,
    framing,
    highWaterMark,
    totals: { up: newStats(), down: newStats() },
    killed: () => void counts.killed++,
    emit: (event) => {
      if (onEvent === undefined) return undefined;
      let result: void | PromiseLike<unknown>;
      try {
        result = onEvent(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
        return undefined;
      }
      if (result === undefined || result === null || typeof result.then !== "function") return undefined;
      return result.then(undefined, (error: unknown) =>
        queueMicrotask(() => {
          throw error;
        }),
      );
    },
  };

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    const link = new Link<F>(state, ++counts.opened, client);
    links.add(link);
    void link.closed.then(() => links.delete(link));
  });

  let closing: Promise<void> | undefined;
  const proxy = (address: AddressInfo): FaultProxy => ({
    address: { host: address.address, port: address.port },
    get stats(): FaultProxyStats {
      const direction = (d: Direction) => ({ ...directionStats(state.totals[d]), heldBytes: state.totals[d].heldBytes, peakHeldBytes: state.totals[d].peakHeldBytes });
      return { linksOpened: counts.opened, linksOpen: links.size, linksKilled: counts.killed, up: direction("up"), down: direction("down") };
    },
    setFaults(settings) {
      const faults = resolveFaults(settings);
      state.faults = faults;
      for (const link of links) link.setFaults(faults);
    },
    killAll() {
      let killed = 0;
      for (const link of links) if (link.killNow()) killed++;
      return killed;
    },
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const link of links) link.shutdown();
        await Promise.all([stopped, ...[...links].map((link) => link.closed)]);
      })();
      return closing;
    },
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve(proxy(server.address() as AddressInfo));
    });
  });
}
