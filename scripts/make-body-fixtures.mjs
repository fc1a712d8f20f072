#!/usr/bin/env node
// Writes fixtures/bodies/frames.json: one or more golden frames per typed op, each with its body in
// hex and in protobuf JSON form.
//
// Independent of src/: the schema comes from proto/ compiled here by `buf build` into a descriptor set
// (not from src/gen), messages are built and encoded by protobuf-es's reflective `create`/`toBinary`,
// the JSON is protobuf-es's `toJson`, and the 16-byte header is written with Buffer methods. The tests
// then check syncwire's decoder and fast path against this second implementation.
// Run: node scripts/make-body-fixtures.mjs   (needs `npx buf`, which works offline)
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { create, createFileRegistry, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const root = new URL("../", import.meta.url);
const set = execFileSync("npx", ["buf", "build", "-o", "-#format=binpb"], { cwd: root, maxBuffer: 1 << 24 });
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, new Uint8Array(set)));
const schema = (name) => {
  const desc = registry.getMessage(`syncwire.v1.${name}`);
  if (desc === undefined) throw new Error(`no message syncwire.v1.${name}`);
  return desc;
};

const utf8 = (s) => new TextEncoder().encode(s);
const key = (pairs) => ({ entries: pairs.map(([k, version]) => ({ key: k, version })) });
const packet = {
  clientMsgId: 0x0190_1a2b_3c4d_5e6fn,
  conversationId: "c2c:u_1024:u_2048",
  senderId: "u_1024",
  recipientId: "u_2048",
  kind: 1,
  content: utf8("Hello from syncwire, 你好 👋"),
  createdAtMs: 1_732_000_000_123n,
};

// [name, op, seq, message type, init, what]
const cases = [
  ["heartbeat", 2, 1, "Heartbeat", { clientTimeMs: 1_732_000_000_000n }, "HEARTBEAT with the client's clock"],
  ["heartbeat-empty", 2, 2, "Heartbeat", {}, "HEARTBEAT with an empty body"],
  ["heartbeat-ack", 3, 1, "HeartbeatAck", { clientTimeMs: 1_732_000_000_000n, serverTimeMs: 1_732_000_000_042n }, "HEARTBEAT_ACK echoing the client's clock"],
  ["send-text", 4, 7, "MessagePacket", packet, "SEND of a text message"],
  [
    "send-image",
    4,
    8,
    "MessagePacket",
    {
      clientMsgId: 0xffff_ffff_ffff_fffen,
      conversationId: "group:g_77",
      kind: 2,
      media: { objectId: "obj_5f3a", contentType: "image/jpeg", size: 245_760n, thumbnail: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]) },
      createdAtMs: 1_732_000_000_456n,
    },
    "SEND of an image with a media reference and an inline thumbnail",
  ],
  ["ack", 5, 7, "Ack", { clientMsgId: packet.clientMsgId, serverMsgId: 9_000_001n, serverTimeMs: 1_732_000_000_130n }, "ACK (ok) of send-text"],
  ["ack-duplicate", 5, 9, "Ack", { status: 1, clientMsgId: packet.clientMsgId, serverMsgId: 9_000_001n, serverTimeMs: 1_732_000_001_000n }, "ACK of a retried SEND"],
  ["ack-rejected", 5, 10, "Ack", { status: 2, clientMsgId: 5n, error: "content too large" }, "ACK refusing a SEND"],
  ["ack-empty", 5, 11, "Ack", {}, "a bare ACK (empty body): ok"],
  ["disconnect", 6, 0, "Disconnect", { code: 3, reason: "logged in on another device", retryAfterMs: 0 }, "DISCONNECT: replaced"],
  [
    "hello",
    7,
    1,
    "Hello",
    { versions: [1], clientId: "ios-6f1c", token: "t0k3n", capabilities: { maxFrameSize: 1_048_576, batching: true }, syncKey: key([[1, 620943725n], [2, 620943769n]]) },
    "HELLO resuming from a SyncKey",
  ],
  [
    "welcome",
    8,
    1,
    "Welcome",
    { version: 1, sessionId: "s_8d2e", heartbeatIntervalMs: 30_000, limits: { maxFrameSize: 1_048_576, maxBatchFrames: 64, maxInFlight: 32 }, serverTimeMs: 1_732_000_000_001n },
    "WELCOME opening the session",
  ],
  ["notify", 10, 0, "Notify", { syncKey: key([[1, 620943800n]]), selector: 2 }, "NOTIFY with the server's newest key"],
  ["notify-empty", 10, 0, "Notify", {}, "a bare NOTIFY poke (empty body)"],
  ["sync", 11, 12, "SyncRequest", { syncKey: key([[1, 620943725n], [2, 620943769n]]), limit: 50 }, "SYNC from a key"],
  ["sync-empty", 11, 13, "SyncRequest", {}, "SYNC from the start (empty body)"],
  [
    "sync-result",
    12,
    12,
    "SyncResult",
    { messages: [{ ...packet, serverMsgId: 9_000_001n }], syncKey: key([[1, 620943800n], [2, 620943769n]]), hasMore: true },
    "SYNC_RESULT with one message and more to come",
  ],
  ["sync-commit", 13, 14, "SyncCommit", { syncKey: key([[1, 620943800n], [2, 620943769n]]) }, "SYNC_COMMIT of the stored key"],
  [
    "chunk",
    14,
    20,
    "Chunk",
    { uploadId: "up_1", partIndex: 0, partCount: 2, totalSize: 6n, contentType: "text/plain", crc32: 0x352441c2, data: utf8("abc") },
    "CHUNK: first of two parts (crc32 of \"abc\")",
  ],
  ["chunk-ack", 15, 20, "ChunkAck", { uploadId: "up_1", received: [0], missing: [1], complete: false }, "CHUNK_ACK after part 0"],
  ["chunk-ack-complete", 15, 21, "ChunkAck", { uploadId: "up_1", received: [0, 1], complete: true, objectId: "obj_5f3a" }, "CHUNK_ACK completing the upload"],
];

function frame(op, seq, body) {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(16 + body.length, 0);
  header.writeUInt16BE(16, 4);
  header.writeUInt16BE(1, 6);
  header.writeUInt32BE(op, 8);
  header.writeUInt32BE(seq, 12);
  return Buffer.concat([header, Buffer.from(body)]);
}

const out = cases.map(([name, op, seq, type, init, what]) => {
  const desc = schema(type);
  const message = create(desc, init);
  const body = toBinary(desc, message);
  return {
    name,
    what,
    op,
    seq,
    type: desc.typeName,
    hex: frame(op, seq, body).toString("hex"),
    body: toJson(desc, message),
  };
});
writeFileSync(new URL("fixtures/bodies/frames.json", root), `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${out.length} body frames`);
