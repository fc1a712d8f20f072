/**
 * The client engine: the client side of a syncwire session (docs/PROTOCOL.md §11), sans-I/O.
 * @packageDocumentation
 */
export { ClientEngine, DEFAULT_MAX_IN_FLIGHT, type ClientFootprint, type OutgoingMessageInit } from "./engine.js";
export type { ClientEngineOptions } from "./options.js";
export type { UploadHandle } from "./uploads.js";
export type {
  ClientApplicationEvent,
  ClientDisconnectedEvent,
  ClientErrorEvent,
  ClientEvent,
  ClientFailedEvent,
  ClientHeartbeatEvent,
  ClientLinkDeadEvent,
  ClientMessageEvent,
  ClientOpenEvent,
  ClientProtocolErrorCode,
  ClientRetryEvent,
  ClientSentEvent,
  ClientSyncedEvent,
  ClientUploadCompleteEvent,
  ClientUploadFailedEvent,
  ClientUploadProgressEvent,
} from "./events.js";
