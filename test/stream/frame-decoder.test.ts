// The streaming decoder under arbitrary chunking and hostile streams. Seed: see test/support/fc-setup.ts.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, vi } from "vitest";
import { decodeFrames, encodeFrame, FrameDecoder, FrameError, HEADER_SIZE, MAX_FRAME_SIZE_LIMIT, type Frame, type FrameInit } from "../../src/index.js";
import { frameInitArb } from "../support/arbitraries.js";
import { chunksInOwnBuffers as cut, ownChunksOf as fixedChunks } from "../support/chunks.js";
import { concat } from "../support/hex.js";
import { runs } from "../support/runs.js";

/** Frame boundaries and header ends in a concatenation of encoded frames. */
function boundaries(encoded: readonly Uint8Array[]): { starts: number[]; headerEnds: number[] } {
  const starts: number[] = [];
  const headerEnds: number[] = [];
  let at = 0;
  for (const e of encoded) {
    starts.push(at);
    headerEnds.push(at + HEADER_SIZE);
    at += e.byteLength;
  }
  return { starts, headerEnds };
}

function feed(decoder: FrameDecoder, chunks: readonly Uint8Array[]): { frames: Frame[]; source: Uint8Array[] } {
  const frames: Frame[] = [];
  const source: Uint8Array[] = [];
  for (const chunk of chunks) {
    for (const f of decoder.push(chunk)) {
      frames.push(f);
      source.push(chunk);
    }
  }
  decoder.end();
  return { frames, source };
}

/** The bytes frames[i] spans in the stream, and whether a chunk boundary falls strictly inside it. */
function straddles(chunks: readonly Uint8Array[], start: number, length: number): boolean {
  let at = 0;
  for (const c of chunks) {
    const end = at + c.byteLength;
    if (start >= at && start + length <= end) return false;
    at = end;
  }
  return true;
}

const bodySize = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 64 * 1024 }) },
);
const framesArb = fc.array(
  fc.tuple(frameInitArb({ maxBody: 0 }), bodySize, fc.nat({ max: 255 })).map(([f, n, b]) => ({ ...f, body: new Uint8Array(n).fill(b) }) as FrameInit),
  { maxLength: 12 },
);

const splitArb = (total: number, encoded: readonly Uint8Array[]): fc.Arbitrary<readonly number[]> => {
  const { starts, headerEnds } = boundaries(encoded);
  return fc.oneof(
    fc.array(fc.nat({ max: Math.max(total, 1) }), { maxLength: 40 }),
    fc.constant([...Array(total).keys()]), // 1-byte chunks
    fc.constant(headerEnds), // chunks that end exactly on headers
    fc.constant(starts.flatMap((s) => [s + 1, s + 4, s + 6, s + 8, s + 15])), // cut inside every header field
    fc.integer({ min: 1, max: 2000 }).map((size) => Array.from({ length: Math.floor(total / size) }, (_, i) => (i + 1) * size)),
  );
};

describe("any split of any frame list yields exactly those frames", () => {
  test.prop([framesArb.chain((inits) => {
    const encoded = inits.map((f) => encodeFrame(f));
    const total = encoded.reduce((n, e) => n + e.byteLength, 0);
    return fc.tuple(fc.constant(inits), fc.constant(encoded), splitArb(total, encoded));
  }), fc.constantFrom(undefined, 0, 64)], { numRuns: runs(150) })("frames, views and copy count", ([inits, encoded, positions], poolSize) => {
    const stream = concat(encoded);
    const chunks = cut(stream, positions);
    const decoder = new FrameDecoder({ poolSize });
    const { frames, source } = feed(decoder, chunks);
    expect(frames).toHaveLength(inits.length);
    const { starts } = boundaries(encoded);
    const chunkBuffers = new Set<ArrayBufferLike>(chunks.map((c) => c.buffer));
    let straddlingBytes = 0;
    frames.forEach((frame, i) => {
      // Buffer.compare: deep-equal over 64 KiB arrays dominates the run time otherwise.
      expect(Buffer.compare(encodeFrame(frame), encoded[i]!)).toBe(0);
      if (straddles(chunks, starts[i]!, frame.packetLength)) {
        straddlingBytes += frame.packetLength + HEADER_SIZE;
        // A straddling frame was copied out of the chunks: it aliases none of them.
        expect(chunkBuffers.has(frame.body.buffer)).toBe(false);
        // Without a pool (or too big for it) it has an ArrayBuffer of exactly packetLength bytes.
        if (poolSize === 0 || frame.packetLength > (poolSize ?? 32768) / 4) expect(frame.body.buffer.byteLength).toBe(frame.packetLength);
      } else {
        // A frame inside one chunk is a view of that chunk: no copy.
        expect(frame.body.buffer).toBe(source[i]!.buffer);
      }
    });
    expect(decoder.copiedBytes).toBeLessThanOrEqual(straddlingBytes);
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.bytesReceived).toBe(stream.byteLength);
  });

  test("no split: zero copies, every body a view of the one chunk", () => {
    const stream = concat([encodeFrame({ op: 4, seq: 1, body: new Uint8Array(100) }), encodeFrame({ op: 5, seq: 1 })]);
    const decoder = new FrameDecoder();
    const frames = decoder.push(stream);
    expect(frames.map((f) => f.op)).toStrictEqual([4, 5]);
    expect(frames[0]!.body.buffer).toBe(stream.buffer);
    expect(decoder.copiedBytes).toBe(0);
  });

  test("one 8 MiB frame in 1460-byte chunks: each byte copied once", () => {
    const body = new Uint8Array(8 * 1024 * 1024 - HEADER_SIZE);
    for (let i = 0; i < body.length; i += 4093) body[i] = i & 0xff;
    const stream = encodeFrame({ op: 1000, seq: 1, body });
    const decoder = new FrameDecoder({ maxFrameSize: 8 * 1024 * 1024 });
    const frames: Frame[] = [];
    for (let at = 0; at < stream.length; at += 1460) frames.push(...decoder.push(stream.subarray(at, at + 1460)));
    decoder.end();
    expect(frames).toHaveLength(1);
    // Buffer.compare, not toStrictEqual: a deep equal over 8 M elements takes a minute.
    expect(Buffer.compare(frames[0]!.body, body)).toBe(0);
    expect(decoder.copiedBytes).toBe(stream.byteLength);
  });
});

describe("hostile streams", () => {
  const header = (packetLength: number, headerLength = 16, version = 1): Uint8Array => {
    const h = new Uint8Array(16);
    const v = new DataView(h.buffer);
    v.setUint32(0, packetLength);
    v.setUint16(4, headerLength);
    v.setUint16(6, version);
    v.setUint32(8, 4);
    return h;
  };

  const bad: [string, Uint8Array, string, number][] = [
    ["length over the limit", header(1_048_577), "FRAME_TOO_LARGE", 0],
    ["length below 16", header(15), "BAD_PACKET_LENGTH", 0],
    ["length zero", header(0), "BAD_PACKET_LENGTH", 0],
    ["headerLength above packetLength", header(20, 24), "BAD_HEADER_LENGTH", 4],
    ["headerLength below 16", header(20, 8), "BAD_HEADER_LENGTH", 4],
    ["version 9", header(16, 16, 9), "UNSUPPORTED_VERSION", 6],
  ];

  test.prop([fc.constantFrom(...bad), fc.array(frameInitArb({ maxBody: 50 }), { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 20 })])(
    "a bad header errors at its stream offset, whatever the split, and stays failed",
    ([, badHeader, code, field], good, positions) => {
      const prefix = concat(good.map((f) => encodeFrame(f)));
      const stream = concat([prefix, badHeader, new Uint8Array(40)]);
      const decoder = new FrameDecoder();
      const seen: Frame[] = [];
      let caught: unknown;
      for (const chunk of cut(stream, positions)) {
        try {
          decoder.push(chunk, seen);
        } catch (error) {
          caught = error;
          break;
        }
      }
      expect(caught).toBeInstanceOf(FrameError);
      expect(caught).toMatchObject({ code, offset: prefix.byteLength + field });
      // The frames before the bad one were all delivered (into `out`), none after it.
      expect(seen).toHaveLength(good.length);
      // Sticky: the same error, every time.
      expect(() => decoder.push(new Uint8Array(16))).toThrow(caught as Error);
      expect(() => decoder.end()).toThrow(caught as Error);
      expect(decoder.error).toBe(caught);
    },
  );

  // A small frame (pooled) whose first chunk ends inside bytes 4–7 continues on the short-chunk path
  // (chunks smaller than what the frame still needs): its header fields must be checked there too, and
  // as soon as their bytes are in.
  test.each([
    ["headerLength 15", header(40, 15), "BAD_HEADER_LENGTH", 4, 6],
    ["headerLength above packetLength", header(40, 41), "BAD_HEADER_LENGTH", 4, 6],
    ["version 2", header(40, 16, 2), "UNSUPPORTED_VERSION", 6, 8],
  ])("a small frame's %s is caught on the short-chunk path, the moment its bytes are in", (_name, bad, code, field, needed) => {
    const prefix = encodeFrame({ op: 2, seq: 1 });
    const stream = concat([prefix, bad, new Uint8Array(24)]);
    for (let first = 4; first < needed; first++) {
      for (let second = 1; first + second <= 12; second++) {
        const decoder = new FrameDecoder();
        expect(decoder.push(stream.subarray(0, 16 + first))).toHaveLength(1);
        const push = (): Frame[] => decoder.push(stream.subarray(16 + first, 16 + first + second));
        if (first + second < needed) {
          expect(push()).toHaveLength(0);
          expect(() => decoder.push(stream.subarray(16 + first + second))).toThrow(expect.objectContaining({ code, offset: 16 + field }));
        } else {
          expect(push).toThrow(expect.objectContaining({ code, offset: 16 + field }));
        }
        expect(decoder.error).toMatchObject({ code, offset: 16 + field });
      }
    }
  });

  test("the limit is applied the moment the 4 length bytes are in, before the rest of the header", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 100 });
    expect(decoder.push(new Uint8Array([0, 0]))).toHaveLength(0);
    expect(() => decoder.push(new Uint8Array([0, 101]))).toThrow(expect.objectContaining({ code: "FRAME_TOO_LARGE", offset: 0 }));
  });

  test("a stream of zeros cannot spin: it fails on its first four bytes", () => {
    const decoder = new FrameDecoder();
    expect(() => decoder.push(new Uint8Array(1 << 20))).toThrow(expect.objectContaining({ code: "BAD_PACKET_LENGTH", offset: 0 }));
  });

  test("a huge claimed length followed by nothing holds only the header", () => {
    const before = process.memoryUsage().arrayBuffers;
    const decoder = new FrameDecoder({ maxFrameSize: MAX_FRAME_SIZE_LIMIT });
    decoder.push(header(MAX_FRAME_SIZE_LIMIT));
    expect(decoder.bufferedBytes).toBe(16);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
    expect(() => decoder.end()).toThrow(expect.objectContaining({ code: "TRUNCATED", offset: 0 }));
  });

  test("end() inside a frame is TRUNCATED at the frame's stream offset", () => {
    const decoder = new FrameDecoder();
    const one = encodeFrame({ op: 2, seq: 1 });
    const two = encodeFrame({ op: 4, seq: 2, body: new Uint8Array(10) });
    decoder.push(concat([one, two.subarray(0, 20)]));
    expect(decoder.bufferedBytes).toBe(20);
    expect(() => decoder.end()).toThrow(expect.objectContaining({ code: "TRUNCATED", offset: 16 }));
  });

  test("end() inside a header is TRUNCATED too", () => {
    const decoder = new FrameDecoder();
    decoder.push(new Uint8Array([0, 0, 0, 16, 0]));
    expect(decoder.bufferedBytes).toBe(5);
    expect(() => decoder.end()).toThrow(expect.objectContaining({ code: "TRUNCATED", offset: 0 }));
  });

  test.prop([fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 10 })])("random bytes raise only FrameError", (bytes, positions) => {
    const decoder = new FrameDecoder({ versions: "any" });
    try {
      for (const chunk of cut(bytes, positions)) decoder.push(chunk);
      decoder.end();
    } catch (error) {
      expect(error).toBeInstanceOf(FrameError);
    }
  });
});

describe("API", () => {
  test("push after end is misuse", () => {
    const decoder = new FrameDecoder();
    decoder.end();
    expect(() => decoder.push(new Uint8Array(1))).toThrow(/after end/);
  });
  test("invalid options are the caller's error", () => {
    for (const poolSize of [-1, 1.5, 2 ** 30 + 1, Number.NaN]) expect(() => new FrameDecoder({ poolSize })).toThrow(RangeError);
    for (const versions of [[], [70000], [-1]]) expect(() => new FrameDecoder({ versions })).toThrow(RangeError);
    expect(() => new FrameDecoder({ maxFrameSize: 15 })).toThrow(RangeError);
    // The bounds themselves are accepted: 0 (no pool) and 2^30.
    expect(new FrameDecoder({ poolSize: 0 }).push(encodeFrame({ op: 2 }))).toHaveLength(1);
    expect(new FrameDecoder({ poolSize: 2 ** 30 }).bufferedBytes).toBe(0);
  });
  test("an empty chunk completes nothing", () => {
    expect(new FrameDecoder().push(new Uint8Array(0))).toHaveLength(0);
  });
  test("a 16-byte frame whose header straddles gets its own buffer, not the scratch", () => {
    const decoder = new FrameDecoder();
    const a = encodeFrame({ op: 5, seq: 1 });
    const b = encodeFrame({ op: 5, seq: 2 });
    const stream = concat([a, b]);
    const got: Frame[] = [];
    for (const c of fixedChunks(stream, 5)) got.push(...decoder.push(c));
    expect(got.map((f) => f.seq)).toStrictEqual([1, 2]);
    expect(encodeFrame(got[0]!)).toStrictEqual(a);
  });
});

describe("differential: the stream decoder agrees with decodeFrames on the whole buffer", () => {
  // Random bytes almost always fail at byte 0 (a huge length); mutating valid frames reaches every check.
  test.prop([
    fc.array(frameInitArb({ maxBody: 120 }), { minLength: 1, maxLength: 6 }),
    fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 4 }),
    fc.array(fc.nat(), { maxLength: 30 }),
    fc.constantFrom(undefined, 0, 256),
  ], { numRuns: runs(300) })("same frames, then the same error at the same offset", (inits, flips, positions, poolSize) => {
    const stream = concat(inits.map((f) => encodeFrame(f)));
    for (const [at, value] of flips) stream[at % stream.byteLength] = value;
    let expected: unknown;
    let whole: Frame[] = [];
    try {
      whole = decodeFrames(stream, { maxFrameSize: 4096 }).frames;
    } catch (error) {
      expected = error;
    }
    const decoder = new FrameDecoder({ maxFrameSize: 4096, poolSize });
    const got: Frame[] = [];
    let caught: unknown;
    try {
      for (const chunk of cut(stream, positions)) decoder.push(chunk, got);
      decoder.end();
    } catch (error) {
      caught = error;
    }
    if (expected === undefined) {
      expect(caught).toBeUndefined();
      expect(got.map((f) => encodeFrame(f))).toStrictEqual(whole.map((f) => encodeFrame(f)));
    } else {
      expect(caught).toBeInstanceOf(FrameError);
      expect({ code: (caught as FrameError).code, offset: (caught as FrameError).offset }).toStrictEqual({
        code: (expected as FrameError).code,
        offset: (expected as FrameError).offset,
      });
    }
  });
});

describe("exact copy counts", () => {
  const small = encodeFrame({ op: 4, seq: 1, body: new Uint8Array(84) }); // 100 bytes: pooled
  const large = encodeFrame({ op: 4, seq: 1, body: new Uint8Array(10_000) }); // over 32 KiB / 4: not pooled
  test.each([
    ["small frame, split after the length", small, 6, 100],
    ["small frame, split inside the length (its 4 length bytes wait in the scratch)", small, 2, 104],
    ["large frame, split after the header", large, 20, large.byteLength],
    ["large frame, split inside the header (its 16 header bytes wait in the scratch)", large, 9, large.byteLength + 16],
    ["large frame, header exactly ends the chunk", large, 16, large.byteLength],
  ])("%s", (_name, frame, at, copied) => {
    const decoder = new FrameDecoder();
    expect(decoder.push(frame.subarray(0, at))).toHaveLength(0);
    const frames = decoder.push(frame.subarray(at));
    expect(frames).toHaveLength(1);
    expect(encodeFrame(frames[0]!)).toStrictEqual(frame);
    expect(decoder.copiedBytes).toBe(copied);
  });

  test("a large frame holds views of its chunks until it completes: memory tracks bytes received", () => {
    const decoder = new FrameDecoder({ maxFrameSize: MAX_FRAME_SIZE_LIMIT });
    const header = new Uint8Array(17);
    new DataView(header.buffer).setUint32(0, MAX_FRAME_SIZE_LIMIT);
    new DataView(header.buffer).setUint16(4, 16);
    new DataView(header.buffer).setUint16(6, 1);
    const before = process.memoryUsage().arrayBuffers;
    decoder.push(header);
    for (let i = 0; i < 100; i++) decoder.push(new Uint8Array(1000));
    expect(decoder.bufferedBytes).toBe(17 + 100_000);
    expect(decoder.copiedBytes).toBe(0);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 << 20);
  });

  test("memory that cannot be had is a sticky FrameError, not a RangeError", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 4 << 20 });
    const frame = encodeFrame({ op: 1000, body: new Uint8Array((2 << 20) - 16) });
    decoder.push(frame.subarray(0, 100));
    const Real = ArrayBuffer;
    vi.stubGlobal(
      "ArrayBuffer",
      class extends Real {
        constructor(length: number) {
          if (length >= 2 << 20) throw new RangeError("Array buffer allocation failed");
          super(length);
        }
      },
    );
    let caught: unknown;
    try {
      decoder.push(frame.subarray(100));
    } catch (error) {
      caught = error;
    } finally {
      vi.unstubAllGlobals();
    }
    expect(caught).toBeInstanceOf(FrameError);
    expect(caught).toMatchObject({ code: "FRAME_TOO_LARGE", offset: 0 });
    expect(() => decoder.push(new Uint8Array(1))).toThrow(caught as Error);
  });
});
