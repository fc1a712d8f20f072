/**
 * The bodies layer: typed protobuf bodies for every op, on top of the wire core.
 *
 * - `decodeBody(frame)` wraps a frame's body lazily; `message` decodes on first access.
 * - `encodeBody(op, message)`, `bodyFrame`, `encodeBodyFrame` build bodies and whole frames.
 * - `encodeProto`/`decodeProto` work on one message of any schema (fast for every body message and SyncKey).
 * - SyncKey helpers and `newClientMsgId()`.
 * - The generated message types and schemas (`create(MessagePacketSchema, {...})`).
 *
 * Platform-neutral: plain `Uint8Array`, `TextEncoder`/`TextDecoder` and `crypto.getRandomValues` only.
 * @packageDocumentation
 */
export { BodyError, BODY_ERROR_CODES, type BodyErrorCode } from "./errors.js";
export {
  BODY_OPS,
  bodySchemaOf,
  isBodyOp,
  acceptsEmptyBody,
  type BodyMessages,
  type BodyOp,
  type MessageOf,
} from "./schemas.js";
export { decodeBody, decodeMessage, encodeBody, type Body, type TypedBody, type OpaqueBody, type BodySource } from "./codec.js";
export { bodyFrame, encodeBodyFrame, type BodyFrameFields } from "./frames.js";
export { encodeProto, decodeProto, hasFastPath } from "./proto.js";
export { MAX_GROUP_DEPTH, type UnknownField } from "./reader.js";
export {
  SyncKeyFormatError,
  createSyncKey,
  mergeSyncKeys,
  compareSyncKeys,
  hasNewer,
  syncKeyEquals,
  syncKeyToMap,
  formatSyncKey,
  parseSyncKey,
} from "./sync-key.js";
export { newClientMsgId, createClientMsgIdGenerator, CLIENT_MSG_ID_EPOCH_MS, type ClientMsgIdSources } from "./msg-id.js";
export * from "../gen/syncwire/v1/message_pb.js";
export * from "../gen/syncwire/v1/sync_pb.js";
export * from "../gen/syncwire/v1/session_pb.js";
export * from "../gen/syncwire/v1/chunk_pb.js";
