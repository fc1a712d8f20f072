// The fast path's edge cases the generic properties (test/bodies/fast-path-all.test.ts) rarely reach:
// non-canonical varints, and lengths exactly at each varint-size boundary. The validator shares the fast
// path's reader, so a reader bug would cancel out in a comparison with it: test/bodies/model.test.ts
// checks both against an independent model of the rules and protobuf-es's fromBinary alone.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { MessagePacketSchema, SyncKeySchema, decodeProto, encodeProto } from "../../src/bodies/index.js";
import { varint } from "./arbitraries.js";

test.prop([fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { maxLength: 4 })])("non-canonical varints decode like fromBinary", (keys) => {
  // SyncKeyEntry.key written as 10-byte varints (the low 32 bits count), entries padded with overlong zeros.
  const bytes: number[] = [];
  for (const key of keys) {
    const entry = [0x08, (key & 0x7f) | 0x80, ((key >>> 7) & 0x7f) | 0x80, ((key >>> 14) & 0x7f) | 0x80, ((key >>> 21) & 0x7f) | 0x80, (key >>> 28) | 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
    bytes.push(0x0a, entry.length, ...entry);
  }
  const input = new Uint8Array(bytes);
  expect(decodeProto(SyncKeySchema, input)).toStrictEqual(fromBinary(SyncKeySchema, input));
});

// Lengths where a varint prefix grows by a byte (128, 2^14, 2^21), for strings (whose prefix is
// reserved from 3 × their UTF-16 length and then shrunk) and for nested messages (whose prefix is
// reserved as one byte and then widened): the property tests rarely land exactly on them.
describe("lengths at every varint-size boundary encode like toBinary", () => {
  const sizes = [0, 1, 42, 43, 127, 128, 129, 5461, 5462, 16383, 16384, 16385, 699_050, 699_051, 2_097_151, 2_097_152];
  test.each(sizes)("a string of %i bytes, ASCII and two-byte", (n) => {
    // n bytes of ASCII, n bytes of two-byte characters, and (up to 2^14 + 1) n three-byte characters:
    // 43 of those need a two-byte prefix although 43 characters take the one-byte-prefix path first.
    const texts = ["a".repeat(n), "é".repeat(n >> 1) + "a".repeat(n & 1), ...(n <= 16385 ? ["你".repeat(n)] : [])];
    for (const text of texts) {
      const message = create(MessagePacketSchema, { clientMsgId: 1n, conversationId: text });
      expect(Buffer.compare(encodeProto(MessagePacketSchema, message), toBinary(MessagePacketSchema, message))).toBe(0);
    }
  });
  test.each(sizes.filter((n) => n > 4 && n < 100_000))("a nested MediaRef of %i bytes, and one byte either side", (n) => {
    // MediaRef = object_id "o" (3 bytes) + thumbnail tag (1) + its length prefix + the thumbnail.
    const prefix = (t: number): number => varint(BigInt(t)).length;
    const thumbnailLengths = [];
    for (let t = Math.max(0, n - 12); t <= n; t++) if (Math.abs(4 + prefix(t) + t - n) <= 1) thumbnailLengths.push(t);
    expect(thumbnailLengths.some((t) => 4 + prefix(t) + t === n)).toBe(true);
    for (const t of thumbnailLengths) {
      const thumbnail = new Uint8Array(t);
      const message = create(MessagePacketSchema, { clientMsgId: 1n, media: { objectId: "o", thumbnail } });
      expect(Buffer.compare(encodeProto(MessagePacketSchema, message), toBinary(MessagePacketSchema, message))).toBe(0);
      const key = create(SyncKeySchema, { entries: [{ key: 1, version: 2n, $unknown: [{ no: 9, wireType: 2, data: new Uint8Array([...varint(BigInt(thumbnail.length)), ...thumbnail]) }] }] });
      expect(Buffer.compare(encodeProto(SyncKeySchema, key), toBinary(SyncKeySchema, key))).toBe(0);
    }
  });
});
