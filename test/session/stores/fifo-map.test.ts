// FifoMap (the memory stores' O(1) FIFO): the same answers as a plain Map kept in insertion order, over
// random sequences of set/replace, delete and shift long enough to trigger its compaction many times.
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { FifoMap } from "../../../src/session/memory/fifo-map.js";

type Command = { op: "set"; key: number; value: number } | { op: "delete"; key: number } | { op: "shift" };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("set" as const), key: fc.nat(40), value: fc.integer() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), key: fc.nat(40) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("shift" as const) }) },
);

describe("FifoMap", () => {
  test.prop([fc.array(commandArb, { minLength: 3000, maxLength: 6000 })], { numRuns: 30 })("behaves like a Map in insertion order (a replaced key becomes the newest)", (commands) => {
    const fifo = new FifoMap<number>();
    const model = new Map<string, number>();
    for (const c of commands) {
      const key = `k${"key" in c ? c.key : 0}`;
      if (c.op === "set") {
        model.delete(key);
        model.set(key, c.value);
        fifo.set(key, c.value);
      } else if (c.op === "delete") {
        expect(fifo.delete(key)).toBe(model.delete(key));
      } else {
        const oldest = model.entries().next();
        expect(fifo.oldestValue()).toBe(oldest.done ? undefined : oldest.value[1]);
        expect(fifo.shift()).toBe(oldest.done ? undefined : oldest.value[1]);
        if (!oldest.done) model.delete(oldest.value[0]);
      }
      expect(fifo.size).toBe(model.size);
    }
    for (const [key, value] of model) expect(fifo.get(key)).toBe(value);
    // Draining gives the model's order.
    const drained: number[] = [];
    for (let v = fifo.shift(); v !== undefined; v = fifo.shift()) drained.push(v);
    expect(drained).toEqual([...model.values()]);
    expect(fifo.size).toBe(0);
  });
});
