// backoffDelay: exact nominal waits with random() = 0.5, jitter bounds with any random(), caps, and
// caller errors as RangeError/TypeError.
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { backoffDelay, checkBackoffPolicy } from "../../../src/session/backoff.js";
import { thrownBy } from "../../support/thrown.js";

const half = () => 0.5;

describe("backoffDelay", () => {
  test("nominal waits double from initialMs (the reference client's 3 s, 6 s, 12 s, 24 s)", () => {
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, { initialMs: 3000 }, half))).toEqual([3000, 6000, 12000, 24000]);
  });

  test("random() spreads the wait over ±jitter: 0 gives the low end, just under 1 the high end", () => {
    expect(backoffDelay(0, { initialMs: 3000 }, () => 0)).toBe(2400);
    expect(backoffDelay(0, { initialMs: 3000 }, () => 0.999999)).toBe(3600);
    expect(backoffDelay(1, { initialMs: 1000, factor: 3, jitter: 0.5 }, () => 0)).toBe(1500);
    expect(backoffDelay(4, { initialMs: 1000, jitter: 0 }, () => 0.123)).toBe(16000);
  });

  test("maxMs caps the nominal wait, jitter still applies at the cap", () => {
    expect(backoffDelay(10, { initialMs: 1000, maxMs: 60_000 }, half)).toBe(60_000);
    expect(backoffDelay(5000, { initialMs: 1000, maxMs: 60_000 }, () => 0)).toBe(48_000);
  });

  test.prop([fc.nat({ max: 40 }), fc.integer({ min: 0, max: 100_000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.999999, noNaN: true })])(
    "every wait lies within ±jitter of the capped nominal",
    (attempt, initialMs, jitter, r) => {
      const maxMs = initialMs * 1000;
      const nominal = Math.min(initialMs * 2 ** attempt, maxMs);
      const wait = backoffDelay(attempt, { initialMs, jitter, maxMs }, () => r);
      expect(Number.isInteger(wait)).toBe(true);
      expect(wait).toBeGreaterThanOrEqual(Math.floor(nominal * (1 - jitter)));
      expect(wait).toBeLessThanOrEqual(Math.ceil(nominal * (1 + jitter)));
    },
  );

  test("caller errors are RangeError or TypeError", () => {
    expect(thrownBy(RangeError, () => backoffDelay(-1, { initialMs: 1 }, half)).message).toMatch(/attempt/);
    expect(thrownBy(RangeError, () => backoffDelay(0.5, { initialMs: 1 }, half)).message).toMatch(/attempt/);
    expect(thrownBy(RangeError, () => backoffDelay(0, { initialMs: -1 }, half)).message).toMatch(/initialMs/);
    expect(thrownBy(RangeError, () => backoffDelay(0, { initialMs: 1, factor: 0.5 }, half)).message).toMatch(/factor/);
    expect(thrownBy(RangeError, () => backoffDelay(0, { initialMs: 1, jitter: 2 }, half)).message).toMatch(/jitter/);
    expect(thrownBy(RangeError, () => backoffDelay(0, { initialMs: 10, maxMs: 5 }, half)).message).toMatch(/maxMs/);
    expect(thrownBy(RangeError, () => backoffDelay(0, { initialMs: 1 }, () => 1)).message).toMatch(/random/);
    expect(thrownBy(RangeError, () => backoffDelay(0, { initialMs: 1 }, () => Number.NaN)).message).toMatch(/random/);
    expect(thrownBy(RangeError, () => backoffDelay(2000, { initialMs: 1 }, half)).message).toMatch(/maxMs/);
    thrownBy(TypeError, () => backoffDelay(0, { initialMs: 1 }, 0.5 as unknown as () => number));
    thrownBy(TypeError, () => checkBackoffPolicy(null as unknown as { initialMs: number }));
  });
});
