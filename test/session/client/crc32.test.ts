// crc32 equals zlib's on the check value, on edge inputs and on random bytes (any view offset).
import { crc32 as zlibCrc32 } from "node:zlib";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { crc32 } from "../../../src/session/crc32.js";
import { thrownBy } from "../../support/thrown.js";

describe("crc32", () => {
  test("check value and edges", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(new Uint8Array([0]))).toBe(0xd202ef8d);
    expect(crc32(new Uint8Array(4).fill(0xff))).toBe(0xffffffff);
  });

  test.prop([fc.uint8Array({ maxLength: 2000 }), fc.nat({ max: 16 })])("equals zlib.crc32, for views at any offset", (bytes, pad) => {
    const backing = new Uint8Array(pad + bytes.length);
    backing.set(bytes, pad);
    const view = backing.subarray(pad);
    expect(crc32(view)).toBe(zlibCrc32(view));
  });

  test("a non-Uint8Array is a TypeError", () => {
    thrownBy(TypeError, () => crc32([1, 2, 3] as unknown as Uint8Array));
  });
});
