// The fast path against its reference: protobuf-es's toBinary/fromBinary for valid messages (unknown
// fields included), and the validator + fromBinary path for arbitrary, mangled bytes (same result or
// the same error at the same offset). The validator shares the fast path's reader, so a reader bug
// would cancel out here: test/bodies/model.test.ts checks both against an independent model of the
// rules and protobuf-es's fromBinary alone.
import { fromBinary, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { AckSchema, MediaRefSchema, MessagePacketSchema, SyncKeySchema, BodyError, decodeProto, encodeProto, hasFastPath } from "../../src/bodies/index.js";
import { scratchWriter } from "../../src/bodies/proto.js";
import { BodyReader } from "../../src/bodies/reader.js";
import { checkMessage } from "../../src/bodies/validate.js";
import { atOffset } from "../support/hex.js";
import { mangledArb, messageArb } from "./arbitraries.js";
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
