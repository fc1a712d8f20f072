/**
 * syncwire: the wire protocol of a WeChat-style instant-messaging long link.
 *
 * The root entry exports the platform-neutral core (plain `Uint8Array`/`DataView`, no Node imports):
 * the 16-byte frame codec, batches and typed errors. See docs/PROTOCOL.md for the contract.
 * @packageDocumentation
 */
export { FrameError, FRAME_ERROR_CODES, type FrameErrorCode } from "./wire/errors.js";
export { Op, opName, isKnownOp, isApplicationOp, FIRST_APPLICATION_OP } from "./wire/ops.js";
export {
  HEADER_SIZE,
  PROTOCOL_VERSION,
  DEFAULT_MAX_FRAME_SIZE,
  MAX_FRAME_SIZE_LIMIT,
  resolveDecodeOptions,
  type DecodeOptions,
  type DecodeLimits,
} from "./wire/header.js";
export { decodeFrame, decodeFrames, type Frame, type DecodeFramesOptions, type DecodedFrames } from "./wire/decode.js";
export { encodeHeader, encodeFrame, encodeFrameInto, frameSize, type HeaderFields, type FrameInit } from "./wire/encode.js";
export { encodeBatch, splitBatch, type BatchFields } from "./wire/batch.js";
export { nextSeq, MAX_SEQ } from "./wire/seq.js";
export { FrameDecoder, type FrameDecoderOptions, type FrameVisitor } from "./stream/frame-decoder.js";
export { frameDecoderStream } from "./stream/web-stream.js";
export { decodeStream } from "./stream/decode-stream.js";
export * from "./bodies/index.js";
export * from "./session/index.js";
export * from "./web/index.js";
