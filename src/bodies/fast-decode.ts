/**
 * Hand-written decoders for every body message (and the messages nested in them). Each produces exactly what protobuf-es's `fromBinary` produces for the same bytes —
 * same fields, same `bigint`s, `bytes` as views, unknown fields in `$unknown`, a repeated message field
 * merged into the first — and fails exactly where validate.ts would (test/bodies/fast-path.test.ts
 * proves both). The tag constants are `fieldNo << 3 | wireType` from proto/syncwire/v1/*.proto.
 */
import type { MediaRef, MessagePacket, Ack } from "../gen/syncwire/v1/message_pb.js";
import type { Chunk, ChunkAck } from "../gen/syncwire/v1/chunk_pb.js";
import type { Capabilities, Disconnect, Heartbeat, HeartbeatAck, Hello, Limits, Welcome } from "../gen/syncwire/v1/session_pb.js";
import type { Notify, SyncCommit, SyncKey, SyncKeyEntry, SyncRequest, SyncResult } from "../gen/syncwire/v1/sync_pb.js";
import { Op } from "../wire/ops.js";
import type { BodyReader, UnknownField } from "./reader.js";

/** A hand-written decoder: the message from `r.pos` to `end`. */
export type FastRead = (r: BodyReader, end: number) => unknown;

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

/** SyncKey from `r.pos` to `end`, merged into `into` when given (a repeated singular field: entries append). */
export function readSyncKey(r: BodyReader, end: number, into?: SyncKey): SyncKey {
  const entries: SyncKeyEntry[] = into === undefined ? [] : into.entries;
  let unknown = into?.$unknown as UnknownField[] | undefined;
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
  const m: SyncKey = into ?? { $typeName: "syncwire.v1.SyncKey", entries };
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

// ---- sync.proto: NOTIFY, SYNC, SYNC_RESULT, SYNC_COMMIT ----

/** Notify from `r.pos` to `end`. */
export function readNotify(r: BodyReader, end: number): Notify {
  let syncKey: SyncKey | undefined;
  let selector = 0;
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 10:
        syncKey = readSyncKey(r, subEnd(r, end), syncKey);
        break;
      case 16:
        selector = r.varint32(end);
        break;
      default:
        if (tag >>> 3 <= 2) wrongWireType(r, tag, tagStart, "syncwire.v1.Notify");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  const m: Notify = { $typeName: "syncwire.v1.Notify", selector };
  if (syncKey !== undefined) m.syncKey = syncKey;
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** SyncRequest from `r.pos` to `end`. */
export function readSyncRequest(r: BodyReader, end: number): SyncRequest {
  let syncKey: SyncKey | undefined;
  let limit = 0;
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 10:
        syncKey = readSyncKey(r, subEnd(r, end), syncKey);
        break;
      case 16:
        limit = r.varint32(end);
        break;
      default:
        if (tag >>> 3 <= 2) wrongWireType(r, tag, tagStart, "syncwire.v1.SyncRequest");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  const m: SyncRequest = { $typeName: "syncwire.v1.SyncRequest", limit };
  if (syncKey !== undefined) m.syncKey = syncKey;
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** SyncResult from `r.pos` to `end`: the body a client decodes most, a list of MessagePackets. */
export function readSyncResult(r: BodyReader, end: number): SyncResult {
  const messages: MessagePacket[] = [];
  let syncKey: SyncKey | undefined;
  let hasMore = false;
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 10:
        messages.push(readMessagePacket(r, subEnd(r, end)));
        break;
      case 18:
        syncKey = readSyncKey(r, subEnd(r, end), syncKey);
        break;
      case 24:
        hasMore = r.bool(end);
        break;
      default:
        if (tag >>> 3 <= 3) wrongWireType(r, tag, tagStart, "syncwire.v1.SyncResult");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  const m: SyncResult = { $typeName: "syncwire.v1.SyncResult", messages, hasMore };
  if (syncKey !== undefined) m.syncKey = syncKey;
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** SyncCommit from `r.pos` to `end`. */
export function readSyncCommit(r: BodyReader, end: number): SyncCommit {
  let syncKey: SyncKey | undefined;
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    if (tag === 10) {
      syncKey = readSyncKey(r, subEnd(r, end), syncKey);
      continue;
    }
    if (tag >>> 3 === 1) wrongWireType(r, tag, tagStart, "syncwire.v1.SyncCommit");
    unknown = r.unknown(tag, tagStart, end, unknown);
  }
  const m: SyncCommit = { $typeName: "syncwire.v1.SyncCommit" };
  if (syncKey !== undefined) m.syncKey = syncKey;
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

// ---- session.proto: HELLO, WELCOME, HEARTBEAT, HEARTBEAT_ACK, DISCONNECT ----

/** Capabilities from `r.pos` to `end`, merged into `into` when given. */
export function readCapabilities(r: BodyReader, end: number, into?: Capabilities): Capabilities {
  const m: Capabilities = into ?? { $typeName: "syncwire.v1.Capabilities", maxFrameSize: 0, batching: false };
  let unknown = m.$unknown as UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 8:
        m.maxFrameSize = r.varint32(end);
        break;
      case 16:
        m.batching = r.bool(end);
        break;
      default:
        if (tag >>> 3 <= 2) wrongWireType(r, tag, tagStart, "syncwire.v1.Capabilities");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** Hello from `r.pos` to `end`. */
export function readHello(r: BodyReader, end: number): Hello {
  const versions: number[] = [];
  let clientId = "";
  let token = "";
  let capabilities: Capabilities | undefined;
  let syncKey: SyncKey | undefined;
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 8:
      case 10:
        r.uint32s(tag & 7, end, versions);
        break;
      case 18:
        clientId = r.string(end);
        break;
      case 26:
        token = r.string(end);
        break;
      case 34:
        capabilities = readCapabilities(r, subEnd(r, end), capabilities);
        break;
      case 42:
        syncKey = readSyncKey(r, subEnd(r, end), syncKey);
        break;
      default:
        if (tag >>> 3 <= 5) wrongWireType(r, tag, tagStart, "syncwire.v1.Hello");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  const m: Hello = { $typeName: "syncwire.v1.Hello", versions, clientId, token };
  if (capabilities !== undefined) m.capabilities = capabilities;
  if (syncKey !== undefined) m.syncKey = syncKey;
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** Limits from `r.pos` to `end`, merged into `into` when given. */
export function readLimits(r: BodyReader, end: number, into?: Limits): Limits {
  const m: Limits = into ?? { $typeName: "syncwire.v1.Limits", maxFrameSize: 0, maxBatchFrames: 0, maxInFlight: 0 };
  let unknown = m.$unknown as UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 8:
        m.maxFrameSize = r.varint32(end);
        break;
      case 16:
        m.maxBatchFrames = r.varint32(end);
        break;
      case 24:
        m.maxInFlight = r.varint32(end);
        break;
      default:
        if (tag >>> 3 <= 3) wrongWireType(r, tag, tagStart, "syncwire.v1.Limits");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** Welcome from `r.pos` to `end`. */
export function readWelcome(r: BodyReader, end: number): Welcome {
  let version = 0;
  let sessionId = "";
  let heartbeatIntervalMs = 0;
  let limits: Limits | undefined;
  let serverTimeMs = 0n;
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 8:
        version = r.varint32(end);
        break;
      case 18:
        sessionId = r.string(end);
        break;
      case 24:
        heartbeatIntervalMs = r.varint32(end);
        break;
      case 34:
        limits = readLimits(r, subEnd(r, end), limits);
        break;
      case 40:
        serverTimeMs = r.varint64(end);
        break;
      default:
        if (tag >>> 3 <= 5) wrongWireType(r, tag, tagStart, "syncwire.v1.Welcome");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  const m: Welcome = { $typeName: "syncwire.v1.Welcome", version, sessionId, heartbeatIntervalMs, serverTimeMs };
  if (limits !== undefined) m.limits = limits;
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** Heartbeat from `r.pos` to `end`. */
export function readHeartbeat(r: BodyReader, end: number): Heartbeat {
  let clientTimeMs = 0n;
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    if (tag === 8) {
      clientTimeMs = r.varint64(end);
      continue;
    }
    if (tag >>> 3 === 1) wrongWireType(r, tag, tagStart, "syncwire.v1.Heartbeat");
    unknown = r.unknown(tag, tagStart, end, unknown);
  }
  const m: Heartbeat = { $typeName: "syncwire.v1.Heartbeat", clientTimeMs };
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** HeartbeatAck from `r.pos` to `end`. */
export function readHeartbeatAck(r: BodyReader, end: number): HeartbeatAck {
  let clientTimeMs = 0n;
  let serverTimeMs = 0n;
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 8:
        clientTimeMs = r.varint64(end);
        break;
      case 16:
        serverTimeMs = r.varint64(end);
        break;
      default:
        if (tag >>> 3 <= 2) wrongWireType(r, tag, tagStart, "syncwire.v1.HeartbeatAck");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  const m: HeartbeatAck = { $typeName: "syncwire.v1.HeartbeatAck", clientTimeMs, serverTimeMs };
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** Disconnect from `r.pos` to `end`. */
export function readDisconnect(r: BodyReader, end: number): Disconnect {
  let code = 0;
  let reason = "";
  let retryAfterMs = 0;
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 8:
        code = r.varint32(end) | 0;
        break;
      case 18:
        reason = r.string(end);
        break;
      case 24:
        retryAfterMs = r.varint32(end);
        break;
      default:
        if (tag >>> 3 <= 3) wrongWireType(r, tag, tagStart, "syncwire.v1.Disconnect");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  const m: Disconnect = { $typeName: "syncwire.v1.Disconnect", code, reason, retryAfterMs };
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

// ---- chunk.proto: CHUNK, CHUNK_ACK ----

/** Chunk from `r.pos` to `end`. `data` is a view of the body. */
export function readChunk(r: BodyReader, end: number): Chunk {
  let uploadId = "";
  let partIndex = 0;
  let partCount = 0;
  let totalSize = 0n;
  let contentType = "";
  let crc32 = 0;
  let data: Uint8Array | undefined;
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 10:
        uploadId = r.string(end);
        break;
      case 16:
        partIndex = r.varint32(end);
        break;
      case 24:
        partCount = r.varint32(end);
        break;
      case 32:
        totalSize = r.varint64(end);
        break;
      case 42:
        contentType = r.string(end);
        break;
      case 53:
        crc32 = r.fixed32(end);
        break;
      case 58:
        data = r.bytes(end);
        break;
      default:
        if (tag >>> 3 <= 7) wrongWireType(r, tag, tagStart, "syncwire.v1.Chunk");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  const m: Chunk = {
    $typeName: "syncwire.v1.Chunk",
    uploadId,
    partIndex,
    partCount,
    totalSize,
    contentType,
    crc32,
    data: data ?? new Uint8Array(0),
  };
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** ChunkAck from `r.pos` to `end`. */
export function readChunkAck(r: BodyReader, end: number): ChunkAck {
  let uploadId = "";
  const received: number[] = [];
  const missing: number[] = [];
  let complete = false;
  let objectId = "";
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    switch (tag) {
      case 10:
        uploadId = r.string(end);
        break;
      case 16:
      case 18:
        r.uint32s(tag & 7, end, received);
        break;
      case 24:
      case 26:
        r.uint32s(tag & 7, end, missing);
        break;
      case 32:
        complete = r.bool(end);
        break;
      case 42:
        objectId = r.string(end);
        break;
      default:
        if (tag >>> 3 <= 5) wrongWireType(r, tag, tagStart, "syncwire.v1.ChunkAck");
        unknown = r.unknown(tag, tagStart, end, unknown);
    }
  }
  const m: ChunkAck = { $typeName: "syncwire.v1.ChunkAck", uploadId, received, missing, complete, objectId };
  if (unknown !== undefined) m.$unknown = unknown;
  return m;
}

/** The reader of each typed op's body, indexed by op (see body-table.ts). */
export const BODY_READERS: readonly (FastRead | undefined)[] = (() => {
  const table: (FastRead | undefined)[] = [];
  table[Op.HEARTBEAT] = readHeartbeat;
  table[Op.HEARTBEAT_ACK] = readHeartbeatAck;
  table[Op.SEND] = readMessagePacket;
  table[Op.ACK] = readAck;
  table[Op.DISCONNECT] = readDisconnect;
  table[Op.HELLO] = readHello;
  table[Op.WELCOME] = readWelcome;
  table[Op.NOTIFY] = readNotify;
  table[Op.SYNC] = readSyncRequest;
  table[Op.SYNC_RESULT] = readSyncResult;
  table[Op.SYNC_COMMIT] = readSyncCommit;
  table[Op.CHUNK] = readChunk;
  table[Op.CHUNK_ACK] = readChunkAck;
  return table;
})();
