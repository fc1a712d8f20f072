/**
 * The WebSocket transport: one binary message carries one whole frame or one BATCH (goim's and
 * Bilibili's convention, docs/PROTOCOL.md §9), both ways. Platform-neutral: it uses the global
 * `WebSocket` of a browser (Deno, Bun, Node ≥ 22), or any class with the same surface given as
 * `WebSocket` — on Node 20, the `ws` package's (`syncwire/node` does that for `ws://` URLs).
 *
 * Backpressure: a browser WebSocket has no "drain" event, only `bufferedAmount`. When it is over
 * `maxBufferedBytes`, `send` returns false and the transport checks it again every `drainPollMs` until
 * it is under, then reports `writable()`.
 */
import type { ClientTransport, TransportHandlers, TransportLink } from "./transport.js";

/** The part of the WHATWG WebSocket this transport uses (the browser's, or the `ws` package's). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "message" | "close" | "error", listener: (event: never) => void): void;
}

/** A WebSocket class: `globalThis.WebSocket`, or `ws`'s `WebSocket`. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Options of {@link webSocketTransport}. */
export interface WebSocketTransportOptions {
  /** The WebSocket class. Default: the global `WebSocket` (required where there is none, as on Node 20). */
  readonly WebSocket?: WebSocketConstructor;
  /** Subprotocols to offer. Default none. */
  readonly protocols?: string | string[];
  /** `send` returns false while `bufferedAmount` is over this. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /** How often a full buffer is checked again, ms. Default 20. */
  readonly drainPollMs?: number;
}

const OPEN = 1;

/**
 * A transport that opens a WebSocket to `url` for every link.
 * @throws TypeError if no WebSocket class is given and there is no global one; RangeError for a bad option.
 *   (A URL the WebSocket class refuses surfaces as a link that closes at once.)
 */
export function webSocketTransport(url: string | URL, options: WebSocketTransportOptions = {}): ClientTransport {
  const Socket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof Socket !== "function") throw new TypeError("no WebSocket class: pass one as options.WebSocket (on Node 20, the ws package's)");
  const maxBuffered = options.maxBufferedBytes ?? 1 << 20;
  const pollMs = options.drainPollMs ?? 20;
  if (!Number.isInteger(maxBuffered) || maxBuffered < 1) throw new RangeError(`maxBufferedBytes must be a positive integer, got ${maxBuffered}`);
  if (!Number.isInteger(pollMs) || pollMs < 1) throw new RangeError(`drainPollMs must be a positive integer, got ${pollMs}`);
  const href = String(url);
  return {
    kind: href.startsWith("wss:") ? "wss" : "ws",
    connect(handlers: TransportHandlers): TransportLink {
      const socket = new Socket(href, options.protocols);
      socket.binaryType = "arraybuffer";
      let ended = false;
      let failure = "";
      let poll: ReturnType<typeof setTimeout> | undefined;
      const end = (reason: string): void => {
        if (ended) return;
        ended = true;
        clearTimeout(poll);
        handlers.closed(reason);
      };
      const waitForRoom = (): void => {
        poll = setTimeout(() => {
          if (ended) return;
          if (socket.bufferedAmount > maxBuffered) waitForRoom();
          else handlers.writable();
        }, pollMs);
      };
      socket.addEventListener("open", () => {
        if (!ended) handlers.open();
      });
      socket.addEventListener("message", (event: { data: unknown }) => {
        if (ended) return;
        const data = event.data;
        if (data instanceof ArrayBuffer) {
          handlers.message(new Uint8Array(data));
        } else {
          // A text message is not a syncwire message: the peer speaks something else.
          failure = "a text message (syncwire sends binary messages only)";
          socket.close(1003, "binary messages only");
        }
      });
      socket.addEventListener("error", (event: { message?: unknown }) => {
        if (failure === "") failure = typeof event.message === "string" && event.message !== "" ? event.message : "WebSocket error";
      });
      socket.addEventListener("close", (event: { code?: number; reason?: string }) => {
        const detail = `WebSocket closed (code ${event.code ?? "?"}${event.reason ? `, ${event.reason}` : ""})`;
        end(failure === "" ? detail : `${failure}; ${detail}`);
      });
      return {
        send(frame: Uint8Array): boolean {
          if (ended || socket.readyState !== OPEN) return true; // closing: its close event is coming
          socket.send(frame);
          if (socket.bufferedAmount <= maxBuffered) return true;
          waitForRoom();
          return false;
        },
        close(): void {
          // Messages already sent go out before the closing handshake (WebSocket close semantics).
          socket.close(1000, "done");
        },
        abort(): void {
          socket.close(1000, "aborted");
          end("aborted");
        },
      };
    },
  };
}
