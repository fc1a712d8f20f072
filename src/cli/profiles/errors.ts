/**
 * The error type of the peer-protocol profiles (goim, Bilibili, Mars): a body that will not
 * decompress, a decompression that would pass its cap, inner frames that do not parse, a Mars frame
 * with a bad header. Like the wire core's `FrameError` it carries a stable `code` and the byte
 * `offset` where the problem starts, so the CLI reports it in one line and exits 1.
 */

/** Stable codes carried by {@link ProfileError}. New codes may be added; existing ones keep their meaning. */
export type ProfileErrorCode =
  /** Decompressing a body would produce more than the `maxInflate` budget. */
  | "INFLATE_LIMIT"
  /** A zlib/brotli body is corrupt or cut off. */
  | "INFLATE_FAILED"
  /** A decompressed body or batch body does not split into whole frames (`cause` holds the FrameError). */
  | "INNER_FRAME"
  /** Frames nested deeper than `maxDepth`. */
  | "TOO_DEEP"
  /** A Mars frame cut off before its declared end (the input ended inside it). */
  | "MARS_TRUNCATED"
  /** A Mars headLength below 20 or above the limit. */
  | "MARS_BAD_HEAD_LENGTH"
  /** A Mars bodyLength above `maxBodyLength` (Mars itself refuses packets over 1 MiB). */
  | "MARS_BODY_TOO_LARGE";

/**
 * A profile decoding failure: what (`code`) and where (`offset`, in bytes from the start of the
 * stream; for a problem inside a decompressed body, where that body's top-level frame starts — the
 * reason says where inside).
 */
export class ProfileError extends Error {
  /** Stable code; switch on this, not on the message. */
  readonly code: ProfileErrorCode;
  /** Byte offset where the offending frame, field or body starts. */
  readonly offset: number;
  /** What went wrong, in words: `message` without its "(CODE at byte N)" suffix. */
  readonly reason: string;

  /** @param message what went wrong (becomes `reason`); the code and offset are appended for `message`. */
  constructor(code: ProfileErrorCode, offset: number, message: string, options?: { cause?: unknown }) {
    super(`${message} (${code} at byte ${offset})`, options);
    this.name = "ProfileError";
    this.code = code;
    this.offset = offset;
    this.reason = message;
  }
}
