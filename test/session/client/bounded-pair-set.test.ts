// BoundedPairSet: remembers at most `capacity` (group, value) pairs and forgets the oldest first, exactly
// as a BoundedSet of the joined pairs would, whatever the sequence.
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { BoundedPairSet } from "../../../src/session/client/bounded-pair-set.js";
import { thrownBy } from "../../support/thrown.js";

const GROUPS = ["a", "b", "c"];

describe("BoundedPairSet", () => {
  test.prop([
    fc.integer({ min: 1, max: 8 }),
    fc.array(fc.tuple(fc.constantFrom(...GROUPS), fc.bigInt({ min: 0n, max: 6n })), { maxLength: 200 }),
  ])("behaves as a FIFO window of distinct pairs", (capacity, pairs) => {
    const set = new BoundedPairSet<bigint>(capacity);
    const model: string[] = [];
    for (const [group, value] of pairs) {
      const key = `${group}/${value}`;
      const fresh = !model.includes(key);
      expect(set.add(group, value)).toBe(fresh);
      if (fresh) {
        model.push(key);
        if (model.length > capacity) model.shift();
      }
      expect(set.size).toBe(model.length);
      for (const g of GROUPS) for (let v = 0n; v <= 6n; v++) expect(set.has(g, v)).toBe(model.includes(`${g}/${v}`));
    }
  });

  test("a group and a value of another group are different pairs", () => {
    const set = new BoundedPairSet<bigint>(4);
    expect(set.add("a", 1n)).toBe(true);
    expect(set.add("b", 1n)).toBe(true);
    expect(set.has("a", 1n) && set.has("b", 1n) && !set.has("c", 1n)).toBe(true);
  });

  test("a capacity below 1 is a RangeError", () => {
    thrownBy(RangeError, () => new BoundedPairSet(0));
  });
});
