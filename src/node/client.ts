/**
 * The Node client: the platform-neutral `SyncwireClient` with a transport chosen by URL scheme —
 * `tcp://host:port`, `tls://host:port`, `ws://…` / `wss://…` (the `ws` package's WebSocket, injected
 * into the same WebSocket transport browsers use) and `http://…` / `https://…` (HTTP short links over
 * Node's global `fetch`). No reconnect logic of its own: that is `SyncwireClient`'s. Several URLs (the
 * nodes of one deployment) go through `failoverTransport`: a node that cannot be reached is left for the next.
 */
import type { ConnectionOptions } from "node:tls";
import WebSocket from "ws";
import { SyncwireClient, type SyncwireClientOptions } from "../web/client.js";
import { shortLinkTransport, type ShortLinkTransportOptions } from "../web/short-link.js";
import { failoverTransport } from "../web/failover.js";
import type { ClientTransport } from "../web/transport.js";
import { webSocketTransport, type WebSocketConstructor } from "../web/websocket.js";
import { tcpTransport, tlsTransport } from "./net-transport.js";

/** Options of {@link nodeTransport}. */
export interface NodeTransportOptions {
  /** TLS options for `tls://` (e.g. `ca` for a private CA). */
  readonly tls?: ConnectionOptions;
  /** The outgoing buffer bound of a link (see the transports). Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /** For `http(s)://`: most POSTs at once, extra headers. */
  readonly shortLink?: Omit<ShortLinkTransportOptions, "fetch">;
}

/**
 * The transport for a URL.
 * @throws TypeError for a URL that does not parse or has another scheme; RangeError for a missing or
 *   bad port where one is required (tcp, tls).
 */
export function nodeTransport(url: string | URL, options: NodeTransportOptions = {}): ClientTransport {
  const parsed = new URL(String(url));
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  switch (parsed.protocol) {
    case "tcp:":
    case "tls:": {
      const port = Number(parsed.port);
      if (parsed.port === "") throw new RangeError(`${parsed.protocol}// URLs need a port: ${parsed.href}`);
      const common = { host, port, ...(options.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: options.maxBufferedBytes }) };
      return parsed.protocol === "tcp:" ? tcpTransport(common) : tlsTransport({ ...common, ...(options.tls === undefined ? {} : { tls: options.tls }) });
    }
    case "ws:":
    case "wss:":
      // ws's class has the browser's surface (addEventListener, binaryType, bufferedAmount). For wss:// with
      // a private CA, give webSocketTransport a subclass of ws's WebSocket that passes its TLS options.
      return webSocketTransport(parsed, { WebSocket: WebSocket as unknown as WebSocketConstructor, ...(options.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: options.maxBufferedBytes }) });
    case "http:":
    case "https:":
      return shortLinkTransport(parsed, options.shortLink);
    default:
      throw new TypeError(`no syncwire transport for ${parsed.protocol}// (tcp, tls, ws, wss, http, https)`);
  }
}

/** Options of {@link createClient}: those of `SyncwireClient` and `nodeTransport`, with a URL for the transport. */
export interface CreateClientOptions extends Omit<SyncwireClientOptions, "transport">, NodeTransportOptions {
  /**
   * Where the server listens: `tcp://127.0.0.1:9000`, `tls://…`, `ws://127.0.0.1:9001/`, `http://…`. Or
   * the nodes of a multi-node deployment, all of one scheme: links go to the first (or `firstNode`) while
   * it can be reached, and to the next one when it cannot (`failoverTransport`).
   */
  readonly url: string | URL | readonly (string | URL)[];
  /** With several URLs: the index of the node to try first (spread clients over nodes). Default 0. */
  readonly firstNode?: number;
  /** Connect at once (default true); false to add listeners first and call `start()` yourself. */
  readonly start?: boolean;
}

/**
 * A reconnecting client for the URL's transport.
 * @returns the client, already started unless `start: false`.
 * @throws as `nodeTransport`, `failoverTransport` (several URLs) and `SyncwireClient`.
 */
export function createClient(options: CreateClientOptions): SyncwireClient {
  const url = options.url;
  const transport = Array.isArray(url)
    ? failoverTransport(
        url.map((u: string | URL) => nodeTransport(u, options)),
        options.firstNode === undefined ? {} : { start: options.firstNode },
      )
    : nodeTransport(url as string | URL, options);
  const client = new SyncwireClient({ ...options, transport });
  if (options.start !== false) client.start();
  return client;
}
