// Golden frames with bodies (fixtures/bodies/frames.json, written by scripts/make-body-fixtures.mjs
// from proto/ via buf + reflective protobuf-es, independently of src/): every typed op has one; each
// decodes to its JSON form and encodes back to its bytes.
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { describe, expect, test } from "vitest";
import { BODY_OPS, bodySchemaOf, decodeBody, encodeBodyFrame, type BodyOp } from "../../src/bodies/index.js";
import { decodeFrame, opName } from "../../src/index.js";
import { readFixture } from "../support/fixtures.js";
import { atOffset, fromHex, toHex } from "../support/hex.js";

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
