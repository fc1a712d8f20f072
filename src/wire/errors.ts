/**
 * The one error type every syncwire decoder raises on bad input.
 *
 * Decoders never let a `RangeError`, `TypeError` or anything else escape on hostile bytes: each failure
 * becomes a `FrameError` with a stable machine-readable {@link FrameErrorCode} and the byte offset where
 * the problem starts, so a caller can log, count and react without parsing messages.
 *
 * Encoders, which only see values the caller built, throw `RangeError`/`TypeError` for misuse instead:
 * "the peer sent garbage" and "you called the API wrong" are different failures (as in h11).
 */

/** Stable codes carried by {@link FrameError}. New codes may be added; existing ones never change meaning. */
export type FrameErrorCode =
  /** The input ends before the frame it started does (decodeFrame, decoder.end()). */
  | "TRUNCATED"
  /** headerLength below 16, or above packetLength. */
  | "BAD_HEADER_LENGTH"
  /** packetLength below 16 (it must count the header it sits in). */
  | "BAD_PACKET_LENGTH"
  /** packetLength above the decoder's `maxFrameSize`. */
  | "FRAME_TOO_LARGE"
  /** version not in the decoder's accepted list. */
  | "UNSUPPORTED_VERSION"
  /** Bytes follow the one frame `decodeFrame` was given. */
  | "TRAILING_BYTES"
  /** A BATCH frame inside a BATCH body. */
  | "NESTED_BATCH";

/** Every code, for tables and exhaustive tests. */
export const FRAME_ERROR_CODES: readonly FrameErrorCode[] = [
  "TRUNCATED",
  "BAD_HEADER_LENGTH",
  "BAD_PACKET_LENGTH",
  "FRAME_TOO_LARGE",
  "UNSUPPORTED_VERSION",
  "TRAILING_BYTES",
  "NESTED_BATCH",
];

/**
 * A decoding failure: what went wrong (`code`) and where (`offset`, in bytes from the start of the
 * input the caller passed in — for a streaming decoder, from the start of the stream).
 */
export class FrameError extends Error {
  /** Stable code; switch on this, not on the message. */
  readonly code: FrameErrorCode;
  /** Byte offset where the offending field or frame starts. */
  readonly offset: number;
  /**
   * What went wrong, in words: `message` without its "(CODE at byte N)" suffix, for callers that show
   * the code and the offset their own way (and count the offset from somewhere else).
   */
  readonly reason: string;

  /** @param message what went wrong (becomes `reason`); the code and offset are appended for `message`. */
  constructor(code: FrameErrorCode, offset: number, message: string) {
    super(`${message} (${code} at byte ${offset})`);
    this.name = "FrameError";
    this.code = code;
    this.offset = offset;
    this.reason = message;
  }
}
