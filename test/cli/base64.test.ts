import { describe, expect } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { Buffer } from "node:buffer";
import { parseBase64 } from "../../src/cli/input/base64.js";
import { CliInputError } from "../../src/cli/input/errors.js";
import { toHex } from "../support/hex.js";

const wrap76 = (s: string): string => s.replace(/(.{76})/g, "$1\n");

describe("base64", () => {
  test("a known vector (goim heartbeat G1)", () => {
    expect(toHex(parseBase64("AAAAEAAQAAEAAAACAAAAAQ=="))).toBe("00000010001000010000000200000001");
    expect(toHex(parseBase64("AAAAEAAQAAEAAAACAAAAAQ"))).toBe("00000010001000010000000200000001");
  });
  test("url-safe alphabet", () => {
    expect(toHex(parseBase64("-_-_"))).toBe("fbffbf");
    expect(Array.from(parseBase64("__8"))).toEqual([0xff, 0xff]);
  });
  test.prop([fc.uint8Array({ maxLength: 400 }), fc.constantFrom("base64", "base64url", "wrapped", "no-padding", "crlf")])(
    "round trip in every alphabet and layout",
    (bytes, style) => {
      const std = Buffer.from(bytes).toString("base64");
      const text =
        style === "base64" ? std
        : style === "base64url" ? Buffer.from(bytes).toString("base64url")
        : style === "wrapped" ? wrap76(std)
        : style === "no-padding" ? std.replace(/=+$/, "")
        : `  ${wrap76(std).replace(/\n/g, "\r\n")}\r\n`;
      expect(toHex(parseBase64(text))).toBe(toHex(bytes));
    },
  );
  test.each([
    ["AAAA*AAA", "BAD_BASE64", 1, 5],
    ["AAAA\nAA=A", "BAD_BASE64", 2, 4],
    ["AAA===", "BAD_BASE64", 1, 4],
    ["AAAAA", "BAD_BASE64_LENGTH", undefined, undefined],
  ])("%j → %s", (text, code, line, column) => {
    let error: unknown;
    try {
      parseBase64(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliInputError);
    expect((error as CliInputError).code).toBe(code);
    expect((error as CliInputError).line).toBe(line);
    expect((error as CliInputError).column).toBe(column);
  });
});
