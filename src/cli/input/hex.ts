/**
 * Hex text → bytes, for every form people paste into a terminal:
 *
 * - plain digits, one long string or wrapped over lines (this is also Wireshark's "hex stream");
 * - spaced or grouped digits (`00 10`, `0000 0010`);
 * - `0x`-prefixed bytes, spaced or comma-separated (`0x00, 0x10`), `\x00` escapes, `00:10` colons;
 * - `xxd` output (`00000000: 0000 0010 …  ascii`): offset column and ascii column stripped;
 * - `hexdump -C` output (`00000000  00 00 …  |ascii|`): offset column and `|ascii|` stripped, `*`
 *   repeat lines kept as repeats, the final offset-only line used as the total length.
 *
 * The form is chosen once for the whole text: `xxd` when a line starts with `offset:`, `hexdump -C` when
 * a line ends with `|…|` or is a lone `*`, otherwise tokens. In the two dump forms the offset column is
 * checked against the bytes read so far, so an ascii column mistaken for data is caught, not decoded.
 *
 * Linear: every line is looked at a bounded number of times, with no pattern that can backtrack (a
 * 120 KB line of `|` once took 43 s through `/\|.*\|\s*$/`). The whole text is checked before any byte
 * is handed out, so an error is reported before any frame. A `*` line is not expanded here: it stays a
 * repeat of the row before it, expanded row by row, slice by slice, only as far as the reader takes the
 * bytes (`chunks`) — a dump that stops (an error, the `--max-frames` budget) never pays for the rest.
 *
 * Sans-I/O: the caller reads the text. Errors are {@link CliInputError}s with a 1-based line and column.
 */
import { CliInputError } from "./errors.js";

/** The layout {@link parseHex} recognised. */
export type HexForm = "tokens" | "xxd" | "hexdump";

/** Most bytes a `hexdump -C` text may stand for through `*` repeats (256 MiB). */
export const MAX_EXPANDED_BYTES = 256 * 1024 * 1024;

/** Bytes per slice handed out by {@link HexBytes.chunks}, unless asked otherwise. */
const CHUNK_BYTES = 64 * 1024;

/** Parsed hex text: literal bytes and repeats, expanded on demand. */
export interface HexBytes {
  /** Which layout the text was read as. */
  readonly form: HexForm;
  /** How many bytes the text stands for, repeats included. */
  readonly length: number;
  /**
   * The bytes in order, in slices of at most `size` bytes (a repeat's slices hold whole rows). Slices are
   * views of buffers the parser owns and never changes (a repeat hands out the same buffer more than
   * once): read them, do not write them.
   */
  chunks(size?: number): Generator<Uint8Array, void, undefined>;
}

/** Literal bytes `[start, end)` of the sink (`count` 0), or `count` (≥ 1) more copies of the row `[start, end)`. */
interface Segment {
  readonly start: number;
  readonly end: number;
  readonly count: number;
}

const XXD_LINE = /^\s*([0-9a-fA-F]+): (.*)$/;
const HEXDUMP_OFFSET = /^\s*([0-9a-fA-F]+)(?=\s|$)/;

/**
 * Parses hex text in any of the pasted forms listed in this module's header.
 * @returns the bytes, to be taken with `chunks()`; nothing aliases `text`.
 * @throws CliInputError BAD_HEX for a character that is not hex (with its line and column), a dump
 *   line whose offset column disagrees with the bytes before it, or a malformed `*` repeat (or one past
 *   {@link MAX_EXPANDED_BYTES}); ODD_HEX for a group of digits that does not make whole bytes.
 */
export function parseHex(text: string): HexBytes {
  const lines = text.split("\n").map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  const form = detectHexForm(lines);
  const out = new HexSink(text.length >>> 1);
  if (form === "xxd") readXxd(lines, out);
  else if (form === "hexdump") readHexdump(lines, out);
  else lines.forEach((line, i) => readTokens(line, i + 1, 1, out));
  return out.finish(form);
}

/** `|ascii|` at the end of a line (trailing space allowed): `hexdump -C`'s last column. Linear. */
function endsWithAsciiColumn(line: string): boolean {
  const trimmed = line.trimEnd();
  return trimmed.endsWith("|") && trimmed.lastIndexOf("|", trimmed.length - 2) >= 0;
}

/** Picks the layout of a whole text. */
function detectHexForm(lines: readonly string[]): HexForm {
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    if (XXD_LINE.test(line)) return "xxd";
    if (trimmed === "*" || (HEXDUMP_OFFSET.test(line) && endsWithAsciiColumn(line))) return "hexdump";
  }
  return "tokens";
}

/**
 * The parsed bytes as they are read: literal bytes in a buffer that doubles as it grows (each byte
 * written once, plus O(log n) regrowth copies), and segments saying which bytes are literal and which
 * rows repeat.
 */
class HexSink {
  #buffer: Uint8Array;
  /** Literal bytes in `#buffer`. */
  #used = 0;
  /** Bytes the text stands for so far: literal plus repeated. */
  length = 0;
  readonly #segments: Segment[] = [];
  /** Start of the literal run not yet closed into a segment. */
  #runStart = 0;

  constructor(initial: number) {
    this.#buffer = new Uint8Array(Math.max(16, initial));
  }

  push(byte: number): void {
    if (this.#used === this.#buffer.length) this.#grow();
    this.#buffer[this.#used++] = byte;
    this.length++;
  }

  /** The literal bytes since `from` (a position in the sink's literal bytes, see {@link mark}). */
  literalSince(from: number): { start: number; end: number } {
    return { start: from, end: this.#used };
  }

  /** The current position among the literal bytes. */
  mark(): number {
    return this.#used;
  }

  /** Says that the row `[start, end)` of literal bytes repeats `count` (≥ 0) more times here. */
  repeat(start: number, end: number, count: number): void {
    if (count === 0) return; // a '*' followed by the next row's offset stands for nothing
    if (this.#used > this.#runStart) this.#segments.push({ start: this.#runStart, end: this.#used, count: 0 });
    this.#segments.push({ start, end, count });
    this.#runStart = this.#used;
    this.length += (end - start) * count;
  }

  #grow(): void {
    const next = new Uint8Array(this.#buffer.length * 2);
    next.set(this.#buffer);
    this.#buffer = next;
  }

  finish(form: HexForm): HexBytes {
    if (this.#used > this.#runStart) this.#segments.push({ start: this.#runStart, end: this.#used, count: 0 });
    const literal = this.#buffer.subarray(0, this.#used);
    const segments = this.#segments;
    return {
      form,
      length: this.length,
      *chunks(size = CHUNK_BYTES) {
        if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
        for (const segment of segments) {
          if (segment.count === 0) {
            for (let at = segment.start; at < segment.end; at += size) yield literal.subarray(at, Math.min(at + size, segment.end));
            continue;
          }
          // A repeat: one slice of whole rows (doubled into place), handed out as often as needed.
          const row = segment.end - segment.start;
          const rowsPerSlice = Math.max(1, Math.min(segment.count, Math.floor(size / row)));
          const slice = new Uint8Array(rowsPerSlice * row);
          slice.set(literal.subarray(segment.start, segment.end));
          for (let filled = row; filled < slice.length; filled *= 2) slice.copyWithin(filled, 0, Math.min(filled, slice.length - filled));
          for (let left = segment.count; left > 0; left -= rowsPerSlice) yield left >= rowsPerSlice ? slice : slice.subarray(0, left * row);
        }
      },
    };
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
function readTokens(segment: string, line: number, column: number, out: HexSink): void {
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
function readXxd(lines: readonly string[], out: HexSink): void {
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
function readHexdump(lines: readonly string[], out: HexSink): void {
  let firstOffset: number | undefined;
  let previous: { start: number; end: number } | undefined;
  let pendingRepeat: number | undefined; // line number of a `*` not yet resolved
  lines.forEach((text, index) => {
    const line = index + 1;
    const trimmed = text.trim();
    if (trimmed === "") return;
    if (trimmed === "*") {
      if (previous === undefined || previous.end === previous.start) {
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
      const row = previous.end - previous.start;
      const missing = relative - out.length;
      if (missing < 0 || missing % row !== 0) {
        throw new CliInputError("BAD_HEX", `offset 0x${offsetText} after '*' is not a whole number of repeated ${row}-byte lines`, {
          line,
          column: offsetColumn,
        });
      }
      // Three lines of text can claim gigabytes: a repeat past the cap is refused outright.
      if (relative > MAX_EXPANDED_BYTES) {
        throw new CliInputError("BAD_HEX", `'*' repeat expands to ${relative} bytes, more than the ${MAX_EXPANDED_BYTES} a hex dump may describe`, {
          line,
          column: offsetColumn,
        });
      }
      out.repeat(previous.start, previous.end, missing / row);
      pendingRepeat = undefined;
    }
    checkOffset(relative, out.length, line, offsetColumn);
    const afterOffset = match[0].length;
    const bar = text.indexOf("|", afterOffset);
    const hexArea = bar < 0 ? text.slice(afterOffset) : text.slice(afterOffset, bar);
    const start = out.mark();
    readTokens(hexArea, line, afterOffset + 1, out);
    if (out.mark() > start) previous = out.literalSince(start);
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
