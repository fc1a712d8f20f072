/**
 * `syncwire/node`: the Node-only edge (streams, sockets, servers). Everything else is in the root entry,
 * which runs anywhere (the reconnecting client, the WebSocket and HTTP short-link transports included).
 * @packageDocumentation
 */
export { FrameDecoderTransform } from "./decoder-transform.js";
export { FrameWriter, type FrameSink, type FrameWriterOptions } from "./frame-writer.js";
export { createFaultProxy, type FaultProxy, type FaultProxyOptions } from "./fault-proxy.js";
export type { DirectionStats, FaultProxyEvent, FaultProxyStats, FrameLike, FrameSplitter } from "./fault-events.js";
export type { Direction, FaultSettings, Faults } from "./fault-settings.js";
export { tcpTransport, tlsTransport, type NetTransportOptions, type TlsTransportOptions } from "./net-transport.js";
export { createClient, nodeTransport, type CreateClientOptions, type NodeTransportOptions } from "./client.js";
export {
  SyncwireServer,
  type BoundAddress,
  type HttpListenOptions,
  type ListenAddress,
  type ServerAddresses,
  type SyncwireServerOptions,
  type TlsListenOptions,
  type WebSocketListenOptions,
} from "./server.js";
export { ServerLinkDriver, type ServerLinkIo, type ServerLinkOptions, type ServerLogEntry } from "./server-link.js";
export { formatServerLogEntry } from "./log.js";
export { parseTokenFile, tokenAuthenticator } from "./authenticate.js";
