// One fixture table drives decode, encode and round-trip tests (the mqtt-packet habit): our frames for
// every op, corner cases, the goim and Bilibili peer vectors at the framing layer, and one or more
// vectors per error code. Each vector names its decoder and options (fixtures/README.md).
import { toJson } from "@bufbuild/protobuf";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { BodyError, bodySchemaOf, decodeBody } from "../../src/bodies/index.js";
import {
  decodeFrame,
  decodeFrames,
  encodeBatch,
  encodeFrame,
  FRAME_ERROR_CODES,
  FrameDecoder,
  FrameError,
  MAX_FRAME_SIZE_LIMIT,
  splitBatch,
  type Frame,
} from "../../src/index.js";
import { fieldsOf, readFixture, type BodyOutcome, type ErrorVector, type FrameVector } from "../support/fixtures.js";
import { atOffset, concat, fromHex, toHex } from "../support/hex.js";
import { runs } from "../support/runs.js";

const ours = readFixture<FrameVector[]>("wire/frames.json");
const corner = readFixture<FrameVector[]>("wire/corner-cases.json");
const peers = readFixture<FrameVector[]>("wire/peers.json");
const errors = readFixture<ErrorVector[]>("wire/errors.json");

/** The limits a splitBatch vector's outer BATCH frame is read with (fixtures/README.md). */
const WIDEST = { versions: "any", maxFrameSize: MAX_FRAME_SIZE_LIMIT } as const;


/** Runs the vector's decoder on `bytes`: the top-level frames, the trailer and (splitBatch) the inner frames. */
function decode(v: FrameVector | ErrorVector, bytes: Uint8Array): { frames: Frame[]; trailer: Uint8Array; inner?: Frame[] } {
  switch (v.decoder) {
    case "decodeFrame":
      return { frames: [decodeFrame(bytes, v.options)], trailer: new Uint8Array(0) };
    case "decodeFrames":
      return decodeFrames(bytes, v.options);
    case "splitBatch": {
      const batch = decodeFrame(bytes, WIDEST);
      return { frames: [batch], trailer: new Uint8Array(0), inner: splitBatch(batch, v.options) };
    }
    case "splitBatchBody":
      return { frames: splitBatch(bytes, v.options), trailer: new Uint8Array(0) };
  }
}

test("vector names are unique across the wire fixtures", () => {
  const names = [...ours, ...corner, ...peers, ...errors].map((v) => v.name);
  expect(names.filter((n, i) => names.indexOf(n) !== i)).toStrictEqual([]);
});

describe.each([
  ["ours", ours],
  ["corner cases", corner],
  ["peers", peers],
])("golden frames (%s)", (_label, vectors) => {
  test.each(vectors.map((v) => [v.name, v] as const))("%s decodes to its fields, as views of the input", (_name, v) => {
    const bytes = atOffset(fromHex(v.hex));
    const { frames, trailer, inner } = decode(v, bytes);
    expect(frames.map(fieldsOf)).toStrictEqual(v.frames);
    expect(toHex(trailer)).toBe(v.trailer);
    expect(inner?.map(fieldsOf)).toStrictEqual(v.inner);
    for (const f of [...frames, ...(inner ?? [])]) expect(f.body.buffer).toBe(bytes.buffer);
    if (v.trailer !== "") expect(trailer.buffer).toBe(bytes.buffer);
  });

  test.each(vectors.map((v) => [v.name, v] as const))("%s encodes back to its bytes", (_name, v) => {
    const encoded = v.frames.map((f) =>
      encodeFrame({ op: f.op, seq: f.seq, version: f.version, body: fromHex(f.body), extension: fromHex(f.extension) }),
    );
    expect(toHex(concat(encoded)) + v.trailer).toBe(v.hex);
  });

  test.each(vectors.filter((v) => v.decoder === "splitBatch").map((v) => [v.name, v] as const))("%s rebuilds as a batch", (_name, v) => {
    const { frames, inner } = decode(v, fromHex(v.hex));
    expect(toHex(encodeBatch(inner!, { seq: frames[0]!.seq, version: frames[0]!.version }))).toBe(v.hex);
  });

  // The streaming decoder reads what decodeFrames reads, in any chunking (it has no trailer mode).
  test.each(vectors.filter((v) => v.decoder !== "splitBatchBody" && v.trailer === "").map((v) => [v.name, v] as const))(
    "%s streams to the same frames in any chunking",
    (_name, v) => {
      const bytes = fromHex(v.hex);
      const { maxFrameSize, versions } = v.options;
      fc.assert(
        fc.property(fc.array(fc.nat({ max: bytes.byteLength }), { maxLength: 6 }), (cuts) => {
          const decoder = new FrameDecoder({ maxFrameSize: v.decoder === "splitBatch" ? MAX_FRAME_SIZE_LIMIT : maxFrameSize, versions: v.decoder === "splitBatch" ? "any" : versions });
          const got: Frame[] = [];
          let from = 0;
          for (const to of [...new Set(cuts)].sort((a, b) => a - b)) {
            decoder.push(bytes.slice(from, to), got);
            from = to;
          }
          decoder.push(bytes.slice(from), got);
          decoder.end();
          expect(got.map(fieldsOf)).toStrictEqual(v.frames);
        }),
        { numRuns: runs(20) },
      );
    },
  );
});

/** What decodeBody(frame).message gives, in the fixture's terms. */
function bodyOutcome(frame: Frame): BodyOutcome {
  const body = decodeBody(frame);
  if (body.opaque) return { opaque: true };
  try {
    return { json: toJson(bodySchemaOf(frame.op)!, body.message as never) };
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    return { error: { code: error.code, offset: error.offset } };
  }
}

describe("what the bodies layer makes of our frames (the `bodies` of wire/frames.json)", () => {
  test.each(ours.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    expect(v.bodies).toBeDefined();
    expect(decode(v, fromHex(v.hex)).frames.map(bodyOutcome)).toStrictEqual(v.bodies);
  });

  test("an empty SEND, HELLO and WELCOME are EMPTY_BODY at the body's start", () => {
    for (const name of ["send-empty", "hello-empty", "welcome-empty"]) {
      expect(ours.find((v) => v.name === name)?.bodies).toStrictEqual([{ error: { code: "EMPTY_BODY", offset: 16 } }]);
    }
  });
});

describe("golden errors", () => {
  test("every error code has a vector", () => {
    expect(new Set(errors.map((e) => e.code))).toStrictEqual(new Set(FRAME_ERROR_CODES));
  });

  test.each(errors.map((e) => [e.name, e] as const))("%s", (_name, e) => {
    const error = (() => {
      try {
        decode(e, atOffset(fromHex(e.hex)));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(FrameError);
    expect({ code: (error as FrameError).code, offset: (error as FrameError).offset }).toStrictEqual({ code: e.code, offset: e.offset });
  });

  // A decodeFrames error is what a stream of the same bytes ends with, in any chunking.
  test.each(errors.filter((e) => e.decoder === "decodeFrames").map((e) => [e.name, e] as const))("%s streams to the same error", (_name, e) => {
    const bytes = fromHex(e.hex);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: bytes.byteLength }), { maxLength: 6 }), (cuts) => {
        const decoder = new FrameDecoder(e.options);
        let caught: unknown;
        try {
          let from = 0;
          for (const to of [...new Set(cuts)].sort((a, b) => a - b)) {
            decoder.push(bytes.slice(from, to));
            from = to;
          }
          decoder.push(bytes.slice(from));
          decoder.end();
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(FrameError);
        expect({ code: (caught as FrameError).code, offset: (caught as FrameError).offset }).toStrictEqual({ code: e.code, offset: e.offset });
      }),
      { numRuns: runs(20) },
    );
  });
});
