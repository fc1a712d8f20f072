// The frame encoders after their speed work: encodeFrame draws small frames from a shared slab (the
// bytes stay the caller's, only `.buffer` is shared), and every encoder's one-shot field check accepts
// and refuses exactly what the field-by-field checks do, with the same error. Seed: test/support/fc-setup.ts.
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { decodeFrame, encodeFrame, encodeFrameInto, encodeHeader, frameSize, type FrameInit } from "../../src/index.js";
import { SLAB_MAX_REGION, SLAB_SIZE } from "../../src/wire/slab.js";
import { frameInitArb } from "../support/arbitraries.js";

describe("encodeFrame draws small frames from a slab", () => {
  test("consecutive small frames share one buffer, each region 8-byte aligned and exactly the frame", () => {
    const a = encodeFrame({ op: 4, seq: 1, body: new Uint8Array(100) });
    const b = encodeFrame({ op: 4, seq: 2, body: new Uint8Array(3) });
    // `b` follows `a` in the same slab unless `a` happened to end one.
    if (b.byteOffset !== 0) {
      expect(b.buffer).toBe(a.buffer);
      expect(b.byteOffset).toBe(a.byteOffset + 120); // 116 bytes, padded to 8
    }
    for (const f of [a, b]) {
      expect(f.byteOffset % 8).toBe(0);
      expect(f.buffer.byteLength).toBe(SLAB_SIZE);
    }
    expect(a.byteLength).toBe(116);
    expect(b.byteLength).toBe(19);
  });

  test("a frame above the region limit gets an ArrayBuffer of exactly its size", () => {
    const big = encodeFrame({ op: 4, body: new Uint8Array(SLAB_MAX_REGION) });
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(SLAB_MAX_REGION + 16);
    const edge = encodeFrame({ op: 4, body: new Uint8Array(SLAB_MAX_REGION - 16) });
    expect(edge.buffer.byteLength).toBe(SLAB_SIZE);
  });

  test.prop([fc.array(fc.tuple(frameInitArb({ maxBody: 0 }), fc.oneof(fc.nat({ max: 300 }), fc.nat({ max: SLAB_MAX_REGION + 100 }))), { minLength: 1, maxLength: 60 })], {
    numRuns: 100,
  })("no later encode ever changes an earlier result, across slab changes", (specs) => {
    const inits: FrameInit[] = specs.map(([f, n], i) => ({ ...f, body: new Uint8Array(n).fill(i & 0xff) }));
    const results = inits.map((f) => encodeFrame(f));
    const copies = results.map((r) => r.slice());
    // More encodes, enough to roll over several slabs.
    for (let i = 0; i < 40; i++) encodeFrame({ op: 4, body: new Uint8Array(SLAB_MAX_REGION - 16).fill(0xaa) });
    results.forEach((r, i) => {
      expect(Buffer.compare(r, copies[i]!)).toBe(0);
      expect(r.byteLength).toBe(frameSize(inits[i]!));
      const frame = decodeFrame(r, { versions: "any" });
      expect(frame.op).toBe(inits[i]!.op);
      expect(Buffer.compare(frame.body, inits[i]!.body!)).toBe(0);
    });
  });

  test("a result viewed through its byteOffset reads the frame (the documented way to build a DataView)", () => {
    encodeFrame({ op: 4, body: new Uint8Array(40) }); // make sure the next one is not at offset 0
    const f = encodeFrame({ op: 5, seq: 77, body: new Uint8Array(8) });
    const view = new DataView(f.buffer, f.byteOffset, f.byteLength);
    expect(view.getUint32(0)).toBe(24);
    expect(view.getUint32(12)).toBe(77);
  });
});

/** The field-by-field checks as they were before the one-shot check: the reference for errors. */
function referenceCheck(fields: { op: unknown; seq?: unknown; version?: unknown }, extra: [string, unknown, number][] = []): string | null {
  const checks: [string, unknown, number][] = [
    ...extra,
    ["op", fields.op, 0xffff_ffff],
    ["seq", fields.seq ?? 0, 0xffff_ffff],
    ["version", fields.version ?? 1, 0xffff],
  ];
  for (const [name, value, max] of checks) {
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > max) {
      return `${name} must be an integer from 0 to ${max}, got ${String(value)}`;
    }
  }
  return null;
}

function messageOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    // Caller misuse is a RangeError, never the peer's FrameError or a stray TypeError.
    expect(error).toBeInstanceOf(RangeError);
    return (error as Error).message;
  }
}

const hostileNumber = fc.oneof(
  fc.integer({ min: 0, max: 0xffff_ffff }),
  fc.integer({ min: 0, max: 0xffff }),
  fc.constantFrom(-1, -0, 0.5, 2 ** 32, 2 ** 32 - 1, 2 ** 16, 2 ** 16 - 1, 2 ** 53, NaN, Infinity, -Infinity, 1e300),
  fc.double(),
);
const hostileValue = fc.oneof({ weight: 8, arbitrary: hostileNumber }, { weight: 1, arbitrary: fc.constantFrom<unknown>("7", 7n, null, true, {}) });

describe("the one-shot field check refuses exactly what the field-by-field checks refuse", () => {
  test.prop([hostileValue, fc.option(hostileValue, { nil: undefined }), fc.option(hostileValue, { nil: undefined })], { numRuns: 500 })(
    "encodeFrame and encodeFrameInto",
    (op, seq, version) => {
      const init = { op, seq, version, body: new Uint8Array([1, 2, 3]) } as unknown as FrameInit;
      const expected = referenceCheck({ op, seq, version });
      expect(messageOf(() => encodeFrame(init))).toBe(expected);
      const target = new Uint8Array(40).fill(0xee);
      expect(messageOf(() => encodeFrameInto(target, 2, init))).toBe(expected);
      // Nothing is written when it throws.
      if (expected !== null) expect(target.every((b) => b === 0xee)).toBe(true);
    },
  );

  test.prop([hostileValue, fc.option(hostileValue, { nil: undefined }), fc.option(hostileValue, { nil: undefined }), fc.option(hostileValue, { nil: undefined })], {
    numRuns: 500,
  })("encodeHeader", (op, seq, version, bodyLength) => {
    const expected = referenceCheck({ op, seq, version }, [["bodyLength", bodyLength ?? 0, 0xffff_ffff - 16]]);
    expect(messageOf(() => encodeHeader({ op, seq, version, bodyLength } as never))).toBe(expected);
  });

  test.prop([hostileValue, fc.nat({ max: 64 })])("encodeFrameInto's offset", (offset, bodyLength) => {
    const target = new Uint8Array(64);
    const fits = Number.isInteger(offset) && (offset as number) >= 0 && (offset as number) + 16 + bodyLength <= 64;
    const message = messageOf(() => encodeFrameInto(target, offset as number, { op: 4, body: new Uint8Array(bodyLength) }));
    expect(message).toBe(fits ? null : `a ${16 + bodyLength}-byte frame does not fit at offset ${String(offset)} of a 64-byte buffer`);
  });

  test("a null extension or body is none", () => {
    const plain = encodeFrame({ op: 4, seq: 1 });
    expect(encodeFrame({ op: 4, seq: 1, extension: null, body: null } as unknown as FrameInit)).toStrictEqual(plain);
    const target = new Uint8Array(16);
    expect(encodeFrameInto(target, 0, { op: 4, seq: 1, extension: null } as unknown as FrameInit)).toBe(16);
    expect(target).toStrictEqual(plain);
  });
});
