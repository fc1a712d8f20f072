/**
 * SyncwireServer: one `ServerEngine` over one set of stores, listening on TCP, TLS, WebSocket and HTTP
 * (short links) at once — any subset. Every link, whatever its transport, is a `ServerConnection` driven
 * by a `ServerLinkDriver`; this file only turns sockets, WebSockets and HTTP requests into
 * `ServerLinkIo`s. The protocol is the engine's.
 *
 * Several servers share users, logs and uploads when they share stores: two `SyncwireServer`s over one
 * `createMemoryStores()` in a process behave as two nodes (NOTIFY crosses between them through the
 * stores' presence), and stores on Redis do the same across processes.
 *
 * Closing (`close`): the engine tells every link DISCONNECT SERVER_SHUTDOWN with `retry_after_ms`
 * (links that arrive meanwhile get the same at once), the listeners stop accepting, each link writes
 * what it has and closes; links still open after `graceMs` are dropped, with any TCP connection that
 * never became a link (a TLS handshake not finished); then store work still running finishes
 * (`engine.idle()`). A TLS handshake gets the engine's `handshakeTimeoutMs`, like HELLO.
 */
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer, type TlsOptions } from "node:tls";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { createMemoryStores } from "../session/memory/index.js";
import type { ServerStores } from "../session/stores.js";
import { ServerEngine } from "../session/server/engine.js";
import type { ServerEngineOptions } from "../session/server/options.js";
import { FrameWriter } from "./frame-writer.js";
import { ServerLinkDriver, type ServerLinkIo, type ServerLogEntry } from "./server-link.js";

/** Where a listener binds. Port 0 picks a free port (read it from `listen()`'s result). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** The TLS listener: an address, a certificate chain and its key (PEM), and any other `tls` options. */
export interface TlsListenOptions extends ListenAddress {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly tls?: TlsOptions;
}

/** The WebSocket listener. */
export interface WebSocketListenOptions extends ListenAddress {
  /** The path WebSocket upgrades must ask for. Default "/". */
  readonly path?: string;
}

/** The HTTP short-link listener (docs/PROTOCOL.md §11.9). */
export interface HttpListenOptions extends ListenAddress {
  /** The path POSTs go to. Default "/". */
  readonly path?: string;
  /** Largest request body, bytes. Default: the engine's `limits.maxFrameSize` × 4 (4 MiB). */
  readonly maxBodyBytes?: number;
  /**
   * `Access-Control-Allow-Origin` for browsers posting from another origin (answers the CORS preflight
   * too). Default: none (same origin only).
   */
  readonly allowOrigin?: string;
}

/** Options of {@link SyncwireServer}: the engine's (stores optional), the listeners, the link bounds. */
export interface SyncwireServerOptions extends Omit<ServerEngineOptions, "stores"> {
  /** Shared state. Default: fresh `createMemoryStores()`. Pass the same stores to several servers to make nodes of one service. */
  readonly stores?: ServerStores;
  readonly tcp?: ListenAddress;
  readonly tls?: TlsListenOptions;
  readonly ws?: WebSocketListenOptions;
  readonly http?: HttpListenOptions;
  /**
   * Per link: once this many bytes are written but not yet taken by the kernel, the link stops being
   * polled and read until they drain. Default 1 MiB; at least 16 KiB.
   */
  readonly maxBufferedBytes?: number;
  /** How long a link may take to close after its transport was ended, before it is dropped. Default 5,000 ms. */
  readonly closeGraceMs?: number;
  /** Called with every connection event: one log line each (see `formatServerLogEntry`). Must not throw. */
  readonly onLog?: (entry: ServerLogEntry) => void;
}

/** A listener's bound address. */
export interface BoundAddress {
  readonly host: string;
  readonly port: number;
  /** How a client names it: `tcp://…`, `tls://…`, `ws://…/path`, `http://…/path`. */
  readonly url: string;
}

/** The addresses `listen()` bound, one per configured listener. */
export interface ServerAddresses {
  readonly tcp?: BoundAddress;
  readonly tls?: BoundAddress;
  readonly ws?: BoundAddress;
  readonly http?: BoundAddress;
}

type Kind = keyof ServerAddresses;

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function remoteOf(address: string | undefined, port: number | undefined): string {
  return address === undefined ? "unknown" : `${hostForUrl(address)}:${port ?? 0}`;
}

function checkAddress(name: string, address: ListenAddress | undefined): void {
  if (address === undefined) return;
  if (address === null || typeof address !== "object" || typeof address.host !== "string") throw new TypeError(`${name} must be { host, port }`);
  if (!Number.isInteger(address.port) || address.port < 0 || address.port > 65535) throw new RangeError(`${name}.port must be 0 … 65535, got ${address.port}`);
}

/** A server on up to four transports over one engine. See the theory of operation at the top of this file. */
export class SyncwireServer {
  /** The engine every link of this server belongs to. */
  readonly engine: ServerEngine;
  /** The stores it uses (given, or its own memory stores). */
  readonly stores: ServerStores;
  readonly #options: SyncwireServerOptions;
  readonly #maxBuffered: number;
  readonly #closeGraceMs: number;
  readonly #listeners = new Map<Kind, NetServer | HttpServer>();
  readonly #links = new Set<ServerLinkDriver>();
  /**
   * Every TCP connection the tcp and tls listeners accepted and that is not closed yet, links or not: a
   * TLS connection is a link only once its handshake is done, and one stuck before (a peer that sends
   * nothing, or half-closes) would otherwise hold `close()` until Node's handshake timeout.
   */
  readonly #sockets = new Set<Socket>();
  #wss: WebSocketServer | undefined;
  #addresses: ServerAddresses = {};
  #linkCounter = 0;
  #listening: Promise<ServerAddresses> | undefined;
  #closing: Promise<void> | undefined;

  /**
   * @throws TypeError / RangeError for bad engine options (see `ServerEngineOptions`), a bad listen
   *   address, or no listener at all.
   */
  constructor(options: SyncwireServerOptions) {
    if (options === null || typeof options !== "object") throw new TypeError("SyncwireServer needs an options object");
    for (const kind of ["tcp", "tls", "ws", "http"] as const) checkAddress(kind, options[kind]);
    if (options.tcp === undefined && options.tls === undefined && options.ws === undefined && options.http === undefined) {
      throw new TypeError("SyncwireServer needs at least one of tcp, tls, ws, http");
    }
    if (options.tls !== undefined && (options.tls.cert === undefined || options.tls.key === undefined)) throw new TypeError("tls needs cert and key");
    const maxBuffered = options.maxBufferedBytes ?? 1 << 20;
    if (!Number.isInteger(maxBuffered) || maxBuffered < 16_384) throw new RangeError(`maxBufferedBytes must be an integer ≥ 16384, got ${maxBuffered}`);
    const grace = options.closeGraceMs ?? 5000;
    if (!Number.isInteger(grace) || grace < 0) throw new RangeError(`closeGraceMs must be an integer ≥ 0, got ${grace}`);
    this.stores = options.stores ?? createMemoryStores();
    const { tcp: _tcp, tls: _tls, ws: _ws, http: _http, maxBufferedBytes: _m, closeGraceMs: _g, onLog: _l, stores: _s, ...engineOptions } = options;
    this.engine = new ServerEngine({ ...engineOptions, stores: this.stores });
    this.#options = options;
    this.#maxBuffered = maxBuffered;
    this.#closeGraceMs = grace;
  }

  /** The bound addresses (empty before `listen()` resolves). */
  get addresses(): ServerAddresses {
    return this.#addresses;
  }

  /** Links whose transport is still open. */
  get links(): readonly ServerLinkDriver[] {
    return [...this.#links];
  }

  /**
   * Starts every configured listener.
   * @returns the bound addresses (with the ports chosen for port 0).
   * @throws (rejects) the first listen error (e.g. EADDRINUSE); listeners already started are closed.
   */
  listen(): Promise<ServerAddresses> {
    this.#listening ??= this.#listen();
    return this.#listening;
  }

  /**
   * Stops: DISCONNECT SERVER_SHUTDOWN with `retryAfterMs` to every link, no new connections, links
   * closed after they wrote what they had (dropped after `graceMs`), then store work drained.
   * Idempotent: a second call returns the first one's promise.
   */
  close(options: { retryAfterMs?: number; graceMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.retryAfterMs ?? 1000, options.graceMs ?? this.#closeGraceMs);
    return this.#closing;
  }

  async #listen(): Promise<ServerAddresses> {
    const options = this.#options;
    const started: [Kind, NetServer | HttpServer, ListenAddress, string][] = [];
    const trackSockets = (server: NetServer): NetServer =>
      server.on("connection", (socket: Socket) => {
        this.#sockets.add(socket);
        socket.once("close", () => this.#sockets.delete(socket));
      });
    if (options.tcp !== undefined) {
      started.push(["tcp", trackSockets(createNetServer({ allowHalfOpen: true }, (socket) => this.#onSocket(socket, "tcp"))), options.tcp, ""]);
    }
    if (options.tls !== undefined) {
      const { cert, key, tls } = options.tls;
      // The TLS handshake gets the engine's handshake time (HELLO's), not Node's default of 120 s.
      const server = createTlsServer({ handshakeTimeout: this.engine.options.handshakeTimeoutMs, ...tls, cert, key, allowHalfOpen: true }, (socket) => this.#onSocket(socket, "tls"));
      // A failed or timed-out handshake never became a link. Node leaves a timed-out one open: drop it.
      server.on("tlsClientError", (_error, socket) => socket.destroy());
      started.push(["tls", trackSockets(server), options.tls, ""]);
    }
    if (options.ws !== undefined) {
      const path = options.ws.path ?? "/";
      const server = createHttpServer((_req, res) => {
        res.writeHead(426, { Upgrade: "websocket", "Content-Type": "text/plain" }).end("syncwire: this port speaks WebSocket only\n");
      });
      const wss = new WebSocketServer({ server, path, maxPayload: this.engine.options.maxFrameSize, perMessageDeflate: false, clientTracking: false });
      wss.on("connection", (socket, request) => this.#onWebSocket(socket, request));
      this.#wss = wss;
      started.push(["ws", server, options.ws, path]);
    }
    if (options.http !== undefined) {
      const server = createHttpServer((req, res) => this.#onHttp(req, res));
      started.push(["http", server, options.http, options.http.path ?? "/"]);
    }
    const addresses: Record<string, BoundAddress> = {};
    try {
      for (const [kind, server, address, path] of started) {
        this.#listeners.set(kind, server);
        server.listen(address.port, address.host);
        await once(server, "listening");
        const bound = server.address() as AddressInfo;
        const scheme = kind === "ws" ? "ws" : kind === "http" ? "http" : kind;
        addresses[kind] = { host: bound.address, port: bound.port, url: `${scheme}://${hostForUrl(bound.address)}:${bound.port}${path}` };
      }
    } catch (error) {
      for (const server of this.#listeners.values()) server.close();
      this.#listeners.clear();
      throw error;
    }
    this.#addresses = addresses;
    return addresses;
  }

  async #close(retryAfterMs: number, graceMs: number): Promise<void> {
    await this.#listening?.catch(() => undefined);
    this.engine.shutdown(Date.now(), retryAfterMs);
    const stopped = [...this.#listeners.values()].map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const server of this.#listeners.values()) if ("closeIdleConnections" in server) server.closeIdleConnections();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all([...this.#links].map((l) => l.finished)), grace]);
    clearTimeout(timer);
    for (const server of this.#listeners.values()) if ("closeAllConnections" in server) server.closeAllConnections();
    for (const link of this.#links) link.abort();
    for (const socket of this.#sockets) socket.destroy(); // connections that never became links (a TLS handshake)
    this.#wss?.close();
    await Promise.all(stopped);
    await this.engine.idle();
  }

  #newDriver(io: ServerLinkIo, transport: Kind, remote: string, short = false): ServerLinkDriver {
    const driver = new ServerLinkDriver(this.engine, io, {
      transport,
      link: ++this.#linkCounter,
      remote,
      short,
      maxBufferedBytes: this.#maxBuffered,
      ...(this.#options.onLog === undefined ? {} : { onLog: this.#options.onLog }),
    });
    this.#links.add(driver);
    void driver.finished.then(() => this.#links.delete(driver));
    return driver;
  }

  /** A TCP or TLS connection: a byte stream each way. */
  #onSocket(socket: Socket, transport: "tcp" | "tls"): void {
    socket.setNoDelay(true);
    const writer = new FrameWriter(socket, { coalesce: "concat" });
    const grace = this.#closeGraceMs;
    const io: ServerLinkIo = {
      write: (frame) => void writer.writeEncoded(frame),
      bufferedBytes: () => socket.writableLength + writer.pendingBytes,
      pauseInput: () => {
        socket.pause();
        writer.flush(); // into the socket, so its "drain" says when there is room again
      },
      resumeInput: () => socket.resume(),
      end: () => {
        writer.flush();
        socket.end();
        // A peer that neither reads nor closes its side must not keep the socket forever.
        setTimeout(() => socket.destroy(), grace).unref();
      },
      abort: () => socket.destroy(),
    };
    const driver = this.#newDriver(io, transport, remoteOf(socket.remoteAddress, socket.remotePort));
    socket.on("data", (chunk: Buffer) => driver.bytes(chunk));
    socket.on("end", () => driver.endOfInput());
    socket.on("drain", () => driver.drain());
    socket.on("error", () => undefined); // "close" follows; the link's closed event is the log line
    socket.on("close", () => driver.transportClosed());
  }

  /** A WebSocket: one binary message holds one frame or one BATCH. */
  #onWebSocket(socket: WebSocket, request: IncomingMessage): void {
    const grace = this.#closeGraceMs;
    let driver: ServerLinkDriver | undefined;
    const io: ServerLinkIo = {
      // The callback runs once the message is handed to the socket: room again, maybe.
      write: (frame) => socket.send(frame, () => (driver?.paused === true ? driver.drain() : undefined)),
      bufferedBytes: () => socket.bufferedAmount,
      pauseInput: () => socket.pause(),
      resumeInput: () => socket.resume(),
      end: () => {
        socket.close(1000, "");
        setTimeout(() => socket.terminate(), grace).unref();
      },
      abort: () => socket.terminate(),
    };
    driver = this.#newDriver(io, "ws", remoteOf(request.socket.remoteAddress, request.socket.remotePort));
    const link = driver;
    socket.on("message", (data: RawData, isBinary: boolean) => {
      if (!isBinary || !(data instanceof Uint8Array)) {
        socket.close(1003, "binary messages only");
        return;
      }
      link.message(data);
    });
    socket.on("error", () => undefined); // "close" follows
    socket.on("close", () => link.transportClosed());
  }

  /** An HTTP request: a POST whose body is a short link's frames; the response body is the answers. */
  #onHttp(req: IncomingMessage, res: ServerResponse): void {
    const options = this.#options.http!;
    const cors: Record<string, string> =
      options.allowOrigin === undefined
        ? {}
        : { "Access-Control-Allow-Origin": options.allowOrigin, "Access-Control-Allow-Methods": "POST, OPTIONS", "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "600" };
    const refuse = (status: number, text: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", Connection: "close", ...cors, ...headers }).end(`syncwire: ${text}\n`);
      req.resume(); // discard the body, if any
    };
    const path = (req.url ?? "/").split("?")[0];
    if (path !== (options.path ?? "/")) return refuse(404, "not found");
    if (req.method === "OPTIONS" && options.allowOrigin !== undefined) {
      res.writeHead(204, cors).end();
      return;
    }
    if (req.method !== "POST") return refuse(405, "POST frames here", { Allow: options.allowOrigin === undefined ? "POST" : "POST, OPTIONS" });
    const mediaType = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (mediaType !== "application/octet-stream") return refuse(415, "the body must be application/octet-stream (frames)");
    const maxBody = options.maxBodyBytes ?? this.engine.options.maxFrameSize * 4;
    const declared = Number(req.headers["content-length"] ?? NaN);
    if (declared > maxBody) return refuse(413, `the body may have at most ${maxBody} bytes`);

    const io: ServerLinkIo = {
      write: (frame) => {
        if (!res.headersSent) res.writeHead(200, { "Content-Type": "application/octet-stream", "Cache-Control": "no-store", ...cors });
        res.write(frame);
      },
      bufferedBytes: () => res.writableLength,
      pauseInput: () => req.pause(),
      resumeInput: () => req.resume(),
      end: () => {
        if (!res.headersSent) res.writeHead(200, { "Content-Type": "application/octet-stream", "Cache-Control": "no-store", ...cors });
        res.end();
      },
      abort: () => req.socket.destroy(),
    };
    const driver = this.#newDriver(io, "http", remoteOf(req.socket.remoteAddress, req.socket.remotePort), true);
    let received = 0;
    req.on("data", (chunk: Buffer) => {
      received += chunk.byteLength;
      if (received > maxBody) {
        // Too late for a clean 413 once answers have gone out: then the request is cut off.
        if (!res.headersSent) refuse(413, `the body may have at most ${maxBody} bytes`);
        else req.socket.destroy();
        driver.transportClosed();
        return;
      }
      driver.bytes(chunk);
    });
    req.on("end", () => driver.endOfInput());
    res.on("drain", () => driver.drain());
    res.on("close", () => driver.transportClosed());
  }
}
