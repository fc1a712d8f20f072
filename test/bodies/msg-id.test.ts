// Client message ids: layout (time in the top 41 bits), strict increase within a generator whatever the
// clock does, and randomness between generators.
import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import { CLIENT_MSG_ID_EPOCH_MS, createClientMsgIdGenerator, newClientMsgId } from "../../src/bodies/index.js";

const nowArb = fc.integer({ min: CLIENT_MSG_ID_EPOCH_MS, max: CLIENT_MSG_ID_EPOCH_MS + 2 ** 41 - 1 });

test.prop([nowArb, fc.integer({ min: 0, max: 2 ** 23 - 1 })])("the top 41 bits are the ms since the epoch, the low 23 the random start", (now, r) => {
  const id = createClientMsgIdGenerator({ now: () => now, random23: () => r })();
  expect(id >> 23n).toBe(BigInt(now - CLIENT_MSG_ID_EPOCH_MS));
  expect(id & 0x7f_ffffn).toBe(BigInt(r));
  expect(id < 1n << 64n).toBe(true);
});

test.prop([fc.array(fc.integer({ min: -5000, max: 5000 }), { minLength: 1, maxLength: 200 }), fc.infiniteStream(fc.integer({ min: 0, max: 2 ** 23 - 1 }))])(
  "ids strictly increase even when the clock stalls or steps back",
  (steps, randoms) => {
    let clock = CLIENT_MSG_ID_EPOCH_MS + 10 ** 12;
    let i = 0;
    const next = createClientMsgIdGenerator({ now: () => clock, random23: () => randoms.next().value as number });
    let last = -1n;
    for (const step of steps) {
      clock += step;
      const id = next();
      expect(id > last, `id ${i++}`).toBe(true);
      last = id;
    }
  },
);

test("the shared generator gives distinct u64 ids", () => {
  const ids = new Set<bigint>();
  for (let i = 0; i < 10_000; i++) ids.add(newClientMsgId());
  expect(ids.size).toBe(10_000);
  for (const id of ids) expect(id > 0n && id < 1n << 64n).toBe(true);
});

test("a clock outside 2024…2093 or bad randomness is a RangeError", () => {
  expect(() => createClientMsgIdGenerator({ now: () => 0 })()).toThrow(RangeError);
  expect(() => createClientMsgIdGenerator({ now: () => CLIENT_MSG_ID_EPOCH_MS + 2 ** 41 })()).toThrow(RangeError);
  expect(() => createClientMsgIdGenerator({ random23: () => 2 ** 23 })()).toThrow(RangeError);
});
