/**
 * Decoding whole frames out of a buffer the caller already holds: one frame (`decodeFrame`), a
 * WebSocket-style message of frames (`decodeFrames`). Streams that split frames across chunks go
 * through `FrameDecoder` instead.
 *
 * Every `Frame` returned here is a set of views: `extension` and `body` share the input's
 * `ArrayBuffer` and nothing is copied. The caller must not overwrite the input while it uses them.
 */
import { EMPTY_BYTES, readU16, readU32, viewOf } from "./bytes.js";
import { FrameError } from "./errors.js";
import { checkHeaderPrefix, HEADER_SIZE, resolveDecodeOptions, type DecodeLimits, type DecodeOptions } from "./header.js";
import { Op } from "./ops.js";

/** A decoded frame. `extension` and `body` are views into the bytes it was decoded from. */
export interface Frame {
  /** Whole frame length in bytes, header included. */
  readonly packetLength: number;
  /** 16, or more when the frame carries a header extension. */
  readonly headerLength: number;
  readonly version: number;
  /** Any u32: unknown ops pass through. See `Op`. */
  readonly op: number;
  readonly seq: number;
  /**
   * Header bytes 16…headerLength: a view, not a copy. Usually empty, and then it is one shared, frozen,
   * zero-length array rather than a view (there is nothing to alias).
   */
  readonly extension: Uint8Array;
  /** Bytes headerLength…packetLength. A view, not a copy. */
  readonly body: Uint8Array;
}

/** Options of {@link decodeFrames}. */
export interface DecodeFramesOptions extends DecodeOptions {
  /**
   * Message mode for peers that append bytes after their frames. Decoding stops at the first bytes that
   * do not read as a whole frame — a cut-off frame or any bad header — and everything from there on is
   * returned as `trailer` instead of raising that error. Off by default: in a stream such bytes mean the
   * reader is out of sync. Bilibili's heartbeat reply needs it (the server echoes the client's
   * heartbeat body after the frame). A non-empty trailer is the caller's to judge: a bad frame in the
   * middle of a message also ends up there, with everything after it.
   */
  allowTrailer?: boolean;
}

/** Result of {@link decodeFrames}. */
export interface DecodedFrames {
  /** The whole frames, in order; each a set of views into the input. */
  readonly frames: Frame[];
  /** Bytes after the last whole frame: a view when present (only with `allowTrailer`), else a shared empty array. */
  readonly trailer: Uint8Array;
}

/**
 * Builds a `Frame` for the validated header at `at`. Internal: the caller has checked the header
 * and that `packetLength` bytes are present.
 *
 * `buffer` and `byteOffset` are `bytes.buffer` and `bytes.byteOffset`, read once per input by the
 * caller: those are prototype getters, and on a loop that hands out tens of millions of frames a
 * second reading them per frame is a measurable share of the cost.
 */
export function frameAt(bytes: Uint8Array, buffer: ArrayBufferLike, byteOffset: number, at: number, packetLength: number): Frame {
  const headerLength = readU16(bytes, at + 4);
  return {
    packetLength,
    headerLength,
    version: readU16(bytes, at + 6),
    op: readU32(bytes, at + 8),
    seq: readU32(bytes, at + 12),
    extension: headerLength === HEADER_SIZE ? EMPTY_BYTES : new Uint8Array(buffer, byteOffset + at + HEADER_SIZE, headerLength - HEADER_SIZE),
    // A plain view: a third of the cost of Buffer#subarray, and no Buffer in the core.
    body: new Uint8Array(buffer, byteOffset + at + headerLength, packetLength - headerLength),
  };
}

/**
 * Checks that a whole, valid frame starts at `at`: its header (in wire order) and that all
 * `packetLength` bytes are there. The one check behind `decodeFrame`, `decodeFrames` and `splitBatch`.
 * @returns its packetLength.
 * @throws FrameError for a bad header field, or TRUNCATED (at the frame, `errorBase + at`).
 */
function wholeFrameAt(bytes: Uint8Array, at: number, limits: DecodeLimits, errorBase: number): number {
  const left = bytes.byteLength - at;
  checkHeaderPrefix(bytes, at, left < HEADER_SIZE ? left : HEADER_SIZE, limits, errorBase);
  if (left < HEADER_SIZE) {
    throw new FrameError("TRUNCATED", errorBase + at, `a frame needs ${HEADER_SIZE} header bytes, ${left} left`);
  }
  const packetLength = readU32(bytes, at);
  if (left < packetLength) {
    throw new FrameError("TRUNCATED", errorBase + at, `frame of ${packetLength} bytes cut off after ${left}`);
  }
  return packetLength;
}

/**
 * Decodes exactly one whole frame.
 * @returns a `Frame` whose `extension` and `body` are views of `bytes` (no copy).
 * @throws FrameError BAD_PACKET_LENGTH / FRAME_TOO_LARGE / BAD_HEADER_LENGTH / UNSUPPORTED_VERSION for a
 *   bad header, TRUNCATED if `bytes` ends early, TRAILING_BYTES if anything follows the frame.
 * @throws RangeError for invalid options.
 */
export function decodeFrame(bytes: Uint8Array, options?: DecodeOptions): Frame {
  const length = bytes.byteLength;
  const packetLength = wholeFrameAt(bytes, 0, resolveDecodeOptions(options), 0);
  if (length > packetLength) {
    throw new FrameError("TRAILING_BYTES", packetLength, `${length - packetLength} bytes follow the ${packetLength}-byte frame`);
  }
  return frameAt(bytes, bytes.buffer, bytes.byteOffset, 0, packetLength);
}

/**
 * Decodes a buffer of whole frames laid end to end, such as one WebSocket message or goim's batch
 * sent raw over TCP.
 * @returns the frames (views of `bytes`) and the trailer (a view; empty unless allowed and present).
 * @throws FrameError on a bad header (its code, at the field) or a cut-off last frame (TRUNCATED, at the
 *   frame); never with `allowTrailer`, where whatever follows the last whole frame is the trailer.
 * @throws RangeError for invalid options.
 */
export function decodeFrames(bytes: Uint8Array, options?: DecodeFramesOptions): DecodedFrames {
  return decodeFramesWith(bytes, resolveDecodeOptions(options), options?.allowTrailer === true, 0, false);
}

/**
 * The loop behind `decodeFrames` and `splitBatch`. `errorBase` shifts error offsets (a batch body's
 * position inside its frame); `refuseBatch` turns an inner BATCH into NESTED_BATCH.
 * @internal
 */
export function decodeFramesWith(
  bytes: Uint8Array,
  limits: DecodeLimits,
  allowTrailer: boolean,
  errorBase: number,
  refuseBatch: boolean,
): DecodedFrames {
  const length = bytes.byteLength;
  const buffer = bytes.buffer;
  const byteOffset = bytes.byteOffset;
  const frames: Frame[] = [];
  let at = 0;
  while (at < length) {
    const left = length - at;
    let packetLength: number;
    try {
      packetLength = wholeFrameAt(bytes, at, limits, errorBase);
    } catch (error) {
      // In message mode whatever cannot be read as a whole frame is the trailer (Bilibili's echo).
      if (allowTrailer) return { frames, trailer: viewOf(bytes, at, left) };
      throw error;
    }
    if (refuseBatch && readU32(bytes, at + 8) === Op.BATCH) {
      throw new FrameError("NESTED_BATCH", errorBase + at + 8, "a BATCH frame inside a BATCH body");
    }
    frames.push(frameAt(bytes, buffer, byteOffset, at, packetLength));
    at += packetLength;
  }
  return { frames, trailer: EMPTY_BYTES };
}
