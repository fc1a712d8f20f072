// FrameDecoder.pushVisit against FrameDecoder.push: two decoders fed the same chunks must see the same
// frames (fields, bytes, and which buffer each body lies in), then the same error at the same offset,
// and the same copy and buffering counters, whatever the chunking — 1-byte chunks included — and
// whatever the bytes. Seed: see test/support/fc-setup.ts.
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { encodeFrame, FrameDecoder, FrameError, HEADER_SIZE, type DecodeOptions, type Frame, type FrameInit } from "../../src/index.js";
import { frameInitArb } from "../support/arbitraries.js";
import { chunksInOwnBuffers as cut } from "../support/chunks.js";
import { concat } from "../support/hex.js";
import { thrownBy } from "../support/thrown.js";

/** What a decoder saw of one frame: its fields, its bytes, and where its body lies. */
interface Seen {
  op: number;
  seq: number;
  version: number;
  body: Uint8Array;
  extension: Uint8Array;
  /** Index of the chunk whose buffer the body is a view of, or -1 for a copy. */
  chunk: number;
  /** byteLength of the body's ArrayBuffer when it is a copy (a slab, or exactly the frame). */
  copyBuffer: number;
  /** The body's offset in its buffer, so both decoders are seen to hand out the very same range. */
  byteOffset: number;
}

function seen(op: number, seq: number, body: Uint8Array, version: number, extension: Uint8Array, chunks: readonly Uint8Array[]): Seen {
  const chunk = chunks.findIndex((c) => c.buffer === body.buffer);
  return {
    op,
    seq,
    version,
    body: new Uint8Array(body),
    extension: new Uint8Array(extension),
    chunk,
    copyBuffer: chunk === -1 ? body.buffer.byteLength : 0,
    byteOffset: body.byteOffset,
  };
}

interface Run {
  frames: Seen[];
  error: { code: string; offset: number } | null;
  copiedBytes: number;
  bufferedBytes: number;
  bytesReceived: number;
}

function errorOf(error: unknown): { code: string; offset: number } {
  // Only the decoder's own error type may escape, whichever way it is driven.
  expect(error).toBeInstanceOf(FrameError);
  return { code: (error as FrameError).code, offset: (error as FrameError).offset };
}

function runPush(chunks: readonly Uint8Array[], options: DecodeOptions & { poolSize?: number }): Run {
  const decoder = new FrameDecoder(options);
  const out: Frame[] = [];
  let error: Run["error"] = null;
  try {
    for (const chunk of chunks) decoder.push(chunk, out);
    decoder.end();
  } catch (e) {
    error = errorOf(e);
  }
  return {
    frames: out.map((f) => seen(f.op, f.seq, f.body, f.version, f.extension, chunks)),
    error,
    copiedBytes: decoder.copiedBytes,
    bufferedBytes: decoder.bufferedBytes,
    bytesReceived: decoder.bytesReceived,
  };
}

function runVisit(chunks: readonly Uint8Array[], options: DecodeOptions & { poolSize?: number }): Run {
  const decoder = new FrameDecoder(options);
  const frames: Seen[] = [];
  let error: Run["error"] = null;
  try {
    for (const chunk of chunks) {
      const before = frames.length;
      const count = decoder.pushVisit(chunk, (op, seq, body, version, extension) => {
        frames.push(seen(op, seq, body, version, extension, chunks));
      });
      expect(count).toBe(frames.length - before);
    }
    decoder.end();
  } catch (e) {
    error = errorOf(e);
  }
  return { frames, error, copiedBytes: decoder.copiedBytes, bufferedBytes: decoder.bufferedBytes, bytesReceived: decoder.bytesReceived };
}

const bodySize = fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 300 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 40_000 }) });
const framesArb = fc.array(
  fc.tuple(frameInitArb({ maxBody: 0, anyVersion: true }), bodySize, fc.nat({ max: 255 })).map(
    ([f, n, b]) => ({ ...f, body: new Uint8Array(n).fill(b) }) as FrameInit,
  ),
  { maxLength: 10 },
);

/** Cut points: random, 1-byte chunks, on header ends, inside every header field, fixed sizes. */
function splitArb(encoded: readonly Uint8Array[]): fc.Arbitrary<readonly number[]> {
  const total = encoded.reduce((n, e) => n + e.byteLength, 0);
  const starts: number[] = [];
  let at = 0;
  for (const e of encoded) {
    starts.push(at);
    at += e.byteLength;
  }
  return fc.oneof(
    fc.array(fc.nat({ max: Math.max(total, 1) }), { maxLength: 40 }),
    fc.constant(total <= 20_000 ? [...Array(total).keys()] : []),
    fc.constant(starts.map((s) => s + HEADER_SIZE)),
    fc.constant(starts.flatMap((s) => [s + 1, s + 4, s + 6, s + 8, s + 15])),
    fc.integer({ min: 1, max: 2000 }).map((size) => Array.from({ length: Math.floor(total / size) }, (_, i) => (i + 1) * size)),
  );
}

const optionsArb = fc.record(
  {
    poolSize: fc.constantFrom(undefined, 0, 64, 4096),
    maxFrameSize: fc.constantFrom(undefined, 16, 100, 4096, 70_000),
    versions: fc.constantFrom<DecodeOptions["versions"]>(undefined, "any", [1], [0, 1, 2], [7]),
  },
  { requiredKeys: [] },
);

describe("pushVisit sees exactly what push returns", () => {
  test.prop(
    [
      framesArb.chain((inits) => {
        const encoded = inits.map((f) => encodeFrame(f));
        return fc.tuple(fc.constant(encoded), splitArb(encoded));
      }),
      optionsArb,
    ],
    { numRuns: 200 },
  )("valid streams, any chunking, any limits", ([encoded, positions], options) => {
    const chunks = cut(concat(encoded), positions);
    const byPush = runPush(chunks, options);
    expect(runVisit(chunks, options)).toStrictEqual(byPush);
  });

  // Mutating valid frames reaches every header check at every position; random tails and garbage the rest.
  test.prop(
    [
      fc.array(frameInitArb({ maxBody: 120, anyVersion: true }), { minLength: 1, maxLength: 6 }),
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 4 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      fc.boolean(),
      optionsArb,
    ],
    { numRuns: 400 },
  )("hostile streams: the same frames, then the same error at the same offset", (inits, flips, tail, positions, oneByte, options) => {
    const stream = concat([...inits.map((f) => encodeFrame(f)), tail]);
    for (const [at, value] of flips) stream[at % stream.byteLength] = value;
    const chunks = cut(stream, oneByte ? [...Array(stream.byteLength).keys()] : positions);
    const byPush = runPush(chunks, options);
    expect(runVisit(chunks, options)).toStrictEqual(byPush);
  });

  test.prop([fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 10 }), optionsArb])("random bytes", (bytes, positions, options) => {
    const chunks = cut(bytes, positions);
    expect(runVisit(chunks, options)).toStrictEqual(runPush(chunks, options));
  });
});

describe("zero-copy and the one copy", () => {
  test("frames inside a chunk are views of it; a straddling frame is copied once", () => {
    const a = encodeFrame({ op: 4, seq: 1, body: new Uint8Array(100).fill(1), extension: new Uint8Array([9, 9]) });
    const b = encodeFrame({ op: 5, seq: 2, body: new Uint8Array(50).fill(2) });
    const stream = concat([a, b]);
    const first = stream.subarray(0, a.byteLength + 10);
    const second = stream.subarray(a.byteLength + 10);
    const decoder = new FrameDecoder();
    const bodies: Uint8Array[] = [];
    const extensions: Uint8Array[] = [];
    expect(decoder.pushVisit(first, (_op, _seq, body, _version, extension) => void (bodies.push(body), extensions.push(extension)))).toBe(1);
    expect(bodies[0]!.buffer).toBe(stream.buffer);
    expect(extensions[0]).toStrictEqual(new Uint8Array([9, 9]));
    expect(extensions[0]!.buffer).toBe(stream.buffer);
    // The first 10 bytes of the second frame went into its slab region; nothing else was copied.
    expect(decoder.copiedBytes).toBe(10);
    // The second frame straddles: one copy of its bytes, in a slab region.
    const copy = new Uint8Array(second); // its own buffer, so the check below can tell
    expect(decoder.pushVisit(copy, (_op, _seq, body, _version, extension) => void (bodies.push(body), extensions.push(extension)))).toBe(1);
    expect(bodies[1]).toStrictEqual(new Uint8Array(50).fill(2));
    expect(bodies[1]!.buffer).not.toBe(copy.buffer);
    expect(decoder.copiedBytes).toBe(b.byteLength);
    expect(extensions[1]!.byteLength).toBe(0);
  });

  test("a body handed to the visitor stays valid after the call and after later pushes", () => {
    const frame = encodeFrame({ op: 4, seq: 1, body: new Uint8Array([1, 2, 3, 4, 5]) });
    const decoder = new FrameDecoder();
    const kept: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) for (const byte of frame) decoder.pushVisit(new Uint8Array([byte]), (_o, _s, body) => void kept.push(body));
    expect(kept).toStrictEqual([1, 2, 3].map(() => new Uint8Array([1, 2, 3, 4, 5])));
  });
});

describe("a visitor that throws", () => {
  const two = concat([encodeFrame({ op: 4, seq: 1 }), encodeFrame({ op: 4, seq: 2 })]);

  test("its exception propagates and the decoder stops, with that exception as the cause", () => {
    const decoder = new FrameDecoder();
    const boom = new Error("boom");
    const seqs: number[] = [];
    expect(() =>
      decoder.pushVisit(two, (_op, seq) => {
        seqs.push(seq);
        throw boom;
      }),
    ).toThrow(boom);
    expect(seqs).toStrictEqual([1]);
    // The rest of the chunk is lost, so the stream is out of sync: every later call refuses.
    const later = thrownBy(Error, () => decoder.push(two));
    expect(later.cause).toBe(boom);
    expect(thrownBy(Error, () => decoder.pushVisit(two, () => {})).cause).toBe(boom);
    expect(thrownBy(Error, () => decoder.end()).cause).toBe(boom);
    // Not the peer's fault: the decoder's own error stays unset.
    expect(decoder.error).toBeNull();
  });

  test("a FrameError thrown by the visitor is not taken for the decoder's own", () => {
    const decoder = new FrameDecoder();
    const foreign = new FrameError("TRUNCATED", 99, "from the application");
    expect(() =>
      decoder.pushVisit(two, () => {
        throw foreign;
      }),
    ).toThrow(foreign);
    expect(decoder.error).toBeNull();
    expect(thrownBy(Error, () => decoder.push(two)).cause).toBe(foreign);
  });

  test("calling back into the decoder from a visitor is refused", () => {
    const decoder = new FrameDecoder();
    let inner: unknown;
    expect(() =>
      decoder.pushVisit(two, () => {
        try {
          decoder.push(two);
        } catch (error) {
          inner = error;
          throw error;
        }
      }),
    ).toThrow(/inside its own frame visitor/);
    expect(inner).toBeInstanceOf(Error);
    expect(inner).not.toBeInstanceOf(FrameError);
  });

  test("a bad header after good frames: the good ones are visited, then the FrameError sticks", () => {
    const bad = new Uint8Array(16); // packetLength 0
    const decoder = new FrameDecoder();
    const seqs: number[] = [];
    const error = thrownBy(FrameError, () => decoder.pushVisit(concat([two, bad]), (_op, seq) => void seqs.push(seq)));
    expect(seqs).toStrictEqual([1, 2]);
    expect(error).toMatchObject({ code: "BAD_PACKET_LENGTH", offset: 32 });
    expect(decoder.error).toBe(error);
    expect(() => decoder.pushVisit(two, () => {})).toThrow(error);
  });
});
