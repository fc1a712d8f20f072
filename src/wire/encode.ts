/**
 * Encoding frames: the header alone (so a transport can write `[header, body]` without joining them),
 * one contiguous frame, or a frame written into a caller's buffer at an offset.
 *
 * Encoders write headerLength 16 (more only when an `extension` is given) and version 1 unless told
 * otherwise. They check every field against its wire width and throw `RangeError`/`TypeError` for
 * values that cannot be encoded: bad values here are the caller's bug, not the peer's.
 *
 * Speed: each encoder first checks all fields at once with integer tricks (`(v >>> 0) === v` is true
 * exactly for the integers 0…2^32 − 1) and, only when that fails, runs the field-by-field checks that
 * word the error. `encodeFrame` draws frames up to 8 KiB from a shared slab (slab.ts) instead of
 * allocating an ArrayBuffer per frame.
 */
import { HEADER_SIZE, PROTOCOL_VERSION, writeHeader } from "./header.js";
import { MAX_U32 } from "./bytes.js";
import { allocFromSlab } from "./slab.js";

/** Header fields for {@link encodeHeader}: the body travels separately. */
export interface HeaderFields {
  /** Operation code, a u32 (see `Op`). */
  op: number;
  /** u32; default 0 (unsolicited). See `nextSeq` for request numbering. */
  seq?: number;
  /** u16; default 1. */
  version?: number;
  /** Length of the body that will follow the header; default 0. */
  bodyLength?: number;
}

/** What a frame is built from. A decoded `Frame` fits this shape, so it re-encodes as is. */
export interface FrameInit {
  /** Operation code, a u32 (see `Op`). */
  op: number;
  /** u32; default 0. */
  seq?: number;
  /** u16; default 1. */
  version?: number;
  /** Default empty. */
  body?: Uint8Array;
  /** Header extension bytes placed after the 16-byte header (headerLength = 16 + its length). Default empty. */
  extension?: Uint8Array;
}

const MAX_U16 = 0xffff;

/**
 * Checks that `value` is an integer from 0 to `max` (a wire field's width). Internal to the encoders.
 * @throws RangeError naming the field otherwise.
 */
export function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer from 0 to ${max}, got ${value}`);
  }
}

/**
 * Checks a frame's header fields and returns them with defaults applied (seq 0, version 1): the one
 * place every encoder validates op, seq and version. Internal to the encoders.
 * @throws RangeError if op or seq is not a u32, or version not a u16.
 */
export function checkHeaderFields(fields: { op: number; seq?: number; version?: number }): { op: number; seq: number; version: number } {
  const op = fields.op;
  const seq = fields.seq ?? 0;
  const version = fields.version ?? PROTOCOL_VERSION;
  checkUint("op", op, MAX_U32);
  checkUint("seq", seq, MAX_U32);
  checkUint("version", version, MAX_U16);
  return { op, seq, version };
}

/**
 * The number of bytes `frame` takes on the wire: 16 + extension + body.
 * @throws RangeError if that exceeds the u32 packetLength, or the extension the u16 headerLength.
 */
export function frameSize(frame: FrameInit): number {
  const extensionLength = frame.extension?.byteLength ?? 0;
  if (extensionLength > MAX_U16 - HEADER_SIZE) {
    throw new RangeError(`extension of ${extensionLength} bytes exceeds the ${MAX_U16 - HEADER_SIZE} a u16 headerLength allows`);
  }
  const size = HEADER_SIZE + extensionLength + (frame.body?.byteLength ?? 0);
  if (size > MAX_U32) throw new RangeError(`frame of ${size} bytes exceeds the u32 packetLength`);
  return size;
}

/** True if `v` is a number that is an integer from 0 to 2^32 − 1. */
function isU32(v: unknown): v is number {
  return typeof v === "number" && v >>> 0 === v;
}

/** True if `v` is a number that is an integer from 0 to 65535. */
function isU16(v: unknown): v is number {
  return typeof v === "number" && (v & 0xffff) === v;
}

/**
 * Encodes the 16 header bytes alone for a body of `bodyLength` bytes that the caller writes next.
 * @returns a fresh 16-byte array (its own small buffer: header arrays are cheap to allocate).
 * @throws RangeError if a field does not fit its wire width.
 */
export function encodeHeader(fields: HeaderFields): Uint8Array {
  const bodyLength = fields.bodyLength ?? 0;
  const op = fields.op;
  const seq = fields.seq ?? 0;
  const version = fields.version ?? PROTOCOL_VERSION;
  if (!(isU32(bodyLength) && bodyLength <= MAX_U32 - HEADER_SIZE && isU32(op) && isU32(seq) && isU16(version))) {
    // Word the error, field by field, in the documented order.
    checkUint("bodyLength", bodyLength, MAX_U32 - HEADER_SIZE);
    checkHeaderFields(fields);
  }
  const header = new Uint8Array(HEADER_SIZE);
  writeHeader(header, 0, HEADER_SIZE + bodyLength, HEADER_SIZE, version, op, seq);
  return header;
}

/**
 * Checks every field of `frame` at once and returns its size (`frameSize(frame)`). Only when the
 * one-shot check fails are the fields checked one by one, to word the error in the documented order.
 * @throws RangeError if a field does not fit its wire width.
 */
function checkedFrameSize(frame: FrameInit): number {
  const seq = frame.seq ?? 0;
  const version = frame.version ?? PROTOCOL_VERSION;
  const body = frame.body;
  const extension = frame.extension;
  // `== null`: a null extension was always taken as none (and now a null body is too).
  const extensionLength = extension == null ? 0 : extension.byteLength;
  const size = HEADER_SIZE + extensionLength + (body == null ? 0 : body.byteLength);
  if (!(extensionLength <= MAX_U16 - HEADER_SIZE && size <= MAX_U32 && isU32(frame.op) && isU32(seq) && isU16(version))) {
    frameSize(frame);
    checkHeaderFields(frame);
  }
  return size;
}

/** Writes `frame`, whose fields {@link checkedFrameSize} has passed as `size` bytes, at `offset` of `target`. */
function writeFrame(target: Uint8Array, offset: number, frame: FrameInit, size: number): void {
  const extension = frame.extension;
  const headerLength = extension == null ? HEADER_SIZE : HEADER_SIZE + extension.byteLength;
  writeHeader(target, offset, size, headerLength, frame.version ?? PROTOCOL_VERSION, frame.op, frame.seq ?? 0);
  if (headerLength > HEADER_SIZE) target.set(extension!, offset + HEADER_SIZE);
  if (size > headerLength) target.set(frame.body!, offset + headerLength);
}

/**
 * Encodes one contiguous frame.
 * @returns a new array of `frameSize(frame)` bytes holding only this frame; body and extension are
 *   copied into it. Frames up to 8 KiB are views of a pooled 64 KiB slab shared with other results,
 *   as with Node's `Buffer.allocUnsafe`: the bytes are yours, the `.buffer` is not (never transfer it;
 *   use `byteOffset` when viewing it; `slice()` a result that must stand alone). Larger frames get an
 *   ArrayBuffer of their own.
 * @throws RangeError if a field does not fit its wire width.
 */
export function encodeFrame(frame: FrameInit): Uint8Array {
  const size = checkedFrameSize(frame);
  const target = allocFromSlab(size);
  writeFrame(target, 0, frame, size);
  return target;
}

/**
 * Writes one frame into `target` at `offset`, for packing many frames into one buffer.
 * @returns the number of bytes written (`frameSize(frame)`).
 * @throws RangeError if the frame does not fit in `target` after `offset`, or a field does not fit its
 *   wire width. Nothing is written when it throws.
 */
export function encodeFrameInto(target: Uint8Array, offset: number, frame: FrameInit): number {
  const size = checkedFrameSize(frame);
  if (!(isU32(offset) && offset + size <= target.byteLength)) {
    throw new RangeError(`a ${size}-byte frame does not fit at offset ${offset} of a ${target.byteLength}-byte buffer`);
  }
  writeFrame(target, offset, frame, size);
  return size;
}
