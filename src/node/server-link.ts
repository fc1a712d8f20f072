/**
 * ServerLinkDriver: the adapter loop for one `ServerConnection`, shared by every server transport
 * (TCP, TLS, WebSocket, HTTP short links). The transport-specific part is a `ServerLinkIo`: how to write
 * a frame, how much is still unwritten, how to pause and resume reading, how to end.
 *
 * Theory of operation (src/session/link.ts): after every input, timer and wake, `drain()` writes what
 * `pollTransmit()` gives while the transport holds less than `maxBufferedBytes` unwritten, hands the
 * events to `onEvent`, re-arms one timer at `pollTimeout()`, and ends the transport once the link is
 * "closed" and its last frame is written.
 *
 * Backpressure, both ways: when the transport holds `maxBufferedBytes` or more, the driver stops polling
 * the connection (answers wait in its queue, which `max_in_flight` bounds) and stops reading from the
 * peer, so a peer that never reads cannot make the server buffer without bound: it can fill the kernel's
 * buffers, `maxBufferedBytes` plus one frame here, and the connection's bounded queue — then it is not
 * read any more. When the transport drains (`writable()`), reading resumes.
 */
import type { ServerConnection } from "../session/server/connection.js";
import type { ServerEngine } from "../session/server/engine.js";
import type { ServerEvent } from "../session/server/events.js";
import { DeadlineTimer } from "../web/deadline-timer.js";

/** What the driver needs from a transport. */
export interface ServerLinkIo {
  /** Writes one whole frame (a pollTransmit result). */
  write(frame: Uint8Array): void;
  /** Bytes written but not yet taken by the kernel. */
  bufferedBytes(): number;
  /** Stops reading from the peer (backpressure). */
  pauseInput(): void;
  resumeInput(): void;
  /** Ends the transport after what was written (the link is closed). */
  end(): void;
  /** Drops the transport at once (a server stop after its grace time). */
  abort(): void;
}

/** A connection event, with where it happened: the server's log line. */
export interface ServerLogEntry {
  /** When, ms since the Unix epoch. */
  readonly time: number;
  /** "tcp", "tls", "ws" or "http". */
  readonly transport: string;
  /** The link's number on this server (1, 2, …). */
  readonly link: number;
  /** The peer's address and port. */
  readonly remote: string;
  /** What happened: `accepted`, or the connection's event. */
  readonly event: ServerEvent | { readonly type: "accepted" };
}

/** Options of a {@link ServerLinkDriver}. */
export interface ServerLinkOptions {
  readonly transport: string;
  readonly link: number;
  readonly remote: string;
  readonly short?: boolean;
  readonly maxBufferedBytes: number;
  readonly onLog?: (entry: ServerLogEntry) => void;
}

/** One link's adapter loop. See the theory of operation above. */
export class ServerLinkDriver {
  readonly connection: ServerConnection;
  readonly #io: ServerLinkIo;
  readonly #options: ServerLinkOptions;
  readonly #timer = new DeadlineTimer(() => {
    this.connection.handleTimeout(Date.now());
    this.drain();
  });
  #paused = false;
  #ended = false;
  #finished = false;
  #draining = false;
  #again = false;
  /** Most bytes the transport held unwritten at once (for tests and metrics). */
  #maxBuffered = 0;
  #bytesReceived = 0;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(engine: ServerEngine, io: ServerLinkIo, options: ServerLinkOptions) {
    this.#io = io;
    this.#options = options;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    this.#log({ type: "accepted" });
    const now = Date.now();
    this.connection = engine.accept(now, { wake: () => this.drain(), short: options.short === true, remote: options.remote });
    // The handshake deadline runs from the accept: a peer that never sends a byte must meet it too.
    this.#timer.arm(this.connection.pollTimeout(), now);
  }

  /** True while reading is paused because the transport is full. */
  get paused(): boolean {
    return this.#paused;
  }

  /** The most bytes the transport held unwritten at any drain so far. */
  get maxBufferedBytes(): number {
    return this.#maxBuffered;
  }

  /** Bytes received from the peer so far (stream bytes and messages). */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /** The link's number and transport, for logs. */
  get description(): string {
    return `${this.#options.transport}#${this.#options.link} ${this.#options.remote}`;
  }

  /** Resolves once the transport is gone (`transportClosed`). */
  get finished(): Promise<void> {
    return this.#done;
  }

  /** Drops the transport at once; `transportClosed` follows from the transport. */
  abort(): void {
    if (!this.#finished) this.#io.abort();
  }

  /** Bytes of a byte stream (TCP, TLS, an HTTP body). */
  bytes(chunk: Uint8Array): void {
    this.#bytesReceived += chunk.byteLength;
    this.connection.receiveBytes(chunk, Date.now());
    this.drain();
  }

  /** One WebSocket message. */
  message(message: Uint8Array): void {
    this.#bytesReceived += message.byteLength;
    this.connection.receiveMessage(message, Date.now());
    this.drain();
  }

  /** The peer sent everything it will (TCP half-close, the end of an HTTP body). */
  endOfInput(): void {
    this.connection.endOfInput(Date.now());
    this.drain();
  }

  /** The transport is gone: the connection is told; nothing more is written. */
  transportClosed(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#timer.cancel();
    this.connection.linkClosed(Date.now());
    this.#drainEvents();
    this.#resolveDone();
  }

  /** Writes, logs and re-arms the timer: after any input, when woken, and when the transport drains. Never throws. */
  drain(): void {
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = true;
    try {
      do {
        this.#again = false;
        this.#drainOnce();
      } while (this.#again);
    } finally {
      this.#draining = false;
    }
  }

  #drainOnce(): void {
    if (this.#finished) return;
    const link = this.connection;
    const now = Date.now();
    const max = this.#options.maxBufferedBytes;
    let emptied = false;
    for (;;) {
      const buffered = this.#io.bufferedBytes();
      if (buffered > this.#maxBuffered) this.#maxBuffered = buffered;
      if (buffered >= max) break;
      const frame = link.pollTransmit(now);
      if (frame === undefined) {
        emptied = true;
        break;
      }
      this.#io.write(frame);
    }
    if (!emptied && !this.#paused) {
      this.#paused = true;
      this.#io.pauseInput();
    } else if (emptied && this.#paused) {
      this.#paused = false;
      this.#io.resumeInput();
    }
    this.#drainEvents();
    this.#timer.arm(link.pollTimeout(), now);
    if (emptied && link.state === "closed" && !this.#ended) {
      this.#ended = true;
      this.#io.end();
    }
  }

  #drainEvents(): void {
    for (let event = this.connection.pollEvent(); event !== undefined; event = this.connection.pollEvent()) this.#log(event);
  }

  #log(event: ServerLogEntry["event"]): void {
    const onLog = this.#options.onLog;
    if (onLog === undefined) return;
    try {
      onLog({ time: Date.now(), transport: this.#options.transport, link: this.#options.link, remote: this.#options.remote, event });
    } catch (error) {
      // A logger's bug must not break the link; surface it as uncaught instead of losing it.
      setTimeout(() => {
        throw error;
      }, 0);
    }
  }
}
