// Every body decoder against an independent model of PROTOCOL.md §10 (scripts/lib/body-model.mjs,
// which shares no code with src/bodies) and protobuf-es's `fromBinary` alone: on any bytes, syncwire
// refuses exactly what the model refuses, at the model's offset, and otherwise returns what
// `fromBinary` returns. Comparing with the validator instead would let a bug in the shared reader
// cancel out (the validator and the fast path read with the same BodyReader).
import { fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { firstBodyError } from "../../scripts/lib/body-model.mjs";
import { AckSchema, BODY_OPS, BodyError, MessagePacketSchema, SyncKeySchema, bodySchemaOf, decodeProto } from "../../src/bodies/index.js";
import { HelloSchema, WelcomeSchema } from "../../src/gen/syncwire/v1/session_pb.js";
import { SyncResultSchema } from "../../src/gen/syncwire/v1/sync_pb.js";
import { mangledArb, messageArb, varint } from "./arbitraries.js";
import { runs } from "../support/runs.js";

type Outcome = { ok: unknown } | { code: string; offset: number };

function decoded(schema: DescMessage, bytes: Uint8Array): Outcome {
  try {
    return { ok: decodeProto(schema, bytes, 0, 0) };
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    return { code: error.code, offset: error.offset };
  }
}

/** What the model and protobuf-es say syncwire must do with `bytes`. */
function expected(schema: DescMessage, bytes: Uint8Array): Outcome {
  const refused = firstBodyError(schema, bytes);
  let reference: unknown;
  let referenceFailed = false;
  try {
    reference = fromBinary(schema, bytes);
  } catch {
    referenceFailed = true;
  }
  // Everything protobuf-es refuses, the model refuses too (the reverse is syncwire being stricter).
  if (referenceFailed) expect(refused, "fromBinary refused bytes the model accepts").toBeDefined();
  return refused === undefined ? { ok: reference } : { code: "BAD_BODY", offset: refused.offset };
}

/** Valid encodings with damage aimed at lengths and varints: a byte nudged by a little, as well as mangledArb's cuts and flips. */
function damagedArb(schema: DescMessage): fc.Arbitrary<Uint8Array> {
  const valid = messageArb(schema, { roundTrippable: false }).map((m) => toBinary(schema, m));
  return fc.oneof(
    mangledArb(valid),
    fc.tuple(valid, fc.nat(), fc.integer({ min: -3, max: 3 })).map(([b, n, d]) => {
      const c = Uint8Array.from(b);
      if (c.length > 0) c[n % c.length] = (c[n % c.length]! + d) & 0xff;
      return c;
    }),
  );
}

// Every op's body, and SyncKey (a fast-path message of its own, decoded directly with decodeProto).
const schemas: [string, DescMessage][] = [...new Map([...BODY_OPS.map((op) => bodySchemaOf(op)!), SyncKeySchema].map((d) => [d.typeName, d] as const)).entries()];

describe.each(schemas)("%s", (_name, schema) => {
  test.prop([damagedArb(schema)], { numRuns: runs(600) })("refuses what the model refuses, at its offset; else equals fromBinary", (bytes) => {
    expect(decoded(schema, bytes)).toStrictEqual(expected(schema, bytes));
  });
});

// A varint cut off by the end of a nested message: the reader must stop at the nested end, not read
// the parent's next byte. Built by hand: [parent field tag, nested length, nested fields …] then the
// parent carries on with more bytes that would complete the varint.
describe("a varint cut off at the end of a nested message", () => {
  const continuation = fc.uint8Array({ minLength: 1, maxLength: 12 });
  const bigVarint = fc.bigInt({ min: 128n, max: (1n << 64n) - 1n }).map((v) => varint(v));

  /** The nested bytes `inner` cut after `keep` bytes of the varint starting at `varintAt`, inside field `tag` of the parent. */
  function cutNested(prefix: number[], tag: number, inner: number[], varintAt: number, keep: number, after: Uint8Array): { bytes: Uint8Array; offset: number } {
    const nested = inner.slice(0, varintAt + keep);
    const bytes = new Uint8Array([...prefix, tag, nested.length, ...nested, ...after]);
    return { bytes, offset: prefix.length + 2 + varintAt };
  }

  test.prop([bigVarint, fc.nat(), continuation])("SyncKeyEntry.key inside SyncKey (fast path)", (key, k, after) => {
    const keep = 1 + (k % (key.length - 1));
    const { bytes, offset } = cutNested([], 0x0a, [0x08, ...key], 1, keep, after);
    expect(decoded(SyncKeySchema, bytes)).toStrictEqual({ code: "BAD_BODY", offset });
    expect(expected(SyncKeySchema, bytes)).toStrictEqual({ code: "BAD_BODY", offset });
  });

  test.prop([bigVarint, bigVarint, fc.nat(), continuation])("SyncKeyEntry.version after its key (fast path)", (key, version, k, after) => {
    const keep = 1 + (k % (version.length - 1));
    const { bytes, offset } = cutNested([], 0x0a, [0x08, ...key, 0x10, ...version], 2 + key.length, keep, after);
    expect(decoded(SyncKeySchema, bytes)).toStrictEqual({ code: "BAD_BODY", offset });
  });

  test.prop([bigVarint, fc.nat(), continuation])("MediaRef.size inside MessagePacket (fast path)", (size, k, after) => {
    const keep = 1 + (k % (size.length - 1));
    // client_msg_id first, so the media does not start the body.
    const prefix = [0x09, 1, 2, 3, 4, 5, 6, 7, 8];
    const { bytes, offset } = cutNested(prefix, 0x42, [0x0a, 0x01, 0x61, 0x18, ...size], 4, keep, after);
    expect(decoded(MessagePacketSchema, bytes)).toStrictEqual({ code: "BAD_BODY", offset });
  });

  test.prop([bigVarint, fc.nat(), continuation])("Hello.sync_key → SyncKeyEntry.key (validator path)", (key, k, after) => {
    const keep = 1 + (k % (key.length - 1));
    const entry = [0x08, ...key];
    // sync_key (field 5) holding one entry (field 1), both cut at the same place.
    const nested = [0x0a, 1 + keep, ...entry.slice(0, 1 + keep)];
    const bytes = new Uint8Array([0x2a, nested.length, ...nested, ...after]);
    expect(decoded(HelloSchema, bytes)).toStrictEqual({ code: "BAD_BODY", offset: 5 });
  });

  test.prop([bigVarint, fc.nat(), continuation])("Welcome.limits.max_in_flight (validator path)", (value, k, after) => {
    const keep = 1 + (k % (value.length - 1));
    const { bytes, offset } = cutNested([0x08, 0x01], 0x22, [0x18, ...value], 1, keep, after);
    expect(decoded(WelcomeSchema, bytes)).toStrictEqual({ code: "BAD_BODY", offset });
  });

  test.prop([bigVarint, fc.nat(), continuation])("SyncResult.messages[0].server_msg_id (validator path around a fast-path message)", (value, k, after) => {
    const keep = 1 + (k % (value.length - 1));
    const { bytes, offset } = cutNested([], 0x0a, [0x10, ...value], 1, keep, after);
    expect(decoded(SyncResultSchema, bytes)).toStrictEqual({ code: "BAD_BODY", offset });
  });

  test("Ack has no nested message, and a varint cut by the body's end is refused at its start", () => {
    expect(decoded(AckSchema, new Uint8Array([0x18, 0xff, 0xff]))).toStrictEqual({ code: "BAD_BODY", offset: 1 });
  });
});
