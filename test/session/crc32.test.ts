import { crc32 as zlibCrc32 } from "node:zlib";
import { test } from "@fast-check/vitest";
import fc from "fast-check";
import { describe, expect } from "vitest";
import { crc32 } from "../../src/session/crc32.js";

describe("crc32", () => {
  test("check value of CRC-32/IEEE: \"123456789\" → 0xCBF43926; empty → 0", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  test.prop([fc.uint8Array({ maxLength: 2000 })])("equals zlib's crc32 on any bytes (unsigned)", (bytes) => {
    const value = crc32(bytes);
    expect(value).toBe(zlibCrc32(bytes));
    expect(value).toBeGreaterThanOrEqual(0);
  });

  test("a view reads only its own bytes", () => {
    const whole = new TextEncoder().encode("xx123456789yy");
    expect(crc32(whole.subarray(2, 11))).toBe(0xcbf43926);
  });

  test("misuse is a TypeError", () => {
    expect(() => crc32("abc" as unknown as Uint8Array)).toThrow(TypeError);
  });
});
