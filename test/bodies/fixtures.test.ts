// The body vectors (fixtures/bodies/*.json, written by scripts/make-body-fixtures.mjs from proto/ via
// buf + reflective protobuf-es, independently of src/; fixtures/README.md gives each file's schema).
// frames.json: every typed op has a golden frame; each decodes to its JSON form and encodes back.
import { create, fromBinary, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { describe, expect, test } from "vitest";
import {
  BODY_ERROR_CODES,
  BODY_OPS,
  BodyError,
  CLIENT_MSG_ID_EPOCH_MS,
  SyncKeyFormatError,
  SyncKeySchema,
  bodySchemaOf,
  compareSyncKeys,
  createClientMsgIdGenerator,
  decodeBody,
  decodeMessage,
  encodeBodyFrame,
  formatSyncKey,
  hasNewer,
  mergeSyncKeys,
  parseSyncKey,
  syncKeyEquals,
  type BodyOp,
  type SyncKey,
} from "../../src/bodies/index.js";
import { decodeFrame, opName } from "../../src/index.js";
import { readFixture } from "../support/fixtures.js";
import { atOffset, fromHex, toHex } from "../support/hex.js";
import { thrownBy } from "../support/thrown.js";

interface BodyVector {
  name: string;
  what: string;
  op: number;
  seq: number;
  type: string;
  hex: string;
  body: JsonValue;
}

const vectors = readFixture<BodyVector[]>("bodies/frames.json");

test("every typed op has a golden frame", () => {
  const covered = new Set(vectors.map((v) => v.op));
  expect(BODY_OPS.filter((op) => !covered.has(op)).map(opName)).toStrictEqual([]);
});

describe.each(vectors.map((v) => [v.name, v] as const))("%s", (_name, v) => {
  const schema = bodySchemaOf(v.op)!;

  test("the op's schema is the fixture's message type", () => {
    expect(schema.typeName).toBe(v.type);
  });

  test("decodes to its JSON form", () => {
    const frame = decodeFrame(atOffset(fromHex(v.hex)));
    expect(frame.seq).toBe(v.seq);
    const body = decodeBody(frame);
    if (body.opaque) throw new Error("typed op decoded as opaque");
    expect(toJson(schema, body.message)).toStrictEqual(v.body);
  });

  test("encodes back to its bytes", () => {
    const message = fromJson(schema, v.body);
    expect(toHex(encodeBodyFrame(v.op as BodyOp, message as never, { seq: v.seq }))).toBe(v.hex);
  });
});

// ---------------------------------------------------------------------------------------------------
// fixtures/bodies/rules.json: accepted bodies that pin one rule each. Decoding gives `body` (JSON form);
// re-encoding the decoded message gives `encoded` (the canonical form; equal to `hex` when the input
// was canonical). The decoded message is re-encoded, not fromJson(body): unknown fields have no JSON form.
interface RuleVector extends BodyVector {
  rule: string;
  encoded: string;
}

describe.each(readFixture<RuleVector[]>("bodies/rules.json").map((v) => [v.name, v] as const))("rule %s", (_name, v) => {
  test("decodes to its JSON form and re-encodes canonically", () => {
    const schema = bodySchemaOf(v.op)!;
    expect(schema.typeName).toBe(v.type);
    const frame = decodeFrame(atOffset(fromHex(v.hex)));
    const body = decodeBody(frame);
    if (body.opaque) throw new Error("typed op decoded as opaque");
    expect(toJson(schema, body.message)).toStrictEqual(v.body);
    expect(toHex(encodeBodyFrame(v.op as BodyOp, body.message as never, { seq: v.seq }))).toBe(v.encoded);
  });
});

// fixtures/bodies/errors.json: refused bodies, with the code and the offset from the frame's start.
interface BodyErrorVector {
  name: string;
  rule: string;
  what: string;
  op: number;
  seq: number;
  type: string;
  hex: string;
  code: string;
  offset: number;
  protobufEs: "accepts" | "refuses";
}

const bodyErrors = readFixture<BodyErrorVector[]>("bodies/errors.json");

test("every body error code has a vector", () => {
  expect(new Set(bodyErrors.map((e) => e.code))).toStrictEqual(new Set(BODY_ERROR_CODES));
});

describe.each(bodyErrors.map((v) => [v.name, v] as const))("refused %s", (_name, v) => {
  test("decodeBody(frame).message throws the vector's BodyError", () => {
    const frame = decodeFrame(atOffset(fromHex(v.hex)));
    const body = decodeBody(frame);
    if (body.opaque) throw new Error("typed op decoded as opaque");
    const error = thrownBy(BodyError, () => body.message);
    expect({ code: error.code, offset: error.offset, op: error.op }).toStrictEqual({ code: v.code, offset: v.offset, op: v.op });
    // decodeMessage with the body's offset reports the same.
    const again = thrownBy(BodyError, () => decodeMessage(v.op as BodyOp, frame.body, frame.headerLength));
    expect({ code: again.code, offset: again.offset }).toStrictEqual({ code: v.code, offset: v.offset });
  });

  test("the protobufEs column says what fromBinary alone does", () => {
    const frame = decodeFrame(fromHex(v.hex));
    let verdict = "accepts";
    try {
      fromBinary(bodySchemaOf(v.op)!, frame.body);
    } catch {
      verdict = "refuses";
    }
    expect(verdict).toBe(v.protobufEs);
  });
});

// fixtures/bodies/sync-keys.json: the text form and the order, computed by the generator from §10.
interface SyncKeyVectors {
  parse: { what: string; text: string; entries?: [number, string][]; error?: { code: string; offset: number } }[];
  format: { what: string; entries: [number, string][]; text: string }[];
  order: { what: string; a: [number, string][]; b: [number, string][]; merge: [number, string][]; compare: -1 | 0 | 1 | null; aHasNewer: boolean; bHasNewer: boolean; equal: boolean }[];
}
const syncKeys = readFixture<SyncKeyVectors>("bodies/sync-keys.json");
const keyOf = (entries: [number, string][]) => create(SyncKeySchema, { entries: entries.map(([key, version]) => ({ key, version: BigInt(version) })) });
const entriesOf = (key: SyncKey): [number, string][] => key.entries.map((e) => [e.key, String(e.version)]);

describe("sync-keys.json", () => {
  test.each(syncKeys.parse.map((v) => [v.what, v] as const))("parse: %s", (_what, v) => {
    if (v.error !== undefined) {
      const error = thrownBy(SyncKeyFormatError, () => parseSyncKey(v.text));
      expect({ code: error.code, offset: error.offset }).toStrictEqual(v.error);
    } else {
      expect(entriesOf(parseSyncKey(v.text))).toStrictEqual(v.entries);
      expect(formatSyncKey(parseSyncKey(v.text))).toBe(v.text);
    }
  });

  test.each(syncKeys.format.map((v) => [v.what, v] as const))("format: %s", (_what, v) => {
    expect(formatSyncKey(keyOf(v.entries))).toBe(v.text);
  });

  test.each(syncKeys.order.map((v) => [v.what, v] as const))("order: %s", (_what, v) => {
    const a = keyOf(v.a);
    const b = keyOf(v.b);
    expect(entriesOf(mergeSyncKeys(a, b))).toStrictEqual(v.merge);
    expect(compareSyncKeys(a, b) ?? null).toBe(v.compare);
    expect([hasNewer(a, b), hasNewer(b, a), syncKeyEquals(a, b)]).toStrictEqual([v.aHasNewer, v.bHasNewer, v.equal]);
  });
});

// fixtures/bodies/client-msg-ids.json: one generator's ids for given clock readings and random draws.
interface ClientMsgIdVector {
  what: string;
  epochMs: number;
  steps: { nowMs: number; random23: number | null }[];
  ids: string[];
}

test.each(readFixture<ClientMsgIdVector[]>("bodies/client-msg-ids.json").map((v) => [v.what, v] as const))("client msg ids: %s", (_what, v) => {
  expect(CLIENT_MSG_ID_EPOCH_MS).toBe(v.epochMs);
  let step = 0;
  let draws = 0;
  const next = createClientMsgIdGenerator({
    now: () => v.steps[step]!.nowMs,
    random23: () => {
      draws++;
      const r = v.steps[step]!.random23;
      if (r === null) throw new Error(`step ${step}: a draw where the vector has none`);
      return r;
    },
  });
  const ids: string[] = [];
  for (; step < v.steps.length; step++) ids.push(String(next()));
  expect(ids).toStrictEqual(v.ids);
  expect(draws).toBe(v.steps.filter((s) => s.random23 !== null).length);
});
