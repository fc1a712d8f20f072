/**
 * Bytes written out the way the real tools print them, for the hex-parser tests: `xxd` (16 bytes a line
 * in 2-byte groups, hex area padded to 39 columns, ascii) and `hexdump -C` (two groups of eight, `|ascii|`,
 * identical full lines collapsed into `*`, the length last). hex.test.ts checks both against the tools'
 * real output.
 */
import { chunksOf } from "./chunks.js";
import { toHex } from "./hex.js";

const offset8 = (n: number): string => n.toString(16).padStart(8, "0");

/** The ascii column: printable ASCII as is, everything else ".". */
export function asciiColumn(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => (b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : ".")).join("");
}

/** `xxd`'s default layout. */
export function xxdForm(bytes: Uint8Array): string {
  return chunksOf(bytes, 16)
    .map((row, i) => `${offset8(i * 16)}: ${chunksOf(row, 2).map(toHex).join(" ").padEnd(39)}  ${asciiColumn(row)}\n`)
    .join("");
}

/** `hexdump -C`'s layout, with `*` for repeated full lines and the final offset line. */
export function hexdumpForm(bytes: Uint8Array): string {
  let out = "";
  let previous: string | undefined;
  let starred = false;
  chunksOf(bytes, 16).forEach((row, i) => {
    const hex = toHex(row);
    if (row.length === 16 && hex === previous) {
      if (!starred) out += "*\n";
      starred = true;
      return;
    }
    starred = false;
    previous = hex;
    const cells = Array.from(row, (b) => b.toString(16).padStart(2, "0"));
    const area = `${cells.slice(0, 8).join(" ")}  ${cells.slice(8).join(" ")}`;
    out += `${offset8(i * 16)}  ${area.padEnd(48)}  |${asciiColumn(row)}|\n`;
  });
  if (bytes.length > 0) out += `${offset8(bytes.length)}\n`;
  return out;
}
