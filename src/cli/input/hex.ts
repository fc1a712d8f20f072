/**
 * Hex text → bytes, for every form people paste into a terminal:
 *
 * - plain digits, one long string or wrapped over lines (this is also Wireshark's "hex stream");
 * - spaced or grouped digits (`00 10`, `0000 0010`);
 * - `0x`-prefixed bytes, spaced or comma-separated (`0x00, 0x10`), `\x00` escapes, `00:10` colons;
 * - `xxd` output (`00000000: 0000 0010 …  ascii`): offset column and ascii column stripped;
 * - `hexdump -C` output (`00000000  00 00 …  |ascii|`): offset column and `|ascii|` stripped, `*`
 *   repeat lines expanded, the final offset-only line used as the total length.
 *
 * The form is chosen once for the whole text: `xxd` when a line starts with `offset:`, `hexdump -C` when
 * a line ends with `|…|` or is a lone `*`, otherwise tokens. In the two dump forms the offset column is
 * checked against the bytes read so far, so an ascii column mistaken for data is caught, not decoded.
 *
 * Sans-I/O: the caller reads the text. Errors are {@link CliInputError}s with a 1-based line and column.
 */
import { CliInputError } from "./errors.js";

/** The layout {@link parseHex} recognised. */
export type HexForm = "tokens" | "xxd" | "hexdump";

/** Result of {@link parseHexDetailed}. */
export interface ParsedHex {
  /** The decoded bytes: a fresh array owned by the caller. */
  readonly bytes: Uint8Array;
  /** Which layout the text was read as. */
  readonly form: HexForm;
}

const XXD_LINE = /^\s*([0-9a-fA-F]+): (.*)$/;
const HEXDUMP_ASCII = /\|.*\|\s*$/;
const HEXDUMP_OFFSET = /^\s*([0-9a-fA-F]+)(?=\s|$)/;

/**
 * Parses hex text in any of the pasted forms listed in this module's header.
 * @returns a fresh `Uint8Array` (no aliasing of anything).
 * @throws CliInputError BAD_HEX for a character that is not hex (with its line and column), a dump
 *   line whose offset column disagrees with the bytes before it, or a malformed `*` repeat; ODD_HEX
 *   for a group of digits that does not make whole bytes.
 */
export function parseHex(text: string): Uint8Array {
  return parseHexDetailed(text).bytes;
}

/**
 * Like {@link parseHex}, and also says which layout the text was read as.
 * @returns the bytes (a fresh array) and the recognised {@link HexForm}.
 * @throws CliInputError as {@link parseHex}.
 */
export function parseHexDetailed(text: string): ParsedHex {
  const lines = text.split("\n").map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  const form = detectHexForm(lines);
  const out = new ByteSink(text.length >>> 1);
  if (form === "xxd") readXxd(lines, out);
  else if (form === "hexdump") readHexdump(lines, out);
  else lines.forEach((line, i) => readTokens(line, i + 1, 1, out));
  return { bytes: out.finish(), form };
}

/** Picks the layout of a whole text. Internal. */
function detectHexForm(lines: readonly string[]): HexForm {
  for (const line of lines) {
    if (line.trim() === "") continue;
    if (XXD_LINE.test(line)) return "xxd";
    if (line.trim() === "*" || (HEXDUMP_OFFSET.test(line) && HEXDUMP_ASCII.test(line))) return "hexdump";
  }
  return "tokens";
}

/**
 * A growing byte buffer that doubles: each byte is written once, plus O(log n) regrowth copies.
 * Internal.
 */
/** Most bytes a `hexdump -C` text may expand to through `*` repeats (256 MiB). */
export const MAX_EXPANDED_BYTES = 256 * 1024 * 1024;

class ByteSink {
  private buffer: Uint8Array;
  length = 0;

  constructor(initial: number) {
    this.buffer = new Uint8Array(Math.max(16, initial));
  }

  push(byte: number): void {
    if (this.length === this.buffer.length) this.grow(this.length + 1);
    this.buffer[this.length++] = byte;
  }

  /** Appends `count` copies of the bytes `[start, start + size)` already in the sink. */
  repeat(start: number, size: number, count: number): void {
    this.grow(this.length + size * count);
    for (let i = 0; i < count; i++) {
      this.buffer.copyWithin(this.length, start, start + size);
      this.length += size;
    }
  }

  private grow(needed: number): void {
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

function isSeparator(code: number): boolean {
  // space, tab, vertical tab, form feed, CR, comma, colon, semicolon
  return code === 32 || code === 9 || code === 11 || code === 12 || code === 13 || code === 44 || code === 58 || code === 59;
}

/**
 * Reads the hex tokens of `segment` (one line or part of one) into `out`. A token is a run of digits,
 * optionally prefixed by `0x`/`0X`/`\x`; it must hold an even number of digits, except that a prefixed
 * single digit (`0x0`, as C arrays write it) is one byte. `column` is the 1-based column of
 * `segment[0]` on line `line`, for error positions.
 */
function readTokens(segment: string, line: number, column: number, out: ByteSink): void {
  let i = 0;
  const n = segment.length;
  while (i < n) {
    const code = segment.charCodeAt(i);
    if (isSeparator(code)) {
      i++;
      continue;
    }
    const tokenStart = i;
    let prefixed = false;
    if ((code === 48 && (segment[i + 1] === "x" || segment[i + 1] === "X")) || (code === 92 && segment[i + 1] === "x")) {
      // "0x" / "\x" prefix, but "0x" alone followed by a non-digit is an error below.
      prefixed = true;
      i += 2;
    }
    const digitsStart = i;
    while (i < n && hexValue(segment.charCodeAt(i)) >= 0) i++;
    const digits = i - digitsStart;
    const nextIsEscape = segment.charCodeAt(i) === 92 && segment[i + 1] === "x"; // "\x00\x10"
    if (i < n && !isSeparator(segment.charCodeAt(i)) && !nextIsEscape) {
      const bad = segment[i] ?? "";
      throw new CliInputError("BAD_HEX", `'${printable(bad)}' is not a hex digit`, { line, column: column + i });
    }
    if (digits === 0) {
      throw new CliInputError("BAD_HEX", `'${segment.slice(tokenStart, i)}' has no hex digits after its prefix`, { line, column: column + tokenStart });
    }
    if (prefixed && digits === 1) {
      out.push(hexValue(segment.charCodeAt(digitsStart)));
      continue;
    }
    if (digits % 2 !== 0) {
      throw new CliInputError(
        "ODD_HEX",
        `'${segment.slice(tokenStart, i)}' has an odd number of hex digits (${digits}): bytes need two each`,
        { line, column: column + tokenStart },
      );
    }
    for (let d = digitsStart; d < i; d += 2) {
      out.push((hexValue(segment.charCodeAt(d)) << 4) | hexValue(segment.charCodeAt(d + 1)));
    }
  }
}

function printable(char: string): string {
  const code = char.charCodeAt(0);
  return code < 32 || code === 127 ? `\\x${code.toString(16).padStart(2, "0")}` : char;
}

/**
 * `xxd` lines: `offset: hex groups  ascii`. The hex area ends at the first run of two spaces (groups
 * are separated by one); the ascii column after it is ignored. Lines not starting with `offset:` must
 * be blank.
 */
function readXxd(lines: readonly string[], out: ByteSink): void {
  let firstOffset: number | undefined;
  lines.forEach((text, index) => {
    const line = index + 1;
    if (text.trim() === "") return;
    const match = XXD_LINE.exec(text);
    if (match === null) {
      throw new CliInputError("BAD_HEX", "expected an xxd line ('00000010: 0011 2233 …')", { line, column: 1 });
    }
    const offsetText = match[1] ?? "";
    const rest = match[2] ?? "";
    const restColumn = text.length - rest.length + 1;
    const offset = parseInt(offsetText, 16);
    firstOffset ??= offset;
    checkOffset(offset - firstOffset, out.length, line, text.indexOf(offsetText) + 1);
    const end = rest.indexOf("  ");
    readTokens(end < 0 ? rest : rest.slice(0, end), line, restColumn, out);
  });
}

/**
 * `hexdump -C` lines: `offset  hex  hex  |ascii|`, a lone `*` for "the previous line repeats", and a
 * final offset-only line giving the total length.
 */
function readHexdump(lines: readonly string[], out: ByteSink): void {
  let firstOffset: number | undefined;
  let previous: { start: number; size: number } | undefined;
  let pendingRepeat: number | undefined; // line number of a `*` not yet resolved
  lines.forEach((text, index) => {
    const line = index + 1;
    const trimmed = text.trim();
    if (trimmed === "") return;
    if (trimmed === "*") {
      if (previous === undefined || previous.size === 0) {
        throw new CliInputError("BAD_HEX", "'*' repeat line with no data line before it", { line, column: text.indexOf("*") + 1 });
      }
      pendingRepeat = line;
      return;
    }
    const match = HEXDUMP_OFFSET.exec(text);
    if (match === null) {
      throw new CliInputError("BAD_HEX", "expected a hexdump -C line ('00000010  00 11 22 …  |…|')", { line, column: 1 });
    }
    const offsetText = match[1] ?? "";
    const offset = parseInt(offsetText, 16);
    firstOffset ??= offset;
    const relative = offset - firstOffset;
    const offsetColumn = text.indexOf(offsetText) + 1;
    if (pendingRepeat !== undefined && previous !== undefined) {
      const missing = relative - out.length;
      if (missing < 0 || missing % previous.size !== 0) {
        throw new CliInputError(
          "BAD_HEX",
          `offset 0x${offsetText} after '*' is not a whole number of repeated ${previous.size}-byte lines`,
          { line, column: offsetColumn },
        );
      }
      // Three lines of text can claim gigabytes: a repeat past the cap is refused before it is expanded.
      if (out.length + missing > MAX_EXPANDED_BYTES) {
        throw new CliInputError("BAD_HEX", `'*' repeat expands to ${out.length + missing} bytes, more than the ${MAX_EXPANDED_BYTES} a hex dump may describe`, {
          line,
          column: offsetColumn,
        });
      }
      out.repeat(previous.start, previous.size, missing / previous.size);
      pendingRepeat = undefined;
    }
    checkOffset(relative, out.length, line, offsetColumn);
    const afterOffset = match[0].length;
    const bar = text.indexOf("|", afterOffset);
    const hexArea = bar < 0 ? text.slice(afterOffset) : text.slice(afterOffset, bar);
    const start = out.length;
    readTokens(hexArea, line, afterOffset + 1, out);
    if (out.length > start) previous = { start, size: out.length - start };
  });
  if (pendingRepeat !== undefined) {
    throw new CliInputError("BAD_HEX", "'*' repeat line with no offset line after it to say how far it repeats", {
      line: pendingRepeat,
      column: 1,
    });
  }
}

function checkOffset(expected: number, actual: number, line: number, column: number): void {
  if (expected !== actual) {
    throw new CliInputError(
      "BAD_HEX",
      `the offset column says byte ${expected} but ${actual} bytes were read before this line (an ascii column read as hex?)`,
      { line, column },
    );
  }
}
