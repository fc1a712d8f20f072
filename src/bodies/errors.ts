/**
 * The error the bodies layer raises when a peer's body cannot be decoded.
 *
 * Like the wire core's `FrameError`, it carries a stable machine-readable `code` and the byte `offset`
 * where the problem starts, so callers can count and react without parsing messages. No other error
 * escapes a body decoder on hostile bytes: truncated varints, lengths past the end, wrong wire types,
 * invalid UTF-8 and deep group nesting all become a `BodyError`.
 *
 * Encoders, which only see values the caller built, throw `TypeError`/`RangeError` for misuse instead.
 */

/** Stable codes carried by {@link BodyError}. New codes may be added; existing ones never change meaning. */
export type BodyErrorCode =
  /** The body is not a valid protobuf encoding of the op's message (see the message for what and where). */
  | "BAD_BODY"
  /** The op requires a body (SEND, DISCONNECT, HELLO, WELCOME, SYNC_COMMIT, CHUNK, CHUNK_ACK) and it is empty. */
  | "EMPTY_BODY";

/** Every code, for tables and exhaustive tests. */
export const BODY_ERROR_CODES: readonly BodyErrorCode[] = ["BAD_BODY", "EMPTY_BODY"];

/**
 * A body decoding failure: what went wrong (`code`), for which op, and where (`offset`, in bytes from the
 * start of the frame when the body came from a `Frame`; from the start of the bytes the caller passed
 * otherwise, plus any base offset it gave).
 */
export class BodyError extends Error {
  /** Stable code; switch on this, not on the message. */
  readonly code: BodyErrorCode;
  /** Byte offset where the offending field (its tag, length or value) starts. */
  readonly offset: number;
  /** The op of the frame whose body failed. */
  readonly op: number;
  /** What went wrong, in words: `message` without its "(CODE at byte N, op O)" suffix. */
  readonly reason: string;

  /** @param message what went wrong (becomes `reason`); the code, offset and op are appended for `message`. */
  constructor(code: BodyErrorCode, op: number, offset: number, message: string) {
    super(`${message} (${code} at byte ${offset}, op ${op})`);
    this.name = "BodyError";
    this.code = code;
    this.op = op;
    this.offset = offset;
    this.reason = message;
  }
}
