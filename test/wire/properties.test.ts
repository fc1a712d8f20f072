// Property tests for the wire core: round trips, hostile bytes and views. Seed: see test/support/fc-setup.ts.
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import {
  decodeFrame,
  decodeFrames,
  encodeBatch,
  encodeFrame,
  encodeFrameInto,
  encodeHeader,
  frameSize,
  FrameError,
  HEADER_SIZE,
  MAX_FRAME_SIZE_LIMIT,
  Op,
  splitBatch,
  type Frame,
  type FrameInit,
} from "../../src/index.js";
import { frameInitArb, u16, u32 } from "../support/arbitraries.js";
import { atOffset, concat } from "../support/hex.js";

/** What a decoded frame must equal for the `FrameInit` it came from. */
function expectFrameMatches(frame: Frame, init: FrameInit): void {
  const extension = init.extension ?? new Uint8Array(0);
  const body = init.body ?? new Uint8Array(0);
  expect(frame.op).toBe(init.op);
  expect(frame.seq).toBe(init.seq ?? 0);
  expect(frame.version).toBe(init.version ?? 1);
  expect(frame.headerLength).toBe(HEADER_SIZE + extension.byteLength);
  expect(frame.packetLength).toBe(HEADER_SIZE + extension.byteLength + body.byteLength);
  expect(frame.extension).toStrictEqual(extension);
  expect(frame.body).toStrictEqual(body);
}

/** Runs `fn` and requires that it returns or throws a FrameError: nothing else may escape a decoder. */
function onlyFrameError(fn: () => unknown): FrameError | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (!(error instanceof FrameError)) throw new Error(`escaped a decoder: ${String(error)}`);
    expect(Number.isInteger(error.offset) && error.offset >= 0).toBe(true);
    return error;
  }
}

describe("round trips", () => {
  test.prop([frameInitArb({ anyVersion: true })])("any frame: encode → decode → encode", (init) => {
    const bytes = atOffset(encodeFrame(init));
    expect(bytes.byteLength).toBe(frameSize(init));
    const frame = decodeFrame(bytes, { versions: "any" });
    expectFrameMatches(frame, init);
    expect(encodeFrame(frame)).toStrictEqual(new Uint8Array(bytes));
  });

  test.prop([frameInitArb()])("header + body written apart equal the contiguous frame (no extension)", (init) => {
    const body = init.body ?? new Uint8Array(0);
    const header = encodeHeader({ op: init.op, seq: init.seq, version: init.version, bodyLength: body.byteLength });
    expect(header.byteLength).toBe(HEADER_SIZE);
    expect(concat([header, body])).toStrictEqual(encodeFrame({ ...init, extension: undefined }));
  });

  test.prop([fc.array(frameInitArb({ maxBody: 64 }), { maxLength: 20 }), u32])("any batch: encode → split", (inits, seq) => {
    const batch = decodeFrame(encodeBatch(inits, { seq }));
    expect(batch.op).toBe(Op.BATCH);
    expect(batch.seq).toBe(seq);
    const inner = splitBatch(batch);
    expect(inner).toHaveLength(inits.length);
    inner.forEach((frame, i) => expectFrameMatches(frame, inits[i]!));
    expect(splitBatch(batch.body)).toStrictEqual(inner);
  });

  test.prop([fc.array(frameInitArb({ maxBody: 64 }), { maxLength: 20 }), fc.uint8Array({ maxLength: 15 })])(
    "many frames into one shared buffer, then decodeFrames (with a short trailer)",
    (inits, trailer) => {
      const target = new Uint8Array(inits.reduce((n, f) => n + frameSize(f), 0) + trailer.byteLength);
      let at = 0;
      for (const init of inits) at += encodeFrameInto(target, at, init);
      expect(at).toBe(target.byteLength - trailer.byteLength);
      target.set(trailer, at);
      const result = decodeFrames(target, { allowTrailer: true });
      expect(result.frames).toHaveLength(inits.length);
      result.frames.forEach((frame, i) => expectFrameMatches(frame, inits[i]!));
      // A trailer shorter than a header can never hold a whole frame, so it all comes back.
      expect(result.trailer).toStrictEqual(trailer);
      if (trailer.byteLength > 0) expect(result.trailer.buffer).toBe(target.buffer);
    },
  );
});

describe("views, not copies", () => {
  test.prop([frameInitArb(), fc.nat({ max: 64 })])("body and extension alias the input", (init, before) => {
    const bytes = atOffset(encodeFrame(init), before);
    const frame = decodeFrame(bytes);
    expect(frame.body.buffer).toBe(bytes.buffer);
    // An empty extension is a shared zero-length array; a present one is a view.
    if (frame.extension.byteLength > 0) expect(frame.extension.buffer).toBe(bytes.buffer);
    expect(frame.body.byteOffset).toBe(bytes.byteOffset + frame.headerLength);
    if (frame.extension.byteLength > 0) expect(frame.extension.byteOffset).toBe(bytes.byteOffset + HEADER_SIZE);
    // Writing through the input shows through the view: the proof that nothing was copied.
    if (frame.body.byteLength > 0) {
      bytes[frame.headerLength] = bytes[frame.headerLength]! ^ 0xff;
      expect(frame.body[0]).toBe(bytes[frame.headerLength]);
    }
  });

  test.prop([fc.array(frameInitArb({ maxBody: 32 }), { maxLength: 8 })])("batch members alias the batch", (inits) => {
    const bytes = encodeBatch(inits);
    for (const f of splitBatch(decodeFrame(bytes))) expect(f.body.buffer).toBe(bytes.buffer);
  });
});

describe("hostile bytes raise only FrameError", () => {
  const decoders: [string, (b: Uint8Array) => unknown][] = [
    ["decodeFrame", (b) => decodeFrame(b)],
    ["decodeFrame any", (b) => decodeFrame(b, { versions: "any", maxFrameSize: MAX_FRAME_SIZE_LIMIT })],
    ["decodeFrames", (b) => decodeFrames(b)],
    ["decodeFrames trailer", (b) => decodeFrames(b, { allowTrailer: true, versions: "any" })],
    ["splitBatch body", (b) => splitBatch(b, { versions: "any" })],
  ];

  test.prop([fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 16 })])("random bytes", (bytes, before) => {
    for (const [, decode] of decoders) onlyFrameError(() => decode(atOffset(bytes, before)));
  });

  // Random bytes rarely form a plausible header; mutate valid frames so the deeper checks get hit too.
  test.prop([fc.array(frameInitArb({ maxBody: 40 }), { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 6 }), fc.nat()])(
    "mutated and cut valid frames",
    (inits, flips, cut) => {
      const bytes = concat(inits.map((f) => encodeFrame(f)));
      for (const [at, value] of flips) bytes[at % bytes.byteLength] = value;
      const cutBytes = bytes.subarray(0, cut % (bytes.byteLength + 1));
      for (const [, decode] of decoders) {
        onlyFrameError(() => decode(bytes));
        onlyFrameError(() => decode(cutBytes));
      }
      onlyFrameError(() => splitBatch(decodeFrame(encodeBatch(inits)).body.subarray(0, cut % 64)));
    },
  );
});

describe("lengths are judged from the header alone", () => {
  const header = (packetLength: number, headerLength = 16, version = 1): Uint8Array => {
    const h = new Uint8Array(16);
    const view = new DataView(h.buffer);
    view.setUint32(0, packetLength);
    view.setUint16(4, headerLength);
    view.setUint16(6, version);
    return h;
  };

  test.prop([fc.integer({ min: 0, max: 15 }), u16, u16])("packetLength < 16 is BAD_PACKET_LENGTH at the frame", (len, hl, v) => {
    for (const bytes of [header(len, hl, v), header(len, hl, v).subarray(0, 4)]) {
      expect(onlyFrameError(() => decodeFrame(bytes))).toMatchObject({ code: "BAD_PACKET_LENGTH", offset: 0 });
    }
  });

  test.prop([fc.integer({ min: 16, max: 0xffff }), fc.integer({ min: 16, max: 0xffff })])(
    "headerLength > packetLength is BAD_HEADER_LENGTH at byte 4",
    (packetLength, headerLength) => {
      fc.pre(headerLength > packetLength);
      const error = onlyFrameError(() => decodeFrame(header(packetLength, headerLength)));
      expect(error).toMatchObject({ code: "BAD_HEADER_LENGTH", offset: 4 });
    },
  );

  test.prop([fc.integer({ min: 16, max: 1 << 20 }), fc.integer({ min: 1, max: 0xffff_ffff - (1 << 20) }), fc.nat({ max: 3 })])(
    "packetLength over maxFrameSize is FRAME_TOO_LARGE, even when only the length bytes arrived",
    (limit, excess, pad) => {
      const bytes = concat([header(limit + excess), new Uint8Array(pad)]).subarray(0, 4 + pad);
      for (const decode of [() => decodeFrame(bytes, { maxFrameSize: limit }), () => decodeFrames(bytes, { maxFrameSize: limit })]) {
        expect(onlyFrameError(decode)).toMatchObject({ code: "FRAME_TOO_LARGE", offset: 0 });
      }
    },
  );

  test("a 4 GiB claim with the widest limit allocates nothing: only TRUNCATED", () => {
    const before = process.memoryUsage().arrayBuffers;
    const error = onlyFrameError(() => decodeFrame(header(MAX_FRAME_SIZE_LIMIT), { maxFrameSize: MAX_FRAME_SIZE_LIMIT }));
    expect(error).toMatchObject({ code: "TRUNCATED", offset: 0 });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });
});
