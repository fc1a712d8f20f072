// The fast path against its reference: protobuf-es's toBinary/fromBinary for valid messages (unknown
// fields included), and the validator + fromBinary path for arbitrary, mangled bytes (same result or
// the same error at the same offset). The validator shares the fast path's reader, so a reader bug
// would cancel out here: test/bodies/model.test.ts checks both against an independent model of the
// rules and protobuf-es's fromBinary alone.
import { create, fromBinary, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { AckSchema, MediaRefSchema, MessagePacketSchema, SyncKeySchema, BodyError, decodeProto, encodeProto, hasFastPath } from "../../src/bodies/index.js";
import { scratchWriter } from "../../src/bodies/proto.js";
import { BodyReader } from "../../src/bodies/reader.js";
import { checkMessage } from "../../src/bodies/validate.js";
import { atOffset } from "../support/hex.js";
import { mangledArb, messageArb, varint } from "./arbitraries.js";
import { runs } from "../support/runs.js";

const HOT: [string, DescMessage][] = [
  ["MessagePacket", MessagePacketSchema],
  ["Ack", AckSchema],
  ["SyncKey", SyncKeySchema],
];

/** The reference decoder: validator, then protobuf-es. */
function referenceDecode(schema: DescMessage, bytes: Uint8Array): Message {
  const reader = new BodyReader(bytes, 0, 0);
  checkMessage(reader, schema, bytes.byteLength);
  return fromBinary(schema, bytes);
}

function outcome(f: () => Message): { ok: Message } | { code: string; offset: number } {
  try {
    return { ok: f() };
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    return { code: error.code, offset: error.offset };
  }
}

test("the hot messages take the fast path", () => {
  for (const [, schema] of HOT) expect(hasFastPath(schema)).toBe(true);
  expect(hasFastPath(MediaRefSchema)).toBe(false);
});

describe.each(HOT)("%s", (_name, schema) => {
  test.prop([messageArb(schema, { roundTrippable: false })], { numRuns: runs(400) })("encodes byte-for-byte like toBinary", (message) => {
    expect(encodeProto(schema, message)).toStrictEqual(toBinary(schema, message));
  });

  test.prop([messageArb(schema, { roundTrippable: false })], { numRuns: runs(400) })("decodes like fromBinary, at any byteOffset", (message) => {
    const bytes = atOffset(toBinary(schema, message));
    expect(decodeProto(schema, bytes)).toStrictEqual(fromBinary(schema, bytes));
  });

  test.prop([messageArb(schema)], { numRuns: runs(200) })("round-trips (unknown fields kept)", (message) => {
    expect(decodeProto(schema, encodeProto(schema, message))).toStrictEqual(message);
  });

  test.prop([mangledArb(messageArb(schema, { roundTrippable: false }).map((m) => toBinary(schema, m)))], { numRuns: runs(1500) })(
    "agrees with validator + fromBinary on mangled bytes",
    (bytes) => {
      expect(outcome(() => decodeProto(schema, bytes))).toStrictEqual(outcome(() => referenceDecode(schema, bytes)));
    },
  );
});

test.prop([messageArb(MessagePacketSchema, { roundTrippable: false }), messageArb(MessagePacketSchema, { roundTrippable: false })])(
  "a repeated singular message field merges, like fromBinary",
  (a, b) => {
    // Concatenating two encodings is protobuf's merge; MediaRef appearing twice is merged field by field.
    const ea = toBinary(MessagePacketSchema, a);
    const eb = toBinary(MessagePacketSchema, b);
    const bytes = new Uint8Array([...ea, ...eb]);
    expect(decodeProto(MessagePacketSchema, bytes)).toStrictEqual(fromBinary(MessagePacketSchema, bytes));
  },
);

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

describe.each(HOT)("%s near the end of a slab", (_name, schema) => {
  test.prop([messageArb(schema, { roundTrippable: false }), fc.integer({ min: 0, max: 400 })], { numRuns: runs(300) })(
    "encodes correctly wherever the slab runs out (the message moves to a new slab mid-write)",
    (message, room) => {
      const w = scratchWriter();
      w.pos = Math.max(0, w.buf.length - room);
      w.begin();
      expect(encodeProto(schema, message)).toStrictEqual(toBinary(schema, message));
    },
  );
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
