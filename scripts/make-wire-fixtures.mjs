#!/usr/bin/env node
// Writes the framing vectors (fixtures/README.md describes each file):
//   fixtures/wire/frames.json        our frames: one per op (with what the bodies layer makes of it) and batches
//   fixtures/wire/corner-cases.json  decodeFrames / splitBatch corner cases that succeed
//   fixtures/wire/errors.json        one or more vectors per FrameError code, with the decoder and options
//   fixtures/wire/peers.json         goim and Bilibili frames at the framing layer
//   fixtures/wire/mars.json          Tencent Mars's 20-byte header (Appendix A), as `syncwire dump --profile mars` reads it
//
// The golden data is built here with Node's Buffer methods, independently of src/: expected frames come
// from the plain model of §1–§7 in scripts/lib/frame-model.mjs, every error vector's code and offset
// are written by hand and checked against that model, and body outcomes come from protobuf-es and the
// model of §10 (scripts/lib/body-model.mjs). Peer vectors come from fixtures/peers/peer-frames.json
// (copied from the team's shared vectors; tests never read those).
// Run: node scripts/make-wire-fixtures.mjs   (needs `npx buf`, which works offline)
import { readFileSync, writeFileSync } from "node:fs";
import { fromBinary, toJson } from "@bufbuild/protobuf";
import { firstBodyError } from "./lib/body-model.mjs";
import { frameFields, modelDecode } from "./lib/frame-model.mjs";
import { BODY_TYPES, EMPTY_BODY_OK, frame as buildFrame, schema } from "./lib/schema.mjs";

const here = new URL("../fixtures/", import.meta.url);
const OP_NAMES = { 2: "HEARTBEAT", 3: "HEARTBEAT_ACK", 4: "SEND", 5: "ACK", 6: "DISCONNECT", 7: "HELLO", 8: "WELCOME",
  9: "BATCH", 10: "NOTIFY", 11: "SYNC", 12: "SYNC_RESULT", 13: "SYNC_COMMIT", 14: "CHUNK", 15: "CHUNK_ACK" };
/** The limits splitBatch vectors read their outer BATCH frame with: any version, the largest packetLength. */
const WIDEST = { versions: "any", maxFrameSize: 0xffffffff };

const frame = ({ op, seq = 0, version = 1, body = "", extension = "" }) =>
  buildFrame({ op, seq, version, body: Buffer.from(body, "hex"), extension: Buffer.from(extension, "hex") });

/** A header with any field values (for frames that are meant to be bad). */
const hdr = (packetLength, headerLength = 16, version = 1, op = 4, seq = 1) => {
  const h = Buffer.alloc(16);
  h.writeUInt32BE(packetLength, 0);
  h.writeUInt16BE(headerLength, 4);
  h.writeUInt16BE(version, 6);
  h.writeUInt32BE(op, 8);
  h.writeUInt32BE(seq, 12);
  return h;
};

/** A BATCH frame (seq `seq`) around `body`. */
const batchOf = (body, seq = 1) => Buffer.concat([hdr(16 + body.length, 16, 1, 9, seq), body]);

const modeOf = { decodeFrame: "frame", decodeFrames: "frames", splitBatch: "batch", splitBatchBody: "batch" };

/** What the decoder named by the vector returns, per the model; throws if the model refuses it. */
function decoded(name, buf, decoder, options) {
  if (decoder === "splitBatch") {
    const outer = modelDecode(buf, { ...WIDEST, mode: "frame" });
    if (outer.error !== undefined || outer.frames[0].op !== 9) throw new Error(`${name}: not one BATCH frame`);
    const inner = modelDecode(buf.subarray(16), { ...options, mode: "batch", base: 16 });
    if (inner.error !== undefined) throw new Error(`${name}: the model refuses it: ${JSON.stringify(inner.error)}`);
    return { frames: outer.frames.map((f) => frameFields(buf, f)), trailer: "", inner: inner.frames.map((f) => frameFields(buf.subarray(16), f)) };
  }
  const result = modelDecode(buf, { ...options, mode: modeOf[decoder] });
  if (result.error !== undefined) throw new Error(`${name}: the model refuses it: ${JSON.stringify(result.error)}`);
  return { frames: result.frames.map((f) => frameFields(buf, f)), trailer: buf.subarray(result.trailerAt).toString("hex") };
}

/** What decodeBody(frame).message gives for each frame of ours (§10): opaque, the message's JSON form, or the error. */
function bodyOutcome(f) {
  const type = BODY_TYPES[f.op];
  if (type === undefined) return { opaque: true };
  const body = Buffer.from(f.body, "hex");
  if (body.length === 0 && !EMPTY_BODY_OK.has(f.op)) return { error: { code: "EMPTY_BODY", offset: f.headerLength } };
  const desc = schema(type);
  const refused = firstBodyError(desc, body);
  if (refused !== undefined) return { error: { code: "BAD_BODY", offset: f.headerLength + refused.offset } };
  return { json: toJson(desc, fromBinary(desc, body)) };
}

const vector = (name, what, decoder, buf, options = {}) => ({ name, what, decoder, options, hex: buf.toString("hex"), ...decoded(name, buf, decoder, options) });

// ---------------------------------------------------------------------------------------------------
// frames.json
const utf8 = (s) => Buffer.from(s, "utf8").toString("hex");
const seqFor = { 2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: 1, 8: 1, 9: 4, 10: 0, 11: 5, 12: 5, 13: 6, 14: 7, 15: 7 };

const ours = [];
for (let op = 2; op <= 15; op++) {
  const name = OP_NAMES[op];
  ours.push(vector(`${name.toLowerCase()}-empty`, `${name} with an empty body: exactly 16 bytes`, "decodeFrame", frame({ op, seq: seqFor[op] })));
  if (op === 9) continue; // non-empty batches below
  ours.push(vector(`${name.toLowerCase()}-body`, `${name} with the opaque bytes "${name} body" (not its protobuf message: see "bodies")`, "decodeFrame",
    frame({ op, seq: seqFor[op], body: utf8(`${name} body`) })));
}
ours.push(
  vector("application-op", "application op 1000, opaque body", "decodeFrame", frame({ op: 1000, seq: 9, body: "00ff10ab" })),
  vector("application-op-max", "largest op, 2^32-1", "decodeFrame", frame({ op: 0xffffffff, seq: 1, body: "01" })),
  vector("reserved-op-passes", "reserved op 16 passes through untouched", "decodeFrame", frame({ op: 16, seq: 1, body: "cafe" })),
  vector("seq-max", "seq 2^32-1, the last before wrapping to 1", "decodeFrame", frame({ op: 4, seq: 0xffffffff, body: "00" })),
  vector("extension", "header extension of 4 bytes (headerLength 20) and a body", "decodeFrame", frame({ op: 4, seq: 3, extension: "e1e2e3e4", body: "68656c6c6f" })),
  vector("extension-empty-body", "header extension, empty body (packetLength == headerLength)", "decodeFrame", frame({ op: 5, seq: 3, extension: "0102" })),
);
const inner = [{ op: 2, seq: 1 }, { op: 4, seq: 2, body: utf8("hi") }, { op: 5, seq: 7 }, { op: 1001, seq: 0, body: "ff", extension: "aa" }];
ours.push(
  vector("batch", "BATCH of four frames (one with a header extension)", "splitBatch", batchOf(Buffer.concat(inner.map(frame)), 4)),
  vector("batch-no-inner-frames", "BATCH (seq 0) with no inner frames: valid, means nothing", "splitBatch", frame({ op: 9 })),
  vector("message-two-frames", "a WebSocket message holding SYNC_RESULT then NOTIFY", "decodeFrames",
    Buffer.concat([frame({ op: 12, seq: 5, body: "0a00" }), frame({ op: 10 })])),
);
for (const v of ours) v.bodies = v.frames.map(bodyOutcome);

// ---------------------------------------------------------------------------------------------------
// corner-cases.json
const corner = [
  vector("message-empty", "decodeFrames on no bytes: no frames, no trailer, no error", "decodeFrames", Buffer.alloc(0)),
  vector("message-empty-trailer", "decodeFrames on no bytes with allowTrailer: the same", "decodeFrames", Buffer.alloc(0), { allowTrailer: true }),
  vector("split-empty-body", "splitBatch of an empty body: no inner frames", "splitBatchBody", Buffer.alloc(0)),
  vector("split-body", "splitBatch of a BATCH's body (not the frame): the same inner frames", "splitBatchBody",
    Buffer.concat([frame({ op: 2, seq: 1 }), frame({ op: 5, seq: 2, body: "0801" })])),
  vector("batch-inner-versions", "inner frames are checked with the caller's versions: version 3 passes with versions [1, 3]", "splitBatch",
    batchOf(Buffer.concat([frame({ op: 1000, version: 3, body: "01" }), frame({ op: 2, version: 1 })])), { versions: [1, 3] }),
  vector("batch-inner-max-frame-size", "inner frames are checked with the caller's maxFrameSize: an inner frame of exactly 64 bytes with maxFrameSize 64", "splitBatch",
    batchOf(frame({ op: 1000, body: "00".repeat(48) })), { maxFrameSize: 64 }),
  vector("max-frame-size-inclusive", "packetLength equal to maxFrameSize is accepted", "decodeFrame", frame({ op: 4, body: "00".repeat(48) }), { maxFrameSize: 64 }),
  vector("version-any", "versions \"any\" accepts every version, 65535 included", "decodeFrame", frame({ op: 2, version: 0xffff }), { versions: "any" }),
  vector("version-list", "a version from the accepted list other than 1", "decodeFrame", frame({ op: 2, version: 3 }), { versions: [1, 3] }),
  vector("trailer-short", "allowTrailer: fewer than 16 bytes after the last frame are the trailer", "decodeFrames",
    Buffer.concat([frame({ op: 2, seq: 1 }), Buffer.from("0000", "hex")]), { allowTrailer: true }),
  vector("trailer-cut-frame", "allowTrailer: a frame cut off at the end is the trailer, its header bytes included", "decodeFrames",
    Buffer.concat([frame({ op: 2, seq: 1 }), frame({ op: 4, body: "0102030405" }).subarray(0, 18)]), { allowTrailer: true }),
  vector("trailer-bad-header", "allowTrailer: decoding stops at the first bad header; a whole valid frame after it is part of the trailer", "decodeFrames",
    Buffer.concat([frame({ op: 2, seq: 1 }), hdr(16, 16, 7, 2, 2), frame({ op: 2, seq: 3 })]), { allowTrailer: true }),
  vector("trailer-none", "allowTrailer with nothing after the frames: an empty trailer", "decodeFrames", frame({ op: 2, seq: 1 }), { allowTrailer: true }),
  vector("header-length-equals-packet-length", "headerLength == packetLength: the extension takes the whole frame, the body is empty", "decodeFrame",
    frame({ op: 1000, extension: "00".repeat(16) })),
];

// ---------------------------------------------------------------------------------------------------
// errors.json: [name, what, decoder, bytes, code, offset, options]
const nested = batchOf(Buffer.concat([frame({ op: 2, seq: 1 }), frame({ op: 9 })]));
const errorCases = [
  ["truncated-empty", "decodeFrame on no bytes: a frame was expected", "decodeFrame", Buffer.alloc(0), "TRUNCATED", 0],
  ...[1, 2, 3, 5, 7].map((n) => [`truncated-${n}-bytes`, `the first ${n} bytes of a valid header: not enough to judge, so TRUNCATED`, "decodeFrame", hdr(16).subarray(0, n), "TRUNCATED", 0]),
  ["truncated-3-bytes-frames", "decodeFrames on 3 bytes of a header", "decodeFrames", hdr(16).subarray(0, 3), "TRUNCATED", 0],
  ["truncated-7-bytes-split", "splitBatch of a body holding 7 bytes of a header", "splitBatchBody", hdr(16).subarray(0, 7), "TRUNCATED", 0],
  ["truncated-header", "10 bytes: not even a header", "decodeFrame", hdr(16).subarray(0, 10), "TRUNCATED", 0],
  ["truncated-body", "header promises 24 bytes, 20 arrive", "decodeFrame", frame({ op: 4, body: "0102030405060708" }).subarray(0, 20), "TRUNCATED", 0],
  ["truncated-second-frame", "a message whose second frame is cut off", "decodeFrames",
    Buffer.concat([frame({ op: 2, seq: 1 }), frame({ op: 4, body: "00" }).subarray(0, 12)]), "TRUNCATED", 16],
  ["packet-length-zero", "packetLength 0 (the value that spins naive clients)", "decodeFrame", hdr(0), "BAD_PACKET_LENGTH", 0],
  ["packet-length-15", "packetLength 15, shorter than the header", "decodeFrame", hdr(15), "BAD_PACKET_LENGTH", 0],
  ["packet-length-only", "4 bytes that already say the frame is too short", "decodeFrame", Buffer.from("00000003", "hex"), "BAD_PACKET_LENGTH", 0],
  ["too-large-default", "packetLength 1 MiB + 1, over the default limit; only the header is present", "decodeFrame", hdr(1048577), "FRAME_TOO_LARGE", 0],
  ["too-large-max-u32", "packetLength 2^32-1", "decodeFrame", hdr(0xffffffff), "FRAME_TOO_LARGE", 0],
  ["too-large-option", "packetLength 65 against maxFrameSize 64", "decodeFrame", frame({ op: 4, body: "00".repeat(49) }), "FRAME_TOO_LARGE", 0, { maxFrameSize: 64 }],
  ["too-large-4-bytes", "only the 4 length bytes, over the limit: judged at once", "decodeFrames", hdr(0x00200000).subarray(0, 4), "FRAME_TOO_LARGE", 0],
  ["header-length-15", "headerLength 15", "decodeFrame", hdr(16, 15), "BAD_HEADER_LENGTH", 4],
  ["header-length-over-packet", "headerLength 32 > packetLength 20", "decodeFrame", Buffer.concat([hdr(20, 32), Buffer.alloc(4)]), "BAD_HEADER_LENGTH", 4],
  ["header-length-6-bytes", "6 bytes whose headerLength is 15: judged as soon as its 2 bytes are in", "decodeFrame", hdr(16, 15).subarray(0, 6), "BAD_HEADER_LENGTH", 4],
  ["header-length-7-bytes", "7 bytes whose headerLength (24) exceeds packetLength (20)", "decodeFrames", hdr(20, 24).subarray(0, 7), "BAD_HEADER_LENGTH", 4],
  ["version-2", "version 2 with the default accepted list [1]", "decodeFrame", hdr(16, 16, 2), "UNSUPPORTED_VERSION", 6],
  ["version-0-listed", "version 0 when only [1, 3] are accepted", "decodeFrame", hdr(16, 16, 0), "UNSUPPORTED_VERSION", 6, { versions: [1, 3] }],
  ["version-8-bytes", "8 bytes of a header with version 2: judged before the rest arrives", "decodeFrame", hdr(40, 16, 2).subarray(0, 8), "UNSUPPORTED_VERSION", 6],
  ["order-length-first", "packetLength over the limit and headerLength 0: the length is reported (wire order)", "decodeFrame", hdr(0x00200000, 0, 9), "FRAME_TOO_LARGE", 0],
  ["order-header-length-before-version", "headerLength 15 and version 9: headerLength is reported", "decodeFrame", hdr(16, 15, 9), "BAD_HEADER_LENGTH", 4],
  ["order-version-before-truncated", "version 2 in a frame cut off after its header: UNSUPPORTED_VERSION, not TRUNCATED", "decodeFrame", hdr(40, 16, 2), "UNSUPPORTED_VERSION", 6],
  ["second-frame-bad-version", "a message whose second frame has version 5: the offset is that frame's version field", "decodeFrames",
    Buffer.concat([frame({ op: 2, seq: 1 }), hdr(16, 16, 5)]), "UNSUPPORTED_VERSION", 22],
  ["trailing-byte", "one byte after a whole frame", "decodeFrame", Buffer.concat([frame({ op: 2, seq: 1 }), Buffer.from([0])]), "TRAILING_BYTES", 16],
  ["trailing-frame", "a second whole frame after the first: decodeFrame takes exactly one", "decodeFrame",
    Buffer.concat([frame({ op: 2, seq: 1 }), frame({ op: 2, seq: 2 })]), "TRAILING_BYTES", 16],
  ["nested-batch", "a BATCH inside a BATCH; offset of the inner op field, counted from the outer frame", "splitBatch", nested, "NESTED_BATCH", 16 + 16 + 8],
  ["nested-batch-body", "the same given the BATCH's body: offsets count from the body's start", "splitBatchBody", nested.subarray(16), "NESTED_BATCH", 16 + 8],
  ["batch-inner-truncated", "a BATCH whose body ends inside an inner frame", "splitBatch",
    batchOf(frame({ op: 4, body: "0011223344" }).subarray(0, 20)), "TRUNCATED", 16],
  ["batch-body-inner-truncated", "the same given the body", "splitBatchBody", frame({ op: 4, body: "0011223344" }).subarray(0, 20), "TRUNCATED", 0],
  ["batch-inner-batch-truncated", "an inner BATCH that is also cut off: TRUNCATED (a frame must be whole before its op is judged)", "splitBatch",
    batchOf(Buffer.concat([frame({ op: 2, seq: 1 }), hdr(40, 16, 1, 9, 0)])), "TRUNCATED", 32],
  ["batch-inner-batch-bad-header", "an inner BATCH with headerLength 15: the header error comes first", "splitBatch",
    batchOf(hdr(16, 15, 1, 9, 0)), "BAD_HEADER_LENGTH", 20],
  ["batch-inner-version", "an inner frame of version 3 with the default versions [1]: inner frames obey the caller's options", "splitBatch",
    batchOf(frame({ op: 1000, version: 3 })), "UNSUPPORTED_VERSION", 22],
  ["batch-inner-too-large", "an inner frame of 65 bytes with maxFrameSize 64 (the BATCH itself is read with the widest limits)", "splitBatch",
    batchOf(frame({ op: 1000, body: "00".repeat(49) })), "FRAME_TOO_LARGE", 16, { maxFrameSize: 64 }],
  ["batch-inner-packet-length", "an inner frame whose packetLength (8) is below 16", "splitBatchBody", hdr(8), "BAD_PACKET_LENGTH", 0],
];
const errors = errorCases.map(([name, what, decoder, buf, code, offset, options = {}]) => {
  const model = decoder === "splitBatch" ? modelDecode(buf.subarray(16), { ...options, mode: "batch", base: 16 }) : modelDecode(buf, { ...options, mode: modeOf[decoder] });
  if (model.error === undefined || model.error.code !== code || model.error.offset !== offset) {
    throw new Error(`errors.json ${name}: built as ${code} at ${offset}, the model says ${JSON.stringify(model.error ?? "no error")}`);
  }
  return { name, what, decoder, options, hex: buf.toString("hex"), code, offset };
});

// ---------------------------------------------------------------------------------------------------
// peers.json: goim (version 1) and Bilibili (version = body encoding, so "any").
const peerFrames = JSON.parse(readFileSync(new URL("peers/peer-frames.json", here), "utf8"));
const peers = peerFrames
  .filter((v) => v.profile === "goim" || v.profile === "bilibili")
  .map((v) => {
    const buf = Buffer.from(v.hex, "hex");
    const options = v.profile === "bilibili" ? { versions: "any" } : {};
    // G5 is goim's batch as sent over WebSocket (an op-9 frame); G6 the same over TCP (frames back to
    // back, no outer header); B4 carries the echoed heartbeat body after its frame (a trailer).
    const decoder = v.name === "G5" ? "splitBatch" : v.name === "G6" || v.name === "B4" ? "decodeFrames" : "decodeFrame";
    if (v.name === "B4") options.allowTrailer = true;
    return { name: v.name, profile: v.profile, what: v.what, source: v.source, ...vector(v.name, v.what, decoder, buf, options) };
  })
  .map(({ name, profile, what, source, decoder, options, hex, frames, trailer, inner }) => ({ name, profile, what, source, decoder, options, hex, frames, trailer, ...(inner ? { inner } : {}) }));

// ---------------------------------------------------------------------------------------------------
// mars.json: the 20-byte header, read with Buffer (u32 headLength ≥ 20 | clientVersion | cmdid | seq |
// bodyLength), with the name Appendix A gives each kind of frame.
function marsFrame({ clientVersion = 200, cmdid, seq, body = "", extension = "" }) {
  const e = Buffer.from(extension, "hex");
  const b = Buffer.from(body, "hex");
  const h = Buffer.alloc(20);
  h.writeUInt32BE(20 + e.length, 0);
  h.writeUInt32BE(clientVersion, 4);
  h.writeUInt32BE(cmdid, 8);
  h.writeUInt32BE(seq, 12);
  h.writeUInt32BE(b.length, 16);
  return Buffer.concat([h, e, b]);
}
function marsName(cmdid, seq) {
  if (seq === 0xffffffff) return cmdid === 6 ? "NOOP" : `NOOP(cmdid ${cmdid})`;
  if (cmdid === 243) return "SIGNAL_KEEP";
  if (seq === 0) return `PUSH(cmdid ${cmdid})`;
  return `CMD(${cmdid})`;
}
function marsFrames(buf) {
  const out = [];
  for (let at = 0; at < buf.length; ) {
    const headLength = buf.readUInt32BE(at);
    const bodyLength = buf.readUInt32BE(at + 16);
    const cmdid = buf.readUInt32BE(at + 8);
    const seq = buf.readUInt32BE(at + 12);
    out.push({
      offset: at,
      name: marsName(cmdid, seq),
      headLength,
      clientVersion: buf.readUInt32BE(at + 4),
      cmdid,
      seq,
      bodyLength,
      extension: buf.subarray(at + 20, at + headLength).toString("hex"),
      body: buf.subarray(at + headLength, at + headLength + bodyLength).toString("hex"),
    });
    at += headLength + bodyLength;
  }
  return out;
}
const mars = [
  ...peerFrames.filter((v) => v.profile === "mars20").map((v) => ({ name: v.name, what: v.what, source: v.source, hex: v.hex })),
  { name: "mars-task", what: "a request: cmdid 3, seq 9, 2-byte body", source: "constructed", hex: marsFrame({ cmdid: 3, seq: 9, body: "0102" }).toString("hex") },
  { name: "mars-extension", what: "headLength 23: 3 extension bytes skipped before the body", source: "constructed", hex: marsFrame({ cmdid: 3, seq: 10, extension: "eeeeee", body: "05" }).toString("hex") },
  { name: "mars-noop-deployment", what: "the noop seq with another deployment's cmdid (24)", source: "constructed", hex: marsFrame({ cmdid: 24, seq: 0xffffffff }).toString("hex") },
  {
    name: "mars-two-frames",
    what: "two frames in one read: a push, then a noop",
    source: "constructed",
    hex: Buffer.concat([marsFrame({ cmdid: 10001, seq: 0, body: "aa" }), marsFrame({ cmdid: 6, seq: 0xffffffff })]).toString("hex"),
  },
].map((v) => ({ ...v, frames: marsFrames(Buffer.from(v.hex, "hex")) }));
const marsErrors = [
  { name: "mars-head-length-19", what: "headLength 19, below the 20-byte header", hex: "00000013000000c800000006ffffffff00000000", code: "MARS_BAD_HEAD_LENGTH", offset: 0 },
  { name: "mars-head-length-over-limit", what: "headLength 20 + 4096 + 1, over the default limit on the extension", hex: "00001015000000c800000006ffffffff00000000", code: "MARS_BAD_HEAD_LENGTH", offset: 0 },
  { name: "mars-body-too-large", what: "bodyLength 1 MiB + 1, over Mars's own limit", hex: "00000014000000c80000000300000009" + "00100001", code: "MARS_BODY_TOO_LARGE", offset: 16 },
  { name: "mars-truncated", what: "a frame whose 3-byte body has 1 byte", hex: marsFrame({ cmdid: 3, seq: 1, body: "010203" }).subarray(0, 21).toString("hex"), code: "MARS_TRUNCATED", offset: 0 },
];

// ---------------------------------------------------------------------------------------------------
const write = (name, data) => writeFileSync(new URL(`wire/${name}`, here), JSON.stringify(data, null, 2) + "\n");
write("frames.json", ours);
write("corner-cases.json", corner);
write("errors.json", errors);
write("peers.json", peers);
write("mars.json", { frames: mars, errors: marsErrors });
const names = [...ours, ...corner, ...errors, ...peers].map((v) => v.name);
const repeated = names.filter((n, i) => names.indexOf(n) !== i);
if (repeated.length > 0) throw new Error(`vector names must be unique: ${repeated.join(", ")}`);
console.log(`wrote ${ours.length} frames, ${corner.length} corner cases, ${errors.length} errors, ${peers.length} peer vectors, ${mars.length + marsErrors.length} Mars vectors`);
