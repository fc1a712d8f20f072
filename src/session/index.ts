/**
 * The session layer: sans-I/O engines that carry out docs/PROTOCOL.md §11 over any transport, and the
 * store interfaces a server shares across links and nodes. Platform-neutral like the core.
 * @packageDocumentation
 */
export type { LinkState, SansIoLink } from "./link.js";
export { SessionError, type SessionErrorCode } from "./errors.js";
export type {
  AcceptedMessage,
  AppendResult,
  DedupeStore,
  MessageIdAllocator,
  ObjectStore,
  Presence,
  ReadResult,
  ServerStores,
  StoredObjectInfo,
  SyncLogEntry,
  SyncLogStore,
  Unsubscribe,
  UploadLimits,
  UploadMeta,
  UploadRefusal,
  UploadState,
  UploadStore,
} from "./stores.js";
export { backoffDelay, checkBackoffPolicy, type BackoffPolicy } from "./backoff.js";
export { crc32 } from "./crc32.js";
export * from "./client/index.js";
export * from "./server/index.js";
export * from "./memory/index.js";
