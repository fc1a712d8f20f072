// One fixture table drives decode, encode and round-trip tests (the mqtt-packet habit): our frames for
// every op, the goim and Bilibili peer vectors at the framing layer, and one vector per error code.
import { describe, expect, test } from "vitest";
import {
  decodeFrame,
  decodeFrames,
  encodeBatch,
  encodeFrame,
  FRAME_ERROR_CODES,
  FrameError,
  splitBatch,
  type Frame,
} from "../../src/index.js";
import { atOffset, concat, fromHex, toHex } from "../support/hex.js";
import { readFixture, type ErrorVector, type FrameFields, type FrameVector } from "../support/fixtures.js";

const ours = readFixture<FrameVector[]>("wire/frames.json");
const peers = readFixture<FrameVector[]>("wire/peers.json");
const errors = readFixture<ErrorVector[]>("wire/errors.json");

function fieldsOf(frame: Frame): FrameFields {
  return {
    packetLength: frame.packetLength,
    headerLength: frame.headerLength,
    version: frame.version,
    op: frame.op,
    seq: frame.seq,
    extension: toHex(frame.extension),
    body: toHex(frame.body),
  };
}

describe.each([
  ["ours", ours],
  ["peers", peers],
])("golden frames (%s)", (_label, vectors) => {
  test.each(vectors.map((v) => [v.name, v] as const))("%s decodes to its fields", (_name, v) => {
    const bytes = atOffset(fromHex(v.hex));
    if (v.kind === "frames") {
      const { frames, trailer } = decodeFrames(bytes, { ...v.options, allowTrailer: v.trailer !== "" });
      expect(frames.map(fieldsOf)).toStrictEqual(v.frames);
      expect(toHex(trailer)).toBe(v.trailer);
    } else {
      const frame = decodeFrame(bytes, v.options);
      expect([fieldsOf(frame)]).toStrictEqual(v.frames);
      expect(frame.body.buffer).toBe(bytes.buffer);
    }
  });

  test.each(vectors.map((v) => [v.name, v] as const))("%s encodes back to its bytes", (_name, v) => {
    const encoded = v.frames.map((f) =>
      encodeFrame({ op: f.op, seq: f.seq, version: f.version, body: fromHex(f.body), extension: fromHex(f.extension) }),
    );
    expect(toHex(concat(encoded)) + v.trailer).toBe(v.hex);
  });

  test.each(vectors.filter((v) => v.kind === "batch").map((v) => [v.name, v] as const))("%s splits and rebuilds as a batch", (_name, v) => {
    const batch = decodeFrame(fromHex(v.hex), v.options);
    const inner = splitBatch(batch, v.options);
    expect(inner.map(fieldsOf)).toStrictEqual(v.inner);
    for (const f of inner) expect(f.body.buffer).toBe(batch.body.buffer);
    expect(toHex(encodeBatch(inner, { seq: batch.seq, version: batch.version }))).toBe(v.hex);
  });

  test.each(vectors.map((v) => [v.name, v] as const))("%s round-trips decode → encode", (_name, v) => {
    const bytes = fromHex(v.hex);
    const { frames } = decodeFrames(bytes, { ...v.options, allowTrailer: true });
    expect(toHex(concat(frames.map((f) => encodeFrame(f)))) + v.trailer).toBe(v.hex);
  });
});

describe("golden errors", () => {
  test("every error code has a vector", () => {
    expect(new Set(errors.map((e) => e.code))).toStrictEqual(new Set(FRAME_ERROR_CODES));
  });

  test.each(errors.map((e) => [e.name, e] as const))("%s", (_name, e) => {
    const bytes = atOffset(fromHex(e.hex));
    const run = (): unknown => {
      switch (e.decoder) {
        case "decodeFrame":
          return decodeFrame(bytes, e.options);
        case "decodeFrames":
          return decodeFrames(bytes, e.options);
        case "splitBatch":
          return splitBatch(decodeFrame(bytes, e.options), e.options);
      }
    };
    let caught: unknown;
    try {
      run();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FrameError);
    expect(caught).toMatchObject({ code: e.code, offset: e.offset });
  });
});
