// The same frames through the Node Transform, the WHATWG TransformStream and the async iterator; errors
// propagate as the stream's error, after the frames that came before them.
import { Readable } from "node:stream";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { decodeStream, encodeFrame, frameDecoderStream, FrameError, type Frame, type FrameInit } from "../../src/index.js";
import { FrameDecoderTransform } from "../../src/node/index.js";
import { frameInitArb } from "../support/arbitraries.js";
import { concat } from "../support/hex.js";

type Adapter = (chunks: Uint8Array[]) => Promise<{ frames: Frame[]; error: unknown }>;

const viaTransform: Adapter = (chunks) =>
  new Promise((resolve) => {
    // Flowing mode, as `socket.pipe(decoder).on("data", …)` uses it.
    const frames: Frame[] = [];
    const transform = new FrameDecoderTransform();
    transform.on("data", (f: Frame) => frames.push(f));
    transform.on("error", (error) => resolve({ frames, error }));
    transform.on("end", () => resolve({ frames, error: undefined }));
    Readable.from(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength))).pipe(transform);
  });

const viaWebStream: Adapter = async (chunks) => {
  const frames: Frame[] = [];
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
  try {
    await source.pipeThrough(frameDecoderStream()).pipeTo(new WritableStream({ write: (f) => void frames.push(f) }));
    return { frames, error: undefined };
  } catch (error) {
    return { frames, error };
  }
};

const viaIterator: Adapter = async (chunks) => {
  const frames: Frame[] = [];
  async function* source(): AsyncGenerator<Uint8Array> {
    for (const c of chunks) yield c;
  }
  try {
    for await (const f of decodeStream(source())) frames.push(f);
    return { frames, error: undefined };
  } catch (error) {
    return { frames, error };
  }
};

const adapters: [string, Adapter][] = [
  ["Node Transform", viaTransform],
  ["TransformStream", viaWebStream],
  ["decodeStream", viaIterator],
];

function split(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

describe.each(adapters)("%s", (_name, adapter) => {
  test.prop([fc.array(frameInitArb({ maxBody: 200 }), { maxLength: 10 }), fc.integer({ min: 1, max: 300 })], { numRuns: 40 })(
    "yields the frames of any chunking",
    async (inits: FrameInit[], size) => {
      const encoded = inits.map((f) => encodeFrame(f));
      const { frames, error } = await adapter(split(concat(encoded), size));
      expect(error).toBeUndefined();
      expect(frames.map((f) => encodeFrame(f))).toStrictEqual(encoded);
    },
  );

  test("a bad header errors the stream after the good frames of earlier chunks", async () => {
    const good = [encodeFrame({ op: 2, seq: 1 }), encodeFrame({ op: 4, seq: 2, body: new Uint8Array([1, 2]) })];
    const bad = new Uint8Array([0, 0, 0, 3, 0, 16, 0, 1]);
    const { frames, error } = await adapter([concat(good), bad]);
    expect(frames.map((f) => f.seq)).toStrictEqual([1, 2]);
    expect(error).toBeInstanceOf(FrameError);
    expect(error).toMatchObject({ code: "BAD_PACKET_LENGTH", offset: 34 });
  });

  test("ending inside a frame is TRUNCATED", async () => {
    const frame = encodeFrame({ op: 4, seq: 1, body: new Uint8Array(10) });
    const { frames, error } = await adapter([frame.subarray(0, 20)]);
    expect(frames).toHaveLength(0);
    expect(error).toMatchObject({ code: "TRUNCATED", offset: 0 });
  });
});

test("decodeStream also yields the frames before a bad header in the same chunk", async () => {
  const good = [encodeFrame({ op: 2, seq: 1 }), encodeFrame({ op: 4, seq: 2, body: new Uint8Array([1, 2]) })];
  const { frames, error } = await viaIterator([concat([...good, new Uint8Array([0, 0, 0, 3])])]);
  expect(frames.map((f) => f.seq)).toStrictEqual([1, 2]);
  expect(error).toMatchObject({ code: "BAD_PACKET_LENGTH", offset: 34 });
});
