// Streaming reassembly: the same stream of frames delivered in 64 KiB, 1460 B and 7 B chunks, decoded by
// syncwire's FrameDecoder, by a naive reassembler (concatenate leftover + chunk, then cut frames: the
// pattern of the Bilibili/goim JS clients), and by mqtt-packet parsing an equivalent stream of PUBLISH
// packets with the same payload sizes. The ceiling is a DataView loop that only reads the five header
// fields of every frame in one contiguous buffer. Rates are frames/s; ratios are against syncwire.
import mqtt from "mqtt-packet";
import { encodeFrame, FrameDecoder, Op } from "../dist/index.js";
import { consume, formatRate, runSuite } from "./harness.js";

/** The naive reassembler: what most clients of this header family do. */
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

function chunked(bytes, size) {
  const chunks = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

const summary = [];
for (const bodySize of [32, 256, 4096]) {
  for (const chunkSize of [64 * 1024, 1460, 7]) {
    // About 1 MiB of stream per call for big chunks, 32 KiB for 7-byte chunks.
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

    const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
    const rows = runSuite(`${bodySize} B bodies in ${chunkSize === 65536 ? "64 KiB" : `${chunkSize} B`} chunks (${count} frames per run)`, [
      {
        name: "syncwire FrameDecoder",
        perOp: count,
        fn: () => {
          const decoder = new FrameDecoder();
          let n = 0;
          for (const chunk of chunks) n += decoder.push(chunk).length;
          decoder.end();
          if (n !== count) throw new Error(`decoded ${n} of ${count}`);
        },
      },
      {
        name: "naive concat reassembler",
        perOp: count,
        fn: () => {
          let n = 0;
          naiveDecode(chunks, () => n++);
          if (n !== count) throw new Error(`decoded ${n} of ${count}`);
        },
      },
      {
        name: "mqtt-packet parser (PUBLISH)",
        perOp: count,
        fn: () => {
          const parser = mqtt.parser();
          let n = 0;
          parser.on("packet", () => n++);
          for (const chunk of mqttChunks) parser.parse(chunk);
          if (n !== count) throw new Error(`decoded ${n} of ${count}`);
        },
      },
      {
        name: "ceiling: DataView reads 5 header fields",
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
    ], { unit: "frames" });
    summary.push({ bodySize, chunkSize, rows });
  }
}

// One 8 MiB frame in 1460-byte chunks: each byte copied once.
{
  const big = encodeFrame({ op: 1000, seq: 1, body: new Uint8Array(8 * 1024 * 1024 - 16) });
  const chunks = chunked(big, 1460);
  const rows = runSuite("one 8 MiB frame in 1460 B chunks", [
    {
      name: "syncwire FrameDecoder",
      fn: () => {
        const decoder = new FrameDecoder({ maxFrameSize: 8 * 1024 * 1024 });
        let n = 0;
        for (const chunk of chunks) n += decoder.push(chunk).length;
        if (n !== 1) throw new Error("no frame");
      },
    },
  ], { unit: "frames" });
  console.log(`\n8 MiB frame: ${(1000 / rows[0].rate).toFixed(2)} ms per frame`);
}

console.log("\n### Summary: syncwire frames/s and ratios (same run)\n");
console.log("| body | chunks | syncwire | vs naive | vs mqtt-packet | % of ceiling |");
console.log("|---:|---:|---:|---:|---:|---:|");
for (const { bodySize, chunkSize, rows } of summary) {
  const [ours, naive, mq, ceiling] = rows;
  console.log(
    `| ${bodySize} B | ${chunkSize === 65536 ? "64 KiB" : `${chunkSize} B`} | ${formatRate(ours.rate)} | ${(ours.rate / naive.rate).toFixed(1)}× | ${(ours.rate / mq.rate).toFixed(1)}× | ${((100 * ours.rate) / ceiling.rate).toFixed(0)}% |`,
  );
}
