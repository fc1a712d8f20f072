/**
 * An annotated hex dump: 16 bytes a row (offset, hex, ASCII), and under each row a line that marks
 * where each labelled span (header field, extension, body) starts, drawn across the bytes it covers in
 * that row (and a further line for marks that would overlap a long label before them).
 */
import { Buffer } from "node:buffer";
import type { Span } from "./model.js";
import type { Paint } from "./paint.js";

const ROW = 16;

/** Each byte's two hex digits, and its character in the ascii column: looked up, not formatted per byte. */
const HEX_DIGITS: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
const ASCII: readonly string[] = Array.from({ length: 256 }, (_, b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "."));

/** Each byte's two hex digits as character codes, for rows written as bytes. */
const HEX_CODES = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  HEX_CODES[2 * b] = HEX_DIGITS[b]!.charCodeAt(0);
  HEX_CODES[2 * b + 1] = HEX_DIGITS[b]!.charCodeAt(1);
}
const SPACE = 0x20;
const BAR = 0x7c;
const DOT = 0x2e;
/** Where the hex area and the ascii column start in a row. */
const HEX_AT = 10;
const ASCII_AT = HEX_AT + 48 + 2 + 1;
const rowScratch = Buffer.alloc(ASCII_AT + ROW + 1);

/**
 * One uncoloured row (bytes `row` to `end` of `bytes`, whose first is at `address`), written as ASCII
 * bytes and read back as one flat string: building it from some fifty string pieces, then flattening
 * them, was most of a `dump`'s time.
 */
function plainRow(bytes: Uint8Array, row: number, end: number, address: number): string {
  const out = rowScratch;
  out.fill(SPACE);
  const wide = address >= 2 ** 32; // more than 8 digits: the address is written as a string instead
  if (!wide) for (let at = 0, shift = 28; shift >= 0; at++, shift -= 4) out[at] = HEX_CODES[2 * ((address >>> shift) & 0xf) + 1]!;
  for (let i = row; i < end; i++) {
    const b = bytes[i]!;
    const c = HEX_AT + column(i - row);
    out[c] = HEX_CODES[2 * b]!;
    out[c + 1] = HEX_CODES[2 * b + 1]!;
    out[ASCII_AT + i - row] = b >= 0x20 && b < 0x7f ? b : DOT;
  }
  out[ASCII_AT - 1] = BAR;
  out[ASCII_AT + end - row] = BAR;
  const line = out.toString("latin1", wide ? 8 : 0, ASCII_AT + end - row + 1);
  return wide ? address.toString(16) + line : line;
}

/** One row with colours: each byte's digits painted by the role of the span it belongs to. */
function paintedRow(bytes: Uint8Array, row: number, end: number, address: number, roles: readonly (Span["role"] | undefined)[], paint: Paint): string {
  let hex = "";
  let ascii = "";
  for (let i = row; i < row + ROW; i++) {
    if (i > row) hex += i - row === 8 ? "  " : " ";
    if (i < end) {
      const b = bytes[i]!;
      hex += paint.role(roles[i], HEX_DIGITS[b]!);
      ascii += ASCII[b]!;
    } else {
      hex += "  ";
    }
  }
  return `${paint.dim(address.toString(16).padStart(8, "0"))}  ${hex}  |${ascii}|`;
}

/** Column of byte `i` (0–15) within the hex area: two spaces between the two groups of eight. */
function column(i: number): number {
  return i * 3 + (i >= 8 ? 1 : 0);
}

/**
 * Renders `bytes` (a frame) whose first byte sits at `offset` in its space.
 * @param maxBytes the most bytes shown (rounded up to a whole row of 16, never past the end); 0 for all.
 * @returns the lines, without trailing newlines. Linear in the rows shown plus the spans.
 */
export function annotatedHexDump(bytes: Uint8Array, offset: number, spans: readonly Span[], paint: Paint, maxBytes = 0): string[] {
  const lines: string[] = [];
  // Show at most `maxBytes`, rounded up to a whole row but never past the end; 0 shows everything.
  const shown = maxBytes > 0 ? Math.min(bytes.byteLength, Math.ceil(maxBytes / ROW) * ROW) : bytes.byteLength;
  // Role of each byte, for colour: the innermost (last-listed) span wins. Uncoloured rows need none.
  const roles: (Span["role"] | undefined)[] = new Array(paint.enabled ? shown : 0);
  if (paint.enabled) for (const span of spans) for (let i = span.start; i < span.start + span.length && i < shown; i++) roles[i] = span.role;
  // Spans in start order (stable: same-start spans keep their order), walked once: linear in rows + spans.
  const ordered = spans.filter((s) => s.length > 0).sort((x, y) => x.start - y.start);
  let next = 0;

  for (let row = 0; row < shown; row += ROW) {
    const end = Math.min(row + ROW, shown);
    lines.push(paint.enabled ? paintedRow(bytes, row, end, offset + row, roles, paint) : plainRow(bytes, row, end, offset + row));

    // Marks for the spans that start in this row. A label wider than its bytes (a long name on a
    // short field) would run into the next span's mark: that mark goes on a further line instead, so
    // every span keeps its label.
    let pending: Span[] = [];
    while (next < ordered.length && ordered[next]!.start < end) {
      if (ordered[next]!.start >= row) pending.push(ordered[next]!);
      next++;
    }
    while (pending.length > 0) {
      const deferred: Span[] = [];
      let mark = "";
      let width = 0;
      for (const span of pending) {
        const first = column(span.start - row);
        if (first < width) {
          deferred.push(span);
          continue;
        }
        const lastByte = Math.min(span.start + span.length, end) - 1 - row;
        const last = column(lastByte) + 1;
        const room = last - first + 1;
        let text = room >= span.label.length + 2 ? `└${span.label}${"─".repeat(room - span.label.length - 2)}┘` : `└${span.label}`;
        if (room === 2 && span.label.length > 1) text = `└${span.label}`;
        mark += " ".repeat(first - width) + paint.role(span.role, text);
        width = first + text.length;
      }
      lines.push(`${" ".repeat(10)}${mark}`);
      pending = deferred;
    }
  }
  if (shown < bytes.byteLength) lines.push(`${" ".repeat(10)}… ${bytes.byteLength - shown} more bytes (--hex-bytes 0 shows all)`);
  return lines;
}
