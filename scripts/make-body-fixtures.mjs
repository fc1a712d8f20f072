#!/usr/bin/env node
// Writes the body vectors (fixtures/README.md describes each file):
//   fixtures/bodies/frames.json          one or more realistic frames per typed op, decoded and re-encoded
//   fixtures/bodies/rules.json           accepted bodies that pin one decoding or encoding rule of §10 each
//   fixtures/bodies/errors.json          refused bodies: EMPTY_BODY and BAD_BODY, with code and offset
//   fixtures/bodies/sync-keys.json       SyncKey text form, merge and comparison
//   fixtures/bodies/client-msg-ids.json  newClientMsgId's layout for given clocks and random draws
//
// Independent of src/: the schema comes from proto/ compiled here by `buf build` (not src/gen), messages
// are built, encoded and decoded by protobuf-es's reflective API, the JSON is protobuf-es's `toJson`,
// refused bodies are written byte by byte with their offsets known by construction (and checked against
// the plain model of §10 in scripts/lib/body-model.mjs), and frame headers are written with Buffer.
// The tests then check syncwire's decoders, fast path and helpers against this second implementation.
// Run: node scripts/make-body-fixtures.mjs   (needs `npx buf`, which works offline)
import { writeFileSync } from "node:fs";
import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { firstBodyError, MAX_GROUP_DEPTH } from "./lib/body-model.mjs";
import { BODY_TYPES, EMPTY_BODY_OK, frame, schema } from "./lib/schema.mjs";

const root = new URL("../", import.meta.url);
const write = (name, data) => {
  writeFileSync(new URL(`fixtures/bodies/${name}`, root), `${JSON.stringify(data, null, 2)}\n`);
  console.log(`wrote ${Array.isArray(data) ? data.length : Object.values(data).flat().length} vectors to fixtures/bodies/${name}`);
};

// ---------------------------------------------------------------------------------------------------
// Wire helpers, written here (not src/bodies' writer).
const varint = (v) => {
  const out = [];
  let x = BigInt.asUintN(64, BigInt(v));
  while (x > 0x7fn) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
};
const tag = (no, wireType) => varint((BigInt(no) << 3n) | BigInt(wireType));
const ld = (no, bytes) => [...tag(no, 2), ...varint(bytes.length), ...bytes];
const utf8 = (s) => [...Buffer.from(s, "utf8")];
const fixed64 = (v) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return [...b];
};
const hex = (bytes) => Buffer.from(bytes).toString("hex");

// ---------------------------------------------------------------------------------------------------
// frames.json: realistic frames, one or more per typed op.
const key = (pairs) => ({ entries: pairs.map(([k, version]) => ({ key: k, version })) });
const packet = {
  clientMsgId: 0x0190_1a2b_3c4d_5e6fn,
  conversationId: "c2c:u_1024:u_2048",
  senderId: "u_1024",
  recipientId: "u_2048",
  kind: 1,
  content: new TextEncoder().encode("Hello from syncwire, 你好 👋"),
  createdAtMs: 1_732_000_000_123n,
};

// [name, op, seq, init, what]
const cases = [
  ["heartbeat", 2, 1, { clientTimeMs: 1_732_000_000_000n }, "HEARTBEAT with the client's clock"],
  ["heartbeat-empty", 2, 2, {}, "HEARTBEAT with an empty body"],
  ["heartbeat-ack", 3, 1, { clientTimeMs: 1_732_000_000_000n, serverTimeMs: 1_732_000_000_042n }, "HEARTBEAT_ACK echoing the client's clock"],
  ["send-text", 4, 7, packet, "SEND of a text message"],
  [
    "send-image",
    4,
    8,
    {
      clientMsgId: 0xffff_ffff_ffff_fffen,
      conversationId: "group:g_77",
      kind: 2,
      media: { objectId: "obj_5f3a", contentType: "image/jpeg", size: 245_760n, thumbnail: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]) },
      createdAtMs: 1_732_000_000_456n,
    },
    "SEND of an image with a media reference and an inline thumbnail",
  ],
  ["ack", 5, 7, { clientMsgId: packet.clientMsgId, serverMsgId: 9_000_001n, serverTimeMs: 1_732_000_000_130n }, "ACK (ok) of send-text"],
  ["ack-duplicate", 5, 9, { status: 1, clientMsgId: packet.clientMsgId, serverMsgId: 9_000_001n, serverTimeMs: 1_732_000_001_000n }, "ACK of a retried SEND"],
  ["ack-rejected", 5, 10, { status: 2, clientMsgId: 5n, error: "content too large" }, "ACK refusing a SEND"],
  ["ack-empty", 5, 11, {}, "a bare ACK (empty body): ok"],
  ["disconnect", 6, 0, { code: 3, reason: "logged in on another device", retryAfterMs: 0 }, "DISCONNECT: replaced"],
  [
    "hello",
    7,
    1,
    { versions: [1], clientId: "ios-6f1c", token: "t0k3n", capabilities: { maxFrameSize: 1_048_576, batching: true }, syncKey: key([[1, 620943725n], [2, 620943769n]]) },
    "HELLO resuming from a SyncKey",
  ],
  [
    "welcome",
    8,
    1,
    { version: 1, sessionId: "s_8d2e", heartbeatIntervalMs: 30_000, limits: { maxFrameSize: 1_048_576, maxBatchFrames: 64, maxInFlight: 32 }, serverTimeMs: 1_732_000_000_001n },
    "WELCOME opening the session",
  ],
  ["notify", 10, 0, { syncKey: key([[1, 620943800n]]), selector: 2 }, "NOTIFY with the server's newest key"],
  ["notify-empty", 10, 0, {}, "a bare NOTIFY poke (empty body)"],
  ["sync", 11, 12, { syncKey: key([[1, 620943725n], [2, 620943769n]]), limit: 50 }, "SYNC from a key"],
  ["sync-empty", 11, 13, {}, "SYNC from the start (empty body)"],
  [
    "sync-result",
    12,
    12,
    { messages: [{ ...packet, serverMsgId: 9_000_001n }], syncKey: key([[1, 620943800n], [2, 620943769n]]), hasMore: true },
    "SYNC_RESULT with one message and more to come",
  ],
  ["sync-commit", 13, 14, { syncKey: key([[1, 620943800n], [2, 620943769n]]) }, "SYNC_COMMIT of the stored key"],
  [
    "chunk",
    14,
    20,
    { uploadId: "up_1", partIndex: 0, partCount: 2, totalSize: 6n, contentType: "text/plain", crc32: 0x352441c2, data: new TextEncoder().encode("abc") },
    "CHUNK: first of two parts (crc32 of \"abc\")",
  ],
  ["chunk-ack", 15, 20, { uploadId: "up_1", received: [0], missing: [1], complete: false }, "CHUNK_ACK after part 0"],
  ["chunk-ack-complete", 15, 21, { uploadId: "up_1", received: [0, 1], complete: true, objectId: "obj_5f3a" }, "CHUNK_ACK completing the upload"],
];

write(
  "frames.json",
  cases.map(([name, op, seq, init, what]) => {
    const desc = schema(BODY_TYPES[op]);
    const message = create(desc, init);
    return { name, what, op, seq, type: desc.typeName, hex: frame({ op, seq, body: toBinary(desc, message) }).toString("hex"), body: toJson(desc, message) };
  }),
);

// ---------------------------------------------------------------------------------------------------
// rules.json: accepted bodies, each pinning a rule. `body` is what decoding gives (protobuf-es's
// fromBinary, shown with toJson); `encoded` is the frame re-encoded from that message (toBinary), which
// differs from `hex` wherever the input was not in canonical form.
// [name, rule, what, op, body bytes]
const rules = [
  ["packed-repeated", "repeated", "Hello.versions [1, 2, 3] packed: one length-delimited run (the canonical form)", 7, [...ld(1, [1, 2, 3])]],
  ["unpacked-repeated", "repeated", "Hello.versions [1, 2, 3] unpacked: one tag per value, accepted, re-encoded packed", 7, [...tag(1, 0), 1, ...tag(1, 0), 2, ...tag(1, 0), 3]],
  ["mixed-repeated", "repeated", "a packed run [1, 2] then an unpacked 3: the values append in order", 7, [...ld(1, [1, 2]), ...tag(1, 0), 3]],
  ["packed-empty-run", "repeated", "an empty packed run adds nothing and is not written back", 15, [...ld(1, utf8("u")), ...ld(2, [])]],
  ["packed-multibyte", "repeated", "ChunkAck.missing [0, 300, 2^32 − 1] packed: varints of 1, 2 and 5 bytes", 15, [...ld(3, [...varint(0), ...varint(300), ...varint(0xffffffff)])]],
  ["uint32-above-32-bits", "32-bit fields", "Welcome.version sent as 2^32 + 5: a uint32 field keeps the low 32 bits (5)", 8, [...tag(1, 0), ...varint(2n ** 32n + 5n)]],
  ["uint32-max-varint", "32-bit fields", "Limits.max_frame_size sent as 2^64 − 1 (10 bytes): the low 32 bits, 4294967295", 8, [...ld(4, [...tag(1, 0), ...varint(2n ** 64n - 1n)])]],
  ["packed-uint32-above-32-bits", "32-bit fields", "Hello.versions packed with 2^32 + 1: the low 32 bits (1)", 7, [...ld(1, varint(2n ** 32n + 1n))]],
  ["enum-above-32-bits", "enums", "Disconnect.code sent as 2^32 + 3: the low 32 bits as an int32 (3, REPLACED)", 6, [...tag(1, 0), ...varint(2n ** 32n + 3n)]],
  ["enum-unknown-number", "enums", "MessagePacket.kind 99, a number MessageKind does not name: kept as the number", 4, [...tag(1, 1), ...fixed64(1), ...tag(6, 0), 99]],
  ["enum-negative", "enums", "MessagePacket.kind −1: an int32 enum is written as 10 bytes, sign-extended", 4, [...tag(1, 1), ...fixed64(1), ...tag(6, 0), ...varint(-1n)]],
  ["enum-negative-5-bytes", "enums", "Ack.status as the 5-byte varint 0xffffffff: −1 (low 32 bits as int32); re-encoded in 10 bytes", 5, [...tag(1, 0), ...varint(0xffffffffn)]],
  ["ack-status-unknown", "enums", "Ack.status 7, an AckStatus number not defined: kept", 5, [...tag(1, 0), 7]],
  ["varint-overlong", "varints", "SyncKeyEntry.key 1 written in 10 bytes (0x81 0x80 … 0x00): the value counts, re-encoded in 1 byte", 13, [...ld(1, ld(1, [...tag(1, 0), 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]))]],
  ["varint-10th-byte-1", "varints", "Ack.server_msg_id 2^64 − 1: ten bytes, the 10th is 0x01 (the largest allowed)", 5, [...tag(3, 0), ...varint(2n ** 64n - 1n)]],
  ["fields-out-of-order", "field order", "Ack fields sent 5, 3, 1: accepted in any order, written in field-number order", 5, [...ld(5, utf8("x")), ...tag(3, 0), 7, ...tag(1, 0), 2]],
  ["scalar-repeated-last-wins", "repeated fields", "Ack.server_msg_id sent twice (7, then 9): the last value counts", 5, [...tag(3, 0), 7, ...tag(3, 0), 9]],
  ["message-repeated-merges", "repeated fields", "MessagePacket.media sent twice ({object_id \"a\"}, then {size 5}): merged field by field", 4, [...tag(1, 1), ...fixed64(1), ...ld(8, ld(1, utf8("a"))), ...ld(8, [...tag(3, 0), 5])]],
  ["message-repeated-merge-overrides", "repeated fields", "MessagePacket.media twice with object_id \"a\" then \"b\": the later scalar wins inside the merge", 4, [...tag(1, 1), ...fixed64(1), ...ld(8, [...ld(1, utf8("a")), ...tag(3, 0), 1]), ...ld(8, ld(1, utf8("b")))]],
  ["sync-key-repeated-merges", "repeated fields", "Hello.sync_key sent twice: the entries of both, in order (a repeated field inside a merged message appends)", 7, [...ld(5, ld(1, [...tag(1, 0), 1, ...tag(2, 0), 5])), ...ld(5, ld(1, [...tag(1, 0), 2, ...tag(2, 0), 6]))]],
  ["empty-sub-message", "presence", "MessagePacket.media present but empty: written as tag + length 0, shown as {}", 4, [...tag(1, 1), ...fixed64(1), ...ld(8, [])]],
  ["optional-empty-bytes", "presence", "MediaRef.thumbnail present and empty (optional): kept and written back", 4, [...tag(1, 1), ...fixed64(1), ...ld(8, ld(4, []))]],
  ["empty-repeated-element", "presence", "SyncCommit whose key has one all-default entry: an element is written even when empty", 13, [...ld(1, ld(1, []))]],
  ["sync-key-empty-present", "presence", "Hello.sync_key present with no entries: a present empty message", 7, [...ld(2, utf8("c")), ...ld(5, [])]],
  ["default-sent-explicitly", "presence", "Ack.status 0 and error \"\" sent explicitly: the same as absent, not written back", 5, [...tag(1, 0), 0, ...ld(5, []), ...tag(3, 0), 1]],
  ["bool-nonzero", "bools", "Capabilities.batching sent as 2: true, written back as 1", 7, [...ld(4, [...tag(2, 0), 2])]],
  ["bool-above-32-bits", "bools", "Capabilities.batching sent as 2^32 (its low 32 bits are 0): true, every bit counts", 7, [...ld(4, [...tag(2, 0), ...varint(2n ** 32n)])]],
  ["unknown-fields-kept", "unknown fields", "Ack with unknown fields 9 (varint) and 10 (bytes) between known ones: kept, written after the known fields in arrival order", 5, [...tag(1, 0), 1, ...tag(9, 0), 42, ...tag(3, 0), 7, ...ld(10, [0xca, 0xfe])]],
  ["unknown-all-wire-types", "unknown fields", "SyncCommit with unknown fields of wire types 0, 1, 2, 3 (a group with a field inside) and 5", 13, [...tag(2, 0), 1, ...tag(3, 1), ...fixed64(2), ...ld(4, [3]), ...tag(5, 3), ...tag(1, 0), 4, ...tag(5, 4), ...tag(6, 5), 5, 0, 0, 0]],
  ["unknown-max-field-number", "unknown fields", "an unknown field numbered 2^29 − 1, the largest: a 5-byte tag", 5, [...tag(2 ** 29 - 1, 0), 1]],
  ["unknown-nested", "unknown fields", "an unknown field inside MediaRef: kept in the nested message", 4, [...tag(1, 1), ...fixed64(1), ...ld(8, [...ld(1, utf8("o")), ...tag(15, 0), 1])]],
  ["groups-at-depth-limit", "unknown fields", `unknown groups nested ${MAX_GROUP_DEPTH} deep: the deepest allowed`, 5, [...Array(MAX_GROUP_DEPTH).fill(tag(20, 3)).flat(), ...Array(MAX_GROUP_DEPTH).fill(tag(20, 4)).flat()]],
  ["string-leading-bom", "strings", "MessagePacket.conversation_id \"\\ufeffx\": the decoder drops a leading U+FEFF", 4, [...tag(1, 1), ...fixed64(1), ...ld(3, [0xef, 0xbb, 0xbf, ...utf8("x")])]],
  ["string-multibyte", "strings", "a string of 2-, 3- and 4-byte UTF-8 sequences", 5, [...ld(5, utf8("é你👋"))]],
  ["length-overlong", "lengths", "Ack.error with its length 1 written in 2 bytes (0x81 0x00)", 5, [...tag(5, 2), 0x81, 0x00, ...utf8("x")]],
  ["client-msg-id-max", "fixed64", "MessagePacket.client_msg_id 2^64 − 1 (fixed64, little-endian)", 4, [...tag(1, 1), ...fixed64(2n ** 64n - 1n)]],
];

write(
  "rules.json",
  rules.map(([name, rule, what, op, bytes], i) => {
    const desc = schema(BODY_TYPES[op]);
    const body = Uint8Array.from(bytes);
    const refused = firstBodyError(desc, body);
    if (refused !== undefined) throw new Error(`rules.json ${name}: the model refuses it at ${refused.offset} (${refused.reason})`);
    const message = fromBinary(desc, body);
    const seq = 100 + i;
    return {
      name,
      rule,
      what,
      op,
      seq,
      type: desc.typeName,
      hex: frame({ op, seq, body }).toString("hex"),
      body: toJson(desc, message),
      encoded: frame({ op, seq, body: toBinary(desc, message) }).toString("hex"),
    };
  }),
);

// ---------------------------------------------------------------------------------------------------
// errors.json: refused bodies. [name, rule, what, op, body bytes, offset in the body, extension length]
const deep = MAX_GROUP_DEPTH + 1;
const ackPad = [...tag(1, 0), 1]; // Ack.status DUPLICATE: a valid first field, so offsets are not 0
const errors = [
  ["length-past-end", "lengths", "Ack.error says 5 bytes, 1 follows", 5, [...ackPad, ...tag(5, 2), 5, ...utf8("a")], 3],
  ["length-2^32+1", "lengths", "Ack.error's length 2^32 + 1: read whole, not as its low 32 bits (which would be 1)", 5, [...ackPad, ...tag(5, 2), ...varint(2n ** 32n + 1n), ...utf8("a")], 3],
  ["length-truncated", "lengths", "the body ends inside Ack.error's length varint", 5, [...ackPad, ...tag(5, 2), 0x80], 3],
  ["length-11-bytes", "lengths", "a length varint of 11 bytes", 5, [...ackPad, ...tag(5, 2), ...Array(10).fill(0x80), 0x00], 3],
  ["nested-length-past-nested-end", "lengths", "MediaRef.object_id claims 4 bytes where the media has 2 left; the parent has more bytes, which a nested message cannot borrow", 4, [...ld(8, [...tag(1, 2), 4, ...utf8("ab")]), ...utf8("cd")], 3],
  ["nested-length-past-end-validator", "lengths", "the same inside Hello.sync_key (the validator path in front of protobuf-es)", 7, [...ld(2, utf8("c")), ...tag(5, 2), 5, ...tag(1, 2), 5, ...tag(1, 0), 1, ...tag(2, 0), 1], 6],
  ["unknown-length-past-end", "lengths", "an unknown length-delimited field whose length runs past the body", 5, [...ackPad, ...tag(9, 2), 3, 0], 3],
  ["utf8-invalid", "strings", "MessagePacket.conversation_id with 0xc3 0x28 (a lead byte without its continuation)", 4, [...tag(3, 2), 2, 0xc3, 0x28], 2],
  ["utf8-lone-0x80", "strings", "a lone 0x80 in a short string (the ASCII shortcut must not take it)", 4, [...tag(3, 2), 3, 0x61, 0x80, 0x61], 2],
  ["utf8-overlong", "strings", "the overlong encoding 0xc0 0x80 of U+0000", 5, [...ackPad, ...tag(5, 2), 2, 0xc0, 0x80], 4],
  ["utf8-surrogate", "strings", "0xed 0xa0 0x80, an encoded surrogate (U+D800)", 5, [...ackPad, ...tag(5, 2), 3, 0xed, 0xa0, 0x80], 4],
  ["utf8-truncated-long", "strings", "a 70-byte string (past the ASCII shortcut) ending in half a 3-byte sequence", 5, [...ackPad, ...tag(5, 2), 70, ...Array(68).fill(0x61), 0xe4, 0xbd], 4],
  ["utf8-invalid-nested", "strings", "invalid UTF-8 in MediaRef.content_type inside a SEND", 4, [...ld(8, [...tag(2, 2), 1, 0xff])], 4],
  ["utf8-invalid-validator", "strings", "invalid UTF-8 in Hello.client_id (validator path)", 7, [...tag(2, 2), 1, 0xfe], 2],
  ["wrong-wire-type-fixed64", "wire types", "MessagePacket.client_msg_id (fixed64) sent as a varint", 4, [...tag(3, 2), 1, ...utf8("c"), ...tag(1, 0), 1], 3],
  ["wrong-wire-type-string", "wire types", "Hello.client_id (string) sent as a varint", 7, [...tag(2, 0), 1], 0],
  ["wrong-wire-type-message", "wire types", "MessagePacket.media (a message) sent as fixed32", 4, [...tag(8, 5), 1, 2, 3, 4], 0],
  ["wrong-wire-type-packable", "wire types", "Hello.versions (repeated uint32: varint or packed only) sent as fixed64", 7, [...tag(1, 1), ...fixed64(1)], 0],
  ["wrong-wire-type-enum", "wire types", "Ack.status (an enum) sent length-delimited", 5, [...tag(1, 2), 1, 1], 0],
  ["wrong-wire-type-group", "wire types", "a known field (Ack.server_msg_id) sent as a group start", 5, [...tag(3, 3), ...tag(3, 4)], 0],
  ["wrong-wire-type-end-group", "wire types", "a known field number with wire type 4 (end group) and no group open", 5, [...ackPad, ...tag(3, 4)], 2],
  ["groups-too-deep", "groups", `unknown groups nested ${deep} deep: refused at the group that goes past ${MAX_GROUP_DEPTH}`, 5, [...Array(deep).fill(tag(20, 3)).flat(), ...Array(deep).fill(tag(20, 4)).flat()], 2 * MAX_GROUP_DEPTH],
  ["group-unterminated", "groups", "the body ends inside an unknown group: refused where its end tag should be (the end of the body)", 5, [...ackPad, ...tag(20, 3), ...tag(1, 0), 1], 6],
  ["group-unterminated-nested", "groups", "an unknown group inside MediaRef ends with the media: refused at the media's end, not read on into the parent", 4, [...ld(8, [...tag(20, 3), ...tag(1, 0), 1]), ...tag(20, 4)], 6],
  ["group-wrong-end", "groups", "an unknown group of field 20 closed by the end tag of field 21", 5, [...ackPad, ...tag(20, 3), ...tag(1, 0), 1, ...tag(21, 4)], 6],
  ["end-group-without-group", "groups", "an end-group tag of an unknown field with no group open", 5, [...ackPad, ...tag(20, 4)], 2],
  ["varint-truncated", "varints", "the body ends inside Ack.server_msg_id", 5, [...ackPad, ...tag(3, 0), 0xff, 0xff], 3],
  ["varint-truncated-nested", "varints", "SyncCommit: SyncKeyEntry.key cut off by the end of its entry; the parent's next byte would complete it", 13, [...ld(1, [...tag(1, 2), 2, ...tag(1, 0), 0x80]), 0x01], 5],
  ["varint-truncated-nested-fast", "varints", "the same in the fast path (SEND): MediaRef.size cut off by the end of the media", 4, [...ld(8, [...tag(3, 0), 0xff]), 0x01], 3],
  ["varint-truncated-packed", "varints", "Hello.versions packed, the run's last varint cut by the run's end", 7, [...ld(1, [1, 0x80]), 0x01], 3],
  ["varint-11-bytes", "varints", "Ack.server_msg_id in 11 bytes", 5, [...ackPad, ...tag(3, 0), ...Array(10).fill(0x80), 0x00], 3],
  ["varint-10th-byte-2", "varints", "Ack.server_msg_id whose 10th byte is 2 (above 2^64 − 1)", 5, [...ackPad, ...tag(3, 0), ...Array(9).fill(0xff), 0x02], 3],
  ["varint-11-bytes-unknown", "varints", "an unknown field's varint in 11 bytes: skipped fields are checked too", 5, [...ackPad, ...tag(15, 0), ...Array(10).fill(0x80), 0x00], 3],
  ["varint-10th-byte-2-unknown", "varints", "an unknown field's varint whose 10th byte is 2", 5, [...ackPad, ...tag(15, 0), ...Array(9).fill(0xff), 0x02], 3],
  ["varint-11-bytes-uint32", "varints", "a uint32 field (Welcome.version) in 11 bytes: its low 32 bits are not enough to make it valid", 8, [...tag(1, 0), ...Array(10).fill(0x80), 0x00], 1],
  ["tag-field-zero", "tags", "field number 0", 5, [...ackPad, 0x00, 0x00], 2],
  ["tag-wire-type-6", "tags", "wire type 6", 5, [...ackPad, ...tag(3, 6)], 2],
  ["tag-wire-type-7", "tags", "wire type 7", 5, [...ackPad, ...tag(3, 7)], 2],
  ["tag-above-32-bits", "tags", "a 5-byte tag whose last byte is 0x10: above 2^32 − 1", 5, [...ackPad, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00], 2],
  ["tag-6-bytes", "tags", "a tag in 6 bytes (0x88 0x80 0x80 0x80 0x80 0x00): more than 5 bytes", 5, [...ackPad, 0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01], 2],
  ["tag-truncated", "tags", "the body ends inside a tag", 5, [...ackPad, 0x80], 2],
  ["fixed64-truncated", "fixed-width values", "MessagePacket.client_msg_id with 7 of its 8 bytes", 4, [...tag(1, 1), 1, 2, 3, 4, 5, 6, 7], 1],
  ["fixed32-truncated", "fixed-width values", "Chunk.crc32 with 3 of its 4 bytes", 14, [...ld(1, utf8("u")), ...tag(6, 5), 1, 2, 3], 4],
  ["fixed32-truncated-unknown", "fixed-width values", "an unknown fixed32 field with 2 bytes", 5, [...ackPad, ...tag(9, 5), 1, 2], 3],
];

const emptyRequired = Object.keys(BODY_TYPES)
  .map(Number)
  .filter((op) => !EMPTY_BODY_OK.has(op));

write("errors.json", [
  ...emptyRequired.map((op, i) => ({
    name: `empty-${BODY_TYPES[op].toLowerCase()}`,
    rule: "empty bodies",
    what: `op ${op} requires a body; an empty one is EMPTY_BODY at the body's start (= headerLength)`,
    op,
    seq: 200 + i,
    type: schema(BODY_TYPES[op]).typeName,
    hex: frame({ op, seq: 200 + i }).toString("hex"),
    code: "EMPTY_BODY",
    offset: 16,
    protobufEs: "accepts",
  })),
  {
    name: "empty-with-extension",
    rule: "empty bodies",
    what: "SEND with a 4-byte header extension and no body: EMPTY_BODY at headerLength 20",
    op: 4,
    seq: 220,
    type: schema("MessagePacket").typeName,
    hex: frame({ op: 4, seq: 220, extension: Buffer.from("e1e2e3e4", "hex") }).toString("hex"),
    code: "EMPTY_BODY",
    offset: 20,
    protobufEs: "accepts",
  },
  ...errors.map(([name, rule, what, op, bytes, offset], i) => {
    const desc = schema(BODY_TYPES[op]);
    const body = Uint8Array.from(bytes);
    // A header extension on every other vector, so offsets are seen to count from the frame's start.
    const extension = i % 2 === 1 ? Buffer.from("0102030405060708", "hex") : Buffer.alloc(0);
    const refused = firstBodyError(desc, body);
    if (refused === undefined || refused.offset !== offset) {
      throw new Error(`errors.json ${name}: built to fail at ${offset}, the model says ${JSON.stringify(refused)}`);
    }
    let protobufEs = "accepts";
    try {
      fromBinary(desc, body);
    } catch {
      protobufEs = "refuses";
    }
    return {
      name,
      rule,
      what,
      op,
      seq: 300 + i,
      type: desc.typeName,
      hex: frame({ op, seq: 300 + i, body, extension }).toString("hex"),
      code: "BAD_BODY",
      offset: 16 + extension.length + offset,
      protobufEs,
    };
  }),
]);

// ---------------------------------------------------------------------------------------------------
// sync-keys.json: the text form (parse and format) and the order (merge, compare, hasNewer, equals),
// computed here from the rules in §10 with BigInt and plain loops.
const U32 = 2n ** 32n - 1n;
const U64 = 2n ** 64n - 1n;

/** Parses per §10: entries of `key_version` joined by `|`; refused at the start of the bad entry. */
function parseText(text) {
  if (text === "") return { entries: [] };
  const entries = [];
  const seen = new Set();
  let at = 0;
  for (const part of text.split("|")) {
    const m = /^(0|[1-9][0-9]*)_(0|[1-9][0-9]*)$/.exec(part);
    if (m === null || BigInt(m[1]) > U32 || BigInt(m[2]) > U64 || seen.has(m[1])) return { error: { code: "BAD_SYNC_KEY", offset: at } };
    seen.add(m[1]);
    entries.push([Number(m[1]), m[2]]);
    at += part.length + 1;
  }
  return { entries };
}

const parseCases = [
  ["", "the empty string is the empty key"],
  ["1_620943725|2_620943769|3_620943649|1000_1620940000", "WeChat's long-poll form"],
  ["2_5|1_7", "entry order is kept"],
  ["1_0", "version 0 (the same position as no entry for key 1, but kept as written)"],
  ["0_0", "key 0 and version 0"],
  ["4294967295_18446744073709551615", "the largest key and version"],
  ["4294967296_1", "key above 2^32 − 1"],
  ["1_18446744073709551616", "version above 2^64 − 1"],
  ["01_2", "a leading zero in a key"],
  ["1_02", "a leading zero in a version"],
  ["1_00", "version written 00"],
  ["00_1", "key written 00"],
  ["1_2|3_02", "a leading zero in the second entry: the offset is that entry's start"],
  ["1_1|2_2|1_3", "a repeated key: refused at the repeat"],
  ["1_", "no version"],
  ["_1", "no key"],
  ["1_2|", "an empty entry at the end"],
  ["|1_2", "an empty entry at the start"],
  ["1_2||3_4", "an empty entry in the middle"],
  ["1-2", "the wrong separator"],
  [" 1_2", "a space"],
  ["1_2 ", "a trailing space"],
  ["+1_2", "a sign"],
  ["1_2|3_x", "a letter"],
  ["1_2_3", "two underscores"],
  ["１_2", "a fullwidth digit"],
];

const pairsOf = (entries) => entries.map(([k, v]) => [k, String(v)]);
/** Version per key, max over repeats, zeros dropped: what a SyncKey means. */
function meaning(entries) {
  const m = new Map();
  for (const [k, v] of entries) if (BigInt(v) > (m.get(k) ?? 0n)) m.set(k, BigInt(v));
  return m;
}
function newer(a, b) {
  const mb = meaning(b);
  for (const [k, v] of meaning(a)) if (v > (mb.get(k) ?? 0n)) return true;
  return false;
}
/** mergeSyncKeys's result: per-key maximum, sorted by key, keys present in either input kept (also at 0). */
function merged(a, b) {
  const m = new Map();
  for (const [k, v] of [...a, ...b]) if (!m.has(k) || BigInt(v) > m.get(k)) m.set(k, BigInt(v));
  return [...m.keys()].sort((x, y) => x - y).map((k) => [k, String(m.get(k))]);
}
const orderCases = [
  [[], [], "two empty keys"],
  [[[1, 5]], [], "a key against the empty key"],
  [[[1, 0]], [], "version 0 means nothing seen: equal to the empty key"],
  [[[1, 5], [2, 3]], [[2, 3], [1, 5]], "entry order means nothing"],
  [[[1, 5], [1, 9]], [[1, 9]], "a repeated key: the larger version counts"],
  [[[1, 5], [2, 3]], [[1, 6], [2, 3]], "behind on one key"],
  [[[1, 7], [2, 3]], [[1, 6], [2, 4]], "concurrent: each is newer on one key"],
  [[[1, 5]], [[2, 1]], "concurrent: different keys"],
  [[[1000, "18446744073709551615"]], [[1000, "18446744073709551614"]], "u64 versions compare as integers, not as floats"],
  [[[3, 1], [1, 2]], [[2, 0], [3, 1]], "merge sorts by key and keeps a key seen at 0"],
];

write("sync-keys.json", {
  parse: parseCases.map(([text, what]) => ({ what, text, ...parseText(text) })),
  format: [
    { what: "entries in their order, version as a decimal", entries: [[2, "620943769"], [1, "620943725"]], text: "2_620943769|1_620943725" },
    { what: "no entries", entries: [], text: "" },
    { what: "version 0 is written", entries: [[7, "0"]], text: "7_0" },
    { what: "the largest values", entries: [[4294967295, "18446744073709551615"]], text: "4294967295_18446744073709551615" },
  ],
  order: orderCases.map(([a, b, what]) => {
    const an = newer(a, b);
    const bn = newer(b, a);
    return {
      what,
      a: pairsOf(a),
      b: pairsOf(b),
      merge: merged(a, b),
      compare: an && bn ? null : an ? 1 : bn ? -1 : 0,
      aHasNewer: an,
      bHasNewer: bn,
      equal: !an && !bn,
    };
  }),
});

// ---------------------------------------------------------------------------------------------------
// client-msg-ids.json: one generator's ids for given clock readings and random draws (§10, "Client
// message ids"): the top 41 bits are ms since 2024-01-01T00:00:00Z, the low 23 a random start for the
// first id of a millisecond; otherwise (same ms, or the clock went back) the previous id + 1.
const EPOCH = 1_704_067_200_000;
function ids(steps) {
  let last = -1n;
  let lastMs = -1;
  return steps.map(([now, random]) => {
    const ms = now - EPOCH;
    let id;
    if (ms > lastMs) {
      if (random === null) throw new Error("a new millisecond needs a random draw");
      id = (BigInt(ms) << 23n) | BigInt(random);
      lastMs = ms;
      if (id <= last) id = last + 1n;
    } else {
      if (random !== null) throw new Error("no random draw within a millisecond");
      id = last + 1n;
    }
    last = id;
    return String(id);
  });
}
const idCases = [
  ["the epoch itself, random 0: id 0", [[EPOCH, 0]]],
  ["2024-11-19T07:06:40.123Z with random 0x2a5f3c", [[1_732_000_000_123, 0x2a5f3c]]],
  ["three ids in one millisecond: the random start, then +1, +1 (no more draws)", [[1_732_000_000_123, 5], [1_732_000_000_123, null], [1_732_000_000_123, null]]],
  ["the next millisecond draws again", [[1_732_000_000_123, 0x7fffff], [1_732_000_000_124, 0]]],
  ["the clock steps back: previous + 1, no draw", [[1_732_000_000_500, 10], [1_732_000_000_400, null], [1_732_000_000_500, null]]],
  ["a later millisecond whose draw would not increase the id: previous + 1", [[1_732_000_000_500, 0x7fffff], [1_732_000_000_500, null], [1_732_000_000_501, 0]]],
  ["the last millisecond of the range (2^41 − 1 after the epoch), random 2^23 − 1: 2^64 − 1", [[EPOCH + 2 ** 41 - 1, 0x7fffff]]],
];
write(
  "client-msg-ids.json",
  idCases.map(([what, steps]) => ({
    what,
    epochMs: EPOCH,
    steps: steps.map(([nowMs, random23]) => ({ nowMs, random23 })),
    ids: ids(steps),
  })),
);
