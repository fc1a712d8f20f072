/**
 * Hand-written decoders for the hot messages: MessagePacket (with MediaRef), Ack and SyncKey (with
 * SyncKeyEntry). Each produces exactly what protobuf-es's `fromBinary` produces for the same bytes —
 * same fields, same `bigint`s, `bytes` as views, unknown fields in `$unknown`, a repeated message field
 * merged into the first — and fails exactly where validate.ts would (test/bodies/fast-path.test.ts
 * proves both). The tag constants are `fieldNo << 3 | wireType` from proto/syncwire/v1/*.proto.
 */
import type { MediaRef, MessagePacket, Ack } from "../gen/syncwire/v1/message_pb.js";
import type { SyncKey, SyncKeyEntry } from "../gen/syncwire/v1/sync_pb.js";
import type { BodyReader, UnknownField } from "./reader.js";

function wrongWireType(r: BodyReader, tag: number, tagStart: number, type: string): never {
  return r.fail(tagStart, `field ${type} #${tag >>> 3} arrived with wire type ${tag & 7}`);
}

/** Reads a length prefix and returns the end of the value it announces. */
function subEnd(r: BodyReader, end: number): number {
  const len = r.length(end);
  return r.pos + len;
}

/** MediaRef from `r.pos` to `end`, merged into `into` when given (protobuf's rule for a repeated singular message). */
export function readMediaRef(r: BodyReader, end: number, into?: MediaRef): MediaRef {
  const m: MediaRef = into ?? { $typeName: "syncwire.v1.MediaRef", objectId: "", contentType: "", size: 0n };
  let unknown = m.$unknown as UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 10:
        m.objectId = r.string(end);
        break;
      case 18:
        m.contentType = r.string(end);
        break;
      case 24:
        m.size = r.varint64(end);
        break;
      case 34:
        m.thumbnail = r.bytes(end);
        break;
      default:
        if (tag >>> 3 <= 4) wrongWireType(r, tag, tagStart, "syncwire.v1.MediaRef");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** MessagePacket from `r.pos` to `end`. */
export function readMessagePacket(r: BodyReader, end: number): MessagePacket {
  let clientMsgId = 0n;
  let serverMsgId = 0n;
  let conversationId = "";
  let senderId = "";
  let recipientId = "";
  let kind = 0;
  let content: Uint8Array | undefined;
  let media: MediaRef | undefined;
  let createdAtMs = 0n;
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 9:
        clientMsgId = r.fixed64(end);
        break;
      case 16:
        serverMsgId = r.varint64(end);
        break;
      case 26:
        conversationId = r.string(end);
        break;
      case 34:
        senderId = r.string(end);
        break;
      case 42:
        recipientId = r.string(end);
        break;
      case 48:
        kind = r.varint32(end) | 0;
        break;
      case 58:
        content = r.bytes(end);
        break;
      case 66:
        media = readMediaRef(r, subEnd(r, end), media);
        break;
      case 72:
        createdAtMs = r.varint64(end);
        break;
      default:
        if (tag >>> 3 <= 9) wrongWireType(r, tag, tagStart, "syncwire.v1.MessagePacket");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  const m: MessagePacket = {
    $typeName: "syncwire.v1.MessagePacket",
    clientMsgId,
    serverMsgId,
    conversationId,
    senderId,
    recipientId,
    kind,
    content: content ?? new Uint8Array(0),
    createdAtMs,
  };
  if (media !== undefined) m.media = media;
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** Ack from `r.pos` to `end`. */
export function readAck(r: BodyReader, end: number): Ack {
  let status = 0;
  let clientMsgId = 0n;
  let serverMsgId = 0n;
  let serverTimeMs = 0n;
  let error = "";
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 8:
        status = r.varint32(end) | 0;
        break;
      case 17:
        clientMsgId = r.fixed64(end);
        break;
      case 24:
        serverMsgId = r.varint64(end);
        break;
      case 32:
        serverTimeMs = r.varint64(end);
        break;
      case 42:
        error = r.string(end);
        break;
      default:
        if (tag >>> 3 <= 5) wrongWireType(r, tag, tagStart, "syncwire.v1.Ack");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  const m: Ack = { $typeName: "syncwire.v1.Ack", status, clientMsgId, serverMsgId, serverTimeMs, error };
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** SyncKeyEntry from `r.pos` to `end`. */
export function readSyncKeyEntry(r: BodyReader, end: number): SyncKeyEntry {
  let key = 0;
  let version = 0n;
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 8:
        key = r.varint32(end);
        break;
      case 16:
        version = r.varint64(end);
        break;
      default:
        if (tag >>> 3 <= 2) wrongWireType(r, tag, tagStart, "syncwire.v1.SyncKeyEntry");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  const m: SyncKeyEntry = { $typeName: "syncwire.v1.SyncKeyEntry", key, version };
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** SyncKey from `r.pos` to `end`. */
export function readSyncKey(r: BodyReader, end: number): SyncKey {
  const entries: SyncKeyEntry[] = [];
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    if (tag === 10) {
      entries.push(readSyncKeyEntry(r, subEnd(r, end)));
      continue;
    }
    if (tag >>> 3 === 1) wrongWireType(r, tag, tagStart, "syncwire.v1.SyncKey");
    unknown = r.unknown(tag, tagStart, end, unknown);
  }
  const m: SyncKey = { $typeName: "syncwire.v1.SyncKey", entries };
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}
