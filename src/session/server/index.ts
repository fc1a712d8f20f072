/**
 * The server engine: `ServerEngine` (shared) and `ServerConnection` (one per link), sans-I/O.
 * @packageDocumentation
 */
export { ServerEngine } from "./engine.js";
export { ServerConnection, SERVER_VERSIONS, type AcceptOptions } from "./connection.js";
export type { ServerEvent, CloseInitiator, ServerErrorSource } from "./events.js";
export type {
  AuthenticateInfo,
  AuthenticateResult,
  ResolvedServerOptions,
  ServerEngineOptions,
  ServerLimits,
  ServerUploadLimits,
} from "./options.js";
