// `syncwire encode` end to end, and the round trip `dump --json | encode` → the same bytes: arbitrary
// frames (raw bytes on stdin in arbitrary chunks, and hex), batches, Mars frames, Bilibili messages with
// a trailer; every golden .ndjson re-encodes to its fixture; encode's own errors.
import { describe, expect } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeBatch, encodeFrame, type FrameInit } from "../../src/index.js";
import { frameInitArb, u32 } from "../support/arbitraries.js";
import { chunksAt } from "../support/chunks.js";
import { expectNoStackTrace, ndjson, repoPath, runCli } from "../support/cli.js";
import { readFixture } from "../support/fixtures.js";
import { concat, fromHex, toHex } from "../support/hex.js";
import { marsBytes } from "../support/mars.js";

interface HexVector {
  name: string;
  hex: string;
}

/** dump --json (with `args`) of `stdin`, then encode --raw of that: the bytes, and the dump's records. */
async function roundTrip(args: string[], stdin: Uint8Array | string | (Uint8Array | string)[]): Promise<{ bytes: Uint8Array; records: Record<string, unknown>[]; dumpCode: number }> {
  const dumped = await runCli(["dump", "-", "--json", ...args], stdin);
  expectNoStackTrace(dumped);
  const encoded = await runCli(["encode", "--raw"], dumped.stdout);
  expect(encoded.stderr).toBe("");
  expect(encoded.code).toBe(0);
  return { bytes: encoded.stdoutBytes, records: ndjson(dumped.stdout), dumpCode: dumped.code };
}

/**
 * The frame records of a dump of arbitrary frames. Arbitrary bytes are rarely the protobuf message of a
 * typed op: such a body is reported as an error record (exit 1) and the frame is still shown whole.
 */
function framesOf(records: Record<string, unknown>[], dumpCode: number): Record<string, unknown>[] {
  const errors = records.filter((r) => r.type === "error");
  for (const e of errors) expect(["BAD_BODY", "EMPTY_BODY"]).toContain(e.code);
  expect(dumpCode).toBe(errors.length > 0 ? 1 : 0);
  return records.filter((r) => r.type !== "error");
}

/** What each frame record must say, from the FrameInit (not from the CLI). */
function expectRecords(records: Record<string, unknown>[], frames: readonly FrameInit[]): void {
  expect(records.map((r) => [r.type, r.op, r.seq, r.version, r.extension, r.body])).toEqual(
    frames.map((f) => ["frame", f.op, f.seq ?? 0, f.version ?? 1, toHex(f.extension ?? new Uint8Array(0)), toHex(f.body ?? new Uint8Array(0))]),
  );
}

/** Frames with bodies from empty to a few hundred bytes (fast-check's default sizes stay small). */
const frameArb = fc
  .tuple(frameInitArb({ maxBody: 40 }), fc.oneof(fc.constant(undefined), fc.uint8Array({ minLength: 100, maxLength: 700 })))
  .map(([frame, big]) => (big === undefined ? frame : { ...frame, body: big }));
const framesArb = fc.array(frameArb, { minLength: 1, maxLength: 5 });
const cutsArb = fc.array(fc.nat({ max: 2000 }), { maxLength: 12 });

describe("round trip: dump --json | encode → the same bytes", () => {
  test.prop([framesArb, cutsArb], { numRuns: 60 })("arbitrary frames, raw bytes on stdin in arbitrary chunks", async (frames, cuts) => {
    const bytes = concat(frames.map((f) => encodeFrame(f)));
    const result = await roundTrip([], chunksAt(bytes, cuts));
    expectRecords(framesOf(result.records, result.dumpCode), frames);
    expect(toHex(result.bytes)).toBe(toHex(bytes));
  });

  test.prop([framesArb, fc.constantFrom("plain", "spaced", "upper")], { numRuns: 40 })("arbitrary frames as hex, through encode's hex output", async (frames, form) => {
    const bytes = concat(frames.map((f) => encodeFrame(f)));
    const hex = form === "plain" ? toHex(bytes) : form === "upper" ? toHex(bytes).toUpperCase() : (toHex(bytes).match(/../g) ?? []).join(" ");
    const dumped = await runCli(["dump", "-", "--json"], hex + "\n");
    expectRecords(framesOf(ndjson(dumped.stdout), dumped.code), frames);
    const encoded = await runCli(["encode"], dumped.stdout);
    expect(encoded.code).toBe(0);
    // One hex line per frame.
    expect(encoded.stdout).toBe(frames.map((f) => toHex(encodeFrame(f)) + "\n").join(""));
  });

  test.prop([fc.array(frameArb, { maxLength: 6 }), u32, cutsArb], { numRuns: 30 })("a BATCH of arbitrary frames: children inline, bytes back", async (inner, seq, cuts) => {
    const batch = encodeBatch(inner, { seq });
    const result = await roundTrip([], chunksAt(batch, cuts));
    const [record] = framesOf(result.records, result.dumpCode);
    expect([record!.name, record!.seq]).toEqual(["BATCH", seq]);
    const children = record!.children as Record<string, unknown>[];
    expectRecords(children.map((c) => ({ type: "frame", ...c })), inner);
    // Children offsets: the stream offset of each inner frame.
    const offsets = inner.map((_, i) => 16 + inner.slice(0, i).reduce((n, f) => n + encodeFrame(f).length, 0));
    expect(children.map((c) => c.offset)).toEqual(offsets);
    expect(toHex(result.bytes)).toBe(toHex(batch));
  });

  const marsFrameArb = fc.record({
    clientVersion: u32,
    cmdid: u32,
    seq: fc.oneof(u32, fc.constantFrom(0, 0xffff_ffff)),
    extension: fc.oneof({ weight: 3, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) }),
    body: fc.oneof(fc.uint8Array({ maxLength: 30 }), fc.uint8Array({ minLength: 100, maxLength: 500 })),
  });
  test.prop([fc.array(marsFrameArb, { minLength: 1, maxLength: 5 }), cutsArb, fc.boolean()], { numRuns: 50 })("Mars frames under --profile mars (raw chunks, or hex)", async (frames, cuts, asHex) => {
    const bytes = concat(frames.map(marsBytes));
    const result = await roundTrip(["--profile", "mars"], asHex ? [toHex(bytes)] : chunksAt(bytes, cuts));
    expect(result.dumpCode).toBe(0);
    expect(result.records.map((r) => [r.headLength, r.clientVersion, r.cmdid, r.seq, r.bodyLength, r.extension, r.body])).toEqual(
      frames.map((f) => [20 + f.extension.length, f.clientVersion, f.cmdid, f.seq, f.body.length, toHex(f.extension), toHex(f.body)]),
    );
    expect(toHex(result.bytes)).toBe(toHex(bytes));
  });

  const b4 = readFixture<HexVector[]>("wire/peers.json").find((v) => v.name === "B4")!.hex;

  test("Bilibili B4 (a heartbeat reply with the client's heartbeat echoed as a trailer): hex, and a file", async () => {
    const viaHex = await roundTrip(["--profile", "bilibili"], b4);
    expect(viaHex.dumpCode).toBe(0);
    expect(viaHex.records.map((r) => r.type)).toEqual(["frame", "trailer"]);
    expect(viaHex.records[1]).toEqual({ type: "trailer", offset: 20, bytes: "5b6f626a656374204f626a6563745d", text: "[object Object]" });
    expect(toHex(viaHex.bytes)).toBe(b4);
    // A file of raw bytes is one message too.
    const dir = mkdtempSync(join(tmpdir(), "syncwire-cli-"));
    try {
      const path = join(dir, "b4.bin");
      writeFileSync(path, fromHex(b4));
      const dumped = await runCli(["dump", path, "--profile", "bilibili", "--json"]);
      expect(dumped.code).toBe(0);
      expect(toHex((await runCli(["encode", "--raw"], dumped.stdout)).stdoutBytes)).toBe(b4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.prop(
    [
      fc.array(
        fc.record({
          op: fc.constantFrom(2, 5, 7, 8, 1000),
          seq: u32,
          version: fc.constantFrom(0, 1),
          body: fc.jsonValue({ maxDepth: 2 }).map((v) => new TextEncoder().encode(JSON.stringify(v) ?? "null")),
        }),
        { minLength: 1, maxLength: 4 },
      ),
      fc.string({ maxLength: 100 }).map((s) => `[${s}`), // any length: the echo is whatever the client sent
    ],
    { numRuns: 40 },
  )("Bilibili messages: JSON-bodied frames, a heartbeat reply and its echoed trailer, as hex", async (frames, trailer) => {
    const reply = encodeFrame({ op: 3, seq: 1, version: 1, body: Uint8Array.of(0, 0, 9, 162) });
    const message = concat([...frames.map((f) => encodeFrame(f)), reply, new TextEncoder().encode(trailer)]);
    const result = await roundTrip(["--profile", "bilibili"], toHex(message));
    expect(result.dumpCode).toBe(0);
    const end = message.length - new TextEncoder().encode(trailer).length;
    expect(result.records.at(-1)).toMatchObject({ type: "trailer", offset: end, text: trailer });
    expect(toHex(result.bytes)).toBe(toHex(message));
  });
});

describe("every golden --json output re-encodes to its fixture's bytes", () => {
  const sets: [string, HexVector[], string[]][] = [
    ["wire", readFixture<HexVector[]>("wire/frames.json"), []],
    ["bodies", readFixture<HexVector[]>("bodies/frames.json"), []],
    ["peers", readFixture<HexVector[]>("wire/peers.json"), []],
    ["peers", readFixture<HexVector[]>("peers/peer-frames.json").filter((v) => v.name.startsWith("M")), []],
  ];
  const cases = sets.flatMap(([set, vectors]) => {
    const seen = new Map<string, number>();
    return vectors.map((v) => {
      const n = (seen.get(v.name) ?? 0) + 1;
      seen.set(v.name, n);
      return [`${set}/${n === 1 ? v.name : `${v.name}-${n}`}`, v.hex] as [string, string];
    });
  });
  test.each(cases)("%s.ndjson", async (name, hex) => {
    const result = await runCli(["encode", "--raw", repoPath(`fixtures/cli/golden/${name}.ndjson`)]);
    expect(result.code).toBe(0);
    expect(toHex(result.stdoutBytes)).toBe(hex);
  });
});

describe("encode errors", () => {
  test.each([
    ["not JSON", "frame at 0\n", /^syncwire: not a JSON object \(expected the output of 'syncwire dump --json'\) \(BAD_RECORD at line 1\)\n$/],
    ["a frame without an op", '{"type":"stream","label":"x","bytes":0}\n{"type":"frame","seq":1,"version":1,"body":""}\n', /^syncwire: "op" must be an integer from 0 to 4294967295 \(BAD_RECORD at line 2\)\n$/],
    ["a body that is not hex", '{"type":"frame","op":2,"seq":1,"version":1,"body":"zz"}\n', /^syncwire: "body" must be a hex string \(BAD_RECORD at line 1\)\n$/],
    ["a version too large", '{"type":"frame","op":2,"seq":1,"version":65536,"body":""}\n', /^syncwire: "version" must be an integer from 0 to 65535 \(BAD_RECORD at line 1\)\n$/],
    ["an unknown record type", '{"type":"packet"}\n', /^syncwire: unknown record type "packet" \(BAD_RECORD at line 1\)\n$/],
  ])("%s: one line naming the line, exit 1, nothing on stdout", async (_name, input, message) => {
    const result = await runCli(["encode"], input);
    expectNoStackTrace(result);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
  });

  test("error and stream records carry no bytes: a dump that failed half-way re-encodes the frames before the error", async () => {
    const ack = "00000010001000010000000500000002";
    const dumped = await runCli(["dump", "-", "--json"], ack + "00000003");
    expect(dumped.code).toBe(1);
    expect(ndjson(dumped.stdout).map((r) => r.type)).toEqual(["frame", "error"]);
    const encoded = await runCli(["encode"], dumped.stdout);
    expect([encoded.code, encoded.stdout]).toEqual([0, ack + "\n"]);
  });

  test("--help works for encode, and an unknown option is a usage error", async () => {
    expect((await runCli(["encode", "--help"])).code).toBe(0);
    const bad = await runCli(["encode", "--hex"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^syncwire: Unknown option '--hex'\. Try 'syncwire --help'\.\n$/);
  });
});
