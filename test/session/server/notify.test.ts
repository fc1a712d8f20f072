import { create } from "@bufbuild/protobuf";
import { test } from "@fast-check/vitest";
import fc from "fast-check";
import { describe, expect } from "vitest";
import { createSyncKey, encodeBodyFrame, NotifySchema, Op } from "../../../src/index.js";
import { notifyFrame } from "../../../src/session/server/notify.js";

describe("notifyFrame", () => {
  const pairs = fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffff_ffff }), fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn })), { maxLength: 40 });

  test.prop([pairs, fc.constantFrom(1, 2, 0xffff)])("equals protobuf-es's NOTIFY frame byte for byte (long keys included)", (entries, version) => {
    const expected = encodeBodyFrame(Op.NOTIFY, create(NotifySchema, { syncKey: createSyncKey(entries) }), { version });
    expect(notifyFrame(entries, version)).toEqual(expected);
  });

  test("an empty key still carries the (empty) sync_key field", () => {
    expect([...notifyFrame([], 1).subarray(16)]).toEqual([0x0a, 0x00]);
  });
});
