/**
 * Hand-written encoders for the hot messages: MessagePacket (with MediaRef), Ack and SyncKey (with
 * SyncKeyEntry). Each writes exactly the bytes protobuf-es's `toBinary` writes — fields in number
 * order, default values of implicit-presence fields left out, `optional` fields written when present
 * even if empty, unknown fields (`$unknown`) last — which test/bodies/fast-path.test.ts proves.
 *
 * Anything that is not a well-typed value (a `number` where a `bigint` belongs, a value out of range,
 * a malformed `$unknown`) makes the encoder give up with {@link Bail}; the codec then runs protobuf-es,
 * which either accepts the value its own way or throws. So the fast path never has to reproduce
 * protobuf-es's handling of bad input to stay equivalent.
 */
import type { Ack, MediaRef, MessagePacket } from "../gen/syncwire/v1/message_pb.js";
import type { SyncKey, SyncKeyEntry } from "../gen/syncwire/v1/sync_pb.js";
import type { BodyWriter } from "./writer.js";

/** Thrown (never escapes the codec) when a value needs protobuf-es's judgement. */
export class Bail {
  private constructor() {}
  /** The one instance. */
  static readonly it = new Bail();
}

const MAX_U64 = 0xffff_ffff_ffff_ffffn;

function u64(v: unknown): bigint {
  if (typeof v !== "bigint" || v < 0n || v > MAX_U64) throw Bail.it;
  return v;
}

function u32(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw Bail.it;
  return v;
}

function i32(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < -0x8000_0000 || v > 0x7fff_ffff) throw Bail.it;
  return v;
}

function str(v: unknown): string {
  if (typeof v !== "string") throw Bail.it;
  return v;
}

function bin(v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw Bail.it;
  return v;
}

function checkType(m: { $typeName?: unknown } | undefined, typeName: string): void {
  if (m === null || typeof m !== "object" || m.$typeName !== typeName) throw Bail.it;
}

/** Writes `$unknown` (if any) as protobuf-es does: tag, then the stored value bytes. */
function writeUnknown(w: BodyWriter, unknown: unknown): void {
  if (unknown === undefined) return;
  if (!Array.isArray(unknown)) throw Bail.it;
  for (const field of unknown as unknown[]) {
    if (field === null || typeof field !== "object") throw Bail.it;
    const { no, wireType, data } = field as { no: unknown; wireType: unknown; data: unknown };
    if (typeof no !== "number" || !Number.isInteger(no) || no < 1 || no > 0x1fff_ffff) throw Bail.it;
    if (typeof wireType !== "number" || !Number.isInteger(wireType) || wireType < 0 || wireType > 5) throw Bail.it;
    w.uint32(((no << 3) | wireType) >>> 0);
    w.raw(bin(data));
  }
}

/** MediaRef's fields (no tag, no length). */
export function writeMediaRef(w: BodyWriter, m: MediaRef): void {
  checkType(m, "syncwire.v1.MediaRef");
  const objectId = str(m.objectId);
  if (objectId.length > 0) {
    w.uint32(10);
    w.string(objectId);
  }
  const contentType = str(m.contentType);
  if (contentType.length > 0) {
    w.uint32(18);
    w.string(contentType);
  }
  const size = u64(m.size);
  if (size !== 0n) {
    w.uint32(24);
    w.uint64(size);
  }
  if (m.thumbnail !== undefined) {
    w.uint32(34);
    w.bytes(bin(m.thumbnail));
  }
  writeUnknown(w, m.$unknown);
}

/** MessagePacket's fields. */
export function writeMessagePacket(w: BodyWriter, m: MessagePacket): void {
  checkType(m, "syncwire.v1.MessagePacket");
  const clientMsgId = u64(m.clientMsgId);
  if (clientMsgId !== 0n) {
    w.uint32(9);
    w.fixed64(clientMsgId);
  }
  const serverMsgId = u64(m.serverMsgId);
  if (serverMsgId !== 0n) {
    w.uint32(16);
    w.uint64(serverMsgId);
  }
  const conversationId = str(m.conversationId);
  if (conversationId.length > 0) {
    w.uint32(26);
    w.string(conversationId);
  }
  const senderId = str(m.senderId);
  if (senderId.length > 0) {
    w.uint32(34);
    w.string(senderId);
  }
  const recipientId = str(m.recipientId);
  if (recipientId.length > 0) {
    w.uint32(42);
    w.string(recipientId);
  }
  const kind = i32(m.kind);
  if (kind !== 0) {
    w.uint32(48);
    w.int32(kind);
  }
  const content = bin(m.content);
  if (content.byteLength > 0) {
    w.uint32(58);
    w.bytes(content);
  }
  if (m.media !== undefined) {
    w.uint32(66);
    const at = w.beginNested();
    writeMediaRef(w, m.media);
    w.endNested(at);
  }
  const createdAtMs = u64(m.createdAtMs);
  if (createdAtMs !== 0n) {
    w.uint32(72);
    w.uint64(createdAtMs);
  }
  writeUnknown(w, m.$unknown);
}

/** Ack's fields. */
export function writeAck(w: BodyWriter, m: Ack): void {
  checkType(m, "syncwire.v1.Ack");
  const status = i32(m.status);
  if (status !== 0) {
    w.uint32(8);
    w.int32(status);
  }
  const clientMsgId = u64(m.clientMsgId);
  if (clientMsgId !== 0n) {
    w.uint32(17);
    w.fixed64(clientMsgId);
  }
  const serverMsgId = u64(m.serverMsgId);
  if (serverMsgId !== 0n) {
    w.uint32(24);
    w.uint64(serverMsgId);
  }
  const serverTimeMs = u64(m.serverTimeMs);
  if (serverTimeMs !== 0n) {
    w.uint32(32);
    w.uint64(serverTimeMs);
  }
  const error = str(m.error);
  if (error.length > 0) {
    w.uint32(42);
    w.string(error);
  }
  writeUnknown(w, m.$unknown);
}

/** SyncKeyEntry's fields. */
export function writeSyncKeyEntry(w: BodyWriter, m: SyncKeyEntry): void {
  checkType(m, "syncwire.v1.SyncKeyEntry");
  const key = u32(m.key);
  if (key !== 0) {
    w.uint32(8);
    w.uint32(key);
  }
  const version = u64(m.version);
  if (version !== 0n) {
    w.uint32(16);
    w.uint64(version);
  }
  writeUnknown(w, m.$unknown);
}

/** SyncKey's fields. */
export function writeSyncKey(w: BodyWriter, m: SyncKey): void {
  checkType(m, "syncwire.v1.SyncKey");
  const entries: unknown = m.entries;
  if (!Array.isArray(entries)) throw Bail.it;
  for (const entry of entries as SyncKeyEntry[]) {
    w.uint32(10);
    const at = w.beginNested();
    writeSyncKeyEntry(w, entry);
    w.endNested(at);
  }
  writeUnknown(w, m.$unknown);
}
