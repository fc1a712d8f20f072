#!/usr/bin/env node
// Writes fixtures/wire/frames.json, fixtures/wire/errors.json and fixtures/wire/peers.json.
//
// The golden data is built here with Node's Buffer methods, independently of src/, so the tests that
// read it check syncwire against a second implementation rather than against itself. Peer vectors come
// from fixtures/peers/peer-frames.json (copied from the team's shared vectors; tests never read those).
// Run: node scripts/make-wire-fixtures.mjs
import { readFileSync, writeFileSync } from "node:fs";

const here = new URL("../fixtures/", import.meta.url);
const OP_NAMES = { 2: "HEARTBEAT", 3: "HEARTBEAT_ACK", 4: "SEND", 5: "ACK", 6: "DISCONNECT", 7: "HELLO", 8: "WELCOME",
  9: "BATCH", 10: "NOTIFY", 11: "SYNC", 12: "SYNC_RESULT", 13: "SYNC_COMMIT", 14: "CHUNK", 15: "CHUNK_ACK" };

function frame({ op, seq = 0, version = 1, body = "", extension = "" }) {
  const b = Buffer.from(body, "hex");
  const e = Buffer.from(extension, "hex");
  const header = Buffer.alloc(16);
  header.writeUInt32BE(16 + e.length + b.length, 0);
  header.writeUInt16BE(16 + e.length, 4);
  header.writeUInt16BE(version, 6);
  header.writeUInt32BE(op, 8);
  header.writeUInt32BE(seq, 12);
  return Buffer.concat([header, e, b]);
}

/** Reads frames with Buffer methods: the independent reference for the expected fields. */
function fieldsOf(buf) {
  const frames = [];
  let at = 0;
  while (at + 16 <= buf.length) {
    const packetLength = buf.readUInt32BE(at);
    const headerLength = buf.readUInt16BE(at + 4);
    if (packetLength < 16 || at + packetLength > buf.length) break;
    frames.push({
      packetLength,
      headerLength,
      version: buf.readUInt16BE(at + 6),
      op: buf.readUInt32BE(at + 8),
      seq: buf.readUInt32BE(at + 12),
      extension: buf.subarray(at + 16, at + headerLength).toString("hex"),
      body: buf.subarray(at + headerLength, at + packetLength).toString("hex"),
    });
    at += packetLength;
  }
  return { frames, trailer: buf.subarray(at).toString("hex") };
}

const utf8 = (s) => Buffer.from(s, "utf8").toString("hex");
const seqFor = { 2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: 1, 8: 1, 9: 4, 10: 0, 11: 5, 12: 5, 13: 6, 14: 7, 15: 7 };

const frames = [];
for (let op = 2; op <= 15; op++) {
  const name = OP_NAMES[op];
  frames.push({ name: `${name.toLowerCase()}-empty`, what: `${name} with an empty body: exactly 16 bytes`, frame: { op, seq: seqFor[op] } });
  if (op === 9) continue; // non-empty batches below
  frames.push({ name: `${name.toLowerCase()}-body`, what: `${name} with opaque body bytes (bodies are typed by the bodies layer)`,
    frame: { op, seq: seqFor[op], body: utf8(`${name} body`) } });
}
frames.push(
  { name: "application-op", what: "application op 1000, opaque body", frame: { op: 1000, seq: 9, body: "00ff10ab" } },
  { name: "application-op-max", what: "largest op, 2^32-1", frame: { op: 0xffffffff, seq: 1, body: "01" } },
  { name: "reserved-op-passes", what: "reserved op 16 passes through untouched", frame: { op: 16, seq: 1, body: "cafe" } },
  { name: "seq-max", what: "seq 2^32-1, the last before wrapping to 1", frame: { op: 4, seq: 0xffffffff, body: "00" } },
  { name: "extension", what: "header extension of 4 bytes (headerLength 20) and a body", frame: { op: 4, seq: 3, extension: "e1e2e3e4", body: "68656c6c6f" } },
  { name: "extension-empty-body", what: "header extension, empty body (packetLength == headerLength)", frame: { op: 5, seq: 3, extension: "0102" } },
);
const ours = frames.map(({ name, what, frame: f }) => {
  const buf = frame(f);
  return { name, what, kind: "frame", hex: buf.toString("hex"), ...fieldsOf(buf) };
});

const inner = [{ op: 2, seq: 1 }, { op: 4, seq: 2, body: utf8("hi") }, { op: 5, seq: 7 }, { op: 1001, seq: 0, body: "ff", extension: "aa" }];
const batchBody = Buffer.concat(inner.map(frame));
const batch = Buffer.concat([frame({ op: 9, seq: 4 }).subarray(0, 16), batchBody]);
batch.writeUInt32BE(batch.length, 0);
ours.push({ name: "batch", what: "BATCH of four frames (one with a header extension)", kind: "batch", hex: batch.toString("hex"),
  ...fieldsOf(batch), inner: fieldsOf(batchBody).frames });
ours.push({ name: "batch-empty", what: "BATCH with no inner frames", kind: "batch", hex: frame({ op: 9 }).toString("hex"),
  ...fieldsOf(frame({ op: 9 })), inner: [] });
const two = Buffer.concat([frame({ op: 12, seq: 5, body: "0a00" }), frame({ op: 10 })]);
ours.push({ name: "message-two-frames", what: "a WebSocket message holding SYNC_RESULT then NOTIFY", kind: "frames", hex: two.toString("hex"), ...fieldsOf(two) });

// Errors: one or more per code, with the decoder that meets them and the expected offset.
const hdr = (packetLength, headerLength = 16, version = 1, op = 4, seq = 1) => {
  const h = Buffer.alloc(16);
  h.writeUInt32BE(packetLength, 0); h.writeUInt16BE(headerLength, 4); h.writeUInt16BE(version, 6);
  h.writeUInt32BE(op, 8); h.writeUInt32BE(seq, 12);
  return h;
};
const nested = Buffer.concat([hdr(16 + 16 + 16, 16, 1, 9, 1), frame({ op: 2, seq: 1 }), frame({ op: 9 })]);
const errors = [
  { name: "truncated-header", what: "10 bytes: not even a header", decoder: "decodeFrame", hex: hdr(16).subarray(0, 10).toString("hex"), code: "TRUNCATED", offset: 0 },
  { name: "truncated-body", what: "header promises 24 bytes, 20 arrive", decoder: "decodeFrame", hex: frame({ op: 4, body: "0102030405060708" }).subarray(0, 20).toString("hex"), code: "TRUNCATED", offset: 0 },
  { name: "truncated-second-frame", what: "a message whose second frame is cut off", decoder: "decodeFrames",
    hex: Buffer.concat([frame({ op: 2, seq: 1 }), frame({ op: 4, body: "00" }).subarray(0, 12)]).toString("hex"), code: "TRUNCATED", offset: 16 },
  { name: "packet-length-zero", what: "packetLength 0 (the value that spins naive clients)", decoder: "decodeFrame", hex: hdr(0).toString("hex"), code: "BAD_PACKET_LENGTH", offset: 0 },
  { name: "packet-length-15", what: "packetLength 15, shorter than the header", decoder: "decodeFrame", hex: hdr(15).toString("hex"), code: "BAD_PACKET_LENGTH", offset: 0 },
  { name: "packet-length-only", what: "4 bytes that already say the frame is too short", decoder: "decodeFrame", hex: "00000003", code: "BAD_PACKET_LENGTH", offset: 0 },
  { name: "too-large-default", what: "packetLength 1 MiB + 1, over the default limit; only the header is present", decoder: "decodeFrame", hex: hdr(1048577).toString("hex"), code: "FRAME_TOO_LARGE", offset: 0 },
  { name: "too-large-max-u32", what: "packetLength 2^32-1", decoder: "decodeFrame", hex: hdr(0xffffffff).toString("hex"), code: "FRAME_TOO_LARGE", offset: 0 },
  { name: "too-large-option", what: "packetLength 65 against maxFrameSize 64", decoder: "decodeFrame", options: { maxFrameSize: 64 },
    hex: frame({ op: 4, body: "00".repeat(49) }).toString("hex"), code: "FRAME_TOO_LARGE", offset: 0 },
  { name: "header-length-15", what: "headerLength 15", decoder: "decodeFrame", hex: hdr(16, 15).toString("hex"), code: "BAD_HEADER_LENGTH", offset: 4 },
  { name: "header-length-over-packet", what: "headerLength 32 > packetLength 20", decoder: "decodeFrame",
    hex: Buffer.concat([hdr(20, 32), Buffer.alloc(4)]).toString("hex"), code: "BAD_HEADER_LENGTH", offset: 4 },
  { name: "version-2", what: "version 2 with the default accepted list [1]", decoder: "decodeFrame", hex: hdr(16, 16, 2).toString("hex"), code: "UNSUPPORTED_VERSION", offset: 6 },
  { name: "version-0-listed", what: "version 0 when only [1, 3] are accepted", decoder: "decodeFrame", options: { versions: [1, 3] }, hex: hdr(16, 16, 0).toString("hex"), code: "UNSUPPORTED_VERSION", offset: 6 },
  { name: "trailing-byte", what: "one byte after a whole frame", decoder: "decodeFrame", hex: Buffer.concat([frame({ op: 2, seq: 1 }), Buffer.from([0])]).toString("hex"), code: "TRAILING_BYTES", offset: 16 },
  { name: "nested-batch", what: "a BATCH inside a BATCH; offset of the inner op field, counted from the outer frame", decoder: "splitBatch",
    hex: nested.toString("hex"), code: "NESTED_BATCH", offset: 16 + 16 + 8 },
  { name: "batch-inner-truncated", what: "a BATCH whose body ends inside an inner frame", decoder: "splitBatch",
    hex: (() => { const b = Buffer.concat([hdr(16 + 20, 16, 1, 9, 1), frame({ op: 4, body: "0011223344" }).subarray(0, 20)]); return b.toString("hex"); })(),
    code: "TRUNCATED", offset: 16 },
];

// Peer vectors at the framing layer: goim (version 1) and Bilibili (version = body encoding, so "any").
const peers = JSON.parse(readFileSync(new URL("peers/peer-frames.json", here), "utf8"))
  .filter((v) => v.profile === "goim" || v.profile === "bilibili")
  .map((v) => {
    const buf = Buffer.from(v.hex, "hex");
    const out = { name: v.name, profile: v.profile, what: v.what, source: v.source, hex: v.hex,
      options: v.profile === "bilibili" ? { versions: "any" } : {}, ...fieldsOf(buf) };
    // G6 is goim's batch sent raw over TCP (two frames back to back); B4 carries a trailer.
    out.kind = out.frames.length === 1 && out.trailer === "" ? (out.frames[0].op === 9 && v.profile === "goim" ? "batch" : "frame") : "frames";
    if (out.kind === "batch") out.inner = fieldsOf(Buffer.from(out.frames[0].body, "hex")).frames;
    return out;
  });

const write = (name, data) => writeFileSync(new URL(`wire/${name}`, here), JSON.stringify(data, null, 2) + "\n");
write("frames.json", ours);
write("errors.json", errors);
write("peers.json", peers);
console.log(`wrote ${ours.length} frames, ${errors.length} errors, ${peers.length} peer vectors`);
