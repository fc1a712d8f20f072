// Streaming reassembly: the same stream of frames delivered in 64 KiB, 1460 B and 7 B chunks, decoded by
// syncwire's FrameDecoder — `pushVisit` (no object per frame) and `push` (a `Frame` per frame) — beside
// two naive reassemblers (concatenate leftover + chunk, then cut: the pattern of the Bilibili/goim JS
// clients), one building a frame object and one reading the five fields and taking one `subarray` body
// per frame without building an object, and mqtt-packet parsing an equivalent stream of PUBLISH packets
// with the same payload sizes. Every row hands each frame's op, seq and body to the same kind of
// callback, which reads the body's length.
//
// Two limits on one contiguous buffer, no chunking: a DataView loop that only reads the five header
// fields (the ceiling), and the same loop handing one plain Uint8Array body view per frame to the
// callback (the limit for any decoder that gives out a body). Rates are frames/s.
import mqtt from "mqtt-packet";
import { encodeFrame, FrameDecoder, Op } from "../dist/index.js";
import { consume, formatRate, runSuite } from "./harness.js";
import { report } from "./report.js";

/** The naive reassembler with a frame object per frame: what most clients of this header family do. */
function naiveDecode(chunks, onFrame) {
  let leftover = null;
  for (const chunk of chunks) {
    const buf = leftover === null ? chunk : Buffer.concat([leftover, chunk]);
    let at = 0;
    while (buf.length - at >= 16) {
      const packetLength = buf.readUInt32BE(at);
      if (packetLength < 16) throw new Error("bad length");
      if (buf.length - at < packetLength) break;
      const headerLength = buf.readUInt16BE(at + 4);
      onFrame({
        packetLength,
        headerLength,
        version: buf.readUInt16BE(at + 6),
        op: buf.readUInt32BE(at + 8),
        seq: buf.readUInt32BE(at + 12),
        body: buf.subarray(at + headerLength, at + packetLength),
      });
      at += packetLength;
    }
    leftover = at === buf.length ? null : buf.subarray(at);
  }
}

/** The same reassembler without a frame object: the five fields and one `subarray` body per frame. */
function naiveFieldsDecode(chunks, visit) {
  let leftover = null;
  for (const chunk of chunks) {
    const buf = leftover === null ? chunk : Buffer.concat([leftover, chunk]);
    let at = 0;
    while (buf.length - at >= 16) {
      const packetLength = buf.readUInt32BE(at);
      if (packetLength < 16) throw new Error("bad length");
      if (buf.length - at < packetLength) break;
      const headerLength = buf.readUInt16BE(at + 4);
      visit(buf.readUInt32BE(at + 8), buf.readUInt32BE(at + 12), buf.subarray(at + headerLength, at + packetLength), buf.readUInt16BE(at + 6));
      at += packetLength;
    }
    leftover = at === buf.length ? null : buf.subarray(at);
  }
}

function chunked(bytes, size) {
  const chunks = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

const chunkLabel = (size) => (size === 65536 ? "64 KiB" : `${size} B`);

// Every row's callback: count the frame, read its body's length.
let frames = 0;
let bodyBytes = 0;
const visit = (_op, _seq, body) => {
  frames++;
  bodyBytes += body.length;
};
const onFrame = (frame) => {
  frames++;
  bodyBytes += frame.body.length;
};
/** Checks a row decoded every frame, and keeps the work observable. */
function done(count) {
  if (frames !== count) throw new Error(`decoded ${frames} of ${count}`);
  consume(bodyBytes);
  frames = 0;
  bodyBytes = 0;
}

const summary = [];
for (const bodySize of [32, 256, 4096]) {
  // About 1 MiB of stream per call for big chunks, 32 KiB for 7-byte chunks.
  let limits = null;
  for (const chunkSize of [64 * 1024, 1460, 7]) {
    const streamBytes = chunkSize === 7 ? 32 * 1024 : 1024 * 1024;
    const count = Math.max(1, Math.floor(streamBytes / (16 + bodySize)));
    const body = new Uint8Array(bodySize).fill(1);
    const one = encodeFrame({ op: Op.SEND, seq: 1, body });
    const stream = Buffer.alloc(one.length * count);
    for (let i = 0; i < count; i++) stream.set(one, i * one.length);
    const chunks = chunked(stream, chunkSize);

    const packet = mqtt.generate({ cmd: "publish", topic: "t", payload: Buffer.from(body), qos: 0, retain: false, dup: false });
    const mqttStream = Buffer.alloc(packet.length * count);
    for (let i = 0; i < count; i++) mqttStream.set(packet, i * packet.length);
    const mqttChunks = chunked(mqttStream, chunkSize);

    const cases = [
      {
        name: "syncwire FrameDecoder.pushVisit (no object)",
        perOp: count,
        fn: () => {
          const decoder = new FrameDecoder();
          for (const chunk of chunks) decoder.pushVisit(chunk, visit);
          decoder.end();
          done(count);
        },
      },
      {
        name: "syncwire FrameDecoder.push (Frame objects)",
        perOp: count,
        fn: () => {
          const decoder = new FrameDecoder();
          for (const chunk of chunks) {
            const out = decoder.push(chunk);
            for (let i = 0; i < out.length; i++) onFrame(out[i]);
          }
          decoder.end();
          done(count);
        },
      },
      {
        name: "naive concat reassembler, fields + subarray (no object)",
        perOp: count,
        reference: true,
        fn: () => {
          naiveFieldsDecode(chunks, visit);
          done(count);
        },
      },
      {
        name: "naive concat reassembler (frame objects)",
        perOp: count,
        fn: () => {
          naiveDecode(chunks, onFrame);
          done(count);
        },
      },
      {
        name: "mqtt-packet parser (PUBLISH)",
        perOp: count,
        fn: () => {
          const parser = mqtt.parser();
          parser.on("packet", (p) => visit(0, 0, p.payload));
          for (const chunk of mqttChunks) parser.parse(chunk);
          done(count);
        },
      },
    ];
    if (limits === null) {
      // The limits do not depend on chunking: measured once per body size, beside the 64 KiB rows.
      const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
      const buffer = stream.buffer;
      const base = stream.byteOffset;
      cases.push(
        {
          name: "limit: DataView fields + one Uint8Array body view per frame (one buffer)",
          perOp: count,
          fn: () => {
            let at = 0;
            while (at < view.byteLength) {
              const packetLength = view.getUint32(at);
              const headerLength = view.getUint16(at + 4);
              visit(view.getUint32(at + 8), view.getUint32(at + 12), new Uint8Array(buffer, base + at + headerLength, packetLength - headerLength), view.getUint16(at + 6));
              at += packetLength;
            }
            done(count);
          },
        },
        {
          name: "ceiling: DataView reads 5 header fields (one buffer)",
          perOp: count,
          fn: () => {
            let at = 0;
            let s = 0;
            while (at < view.byteLength) {
              const packetLength = view.getUint32(at);
              s += view.getUint16(at + 4) + view.getUint16(at + 6) + view.getUint32(at + 8) + view.getUint32(at + 12);
              at += packetLength;
            }
            consume(s);
          },
        },
      );
    }
    const rows = runSuite(`${bodySize} B bodies in ${chunkLabel(chunkSize)} chunks (${count} frames per run)`, cases, {
      unit: "frames",
      key: `stream-${bodySize}-${chunkSize}`,
    });
    if (limits === null) limits = { view: rows[5].rate, ceiling: rows[6].rate };
    const [visitRow, pushRow, naiveFields, naiveObjects, mq] = rows;
    summary.push({ bodySize, chunkSize, visit: visitRow.rate, push: pushRow.rate, naiveFields: naiveFields.rate, naiveObjects: naiveObjects.rate, mqtt: mq.rate, ...limits });
  }
}

// One 8 MiB frame in 1460-byte chunks: each byte copied once.
{
  const big = encodeFrame({ op: 1000, seq: 1, body: new Uint8Array(8 * 1024 * 1024 - 16) });
  const chunks = chunked(big, 1460);
  const rows = runSuite(
    "one 8 MiB frame in 1460 B chunks",
    [
      {
        name: "syncwire FrameDecoder.pushVisit",
        fn: () => {
          const decoder = new FrameDecoder({ maxFrameSize: 8 * 1024 * 1024 });
          for (const chunk of chunks) decoder.pushVisit(chunk, visit);
          done(1);
        },
      },
    ],
    { unit: "frames", key: "stream-8mib" },
  );
  console.log(`\n8 MiB frame: ${(1000 / rows[0].rate).toFixed(2)} ms per frame`);
}

const ns = (rate) => 1e9 / rate;
report(
  "stream-summary",
  "Summary: frames/s and ratios (same run)",
  ["body", "chunks", "pushVisit", "push", "a Frame object costs", "pushVisit vs naive (no object)", "pushVisit vs mqtt-packet", "pushVisit % of the view limit"],
  summary.map((s) => [
    `${s.bodySize} B`,
    chunkLabel(s.chunkSize),
    formatRate(s.visit),
    formatRate(s.push),
    `${Math.max(0, ns(s.push) - ns(s.visit)).toFixed(1)} ns`,
    `${(s.visit / s.naiveFields).toFixed(1)}×`,
    `${(s.visit / s.mqtt).toFixed(1)}×`,
    `${((100 * s.visit) / s.view).toFixed(0)}%`,
  ]),
  summary,
);
