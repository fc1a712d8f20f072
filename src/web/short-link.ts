/**
 * HTTP short links with `fetch` (docs/PROTOCOL.md §11.9): the transport, and a client for sync and
 * uploads built on it. Platform-neutral: the global `fetch` (browsers, Deno, Bun, Node ≥ 18), or one given.
 *
 * Theory of operation. A short link carries one logical session over several HTTP requests. The engine
 * connects with `short: true` (see `ClientEngine.connect`): it polls HELLO first, then its requests one
 * frame at a time, numbered across the whole session. The transport keeps the HELLO and sends each
 * group of request frames as one POST whose body is HELLO followed by the group; the response body (the
 * server's WELCOME and its replies) goes back to the engine as one message, where replies are matched
 * by seq like on any link (later WELCOMEs are duplicates to the engine). Frames polled together are
 * spread over up to `concurrency` POSTs at once, so the parts of an upload travel as concurrent
 * requests; the engine's window (4 parts) and timers do the rest. A POST that fails (network error,
 * a status other than 200) ends the link: the engine takes its requests back without counting a
 * timeout, and the reconnecting client starts a new link after its backoff. A DISCONNECT the engine
 * polls is not sent: there is no connection to end.
 */
import type { MessagePacket } from "../gen/syncwire/v1/message_pb.js";
import type { SyncKey } from "../gen/syncwire/v1/sync_pb.js";
import type { UploadHandle } from "../session/client/uploads.js";
import { Op } from "../wire/ops.js";
import { SyncwireClient, type SyncwireClientEvent, type SyncwireClientEventOf, type SyncwireClientOptions } from "./client.js";
import type { ClientTransport, TransportHandlers, TransportLink } from "./transport.js";

/** The `fetch` this module needs (the global one fits). */
export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: Uint8Array<ArrayBuffer>; signal: AbortSignal }) => Promise<{
  readonly ok: boolean;
  readonly status: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/** Options of {@link shortLinkTransport}. */
export interface ShortLinkTransportOptions {
  /** Default: the global `fetch`. */
  readonly fetch?: FetchLike;
  /** Most POSTs in flight at once. Default 4 (the engine's upload window). */
  readonly concurrency?: number;
  /** Extra request headers (e.g. a cookie or an API key of your gateway). `Content-Type` is always set. */
  readonly headers?: Record<string, string>;
}

function opOf(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(8);
}

/**
 * A transport that POSTs frames to `url` (the HTTP listener of a syncwire server).
 * @throws TypeError if there is no `fetch`; RangeError for a `concurrency` that is not a positive integer.
 */
export function shortLinkTransport(url: string | URL, options: ShortLinkTransportOptions = {}): ClientTransport {
  const fetchFn = options.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
  if (typeof fetchFn !== "function") throw new TypeError("no fetch: pass one as options.fetch");
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const href = String(url);
  const headers = { ...options.headers, "Content-Type": "application/octet-stream" };
  return {
    kind: href.startsWith("https:") ? "https" : "http",
    short: true,
    connect(handlers: TransportHandlers): TransportLink {
      let ended = false;
      let hello: Uint8Array | undefined;
      const waiting: Uint8Array[] = [];
      let active = 0;
      let scheduled = false;
      const controllers = new Set<AbortController>();

      const end = (reason: string): void => {
        if (ended) return;
        ended = true;
        for (const controller of controllers) controller.abort();
        controllers.clear();
        queueMicrotask(() => handlers.closed(reason));
      };

      const post = async (frames: Uint8Array[]): Promise<void> => {
        const size = frames.reduce((sum, f) => sum + f.byteLength, hello!.byteLength);
        const body = new Uint8Array(size);
        body.set(hello!, 0);
        let at = hello!.byteLength;
        for (const frame of frames) {
          body.set(frame, at);
          at += frame.byteLength;
        }
        const controller = new AbortController();
        controllers.add(controller);
        active++;
        try {
          const response = await fetchFn(href, { method: "POST", headers, body, signal: controller.signal });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          const bytes = new Uint8Array(await response.arrayBuffer());
          if (!ended) handlers.message(bytes);
        } catch (error) {
          end(`POST failed: ${error instanceof Error ? error.message : String(error)}`);
          return;
        } finally {
          active--;
          controllers.delete(controller);
        }
        dispatch();
      };

      /** Spreads the waiting frames over the free POST slots, in order, as evenly as it can. */
      const dispatch = (): void => {
        scheduled = false;
        if (ended) return;
        const free = concurrency - active;
        if (free <= 0 || waiting.length === 0) return;
        const groups = Math.min(free, waiting.length);
        const frames = waiting.splice(0);
        for (let g = 0, at = 0; g < groups; g++) {
          const take = Math.ceil((frames.length - at) / (groups - g));
          void post(frames.slice(at, at + take));
          at += take;
        }
      };

      queueMicrotask(() => {
        if (!ended) handlers.open();
      });
      return {
        send(frame: Uint8Array): boolean {
          if (ended) return true;
          // The engine's first frame on a short link is HELLO: every POST of the link starts with it.
          // Polled frames are the caller's and never change (src/session/link.ts): kept by reference.
          if (hello === undefined) {
            hello = frame;
            return true;
          }
          if (opOf(frame) === Op.DISCONNECT) return true;
          waiting.push(frame);
          if (!scheduled) {
            // Collect what the engine polls in one go, then spread it.
            scheduled = true;
            queueMicrotask(dispatch);
          }
          return true;
        },
        close(): void {
          end("closed");
        },
        abort(): void {
          end("aborted");
        },
      };
    },
  };
}

/** Options of {@link ShortLinkClient}: those of `SyncwireClient` and of the transport, with a URL. */
export interface ShortLinkClientOptions extends Omit<SyncwireClientOptions, "transport">, ShortLinkTransportOptions {
  /** The server's HTTP listener, e.g. `http://127.0.0.1:9002/`. */
  readonly url: string | URL;
}

/**
 * Sync and uploads over HTTP short links, for a client that keeps its long link for SEND and NOTIFY
 * (or has none). One logical session, reconnecting like any `SyncwireClient`; its own engine, so give
 * it the same `clientId` and `token` as the long link, and a `syncKey` of its own.
 */
export class ShortLinkClient {
  /** The reconnecting client underneath (its `engine`, events, `close()`). */
  readonly client: SyncwireClient;

  /**
   * @throws as `SyncwireClient` and `shortLinkTransport`.
   */
  constructor(options: ShortLinkClientOptions) {
    this.client = new SyncwireClient({ ...options, transport: shortLinkTransport(options.url, options) });
    this.client.start();
  }

  /**
   * Syncs until the server has nothing newer (paging while `has_more`) and every page is committed.
   * Waits for uploads running on this client too.
   * @returns the messages handed over (new to this client, oldest first) and the SyncKey after them.
   * @throws (rejects) SessionError CLOSED if the client stops first (e.g. DISCONNECT AUTH_FAILED).
   */
  async sync(): Promise<{ messages: MessagePacket[]; syncKey: SyncKey }> {
    const messages: MessagePacket[] = [];
    const off = this.client.on("message", (event) => messages.push(event.message));
    try {
      this.client.sync();
      await this.client.quiet();
    } finally {
      off();
    }
    return { messages, syncKey: this.client.syncKey };
  }

  /**
   * Uploads an object; its parts go as concurrent POSTs. Progress comes as `upload-progress` events.
   * @throws as `ClientEngine.upload`.
   */
  upload(bytes: Uint8Array, contentType: string, options?: { uploadId?: string }): UploadHandle {
    return this.client.upload(bytes, contentType, options);
  }

  /** As `SyncwireClient.on`. */
  on<T extends SyncwireClientEvent["type"]>(type: T | "*", listener: (event: SyncwireClientEventOf<T>) => void): () => void {
    return this.client.on(type, listener);
  }

  /** Stops (open uploads fail, POSTs in flight are aborted). */
  close(): void {
    this.client.close();
  }
}
