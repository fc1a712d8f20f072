// Wire-core benchmarks: encode (header only, contiguous, into a shared buffer) and decode of whole
// frames with 32 B / 256 B / 4 KiB bodies, and FrameWriter into a null sink. Peers in the same run: a
// Buffer-based codec written the way the goim/Bilibili JS clients do it (Buffer.alloc + writeUInt32BE,
// readUInt32BE + subarray), the mqtt-packet generator for a PUBLISH of the same payload size, and two
// limits: for encoding, a DataView writing the five fields plus `set` of the body into one big buffer;
// for decoding, a DataView loop that only reads the five header fields.
import mqtt from "mqtt-packet";
import { decodeFrame, encodeFrame, encodeFrameInto, encodeHeader, Op } from "../dist/index.js";
import { FrameWriter } from "../dist/node/index.js";
import { consume, runSuite } from "./harness.js";

for (const size of [32, 256, 4096]) {
  const body = new Uint8Array(size).fill(7);
  const frame = { op: Op.SEND, seq: 42, body };
  const shared = new Uint8Array(64 * 1024 * 1024);
  const sharedView = new DataView(shared.buffer);
  let at = 0;
  const publish = { cmd: "publish", topic: "t", payload: Buffer.from(body), qos: 0, retain: false, dup: false };

  runSuite(
    `encode, ${size} B body`,
    [
      { name: "syncwire encodeHeader (header only)", fn: () => consume(encodeHeader({ op: Op.SEND, seq: 42, bodyLength: size })[3]) },
      { name: "syncwire encodeFrame (contiguous, slab)", fn: () => consume(encodeFrame(frame)[3]), reference: true },
      {
        name: "syncwire encodeFrameInto (shared buffer)",
        fn: () => {
          if (at + size + 16 > shared.byteLength) at = 0;
          at += encodeFrameInto(shared, at, frame);
        },
      },
      {
        name: "limit: DataView fields + set (shared buffer)",
        fn: () => {
          if (at + size + 16 > shared.byteLength) at = 0;
          sharedView.setUint32(at, size + 16);
          sharedView.setUint16(at + 4, 16);
          sharedView.setUint16(at + 6, 1);
          sharedView.setUint32(at + 8, Op.SEND);
          sharedView.setUint32(at + 12, 42);
          shared.set(body, at + 16);
          at += size + 16;
        },
      },
      {
        name: "Buffer.alloc + writeUInt32BE (peer pattern)",
        fn: () => {
          const b = Buffer.alloc(16 + size);
          b.writeUInt32BE(16 + size, 0);
          b.writeUInt16BE(16, 4);
          b.writeUInt16BE(1, 6);
          b.writeUInt32BE(Op.SEND, 8);
          b.writeUInt32BE(42, 12);
          b.set(body, 16);
          consume(b[3]);
        },
      },
      { name: "mqtt-packet generate (PUBLISH)", fn: () => consume(mqtt.generate(publish)[1]) },
    ],
    { unit: "frames", key: `encode-${size}` },
  );

  const bytes = encodeFrame(frame);
  const asBuffer = Buffer.from(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  runSuite(
    `decode one frame, ${size} B body`,
    [
      { name: "syncwire decodeFrame", fn: () => consume(decodeFrame(bytes).body.byteLength), reference: true },
      {
        name: "Buffer readUInt32BE + subarray (peer pattern)",
        fn: () => {
          const packetLength = asBuffer.readUInt32BE(0);
          const headerLength = asBuffer.readUInt16BE(4);
          const f = {
            packetLength,
            headerLength,
            version: asBuffer.readUInt16BE(6),
            op: asBuffer.readUInt32BE(8),
            seq: asBuffer.readUInt32BE(12),
            body: asBuffer.subarray(headerLength, packetLength),
          };
          consume(f.body.length);
        },
      },
      {
        name: "DataView header fields only (ceiling)",
        fn: () => consume(view.getUint32(0) + view.getUint16(4) + view.getUint16(6) + view.getUint32(8) + view.getUint32(12)),
      },
    ],
    { unit: "frames", key: `decode-${size}` },
  );
}

// FrameWriter into a sink that takes everything at once and keeps nothing: what the writer itself costs
// per frame, in each mode, for groups of 64 frames of 256 B written within one tick.
{
  const GROUP = 64;
  let written = 0;
  const sink = {
    write: (chunk) => {
      written += chunk.byteLength;
      return true;
    },
    cork() {},
    uncork() {},
    once() {},
    writableNeedDrain: false,
  };
  const body = new Uint8Array(256).fill(7);
  const frames = Array.from({ length: GROUP }, (_, i) => ({ op: Op.SEND, seq: i + 1, body }));
  const writers = {
    none: new FrameWriter(sink),
    concat: new FrameWriter(sink, { coalesce: "concat" }),
    batch: new FrameWriter(sink, { coalesce: "batch" }),
  };
  const group = (writer) => () => {
    for (let i = 0; i < GROUP; i++) writer.write(frames[i]);
    writer.flush();
    consume(written);
  };
  runSuite(
    `FrameWriter into a null sink, ${GROUP} frames of 256 B per tick`,
    [
      { name: "sink.write(encodeFrame(frame)) per frame (no FrameWriter)", perOp: GROUP, reference: true, fn: () => {
        for (let i = 0; i < GROUP; i++) sink.write(encodeFrame(frames[i]));
        consume(written);
      } },
      { name: "FrameWriter, coalesce none (header + body under cork)", perOp: GROUP, fn: group(writers.none) },
      { name: "FrameWriter, coalesce concat (one buffer per tick)", perOp: GROUP, fn: group(writers.concat) },
      { name: "FrameWriter, coalesce batch (one BATCH frame per tick)", perOp: GROUP, fn: group(writers.batch) },
    ],
    { unit: "frames", key: "frame-writer" },
  );
}
