// Every body message on the fast path, each proven against its reference, generically from the
// protobuf-es descriptors: toBinary's bytes, fromBinary's values (unknown fields kept, repeated singular
// messages merged, packed and unpacked repeated scalars), the validator + fromBinary outcome on mangled
// bytes (same value, or the same error code at the same offset), and toBinary's judgement on values of
// the wrong type (the fast writer leaves those to protobuf-es). Seed: see test/support/fc-setup.ts.
import { fromBinary, ScalarType, toBinary, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import {
  BODY_OPS,
  BodyError,
  bodySchemaOf,
  decodeMessage,
  decodeProto,
  encodeBody,
  encodeBodyFrame,
  encodeProto,
  hasFastPath,
  SyncKeySchema,
  type BodyOp,
} from "../../src/bodies/index.js";
import { scratchWriter } from "../../src/bodies/proto.js";
import { BodyReader } from "../../src/bodies/reader.js";
import { checkMessage } from "../../src/bodies/validate.js";
import { decodeFrame, HEADER_SIZE } from "../../src/index.js";
import { atOffset } from "../support/hex.js";
import { runs } from "../support/runs.js";
import { mangledArb, messageArb, varint } from "./arbitraries.js";

/** Every schema a body can carry, by name, plus SyncKey (encoded on its own by users). */
const ALL: [string, DescMessage][] = [
  ...BODY_OPS.map((op): [string, DescMessage] => [bodySchemaOf(op)!.name, bodySchemaOf(op)!]),
  ["SyncKey", SyncKeySchema],
];

/** The reference decoder: validator, then protobuf-es. */
function referenceDecode(schema: DescMessage, bytes: Uint8Array): Message {
  checkMessage(new BodyReader(bytes, 0, 0), schema, bytes.byteLength);
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

test("every body message takes the fast path", () => {
  expect(ALL).toHaveLength(14);
  for (const [name, schema] of ALL) expect([name, hasFastPath(schema)]).toStrictEqual([name, true]);
});

/** The messages a link carries most (every SEND, every ACK, every sync): more runs for them. */
const HOT = new Set(["MessagePacket", "Ack", "SyncKey"]);

describe.each(ALL)("%s", (name, schema) => {
  const valid = messageArb(schema, { roundTrippable: false });
  /** `n` runs, more for the hot messages, capped by FC_MAX_RUNS (test/support/runs.ts) under `npm run mutate`. */
  const n = (base: number): number => runs(HOT.has(name) ? base * 2 : base);

  test.prop([valid], { numRuns: n(300) })("encodes byte-for-byte like toBinary", (message) => {
    expect(encodeProto(schema, message)).toStrictEqual(toBinary(schema, message));
  });

  test.prop([valid], { numRuns: n(300) })("decodes like fromBinary, at any byteOffset", (message) => {
    const bytes = atOffset(toBinary(schema, message));
    expect(decodeProto(schema, bytes)).toStrictEqual(fromBinary(schema, bytes));
  });

  test.prop([messageArb(schema)], { numRuns: n(150) })("round-trips (unknown fields kept)", (message) => {
    expect(decodeProto(schema, encodeProto(schema, message))).toStrictEqual(message);
  });

  test.prop([mangledArb(valid.map((m) => toBinary(schema, m)))], { numRuns: n(600) })("agrees with validator + fromBinary on mangled bytes", (bytes) => {
    expect(outcome(() => decodeProto(schema, bytes))).toStrictEqual(outcome(() => referenceDecode(schema, bytes)));
  });

  test.prop([valid, valid], { numRuns: n(100) })("two encodings back to back merge like fromBinary (lists append, messages merge)", (a, b) => {
    const bytes = new Uint8Array([...toBinary(schema, a), ...toBinary(schema, b)]);
    expect(decodeProto(schema, bytes)).toStrictEqual(fromBinary(schema, bytes));
  });

  test.prop([valid, fc.integer({ min: 0, max: 400 })], { numRuns: n(150) })("encodes correctly wherever the slab runs out", (message, room) => {
    const w = scratchWriter();
    w.pos = Math.max(0, w.buf.length - room);
    w.begin();
    expect(encodeProto(schema, message)).toStrictEqual(toBinary(schema, message));
  });

  test.prop([valid, wrongTypeArb(schema)], { numRuns: n(200) })("a value of the wrong type: the same bytes or the same refusal as toBinary", (message, [field, value]) => {
    (message as unknown as Record<string, unknown>)[field] = value;
    let expected: Uint8Array | "throws";
    try {
      expected = toBinary(schema, message);
    } catch {
      expected = "throws";
    }
    if (expected === "throws") expect(() => encodeProto(schema, message)).toThrow(TypeError);
    else expect(encodeProto(schema, message)).toStrictEqual(expected);
  });
});

/** A top-level field of `schema` and a value of some other type for it. */
function wrongTypeArb(schema: DescMessage): fc.Arbitrary<[string, unknown]> {
  const wrong = fc.constantFrom<unknown>(5, -1, 1.5, 2 ** 40, 5n, -1n, 1n << 70n, "5", "", true, null, new Uint8Array([1]), [], [1, -1], [5n], {});
  return fc.tuple(fc.constantFrom(...schema.fields.map((f) => f.localName)), wrong);
}

/** The repeated uint32 fields of the schema: they may arrive packed, unpacked, or both. */
const REPEATED_U32: [string, DescMessage, DescField][] = ALL.flatMap(([name, schema]) =>
  schema.fields.filter((f) => f.fieldKind === "list" && f.listKind === "scalar" && f.scalar === ScalarType.UINT32).map((f): [string, DescMessage, DescField] => [`${name}.${f.name}`, schema, f]),
);

describe.each(REPEATED_U32)("%s", (_name, schema, field) => {
  const u32 = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffff_ffff }));
  // A run is either unpacked (one tag per value) or packed (one tag, a length, the values); values may
  // be written as overlong 10-byte varints whose high bits protobuf-es drops for a uint32.
  const runArb = fc.tuple(fc.boolean(), fc.array(fc.tuple(u32, fc.nat({ max: 3 })), { maxLength: 5 }));

  test.prop([fc.array(runArb, { minLength: 1, maxLength: 4 })])("packed, unpacked and mixed runs decode like fromBinary", (runs) => {
    const bytes: number[] = [];
    for (const [packed, values] of runs) {
      const encoded = values.map(([v, high]) => varint(BigInt(v) + (BigInt(high) << 40n)));
      if (packed) {
        const payload = encoded.flat();
        bytes.push(...varint(BigInt((field.number << 3) | 2)), ...varint(BigInt(payload.length)), ...payload);
      } else {
        for (const e of encoded) bytes.push(...varint(BigInt(field.number << 3)), ...e);
      }
    }
    const input = new Uint8Array(bytes);
    expect(decodeProto(schema, input)).toStrictEqual(fromBinary(schema, input));
  });
});

describe("the op-level API takes the fast path for every op", () => {
  test.prop([fc.constantFrom(...BODY_OPS).chain((op) => fc.tuple(fc.constant(op), messageArb(bodySchemaOf(op)!, { roundTrippable: false })))], {
    numRuns: 300,
  })("encodeBody, encodeBodyFrame and decodeMessage agree with protobuf-es", ([op, message]) => {
    const schema = bodySchemaOf(op)!;
    const reference = toBinary(schema, message);
    let body: Uint8Array;
    try {
      body = encodeBody(op as BodyOp, message as never);
    } catch (error) {
      // Only an op that needs a body refuses an all-default message.
      expect(error).toBeInstanceOf(RangeError);
      expect(reference.byteLength).toBe(0);
      return;
    }
    expect(body).toStrictEqual(reference);
    const frame = encodeBodyFrame(op as BodyOp, message as never, { seq: 3 });
    expect(frame.subarray(HEADER_SIZE)).toStrictEqual(reference);
    expect(decodeMessage(op as BodyOp, decodeFrame(frame).body)).toStrictEqual(fromBinary(schema, reference));
  });
});

// Every field number of every message the fast path reads (nested ones through their parent), under
// every wire type: the hand-written readers must refuse a known field that arrives with the wrong wire
// type where the validator does (same code, same offset), and accept what it accepts (a packed or
// unpacked repeated scalar). The mangled-bytes property rarely hits each (field, wire type) pair, and
// under `npm run mutate` it runs only a few times: this enumerates them all.
describe("a known field under every wire type, at every nesting level", () => {
  const payloads: Record<number, number[]> = { 0: [0x01], 1: [0, 0, 0, 0, 0, 0, 0, 0], 2: [0x01, 0x41], 5: [0, 0, 0, 0] };
  /** Bytes of one field `no` with wire type `wt`, wrapped in the message fields of `path` (outermost first). */
  function fieldBytes(path: readonly number[], no: number, wt: number): Uint8Array {
    let bytes = [...varint(BigInt((no << 3) | wt)), ...payloads[wt]!];
    for (const outer of [...path].reverse()) bytes = [...varint(BigInt((outer << 3) | 2)), ...varint(BigInt(bytes.length)), ...bytes];
    return new Uint8Array(bytes);
  }
  const cases: [string, DescMessage, number[], number, number][] = [];
  function collect(top: string, schema: DescMessage, inner: DescMessage, path: number[], depth: number): void {
    for (const field of inner.fields) {
      for (const wt of [0, 1, 2, 5]) cases.push([`${top} ${[...path, field.number].join(".")} wire type ${wt}`, schema, path, field.number, wt]);
      const nested = field.fieldKind === "message" ? field.message : field.fieldKind === "list" && field.listKind === "message" ? field.message : undefined;
      if (nested !== undefined && depth < 2) collect(top, schema, nested, [...path, field.number], depth + 1);
    }
  }
  for (const [name, schema] of ALL) collect(name, schema, schema, [], 0);

  test.each(cases)("%s", (_label, schema, path, no, wt) => {
    const bytes = fieldBytes(path, no, wt);
    expect(outcome(() => decodeProto(schema, bytes))).toStrictEqual(outcome(() => referenceDecode(schema, bytes)));
  });
});
