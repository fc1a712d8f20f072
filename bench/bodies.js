// Body codec speed, every op's body: syncwire's fast path against protobuf-es (toBinary/fromBinary, the
// reference) and protobufjs (same .proto files, loaded by protobufjs's own parser), one typical message
// per op. Run after a build: `npm run bench -- bodies`.
//
// Note on types: protobuf-es and syncwire decode 64-bit fields to `bigint`; protobufjs (with the
// `long` package present, as here) to `Long` objects. Each library is measured doing its own job.
import { fileURLToPath } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import protobuf from "protobufjs";
import { consume, formatRate, runSuite } from "./harness.js";
import { report } from "./report.js";
import {
  AckSchema,
  ChunkAckSchema,
  ChunkSchema,
  DisconnectSchema,
  HeartbeatAckSchema,
  HeartbeatSchema,
  HelloSchema,
  MessagePacketSchema,
  NotifySchema,
  SyncCommitSchema,
  SyncKeySchema,
  SyncRequestSchema,
  SyncResultSchema,
  WelcomeSchema,
  createSyncKey,
  decodeBody,
  decodeProto,
  encodeBodyFrame,
  encodeProto,
} from "../dist/bodies/index.js";
import { decodeFrame, Op } from "../dist/index.js";
import { BodyReader, u64 } from "../dist/bodies/reader.js";

const protoDir = fileURLToPath(new URL("../proto/", import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => protoDir + target;
root.loadSync(["syncwire/v1/message.proto", "syncwire/v1/sync.proto", "syncwire/v1/session.proto", "syncwire/v1/chunk.proto"], { keepCase: false });

const text = new TextEncoder();
const packet = (i) =>
  create(MessagePacketSchema, {
    clientMsgId: 0x0190_1a2b_3c4d_5e6fn + BigInt(i),
    serverMsgId: 9_000_123n + BigInt(i),
    conversationId: "c2c:u_1024:u_2048",
    senderId: "u_1024",
    recipientId: "u_2048",
    kind: 1,
    content: text.encode("Are we still on for lunch tomorrow at noon? I'll book the usual place, 12:00."),
    createdAtMs: 1_732_000_000_123n + BigInt(i),
  });
const syncKey = createSyncKey([
  [1, 620_943_725n],
  [2, 620_943_769n],
  [3, 620_943_649n],
  [1000, 1_732_000_000n],
]);
const chunkData = new Uint8Array(4096);
for (let i = 0; i < chunkData.length; i++) chunkData[i] = (i * 31) & 0xff;

/** [op name, schema, message]: one typical body per op, and SyncKey on its own. */
const subjects = [
  ["HEARTBEAT", HeartbeatSchema, create(HeartbeatSchema, { clientTimeMs: 1_732_000_000_123n })],
  ["HEARTBEAT_ACK", HeartbeatAckSchema, create(HeartbeatAckSchema, { clientTimeMs: 1_732_000_000_123n, serverTimeMs: 1_732_000_000_140n })],
  ["SEND (MessagePacket)", MessagePacketSchema, packet(0)],
  ["ACK", AckSchema, create(AckSchema, { clientMsgId: 0x0190_1a2b_3c4d_5e6fn, serverMsgId: 9_000_123n, serverTimeMs: 1_732_000_000_130n })],
  ["DISCONNECT", DisconnectSchema, create(DisconnectSchema, { code: 3, reason: "logged in on another device", retryAfterMs: 0 })],
  [
    "HELLO",
    HelloSchema,
    create(HelloSchema, {
      versions: [1],
      clientId: "ios-3f2a9c1e",
      token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1XzEwMjQifQ.Qm9ndXNTaWduYXR1cmVGb3JCZW5jaA",
      capabilities: { maxFrameSize: 1_048_576, batching: true },
      syncKey,
    }),
  ],
  [
    "WELCOME",
    WelcomeSchema,
    create(WelcomeSchema, {
      version: 1,
      sessionId: "s_7f3c2a91b4",
      heartbeatIntervalMs: 30_000,
      limits: { maxFrameSize: 1_048_576, maxBatchFrames: 64, maxInFlight: 32 },
      serverTimeMs: 1_732_000_000_140n,
    }),
  ],
  ["NOTIFY", NotifySchema, create(NotifySchema, { syncKey, selector: 2 })],
  ["SYNC", SyncRequestSchema, create(SyncRequestSchema, { syncKey, limit: 100 })],
  ["SYNC_RESULT (10 messages)", SyncResultSchema, create(SyncResultSchema, { messages: Array.from({ length: 10 }, (_, i) => packet(i)), syncKey, hasMore: true })],
  ["SYNC_COMMIT", SyncCommitSchema, create(SyncCommitSchema, { syncKey })],
  [
    "CHUNK (4 KiB part)",
    ChunkSchema,
    create(ChunkSchema, { uploadId: "up_5d1c9e", partIndex: 3, partCount: 10, totalSize: 40_960n, contentType: "image/jpeg", crc32: 0x9ae0_daaf, data: chunkData }),
  ],
  ["CHUNK_ACK", ChunkAckSchema, create(ChunkAckSchema, { uploadId: "up_5d1c9e", received: [0, 1, 2, 3], missing: [4, 5, 6, 7, 8, 9], objectId: "" })],
  ["SyncKey (4 entries)", SyncKeySchema, syncKey],
];

const summary = [];
for (const [name, schema, message] of subjects) {
  const Pbjs = root.lookupType(schema.typeName);
  const bytes = toBinary(schema, message);
  const pbjsObject = Pbjs.decode(bytes);
  const pbjsBytes = Pbjs.encode(pbjsObject).finish();
  if (Buffer.compare(Buffer.from(pbjsBytes), Buffer.from(bytes)) !== 0) throw new Error(`${name}: protobufjs encodes different bytes`);
  if (Buffer.compare(Buffer.from(encodeProto(schema, message)), Buffer.from(bytes)) !== 0) throw new Error(`${name}: syncwire encodes different bytes`);

  const encode = runSuite(
    `encode ${name} (${bytes.byteLength} B)`,
    [
      { name: "protobufjs encode().finish()", fn: () => consume(Pbjs.encode(pbjsObject).finish().length), reference: true },
      { name: "protobuf-es toBinary", fn: () => consume(toBinary(schema, message).length) },
      { name: "syncwire encodeProto (fast path)", fn: () => consume(encodeProto(schema, message).length) },
    ],
    { unit: "msgs" },
  );
  const decode = runSuite(
    `decode ${name} (${bytes.byteLength} B)`,
    [
      { name: "protobufjs decode()", fn: () => consume(Pbjs.decode(bytes) === null ? 0 : 1), reference: true },
      { name: "protobuf-es fromBinary", fn: () => consume(fromBinary(schema, bytes) === null ? 0 : 1) },
      { name: "syncwire decodeProto (fast path)", fn: () => consume(decodeProto(schema, bytes) === null ? 0 : 1) },
    ],
    { unit: "msgs" },
  );
  summary.push({ name, size: bytes.byteLength, encode, decode });
}

// Whole frames: what a client does per chat message.
const sendFrame = encodeBodyFrame(Op.SEND, packet(0), { seq: 7 });
runSuite(
  `SEND frame (${sendFrame.byteLength} B): header + body`,
  [
    { name: "syncwire encodeBodyFrame", fn: () => consume(encodeBodyFrame(Op.SEND, packet(0), { seq: 7 }).length) },
    {
      name: "syncwire decodeFrame + decodeBody(...).message",
      fn: () => {
        const body = decodeBody(decodeFrame(sendFrame));
        consume(body.opaque ? 0 : body.message.kind);
      },
    },
    { name: "syncwire decodeFrame + decodeBody (op only, lazy)", fn: () => consume(decodeBody(decodeFrame(sendFrame)).op) },
  ],
  { unit: "frames", key: "send-frame" },
);

// What a decoded value costs, field by field: the parts the message decoders above are made of.
{
  const Long = protobuf.util.Long;
  const lows = Uint32Array.from({ length: 256 }, (_, i) => (i * 2_654_435_761) >>> 0);
  let i = 0;
  const keep = [null];
  runSuite(
    "one 64-bit field value (hi word 403, as a ms timestamp)",
    [
      { name: "protobufjs: Long.fromBits", reference: true, fn: () => { keep[0] = Long.fromBits(lows[i++ & 255], 403, true); } },
      { name: "syncwire: bigint (the reader's u64)", fn: () => { keep[0] = u64(lows[i++ & 255], 403); } },
    ],
    { unit: "values", key: "value-u64" },
  );
  const id = text.encode("c2c:u_1024:u_2048");
  const buf = new Uint8Array(64);
  buf.set([id.length], 0);
  buf.set(id, 1);
  const decoder = new TextDecoder();
  const reader = new BodyReader(buf, 0, 0);
  runSuite(
    `one ${id.length}-byte ASCII string field`,
    [
      { name: "protobufjs: util.utf8.read", reference: true, fn: () => { keep[0] = protobuf.util.utf8.read(buf, 1, 1 + id.length); } },
      {
        name: "syncwire: BodyReader.string",
        fn: () => {
          reader.pos = 0;
          keep[0] = reader.string(buf.length);
        },
      },
      { name: "TextDecoder.decode(subarray)", fn: () => { keep[0] = decoder.decode(buf.subarray(1, 1 + id.length)); } },
    ],
    { unit: "values", key: "value-string" },
  );
}

const ratio = (rows, i) => `${rows[i].ratio.toFixed(2)}×`;
report(
  "bodies-summary",
  "Summary: every op's body, msgs/s and ratios to protobufjs (same run)",
  ["body", "bytes", "encode (syncwire)", "encode vs protobufjs", "protobuf-es vs protobufjs", "decode (syncwire)", "decode vs protobufjs", "protobuf-es vs protobufjs"],
  summary.map(({ name, size, encode, decode }) => [
    name,
    String(size),
    formatRate(encode[2].rate),
    ratio(encode, 2),
    ratio(encode, 1),
    formatRate(decode[2].rate),
    ratio(decode, 2),
    ratio(decode, 1),
  ]),
  summary,
);
