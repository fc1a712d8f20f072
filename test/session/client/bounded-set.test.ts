// BoundedSet: remembers at most `capacity` values and forgets the oldest first, whatever the sequence.
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { BoundedSet } from "../../../src/session/client/bounded-set.js";
import { thrownBy } from "../../support/thrown.js";

describe("BoundedSet", () => {
  test.prop([fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 })])("behaves as a FIFO window of distinct values", (capacity, values) => {
    const set = new BoundedSet<number>(capacity);
    const model: number[] = [];
    for (const v of values) {
      const fresh = !model.includes(v);
      expect(set.add(v)).toBe(fresh);
      if (fresh) {
        model.push(v);
        if (model.length > capacity) model.shift();
      }
      expect(set.size).toBe(model.length);
      for (let x = 0; x <= 20; x++) expect(set.has(x)).toBe(model.includes(x));
    }
  });

  test("a capacity below 1 is a RangeError", () => {
    thrownBy(RangeError, () => new BoundedSet(0));
  });
});
