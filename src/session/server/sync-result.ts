/**
 * SYNC_RESULT frames, composed from the bodies layer's fast MessagePacket and SyncKey encoders instead of
 * protobuf-es's reflective `toBinary`: a page is the server's hottest frame (every message goes out in
 * one, to every device), and `toBinary` spent about 8 µs per message of it where the fast encoder spends
 * about 1 µs (measured in one run on the development machine). The body is
 * `SyncResult { repeated MessagePacket messages = 1; SyncKey sync_key = 2; bool has_more = 3 }`, written
 * in field order as protobuf writes it (`has_more` only when true, as proto3 omits a default).
 * test/session/server/sync-result.test.ts proves the bytes equal
 * `encodeBodyFrame(Op.SYNC_RESULT, create(SyncResultSchema, …))`. Once the bodies layer's fast path
 * covers SyncResult itself, `encodeBodyFrame` can take this file's place.
 *
 * Each message is encoded once, so a page can be cut to the client's frame limit from the sizes alone.
 */
import { MessagePacketSchema, type MessagePacket } from "../../gen/syncwire/v1/message_pb.js";
import { SyncKeySchema, type SyncKey } from "../../gen/syncwire/v1/sync_pb.js";
import { encodeProto } from "../../bodies/proto.js";
import { encodeHeader } from "../../wire/encode.js";
import { HEADER_SIZE } from "../../wire/header.js";
import { Op } from "../../wire/ops.js";

/** Bytes of a length prefix (a varint). */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Bytes of a length-delimited field (one-byte tag) holding `length` bytes. */
export function lengthFieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

function writeLengthField(target: Uint8Array, at: number, tag: number, bytes: Uint8Array): number {
  target[at++] = tag;
  let n = bytes.byteLength;
  while (n >= 0x80) {
    target[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  target[at++] = n;
  target.set(bytes, at);
  return at + bytes.byteLength;
}

/**
 * One message as it appears inside a SYNC_RESULT (its MessagePacket encoding, without the field tag).
 * @returns a copy (a view of a pooled slab, see `encodeProto`).
 * @throws TypeError if `message` is not a MessagePacket protobuf can encode.
 */
export function encodeSyncMessage(message: MessagePacket): Uint8Array {
  return encodeProto(MessagePacketSchema, message);
}

/**
 * Bytes of a SYNC_RESULT frame holding messages whose encodings add up to `messageFieldBytes` (the sum
 * of `lengthFieldSize(encoding.byteLength)`), the key and the flag. Never throws.
 */
export function syncResultFrameSize(messageFieldBytes: number, key: Uint8Array, hasMore: boolean): number {
  return HEADER_SIZE + messageFieldBytes + lengthFieldSize(key.byteLength) + (hasMore ? 2 : 0);
}

/**
 * The encoded `sync_key` of a SYNC_RESULT.
 * @returns a copy (a pooled slab view).
 */
export function encodeResultKey(key: SyncKey): Uint8Array {
  return encodeProto(SyncKeySchema, key);
}

/**
 * A whole SYNC_RESULT frame: `messages` (from {@link encodeSyncMessage}), the key (from
 * {@link encodeResultKey}) and `hasMore`.
 * @returns a fresh array holding the frame.
 * @throws RangeError if `seq` or `version` does not fit its header field.
 */
export function syncResultFrame(messages: readonly Uint8Array[], key: Uint8Array, hasMore: boolean, seq: number, version: number): Uint8Array {
  let fields = 0;
  for (const m of messages) fields += lengthFieldSize(m.byteLength);
  const size = syncResultFrameSize(fields, key, hasMore);
  const frame = new Uint8Array(size);
  frame.set(encodeHeader({ op: Op.SYNC_RESULT, seq, version, bodyLength: size - HEADER_SIZE }), 0);
  let at = HEADER_SIZE;
  for (const m of messages) at = writeLengthField(frame, at, 0x0a, m);
  at = writeLengthField(frame, at, 0x12, key);
  if (hasMore) {
    frame[at++] = 0x18;
    frame[at++] = 1;
  }
  return frame;
}
