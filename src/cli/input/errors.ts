/**
 * The one error type the CLI's input layer raises on bad input (hex, base64, pcap, pcapng, and the
 * NDJSON records `encode` reads).
 *
 * Like the wire core's `FrameError`, it carries a stable machine-readable {@link CliInputErrorCode}
 * and a position, so the command can print "where and why" and exit 1 without a stack trace. A text
 * input reports `line` and `column` (1-based); a binary input (a capture file) reports `offset`, the
 * byte position in the file where the offending record or field starts.
 */

/** Stable codes carried by {@link CliInputError}. New codes may be added; existing ones keep their meaning. */
export type CliInputErrorCode =
  /** A character that cannot be part of hex text. */
  | "BAD_HEX"
  /** Hex text whose digits do not pair up into whole bytes. */
  | "ODD_HEX"
  /** A character outside both base64 alphabets, or padding in the wrong place. */
  | "BAD_BASE64"
  /** A base64 text of 4n+1 significant characters (cannot encode whole bytes). */
  | "BAD_BASE64_LENGTH"
  /** The file does not start with a pcap or pcapng magic number. */
  | "NOT_A_CAPTURE"
  /** A capture record, block or file header is cut off before its declared end. */
  | "CAPTURE_TRUNCATED"
  /** A capture block or record header holds an impossible value (length, block type order…). */
  | "CAPTURE_MALFORMED"
  /** The capture uses a link type this reader cannot parse. */
  | "UNSUPPORTED_LINKTYPE"
  /** A line of `encode`'s input that is not a record of `dump --json` (not JSON, a missing or bad field). */
  | "BAD_RECORD";

/**
 * A failure to read the CLI's input: what went wrong (`code`) and where. `offset` is set for binary
 * inputs; `line` (and `column` where it helps) for text inputs. The message names the position too.
 */
export class CliInputError extends Error {
  /** Stable code; switch on this, not on the message. */
  readonly code: CliInputErrorCode;
  /** Byte offset in the input where the problem starts (binary inputs), else undefined. */
  readonly offset: number | undefined;
  /** 1-based line of the offending character (text inputs), else undefined. */
  readonly line: number | undefined;
  /** 1-based column of the offending character (text inputs, when it helps), else undefined. */
  readonly column: number | undefined;
  /** What went wrong, in words: `message` without its "(CODE at …)" suffix. */
  readonly reason: string;

  /** @param message what went wrong (becomes `reason`); the code and position are appended for `message`. */
  constructor(code: CliInputErrorCode, message: string, where: { offset?: number; line?: number; column?: number } = {}) {
    const at =
      where.line !== undefined
        ? ` at line ${where.line}${where.column === undefined ? "" : `, column ${where.column}`}`
        : where.offset !== undefined
          ? ` at byte ${where.offset}`
          : "";
    super(`${message} (${code}${at})`);
    this.name = "CliInputError";
    this.reason = message;
    this.code = code;
    this.offset = where.offset;
    this.line = where.line;
    this.column = where.column;
  }
}

/**
 * The 1-based line and column of character `index` in `text`.
 * @returns a fresh `{ line, column }`; never throws (indices past the end count on the last line).
 */
export function lineColumnOf(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(index, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: index - lineStart + 1 };
}
