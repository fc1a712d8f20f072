/**
 * Client transports over Node sockets: TCP (`node:net`) and TLS (`node:tls`). A byte stream: what
 * arrives goes to the engine as bytes (its `FrameDecoder` reassembles frames cut anywhere); what the
 * engine polls goes out through a `FrameWriter` that packs the frames of one tick into one write.
 *
 * Backpressure both ways: once the socket holds more than `maxBufferedBytes` unwritten, `send` returns
 * false and the socket stops reading until it drains (then `writable()`), so a server that does not
 * read cannot make the client buffer without bound, nor keep feeding it replies meanwhile.
 */
import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import type { ClientTransport, TransportHandlers, TransportLink } from "../web/transport.js";
import { FrameWriter } from "./frame-writer.js";

/** Where to connect, and the output bound. */
export interface NetTransportOptions {
  readonly host: string;
  readonly port: number;
  /** `send` returns false (and reading pauses) while more than this is unwritten. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
}

/** Options of {@link tlsTransport}: also Node's TLS options (`ca` for a private CA, `servername`, …). */
export interface TlsTransportOptions extends NetTransportOptions {
  readonly tls?: ConnectionOptions;
}

/** How long `close()` waits for the server to finish before the socket is destroyed. */
const CLOSE_GRACE_MS = 5000;

function checkAddress(options: NetTransportOptions): number {
  if (options === null || typeof options !== "object" || typeof options.host !== "string") throw new TypeError("a transport needs { host, port }");
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new RangeError(`port must be 1 … 65535, got ${options.port}`);
  const max = options.maxBufferedBytes ?? 1 << 20;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxBufferedBytes must be a positive integer, got ${max}`);
  return max;
}

/**
 * Drives one connected (or connecting) socket as a `TransportLink`. `openEvent` is "connect" for TCP and
 * "secureConnect" for TLS (the link is open once the handshake is done).
 */
function socketLink(socket: Socket, openEvent: "connect" | "secureConnect", handlers: TransportHandlers, maxBuffered: number): TransportLink {
  const writer = new FrameWriter(socket, { coalesce: "concat" });
  let failure: Error | undefined;
  let paused = false;
  socket.setNoDelay(true);
  socket.on(openEvent, () => handlers.open());
  socket.on("data", (chunk: Buffer) => handlers.bytes(chunk));
  socket.on("drain", () => {
    if (!paused) return;
    paused = false;
    socket.resume();
    handlers.writable();
  });
  socket.on("error", (error) => (failure ??= error));
  socket.on("close", () => handlers.closed(failure === undefined ? "the connection closed" : failure.message));
  return {
    send(frame: Uint8Array): boolean {
      if (socket.destroyed) return true; // "close" is coming
      writer.writeEncoded(frame);
      if (socket.writableLength + writer.pendingBytes <= maxBuffered) return true;
      paused = true;
      socket.pause();
      writer.flush(); // so the socket holds it all and "drain" comes when it is written
      return false;
    },
    close(): void {
      writer.flush();
      socket.end();
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    },
    abort(): void {
      socket.destroy();
    },
  };
}

/**
 * A transport that opens a TCP connection for every link.
 * @throws TypeError / RangeError for a bad host, port or bound.
 */
export function tcpTransport(options: NetTransportOptions): ClientTransport {
  const max = checkAddress(options);
  return {
    kind: "tcp",
    connect: (handlers) => socketLink(netConnect({ host: options.host, port: options.port }), "connect", handlers, max),
  };
}

/**
 * A transport that opens a TLS connection for every link. The certificate is checked against the host
 * (`servername` defaults to it when it is a name; an IP address is matched against the certificate's
 * IP entries).
 * @throws TypeError / RangeError for a bad host, port or bound.
 */
export function tlsTransport(options: TlsTransportOptions): ClientTransport {
  const max = checkAddress(options);
  return {
    kind: "tls",
    connect: (handlers) => socketLink(tlsConnect({ ...(isIP(options.host) === 0 ? { servername: options.host } : {}), ...options.tls, host: options.host, port: options.port }), "secureConnect", handlers, max),
  };
}
