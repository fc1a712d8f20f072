// Every pasted hex form of the same bytes parses to those bytes: golden outputs of the real tools
// (xxd 2023 and util-linux hexdump -C, captured once and pasted here) and a property test over
// formatters that follow those tools' layouts.
import { describe, expect } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { parseHex, parseHexDetailed } from "../../src/cli/input/hex.js";
import { CliInputError } from "../../src/cli/input/errors.js";
import { fromHex, toHex } from "../support/hex.js";
import { thrownBy } from "../support/thrown.js";

// goim vector G5, 64 zero bytes (so hexdump collapses lines into '*'), then "|tail|" (a '|' in the
// ascii column).
const SAMPLE_HEX =
  "0000003f0010000100000009000000000000001700100001000003e8000000007b2261223a317d0000001800100001000003e8000000007b2262223a32327d" +
  "00".repeat(64) +
  "7c7461696c7c";

const REAL_XXD = `00000000: 0000 003f 0010 0001 0000 0009 0000 0000  ...?............
00000010: 0000 0017 0010 0001 0000 03e8 0000 0000  ................
00000020: 7b22 6122 3a31 7d00 0000 1800 1000 0100  {"a":1}.........
00000030: 0003 e800 0000 007b 2262 223a 3232 7d00  .......{"b":22}.
00000040: 0000 0000 0000 0000 0000 0000 0000 0000  ................
00000050: 0000 0000 0000 0000 0000 0000 0000 0000  ................
00000060: 0000 0000 0000 0000 0000 0000 0000 0000  ................
00000070: 0000 0000 0000 0000 0000 0000 0000 007c  ...............|
00000080: 7461 696c 7c                             tail|
`;

const REAL_HEXDUMP = `00000000  00 00 00 3f 00 10 00 01  00 00 00 09 00 00 00 00  |...?............|
00000010  00 00 00 17 00 10 00 01  00 00 03 e8 00 00 00 00  |................|
00000020  7b 22 61 22 3a 31 7d 00  00 00 18 00 10 00 01 00  |{"a":1}.........|
00000030  00 03 e8 00 00 00 00 7b  22 62 22 3a 32 32 7d 00  |.......{"b":22}.|
00000040  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
*
00000070  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 7c  |...............||
00000080  74 61 69 6c 7c                                    |tail||
00000085
`;

const REAL_XXD_I = `unsigned char x[] = {`; // the C-array header of xxd -i is not hex: only its body is pasted

function ascii(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => (b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : ".")).join("");
}

/** xxd's default layout: 16 bytes a line in 2-byte groups, hex area padded to 39 columns. */
function xxd(bytes: Uint8Array): string {
  let out = "";
  for (let at = 0; at < bytes.length; at += 16) {
    const line = bytes.subarray(at, at + 16);
    const groups: string[] = [];
    for (let g = 0; g < line.length; g += 2) groups.push(toHex(line.subarray(g, g + 2)));
    out += `${at.toString(16).padStart(8, "0")}: ${groups.join(" ").padEnd(39)}  ${ascii(line)}\n`;
  }
  return out;
}

/** hexdump -C's layout, with '*' for repeated full lines and the final offset line. */
function hexdumpC(bytes: Uint8Array): string {
  let out = "";
  let previous: string | undefined;
  let starred = false;
  for (let at = 0; at < bytes.length; at += 16) {
    const line = bytes.subarray(at, at + 16);
    const hex = toHex(line);
    if (line.length === 16 && hex === previous) {
      if (!starred) out += "*\n";
      starred = true;
      continue;
    }
    starred = false;
    previous = hex;
    const cells = Array.from(line, (b) => b.toString(16).padStart(2, "0"));
    const area = `${cells.slice(0, 8).join(" ")}  ${cells.slice(8).join(" ")}`;
    out += `${at.toString(16).padStart(8, "0")}  ${area.padEnd(48)}  |${ascii(line)}|\n`;
  }
  if (bytes.length > 0) out += `${bytes.length.toString(16).padStart(8, "0")}\n`;
  return out;
}

const cells = (bytes: Uint8Array): string[] => Array.from(bytes, (b) => b.toString(16).padStart(2, "0"));
const wrap = (items: string[], perLine: number, sep: string): string => {
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(sep));
  return lines.join("\n");
};

const FORMS: Record<string, (bytes: Uint8Array) => string> = {
  plain: (b) => toHex(b),
  "wireshark hex stream (upper case, CRLF)": (b) => `${toHex(b).toUpperCase()}\r\n`,
  spaced: (b) => cells(b).join(" "),
  "grouped by 4, wrapped": (b) => wrap(cells(b), 4, "").split("\n").join(" ").replace(/((?:\S+ ){7}\S+) /g, "$1\n"),
  "0x spaced": (b) => cells(b).map((c) => `0x${c}`).join(" "),
  "0x comma-separated (xxd -i body)": (b) => `  ${wrap(cells(b).map((c) => `0x${c}`), 12, ", ").replace(/\n/g, ",\n  ")}\n`,
  "bare comma-separated": (b) => cells(b).join(","),
  "\\x escapes": (b) => cells(b).map((c) => `\\x${c}`).join(""),
  "colon-separated": (b) => cells(b).join(":"),
  xxd,
  "hexdump -C": hexdumpC,
};

describe("real tool output", () => {
  test("xxd", () => {
    const parsed = parseHexDetailed(REAL_XXD);
    expect(parsed.form).toBe("xxd");
    expect(toHex(parsed.bytes)).toBe(SAMPLE_HEX);
  });
  test("hexdump -C with a '*' line and '|' in the ascii column", () => {
    const parsed = parseHexDetailed(REAL_HEXDUMP);
    expect(parsed.form).toBe("hexdump");
    expect(parsed.bytes.length).toBe(0x85);
    expect(toHex(parsed.bytes)).toBe(SAMPLE_HEX);
  });
  test("our formatters reproduce the real tools' output exactly", () => {
    expect(xxd(fromHex(SAMPLE_HEX))).toBe(REAL_XXD);
    expect(hexdumpC(fromHex(SAMPLE_HEX))).toBe(REAL_HEXDUMP);
  });
  test.each(Object.entries(FORMS))("%s of the sample", (_name, format) => {
    expect(toHex(parseHex(format(fromHex(SAMPLE_HEX))))).toBe(SAMPLE_HEX);
  });
  test("C single-digit bytes (0x0) and empty input", () => {
    expect(toHex(parseHex("{ 0x0, 0xa, 0x10 }".replace(/[{}]/g, "")))).toBe("000a10");
    expect(parseHex("").length).toBe(0);
    expect(parseHex(" \n\t").length).toBe(0);
  });
});

describe("every form of the same bytes", () => {
  test.prop([fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...Object.keys(FORMS))])("parses to those bytes", (bytes, form) => {
    const text = FORMS[form]!(bytes);
    expect(toHex(parseHex(text))).toBe(toHex(bytes));
  });
  test.prop([fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => b.fill(b[0]!))])("runs of one byte survive '*' compression", (bytes) => {
    const big = new Uint8Array(bytes.length * 8).fill(bytes[0]!);
    expect(toHex(parseHex(hexdumpC(big)))).toBe(toHex(big));
  });
});

const errorOf = (text: string): CliInputError => thrownBy(CliInputError, () => parseHex(text));

describe("invalid text", () => {
  test("a non-hex character: BAD_HEX with its line and column", () => {
    const error = errorOf("00 11 22\n33 4g 55");
    expect(error.code).toBe("BAD_HEX");
    expect([error.line, error.column]).toEqual([2, 5]);
    expect(error.message).toContain("line 2, column 5");
  });
  test("an odd group: ODD_HEX at the group's start", () => {
    const error = errorOf("0011 223 44");
    expect(error.code).toBe("ODD_HEX");
    expect([error.line, error.column]).toEqual([1, 6]);
  });
  test("a lone 0x prefix", () => {
    expect(errorOf("0x00, 0x").code).toBe("BAD_HEX");
  });
  test("the C array header of xxd -i is refused, not half-read", () => {
    expect(errorOf(REAL_XXD_I).code).toBe("BAD_HEX");
  });
  test("an xxd line with a dropped group: the offset column catches it", () => {
    const broken = REAL_XXD.replace("0000 0017 0010", "0000 0017");
    const error = errorOf(broken);
    expect(error.code).toBe("BAD_HEX");
    expect(error.line).toBe(3);
  });
  test("hexdump -C with '*' but no offset after it", () => {
    const cut = REAL_HEXDUMP.split("\n").slice(0, 6).join("\n");
    const error = errorOf(cut);
    expect(error.code).toBe("BAD_HEX");
    expect(error.line).toBe(6);
  });
  test.prop([fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(), fc.constantFrom("g", "z", "#", "é", "!")])(
    "one bad character anywhere in spaced hex is reported at its own position",
    (bytes, where, bad) => {
      const text = cells(bytes).join(" ");
      const at = where % (text.length + 1);
      const error = errorOf(text.slice(0, at) + bad + text.slice(at));
      expect(error.code).toBe("BAD_HEX");
      expect([error.line, error.column]).toEqual([1, at + 1]);
    },
  );
});
