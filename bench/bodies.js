// Body codec speed: syncwire's fast path against protobuf-es (toBinary/fromBinary, the reference) and
// protobufjs (same .proto files, loaded by protobufjs's own parser), for a typical ~140-byte chat
// message, an Ack and a 4-entry SyncKey. Run after a build: `npm run bench -- bodies`.
//
// Note on types: protobuf-es and syncwire decode 64-bit fields to `bigint`; protobufjs (with the
// `long` package present, as here) to `Long` objects. Each library is measured doing its own job.
import { fileURLToPath } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import protobuf from "protobufjs";
import { consume, runSuite } from "./harness.js";
import {
  AckSchema,
  MessagePacketSchema,
  SyncKeySchema,
  createSyncKey,
  decodeBody,
  decodeProto,
  encodeBodyFrame,
  encodeProto,
} from "../dist/bodies/index.js";
import { decodeFrame, Op } from "../dist/index.js";

const protoDir = fileURLToPath(new URL("../proto/", import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => protoDir + target;
root.loadSync(["syncwire/v1/message.proto", "syncwire/v1/sync.proto"], { keepCase: false });
const PbjsPacket = root.lookupType("syncwire.v1.MessagePacket");
const PbjsAck = root.lookupType("syncwire.v1.Ack");
const PbjsSyncKey = root.lookupType("syncwire.v1.SyncKey");

const packet = create(MessagePacketSchema, {
  clientMsgId: 0x0190_1a2b_3c4d_5e6fn,
  serverMsgId: 9_000_123n,
  conversationId: "c2c:u_1024:u_2048",
  senderId: "u_1024",
  recipientId: "u_2048",
  kind: 1,
  content: new TextEncoder().encode("Are we still on for lunch tomorrow at noon? I'll book the usual place, 12:00."),
  createdAtMs: 1_732_000_000_123n,
});
const ack = create(AckSchema, { clientMsgId: 0x0190_1a2b_3c4d_5e6fn, serverMsgId: 9_000_123n, serverTimeMs: 1_732_000_000_130n });
const syncKey = createSyncKey([
  [1, 620_943_725n],
  [2, 620_943_769n],
  [3, 620_943_649n],
  [1000, 1_732_000_000n],
]);

const subjects = [
  ["MessagePacket", MessagePacketSchema, packet, PbjsPacket],
  ["Ack", AckSchema, ack, PbjsAck],
  ["SyncKey", SyncKeySchema, syncKey, PbjsSyncKey],
];

for (const [name, schema, message, Pbjs] of subjects) {
  const bytes = toBinary(schema, message);
  const pbjsObject = Pbjs.decode(bytes);
  const pbjsBytes = Pbjs.encode(pbjsObject).finish();
  if (Buffer.compare(Buffer.from(pbjsBytes), Buffer.from(bytes)) !== 0) throw new Error(`${name}: protobufjs encodes different bytes`);
  if (Buffer.compare(Buffer.from(encodeProto(schema, message)), Buffer.from(bytes)) !== 0) throw new Error(`${name}: syncwire encodes different bytes`);

  runSuite(
    `encode ${name} (${bytes.byteLength} B)`,
    [
      { name: "protobufjs encode().finish()", fn: () => consume(Pbjs.encode(pbjsObject).finish().length), reference: true },
      { name: "protobuf-es toBinary", fn: () => consume(toBinary(schema, message).length) },
      { name: "syncwire encodeProto (fast path)", fn: () => consume(encodeProto(schema, message).length) },
    ],
    { unit: "msgs" },
  );
  runSuite(
    `decode ${name} (${bytes.byteLength} B)`,
    [
      { name: "protobufjs decode()", fn: () => consume(Pbjs.decode(bytes) === null ? 0 : 1), reference: true },
      { name: "protobuf-es fromBinary", fn: () => consume(fromBinary(schema, bytes) === null ? 0 : 1) },
      { name: "syncwire decodeProto (fast path)", fn: () => consume(decodeProto(schema, bytes) === null ? 0 : 1) },
    ],
    { unit: "msgs" },
  );
}

// Whole frames: what a client does per chat message.
const sendFrame = encodeBodyFrame(Op.SEND, packet, { seq: 7 });
runSuite(
  `SEND frame (${sendFrame.byteLength} B): header + body`,
  [
    { name: "syncwire encodeBodyFrame", fn: () => consume(encodeBodyFrame(Op.SEND, packet, { seq: 7 }).length) },
    { name: "syncwire decodeFrame + decodeBody(...).message", fn: () => {
      const body = decodeBody(decodeFrame(sendFrame));
      consume(body.opaque ? 0 : body.message.kind);
    } },
    { name: "syncwire decodeFrame + decodeBody (op only, lazy)", fn: () => consume(decodeBody(decodeFrame(sendFrame)).op) },
  ],
  { unit: "frames" },
);
