// FrameWriter against a recording Writable and over real loopback TCP.
import { once } from "node:events";
import net from "node:net";
import { Writable } from "node:stream";
import { describe, expect, test } from "vitest";
import { decodeFrames, encodeFrame, Op, splitBatch, type Frame } from "../../src/index.js";
import { FrameDecoderTransform, FrameWriter } from "../../src/node/index.js";
import { concat } from "../support/hex.js";

/** A Writable that records each _write/_writev call as one group of chunks. */
class Recorder extends Writable {
  readonly calls: Uint8Array[][] = [];
  constructor(highWaterMark = 1 << 20) {
    super({ highWaterMark });
  }
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.calls.push([chunk]);
    setImmediate(cb);
  }
  override _writev(chunks: { chunk: Buffer }[], cb: () => void): void {
    this.calls.push(chunks.map((c) => c.chunk));
    setImmediate(cb);
  }
  bytes(): Uint8Array {
    return concat(this.calls.flat());
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const frames = [
  { op: Op.SEND, seq: 1, body: new TextEncoder().encode("hello") },
  { op: Op.HEARTBEAT, seq: 2 },
  { op: Op.SEND, seq: 3, body: new Uint8Array(300).fill(9), extension: new Uint8Array([1, 2]) },
  { op: 1000, seq: 4, body: new Uint8Array([7]) },
];
const expected = concat(frames.map((f) => encodeFrame(f)));

describe("FrameWriter", () => {
  test("none: header and body go out together without joining, in order", async () => {
    const sink = new Recorder();
    const writer = new FrameWriter(sink);
    // The first write starts a _write; what follows while it is in flight is buffered and goes as writev.
    for (const f of frames) expect(writer.write(f)).toBe(true);
    await tick();
    await tick();
    expect(sink.bytes()).toStrictEqual(expected);
    // The body of frame 0 was handed over by reference, not copied into a joined buffer.
    const chunks = sink.calls.flat();
    expect(chunks.some((c) => c.byteLength === 5 && c.buffer === frames[0]!.body!.buffer)).toBe(true);
  });

  test("concat: the frames of one tick become one write", async () => {
    const sink = new Recorder();
    const writer = new FrameWriter(sink, { coalesce: "concat" });
    for (const f of frames) writer.write(f);
    expect(sink.calls).toHaveLength(0);
    expect(writer.pendingBytes).toBe(expected.byteLength);
    await tick();
    expect(sink.calls).toHaveLength(1);
    expect(sink.bytes()).toStrictEqual(expected);
  });

  test("batch: the frames of one tick become one BATCH frame", async () => {
    const sink = new Recorder();
    const writer = new FrameWriter(sink, { coalesce: "batch" });
    for (const f of frames) writer.write(f);
    await tick();
    expect(sink.calls).toHaveLength(1);
    const batch = decodeFrames(sink.bytes()).frames;
    expect(batch).toHaveLength(1);
    expect(batch[0]!.op).toBe(Op.BATCH);
    expect(concat(splitBatch(batch[0]!).map((f) => encodeFrame(f)))).toStrictEqual(expected);
  });

  test("a group is flushed early at maxCoalesceBytes, order kept; big frames go alone", async () => {
    const sink = new Recorder();
    const writer = new FrameWriter(sink, { coalesce: "concat", maxCoalesceBytes: 100 });
    const many = Array.from({ length: 20 }, (_, i) => ({ op: Op.SEND, seq: i + 1, body: new Uint8Array(i * 3) }));
    many.splice(5, 0, { op: Op.SEND, seq: 99, body: new Uint8Array(500) });
    const writes: number[] = [];
    const write = sink.write.bind(sink);
    sink.write = ((chunk: Uint8Array) => (writes.push(chunk.byteLength), write(chunk))) as typeof sink.write;
    for (const f of many) writer.write(f);
    await tick();
    await tick();
    // Every group stays within the limit; the one frame larger than it went alone, its 500-byte body
    // written by reference after its header.
    expect(writes.filter((n) => n > 100)).toStrictEqual([500]);
    expect(writes.length).toBeGreaterThan(3);
    expect(decodeFrames(sink.bytes()).frames.map((f) => f.seq)).toStrictEqual(many.map((f) => f.seq));
  });

  test("backpressure: write returns false when the sink is full, drained() waits for drain", async () => {
    const sink = new Recorder(64);
    const writer = new FrameWriter(sink);
    expect(writer.write({ op: Op.SEND, seq: 1, body: new Uint8Array(100) })).toBe(false);
    let drained = false;
    const wait = writer.drained().then(() => (drained = true));
    expect(drained).toBe(false);
    await wait;
    expect(sink.writableNeedDrain).toBe(false);
    await expect(writer.drained()).resolves.toBeUndefined();
  });

  test("coalescing captures the fields at write time: changing the object afterwards changes nothing", async () => {
    const sink = new Recorder();
    const writer = new FrameWriter(sink, { coalesce: "concat" });
    const f = { op: Op.SEND, seq: 1, body: new Uint8Array([1, 2, 3]) };
    const g: { op: number; seq: number } = { op: Op.ACK, seq: 1 };
    writer.write(f);
    writer.write(g);
    f.body = new Uint8Array(100);
    f.seq = 99;
    g.op = Op.BATCH;
    await tick();
    expect(sink.bytes()).toStrictEqual(concat([encodeFrame({ op: Op.SEND, seq: 1, body: new Uint8Array([1, 2, 3]) }), encodeFrame({ op: Op.ACK, seq: 1 })]));
  });

  test("bad fields throw at write time, even when coalescing", () => {
    const writer = new FrameWriter(new Recorder(), { coalesce: "batch" });
    expect(() => writer.write({ op: -1 })).toThrow(RangeError);
    expect(() => new FrameWriter(new Recorder(), { coalesce: "zip" as "none" })).toThrow(RangeError);
  });
});

describe("FrameWriter.writeEncoded (whole frames, as an engine's pollTransmit returns them)", () => {
  const encoded = frames.map((f) => encodeFrame(f));

  test("none: each frame is written as is, by reference", async () => {
    const sink = new Recorder();
    const writer = new FrameWriter(sink);
    for (const f of encoded) writer.writeEncoded(f);
    await tick();
    await tick();
    expect(sink.bytes()).toStrictEqual(expected);
    expect(sink.calls.flat().some((c) => c.buffer === encoded[0]!.buffer)).toBe(true);
  });

  test("concat: encoded frames and fields mixed in one tick become one write, in order", async () => {
    const sink = new Recorder();
    const writer = new FrameWriter(sink, { coalesce: "concat" });
    writer.writeEncoded(encoded[0]!);
    writer.write(frames[1]!);
    writer.writeEncoded(encoded[2]!);
    writer.writeEncoded(encoded[3]!);
    expect(writer.pendingBytes).toBe(expected.byteLength);
    await tick();
    expect(sink.calls).toHaveLength(1);
    expect(sink.bytes()).toStrictEqual(expected);
  });

  test("batch: encoded frames join the BATCH; an encoded BATCH goes alone", async () => {
    const sink = new Recorder();
    const writer = new FrameWriter(sink, { coalesce: "batch" });
    for (const f of encoded) writer.writeEncoded(f);
    await tick();
    const [batch] = decodeFrames(sink.bytes()).frames;
    expect(splitBatch(batch!).map((f) => [f.op, f.seq])).toEqual(frames.map((f) => [f.op, f.seq]));
    const alone = new Recorder();
    const second = new FrameWriter(alone, { coalesce: "batch" });
    second.writeEncoded(sink.bytes());
    await tick();
    expect(alone.bytes()).toStrictEqual(sink.bytes());
  });

  test("refuses what is not one whole frame", () => {
    const writer = new FrameWriter(new Recorder(), { coalesce: "concat" });
    expect(() => writer.writeEncoded(encoded[0]!.subarray(0, 10))).toThrow(RangeError);
    expect(() => writer.writeEncoded(concat([encoded[0]!, encoded[1]!]))).toThrow(/packetLength/);
    expect(() => new FrameWriter(new Recorder(), { coalesce: "batch" }).writeEncoded(concat([encoded[0]!, encoded[1]!]))).toThrow(RangeError);
    expect(() => writer.writeEncoded("frame" as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe("over loopback TCP", () => {
  test.each(["none", "batch", "concat"] as const)("1000 frames arrive whole and in order (%s)", async (coalesce) => {
    const received: Frame[] = [];
    const server = net.createServer((socket) => {
      const decoder = new FrameDecoderTransform();
      socket.pipe(decoder);
      decoder.on("data", (f: Frame) => {
        if (f.op === Op.BATCH) received.push(...splitBatch(f));
        else received.push(f);
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as net.AddressInfo;
    const socket = net.connect(port, "127.0.0.1");
    await once(socket, "connect");
    const writer = new FrameWriter(socket, { coalesce });
    const sent = Array.from({ length: 1000 }, (_, i) => ({ op: Op.SEND, seq: i + 1, body: new Uint8Array(i % 700).fill(i & 0xff) }));
    for (const f of sent) if (!writer.write(f)) await writer.drained();
    writer.flush();
    socket.end();
    const deadline = Date.now() + 10_000;
    while (received.length < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    server.close();
    expect(received.map((f) => f.seq)).toStrictEqual(sent.map((f) => f.seq));
    received.forEach((f, i) => expect(f.body.byteLength).toBe(sent[i]!.body.byteLength));
  });
});
