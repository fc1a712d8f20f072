/**
 * Whole frames from an op and its message: `bodyFrame` for `encodeBatch`/`encodeFrameInto`, and
 * `encodeBodyFrame` for one contiguous frame, header and body written into one buffer in one pass
 * (no intermediate body array on the fast path).
 */
import type { FrameInit } from "../wire/encode.js";
import { checkHeaderFields, encodeFrame } from "../wire/encode.js";
import { MAX_U32 } from "../wire/bytes.js";
import { HEADER_SIZE, writeHeader } from "../wire/header.js";
import { encodeBody } from "./codec.js";
import { checkMessageType, scratchWriter, writeFast } from "./proto.js";
import { acceptsEmptyBody, bodySchemaOf, type BodyOp, type MessageOf } from "./schemas.js";

/** Header fields of a frame built from a message. */
export interface BodyFrameFields {
  /** u32; default 0. */
  seq?: number;
  /** u16; default 1. */
  version?: number;
  /** Header extension bytes (default none). */
  extension?: Uint8Array;
}

/**
 * A `FrameInit` carrying `message` as the body of an `op` frame, for `encodeBatch` or `encodeFrameInto`.
 * @returns a fresh object; its body is a fresh array, the extension is the caller's (not copied).
 * @throws as {@link encodeBody}.
 */
export function bodyFrame<O extends BodyOp>(op: O, message: MessageOf<O>, fields: BodyFrameFields = {}): FrameInit {
  const init: FrameInit = { op, body: encodeBody(op, message) };
  if (fields.seq !== undefined) init.seq = fields.seq;
  if (fields.version !== undefined) init.version = fields.version;
  if (fields.extension !== undefined) init.extension = fields.extension;
  return init;
}

/**
 * Encodes one contiguous frame whose body is `message`: equal to
 * `encodeFrame(bodyFrame(op, message, fields))`, faster for the hot messages.
 * @returns a new array holding only this frame (the message's bytes fields are copied in); for the
 *   fast-path messages a view of a pooled slab, as {@link encodeProto} explains.
 * @throws RangeError for a header field that does not fit its width, or as {@link encodeBody}.
 * @throws TypeError as {@link encodeBody}.
 */
export function encodeBodyFrame<O extends BodyOp>(op: O, message: MessageOf<O>, fields: BodyFrameFields = {}): Uint8Array {
  const schema = bodySchemaOf(op);
  if (schema === undefined) throw new RangeError(`op ${op} has no typed body`);
  if (fields.extension === undefined || fields.extension.byteLength === 0) {
    const { seq, version } = checkHeaderFields({ op, ...fields });
    checkMessageType(schema, message);
    const w = scratchWriter();
    w.begin();
    w.ensure(HEADER_SIZE);
    w.pos += HEADER_SIZE;
    if (writeFast(schema, message)) {
      const size = w.pos - w.start;
      if (size === HEADER_SIZE && !acceptsEmptyBody(op)) {
        w.abandon();
        throw new RangeError(`op ${op} requires a body, but every field of the ${schema.typeName} is at its default`);
      }
      if (size > MAX_U32) {
        w.abandon();
        throw new RangeError(`frame of ${size} bytes exceeds the u32 packetLength`);
      }
      writeHeader(w.buf, w.start, size, HEADER_SIZE, version, op, seq);
      return w.finish();
    }
    // No fast path for this message: give the reserved header bytes back before the general path.
    w.abandon();
  }
  return encodeFrame(bodyFrame(op, message, fields));
}
