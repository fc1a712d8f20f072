/**
 * BATCH frames (op 9): a body of zero or more complete frames laid end to end, each with its own
 * header — goim's "raw" op. A BATCH inside a BATCH is refused: one level keeps the split loop flat and
 * gives a hostile peer no recursion to exploit.
 */
import { MAX_U32 } from "./bytes.js";
import { decodeFramesWith, type Frame } from "./decode.js";
import { checkHeaderFields, encodeFrameInto, frameSize, type FrameInit } from "./encode.js";
import { HEADER_SIZE, resolveDecodeOptions, writeHeader, type DecodeOptions } from "./header.js";
import { Op } from "./ops.js";

/** Header fields of the outer BATCH frame. */
export interface BatchFields {
  /** u32; default 0. */
  seq?: number;
  /** u16; default 1. */
  version?: number;
}

/**
 * Encodes `frames` into one BATCH frame, in one allocation.
 * @returns a fresh contiguous frame; the inner bodies are copied into it.
 * @throws RangeError if an inner frame is itself a BATCH, a field does not fit its wire width, or the
 *   whole exceeds a u32 packetLength.
 */
export function encodeBatch(frames: readonly FrameInit[], fields: BatchFields = {}): Uint8Array {
  let size = HEADER_SIZE;
  for (const frame of frames) {
    if (frame.op === Op.BATCH) throw new RangeError("a BATCH frame cannot be nested inside a BATCH");
    size += frameSize(frame);
  }
  if (size > MAX_U32) throw new RangeError(`batch of ${size} bytes exceeds the u32 packetLength`);
  const { seq, version } = checkHeaderFields({ op: Op.BATCH, ...fields });
  const target = new Uint8Array(size);
  writeHeader(target, 0, size, HEADER_SIZE, version, Op.BATCH, seq);
  let at = HEADER_SIZE;
  for (const frame of frames) at += encodeFrameInto(target, at, frame);
  return target;
}

/**
 * Splits a BATCH into its inner frames.
 *
 * Given a `Frame`, error offsets count from the start of that frame; given a body, from the start of
 * the body. Inner frames are checked with the same limits as any frame (`options`, default 1 MiB and
 * version 1).
 * @returns the inner frames, each a set of views into the batch body (no copy).
 * @throws FrameError for a bad inner header, a cut-off inner frame (TRUNCATED) or an inner BATCH
 *   (NESTED_BATCH, offset at its op field).
 * @throws RangeError if given a `Frame` whose op is not BATCH, or invalid options.
 */
export function splitBatch(batch: Frame | Uint8Array, options?: DecodeOptions): Frame[] {
  const limits = resolveDecodeOptions(options);
  if (batch instanceof Uint8Array) return decodeFramesWith(batch, limits, false, 0, true).frames;
  if (batch.op !== Op.BATCH) throw new RangeError(`splitBatch needs a BATCH frame (op ${Op.BATCH}), got op ${batch.op}`);
  return decodeFramesWith(batch.body, limits, false, batch.headerLength, true).frames;
}

