// SYNC_RESULT frames composed from the fast MessagePacket and SyncKey encoders equal protobuf-es's bytes
// (src/session/server/sync-result.ts), for any messages (unknown fields included), key and flag.
import { create } from "@bufbuild/protobuf";
import { test } from "@fast-check/vitest";
import fc from "fast-check";
import { describe, expect } from "vitest";
import { createSyncKey, encodeBodyFrame, MessagePacketSchema, Op, SyncResultSchema } from "../../../src/index.js";
import { encodeResultKey, encodeSyncMessage, syncResultFrame } from "../../../src/session/server/sync-result.js";
import { messageArb } from "../../bodies/arbitraries.js";

const keyArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffff_ffff }), fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn })), { maxLength: 6 }).map((entries) => createSyncKey(entries));

describe("syncResultFrame", () => {
  test.prop([fc.array(messageArb(MessagePacketSchema, { roundTrippable: false }), { maxLength: 8 }), keyArb, fc.boolean(), fc.integer({ min: 0, max: 0xffff_ffff }), fc.constantFrom(1, 2, 0xffff)])(
    "equals protobuf-es's SYNC_RESULT frame byte for byte",
    (messages, syncKey, hasMore, seq, version) => {
      const expected = encodeBodyFrame(Op.SYNC_RESULT, create(SyncResultSchema, { messages, syncKey, hasMore }), { seq, version });
      expect(syncResultFrame(messages.map(encodeSyncMessage), encodeResultKey(syncKey), hasMore, seq, version)).toEqual(expected);
    },
  );

  test("a long message (a length prefix of several bytes) and an empty key", () => {
    const big = create(MessagePacketSchema, { clientMsgId: 1n, conversationId: "c", content: new Uint8Array(70_000).fill(3) });
    const empty = createSyncKey([]);
    const expected = encodeBodyFrame(Op.SYNC_RESULT, create(SyncResultSchema, { messages: [big], syncKey: empty }), { seq: 9 });
    expect(syncResultFrame([encodeSyncMessage(big)], encodeResultKey(empty), false, 9, 1)).toEqual(expected);
  });
});
