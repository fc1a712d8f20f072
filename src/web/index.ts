/**
 * Transports that run anywhere (browsers, Deno, Bun, Node): the reconnecting client, a WebSocket
 * transport over the global `WebSocket` (or one given), and HTTP short links over `fetch`. Exported from
 * the root entry; Node's TCP and TLS transports and the server are in `syncwire/node`.
 * @packageDocumentation
 */
export type { ClientTransport, TransportHandlers, TransportLink } from "./transport.js";
export {
  SyncwireClient,
  type ClientLinkState,
  type ClientReconnectingEvent,
  type ClientStateEvent,
  type ClientTransportClosedEvent,
  type SyncwireClientEvent,
  type SyncwireClientEventOf,
  type SyncwireClientOptions,
} from "./client.js";
export { webSocketTransport, type WebSocketConstructor, type WebSocketLike, type WebSocketTransportOptions } from "./websocket.js";
export { failoverTransport, type FailoverTransport, type FailoverTransportOptions } from "./failover.js";
export { ShortLinkClient, shortLinkTransport, type FetchLike, type ShortLinkClientOptions, type ShortLinkTransportOptions } from "./short-link.js";
