/**
 * An annotated hex dump: 16 bytes a row (offset, hex, ASCII), and under each row a line that marks
 * where each labelled span (header field, extension, body) starts, drawn across the bytes it covers in
 * that row (and a further line for marks that would overlap a long label before them).
 */
import type { Span } from "./model.js";
import type { Paint } from "./paint.js";

const ROW = 16;

function hexByte(b: number): string {
  return b.toString(16).padStart(2, "0");
}

/** Column of byte `i` (0–15) within the hex area: two spaces between the two groups of eight. */
function column(i: number): number {
  return i * 3 + (i >= 8 ? 1 : 0);
}

/**
 * Renders `bytes` (a frame) whose first byte sits at `offset` in its space.
 * @returns the lines, without trailing newlines.
 */
export function annotatedHexDump(bytes: Uint8Array, offset: number, spans: readonly Span[], paint: Paint): string[] {
  const lines: string[] = [];
  // Role of each byte, for colour: the innermost (last-listed) span wins.
  const roles: (Span["role"] | undefined)[] = new Array(bytes.byteLength);
  for (const span of spans) for (let i = span.start; i < span.start + span.length && i < bytes.byteLength; i++) roles[i] = span.role;

  for (let row = 0; row < bytes.byteLength; row += ROW) {
    const end = Math.min(row + ROW, bytes.byteLength);
    let hex = "";
    let ascii = "";
    for (let i = row; i < row + ROW; i++) {
      if (i > row) hex += i - row === 8 ? "  " : " ";
      if (i < end) {
        const b = bytes[i]!;
        hex += paint.role(roles[i], hexByte(b));
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
      } else {
        hex += "  ";
      }
    }
    lines.push(`${paint.dim((offset + row).toString(16).padStart(8, "0"))}  ${hex}  |${ascii}|`);

    // Marks for the spans that start in this row. A label wider than its bytes (a long name on a
    // short field) would run into the next span's mark: that mark goes on a further line instead, so
    // every span keeps its label.
    let pending = spans.filter((s) => s.start >= row && s.start < end && s.length > 0);
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
  return lines;
}
