// Every frame decoder against an independent model of PROTOCOL.md §1–§7 (scripts/lib/frame-model.mjs,
// which shares no code with src/): for any bytes and options, the same frames or the same error code
// at the same offset. The property tests elsewhere only require *some* FrameError on garbage; here the
// code and offset are checked, for short inputs (1–7 bytes: inside the length, headerLength and version
// fields) above all.
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { frameFields, modelDecode, type ModelOptions, type ModelResult } from "../../scripts/lib/frame-model.mjs";
import { decodeFrame, decodeFrames, FrameDecoder, FrameError, splitBatch, type DecodeOptions, type Frame } from "../../src/index.js";
import { u32 } from "../support/arbitraries.js";
import { fieldsOf } from "../support/fixtures.js";
import { concat, toHex } from "../support/hex.js";
import { runs } from "../support/runs.js";

type Got = { frames: ReturnType<typeof frameFields>[]; trailer: string } | { error: { code: string; offset: number } };


function run(f: () => { frames: Frame[]; trailer?: Uint8Array }): Got {
  try {
    const { frames, trailer } = f();
    return { frames: frames.map(fieldsOf), trailer: toHex(trailer ?? new Uint8Array(0)) };
  } catch (error) {
    if (!(error instanceof FrameError)) throw error;
    return { error: { code: error.code, offset: error.offset } };
  }
}

function model(bytes: Uint8Array, options: ModelOptions, fieldsFrom = bytes): Got {
  const result: ModelResult = modelDecode(bytes, options);
  if (result.error !== undefined) return { error: result.error };
  return { frames: result.frames.map((f) => frameFields(fieldsFrom, f)), trailer: toHex(bytes.subarray(result.trailerAt)) };
}

/** A BATCH frame around `body` (the outer header is valid whenever the options allow its length). */
function batchOf(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, out.byteLength);
  view.setUint16(4, 16);
  view.setUint16(6, 1);
  view.setUint32(8, 9);
  out.set(body, 16);
  return out;
}

/** Feeds `bytes` to a FrameDecoder in chunks cut at `positions`, then ends the stream. */
function streamed(bytes: Uint8Array, positions: readonly number[], options: DecodeOptions): Got {
  const decoder = new FrameDecoder(options);
  const frames: Frame[] = [];
  return run(() => {
    const cuts = [...new Set(positions.map((p) => p % (bytes.byteLength + 1)))].sort((a, b) => a - b);
    let from = 0;
    for (const to of [...cuts, bytes.byteLength]) {
      decoder.push(bytes.slice(from, to), frames);
      from = to;
    }
    decoder.end();
    return { frames };
  });
}

/** Checks every decoder on `bytes` against the model. */
function checkAll(bytes: Uint8Array, options: DecodeOptions, positions: readonly number[] = []): void {
  const limits: ModelOptions = { maxFrameSize: options.maxFrameSize, versions: options.versions };
  expect(run(() => ({ frames: [decodeFrame(bytes, options)] })), "decodeFrame").toStrictEqual(model(bytes, { ...limits, mode: "frame" }));
  expect(run(() => decodeFrames(bytes, options)), "decodeFrames").toStrictEqual(model(bytes, { ...limits, mode: "frames" }));
  expect(run(() => decodeFrames(bytes, { ...options, allowTrailer: true })), "decodeFrames with allowTrailer").toStrictEqual(
    model(bytes, { ...limits, mode: "frames", allowTrailer: true }),
  );
  expect(run(() => ({ frames: splitBatch(bytes, options) })), "splitBatch(body)").toStrictEqual(model(bytes, { ...limits, mode: "batch" }));
  // splitBatch(frame): the outer frame is decoded with the widest limits, the inner ones with `options`.
  const outer = decodeFrame(batchOf(bytes), { versions: "any", maxFrameSize: 0xffff_ffff });
  expect(run(() => ({ frames: splitBatch(outer, options) })), "splitBatch(frame)").toStrictEqual(model(bytes, { ...limits, mode: "batch", base: 16 }));
  // A stream holds what it has until end(): a cut-off frame is TRUNCATED there, like decodeFrames.
  expect(streamed(bytes, positions, options), "FrameDecoder").toStrictEqual(model(bytes, { ...limits, mode: "frames" }));
}

/** A 16-byte header with any field values. */
function header(packetLength: number, headerLength: number, version: number, op: number, seq: number): Uint8Array {
  const h = new Uint8Array(16);
  const view = new DataView(h.buffer);
  view.setUint32(0, packetLength);
  view.setUint16(4, headerLength);
  view.setUint16(6, version);
  view.setUint32(8, op);
  view.setUint32(12, seq);
  return h;
}

const optionsArb: fc.Arbitrary<DecodeOptions> = fc.record(
  {
    maxFrameSize: fc.constantFrom(undefined, 16, 20, 40, 64, 0xffff_ffff),
    versions: fc.constantFrom(undefined, [1], [1, 3], [0], "any" as const),
  },
  { noNullPrototype: true, requiredKeys: [] },
);

describe("inputs of 1–7 bytes (inside the length, headerLength and version fields)", () => {
  // Header templates: valid, and each field bad in turn; every prefix of each, up to the whole header.
  const templates: [string, Uint8Array][] = [
    ["valid 16-byte frame", header(16, 16, 1, 2, 1)],
    ["valid 40-byte frame", header(40, 16, 1, 4, 1)],
    ["packetLength 0", header(0, 16, 1, 2, 1)],
    ["packetLength 15", header(15, 16, 1, 2, 1)],
    ["packetLength over the limit", header(0x0100_0001, 16, 1, 2, 1)],
    ["headerLength 0", header(16, 0, 1, 2, 1)],
    ["headerLength 15", header(16, 15, 1, 2, 1)],
    ["headerLength above packetLength", header(20, 21, 1, 2, 1)],
    ["version 0", header(16, 16, 0, 2, 1)],
    ["version 2", header(16, 16, 2, 2, 1)],
    ["a BATCH", header(16, 16, 1, 9, 1)],
  ];
  test.each(templates)("%s, cut to every length from 1 to 16", (_name, template) => {
    for (let n = 1; n <= 16; n++) {
      for (const options of [{}, { versions: [1, 2] }, { versions: "any" as const }, { maxFrameSize: 16 }]) {
        checkAll(template.subarray(0, n), options, [1, 2, 3, 4, 5, 6, 7]);
      }
    }
  });

  test("the answers the spec states: TRUNCATED at 0 below 8 bytes, BAD_HEADER_LENGTH at 4 from 6 bytes on", () => {
    for (let n = 1; n < 8; n++) {
      const cut = header(16, 16, 1, 2, 1).subarray(0, n);
      expect(run(() => ({ frames: [decodeFrame(cut)] }))).toStrictEqual({ error: { code: "TRUNCATED", offset: 0 } });
      expect(run(() => decodeFrames(cut))).toStrictEqual({ error: { code: "TRUNCATED", offset: 0 } });
      expect(run(() => ({ frames: splitBatch(cut) }))).toStrictEqual({ error: { code: "TRUNCATED", offset: 0 } });
      const badHeaderLength = header(16, 15, 1, 2, 1).subarray(0, n);
      const code = n >= 6 ? { code: "BAD_HEADER_LENGTH", offset: 4 } : { code: "TRUNCATED", offset: 0 };
      expect(run(() => ({ frames: [decodeFrame(badHeaderLength)] }))).toStrictEqual({ error: code });
      expect(run(() => decodeFrames(badHeaderLength))).toStrictEqual({ error: code });
      expect(run(() => ({ frames: splitBatch(badHeaderLength) }))).toStrictEqual({ error: code });
    }
  });
});

describe("any bytes, any options", () => {
  /** Plausible headers (each field sometimes bad), a little body, several back to back, cut anywhere. */
  const plausible = fc
    .array(
      fc.tuple(
        fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 16, max: 48 }), fc.constantFrom(64, 65, 0x0100_0001, 0xffff_ffff)),
        fc.oneof(fc.constant(16), fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 0xffff })),
        fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 3 })),
        fc.oneof(fc.constantFrom(2, 4, 9, 1000), u32),
        u32,
        fc.uint8Array({ maxLength: 32 }),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((parts) => concat(parts.flatMap(([pl, hl, v, op, seq, body]) => [header(pl, hl, v, op, seq), body])));
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 8 }),
    fc.tuple(plausible, fc.nat()).map(([b, n]) => b.subarray(0, n % (b.byteLength + 1))),
    plausible,
    fc.uint8Array({ maxLength: 80 }),
  );

  test.prop([input, optionsArb, fc.array(fc.nat(), { maxLength: 8 })], { numRuns: runs(2000) })("every decoder gives the model's frames or error", (bytes, options, positions) => {
    checkAll(bytes, options, positions);
  });
});
