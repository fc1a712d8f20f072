// The dump's fast text paths against the plain forms they replaced (kept here as the oracles): uncoloured
// hex rows written as bytes, and `--json` frame records written member by member instead of through
// `JSON.stringify` of an object. Speed is bench/cli.js's business; these hold the output byte-equal.
import { describe, expect } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { annotatedHexDump } from "../../src/cli/hexdump.js";
import type { DecodedBody, DumpEvent, DumpNode, Span } from "../../src/cli/model.js";
import { createPaint } from "../../src/cli/paint.js";
import { jsonPrinter } from "../../src/cli/render.js";

// eslint-disable-next-line no-control-regex
const unpaint = (line: string): string => line.replace(/\u001b\[[0-9;]*m/g, "");

const roles: Span["role"][] = ["length", "hl", "version", "op", "seq", "field", "extension", "body"];
const spansOf = (size: number): fc.Arbitrary<Span[]> =>
  fc.array(
    fc.record({
      start: fc.nat({ max: Math.max(0, size - 1) }),
      length: fc.nat({ max: size }),
      label: fc.constantFrom("length", "hl", "ver", "op", "seq", "body", "extension", "a-long-label"),
      role: fc.constantFrom(...roles),
    }),
    { maxLength: 6 },
  );
const dumps = fc.uint8Array({ maxLength: 80 }).chain((bytes) =>
  fc.tuple(
    fc.constant(bytes),
    fc.oneof(fc.nat({ max: 1 << 20 }), fc.integer({ min: 2 ** 32 - 64, max: 2 ** 32 + 64 }), fc.integer({ min: 2 ** 40, max: 2 ** 48 })),
    spansOf(bytes.length),
    fc.nat({ max: 100 }),
  ),
);

describe("annotatedHexDump: uncoloured rows", () => {
  test.prop([dumps])("equal the coloured rows with their colour codes taken out", ([bytes, offset, spans, maxBytes]) => {
    const plain = annotatedHexDump(bytes, offset, spans, createPaint(false), maxBytes);
    const painted = annotatedHexDump(bytes, offset, spans, createPaint(true), maxBytes);
    expect(plain).toEqual(painted.map(unpaint));
  });

  test("a short row, and an address past 32 bits", () => {
    const bytes = Uint8Array.from([0x00, 0x41, 0x7e, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x61]);
    expect(annotatedHexDump(bytes, 0x1_0000_0010, [], createPaint(false))).toEqual(["100000010  00 41 7e 7f 80 ff 20 0a  61                       |.A~... .a|"]);
    expect(annotatedHexDump(bytes, 0xfff0, [], createPaint(false))).toEqual(["0000fff0  00 41 7e 7f 80 ff 20 0a  61                       |.A~... .a|"]);
  });
});

/** The `--json` frame record as the printer built it before: an object, then `JSON.stringify`. */
function oracleOpen(node: DumpNode, top: Record<string, unknown>): string {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
  const head: Record<string, unknown> = { ...top, offset: node.offset, space: node.space, profile: node.profile, name: node.name };
  for (const [k, v] of node.header) head[k] = v;
  if (node.versionName !== undefined) head.versionName = node.versionName;
  head.extension = hex(node.extension);
  head.body = hex(node.body);
  let text = JSON.stringify(head).slice(0, -1);
  if (node.decoded !== undefined) {
    const d = node.decoded;
    const decoded =
      d.kind === "json" ? `{"kind":"json","value":${d.json}}` : d.kind === "error" ? JSON.stringify({ kind: "error", code: d.code, message: d.reason, offset: d.offset }) : JSON.stringify(d);
    text += `,"decoded":${decoded}`;
  }
  if (node.compressed !== undefined) text += `,"compressed":${JSON.stringify({ algorithm: node.compressed.algorithm, inflated: hex(node.compressed.inflated) })}`;
  return text;
}

const text = fc.string({ unit: "binary", maxLength: 12 });
const decodedBodies: fc.Arbitrary<DecodedBody> = fc.oneof(
  fc.record({ kind: fc.constant("protobuf" as const), type: text, json: fc.jsonValue(), texts: fc.option(fc.dictionary(text, text), { nil: undefined }) }).map((d) => {
    const { texts, ...rest } = d;
    return texts === undefined ? rest : { ...rest, texts };
  }),
  fc.record({ kind: fc.constant("json" as const), json: fc.json() }),
  fc.record({ kind: fc.constant("text" as const), text }),
  fc.record({ kind: fc.constant("count" as const), name: text, value: fc.nat() }),
  fc.record({ kind: fc.constant("error" as const), code: text, reason: text, offset: fc.nat() }),
);
const nodes: fc.Arbitrary<DumpNode> = fc
  .record({
    offset: fc.nat(),
    space: fc.constantFrom("stream" as const, "inflated" as const),
    profile: fc.constantFrom("syncwire" as const, "goim" as const, "bilibili" as const, "mars" as const),
    name: text,
    header: fc.constantFrom(["packetLength", "headerLength", "version", "op", "seq"], ["headLength", "clientVersion", "cmdid", "seq", "bodyLength"]).chain((names) =>
      fc.tuple(...names.map((n) => fc.tuple(fc.constant(n), fc.nat({ max: 2 ** 32 - 1 })))),
    ),
    versionName: fc.option(text, { nil: undefined }),
    extension: fc.uint8Array({ maxLength: 8 }),
    body: fc.uint8Array({ maxLength: 40 }),
    decoded: fc.option(decodedBodies, { nil: undefined }),
    compressed: fc.option(fc.record({ algorithm: text, inflated: fc.uint8Array({ maxLength: 20 }) }), { nil: undefined }),
  })
  .map((n) => {
    const node: Record<string, unknown> = { ...n, raw: n.body, spans: [] };
    for (const key of ["versionName", "decoded", "compressed"]) if (node[key] === undefined) delete node[key];
    return node as unknown as DumpNode;
  });

describe("jsonPrinter: frame records", () => {
  test.prop([nodes, fc.option(text, { nil: undefined }), fc.option(fc.integer({ min: 0, max: 4e12 }), { nil: undefined })])(
    "a top-level frame: the same line as JSON.stringify of the record object",
    (node, stream, time) => {
      const event = { type: "frame", node, depth: 0, ...(stream === undefined ? {} : { stream }), ...(time === undefined ? {} : { time }) } as DumpEvent;
      const top = { type: "frame", ...(stream === undefined ? {} : { stream }), ...(time === undefined ? {} : { time: new Date(time).toISOString() }) };
      expect(jsonPrinter()(event)).toBe(oracleOpen(node, top) + "}\n");
    },
  );

  test.prop([nodes, nodes])("inner frames: members only, comma-separated under children", (outer, inner) => {
    const print = jsonPrinter();
    const parent = { ...outer, innerFrames: 2 } as DumpNode;
    const lines = [
      print({ type: "frame", node: parent, depth: 0 }),
      print({ type: "frame", node: inner, depth: 1 }),
      print({ type: "frame", node: inner, depth: 1 }),
      print({ type: "frame-end", node: parent, depth: 0, notShown: 0 }),
    ].join("");
    const child = oracleOpen(inner, {}) + "}";
    expect(lines).toBe(`${oracleOpen(parent, { type: "frame" })},"children":[${child},${child}]}\n`);
    expect(() => JSON.parse(lines) as unknown).not.toThrow();
  });
});
