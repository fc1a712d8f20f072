// Every pasted hex form of the same bytes parses to those bytes: golden outputs of the real tools
// (xxd 2023 and util-linux hexdump -C, captured once: fixtures/cli/hex/) and a property test over
// formatters that follow those tools' layouts.
import { describe, expect } from "vitest";
import { readFileSync } from "node:fs";
import { fc, test } from "@fast-check/vitest";
import { MAX_EXPANDED_BYTES, parseHex } from "../../src/cli/input/hex.js";
import { CliInputError } from "../../src/cli/input/errors.js";
import { repoPath } from "../support/cli.js";
import { concat, fromHex, toHex } from "../support/hex.js";
import { hexdumpForm, xxdForm } from "../support/hex-forms.js";
import { thrownBy } from "../support/thrown.js";

/** All the bytes a hex text stands for, taken the way `dump` takes them (slices of `size`). */
const bytesOf = (text: string, size?: number): Uint8Array => concat([...parseHex(text).chunks(size)]);

// goim vector G5, 64 zero bytes (so hexdump collapses lines into '*'), then "|tail|" (a '|' in the
// ascii column).
const SAMPLE_HEX =
  "0000003f0010000100000009000000000000001700100001000003e8000000007b2261223a317d0000001800100001000003e8000000007b2262223a32327d" +
  "00".repeat(64) +
  "7c7461696c7c";

const REAL_XXD = readFileSync(repoPath("fixtures/cli/hex/sample.xxd"), "utf8");

const REAL_HEXDUMP = readFileSync(repoPath("fixtures/cli/hex/sample.hexdump"), "utf8");

const REAL_XXD_I = `unsigned char x[] = {`; // the C-array header of xxd -i is not hex: only its body is pasted

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
  xxd: xxdForm,
  "hexdump -C": hexdumpForm,
};

describe("real tool output", () => {
  test("xxd", () => {
    const parsed = parseHex(REAL_XXD);
    expect(parsed.form).toBe("xxd");
    expect(toHex(bytesOf(REAL_XXD))).toBe(SAMPLE_HEX);
  });
  test("hexdump -C with a '*' line and '|' in the ascii column", () => {
    const parsed = parseHex(REAL_HEXDUMP);
    expect(parsed.form).toBe("hexdump");
    expect(parsed.length).toBe(0x85);
    expect(toHex(bytesOf(REAL_HEXDUMP))).toBe(SAMPLE_HEX);
  });
  test("our formatters reproduce the real tools' output exactly", () => {
    expect(xxdForm(fromHex(SAMPLE_HEX))).toBe(REAL_XXD);
    expect(hexdumpForm(fromHex(SAMPLE_HEX))).toBe(REAL_HEXDUMP);
  });
  test.each(Object.entries(FORMS))("%s of the sample", (_name, format) => {
    expect(toHex(bytesOf(format(fromHex(SAMPLE_HEX))))).toBe(SAMPLE_HEX);
  });
  test("C single-digit bytes (0x0) and empty input", () => {
    expect(toHex(bytesOf("{ 0x0, 0xa, 0x10 }".replace(/[{}]/g, "")))).toBe("000a10");
    expect(bytesOf("").length).toBe(0);
    expect(bytesOf(" \n\t").length).toBe(0);
  });
});

describe("every form of the same bytes", () => {
  test.prop([fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...Object.keys(FORMS))])("parses to those bytes", (bytes, form) => {
    const text = FORMS[form]!(bytes);
    expect(toHex(bytesOf(text))).toBe(toHex(bytes));
  });
  test.prop([fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => b.fill(b[0]!))])("runs of one byte survive '*' compression", (bytes) => {
    const big = new Uint8Array(bytes.length * 8).fill(bytes[0]!);
    expect(toHex(bytesOf(hexdumpForm(big)))).toBe(toHex(big));
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

describe("'*' repeats are expanded lazily, by whole rows", () => {
  test.prop([fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 2, max: 300 }), fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 1, max: 200 })])(
    "any slice size gives the same bytes",
    (row, rows, tail, size) => {
      const bytes = concat([...Array.from({ length: rows }, () => row), tail]);
      const text = hexdumpForm(bytes);
      expect(text).toMatch(/^\*$/m);
      const slices = [...parseHex(text).chunks(size)];
      expect(slices.every((s) => s.length <= Math.max(size, 16))).toBe(true);
      expect(toHex(concat(slices))).toBe(toHex(bytes));
    },
  );
  test("a repeat claiming 256 MiB through 1-byte rows costs one slice buffer, handed out again and again", () => {
    // The reproducer: 75 bytes of text that once became 268 million 1-byte copies.
    const text = "00000000  00                                                |.|\n*\n10000000\n";
    const parsed = parseHex(text);
    expect(parsed.length).toBe(MAX_EXPANDED_BYTES);
    const slices = parsed.chunks(64 * 1024);
    expect(slices.next().value).toEqual(Uint8Array.of(0)); // the row as written
    const first = slices.next().value!;
    const second = slices.next().value!;
    expect([first.length, second.length]).toEqual([64 * 1024, 64 * 1024]);
    expect(second.buffer).toBe(first.buffer); // the same buffer: a repeat's slices are not copies of each other
    expect(first.every((b) => b === 0)).toBe(true);
    let total = 1 + first.length + second.length;
    for (const slice of slices) total += slice.length;
    expect(total).toBe(MAX_EXPANDED_BYTES);
  });
  test("a repeat past 256 MiB is refused where it is claimed", () => {
    const error = errorOf("00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n10000010\n");
    expect([error.code, error.line, error.column]).toEqual(["BAD_HEX", 3, 1]);
    expect(error.reason).toMatch(/expands to 268435472 bytes, more than the 268435456/);
  });
  test.each([
    // Found by `npm run fuzz` (seed 20261130, inputs 415360 and 703830): a '*' that stands for no row at
    // all was taken for a literal copy of the row.
    ["a 16-byte row", "00000000  00 00 00 10 00 10 00 01  00 00 00 02 00 00 00 01  |................|\n*\n10", "00000010001000010000000200000001"],
    ["a 1-byte row, then more offset lines", "00000000  00                                                |.|\n*\n1\n1\n1\n1", "00"],
  ])("a '*' followed by the next row's own offset repeats nothing (%s)", (_name, text, hex) => {
    expect(parseHex(text).length).toBe(hex.length / 2);
    expect(toHex(bytesOf(text))).toBe(hex);
  });
  test("a repeat that is not a whole number of rows is refused", () => {
    const error = errorOf("00000000  00 01 02  |...|\n*\n00000010\n");
    expect([error.code, error.line]).toEqual(["BAD_HEX", 3]);
  });
});

describe("linear detection and parsing", () => {
  // The time bound lives in hostile.test.ts (a child process that a quadratic parser cannot finish in
  // time); here, the outcome of the reproducer and its kin.
  test.each([
    ["120 KB of '|' after a hexdump offset", "00000000  " + "|".repeat(120_000) + "x"],
    ["'|' at both ends of a long line", "00000000  |" + " ".repeat(120_000) + "|x"],
    ["a long run of hex digits with no colon", "0".repeat(120_001)],
  ])("%s: refused with its position", (_name, text) => {
    const error = errorOf(text);
    expect(["BAD_HEX", "ODD_HEX"]).toContain(error.code);
    expect(error.line).toBe(1);
  });
});
