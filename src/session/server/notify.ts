/**
 * NOTIFY frames, encoded without protobuf-es's reflective path: a NOTIFY goes to every link of every
 * user whose log grew, so it is on the SEND hot path. The body is `Notify { sync_key = 1 }` (selector 0
 * is left out, as protobuf writes a default): tag 0x0a, the length, then the SyncKey through the
 * bodies layer's fast encoder. test/session/server/notify.test.ts proves the bytes equal
 * `encodeBodyFrame(Op.NOTIFY, create(NotifySchema, { syncKey }))`.
 */
import { createSyncKey } from "../../bodies/sync-key.js";
import { encodeProto } from "../../bodies/proto.js";
import { SyncKeySchema } from "../../gen/syncwire/v1/sync_pb.js";
import { encodeFrame } from "../../wire/encode.js";
import { Op } from "../../wire/ops.js";

/**
 * A NOTIFY frame (seq 0) carrying the key made of `versions` (stream key → newest version).
 * @returns a fresh array holding the whole frame.
 * @throws RangeError if a key is not a u32 or a version not a u64 (see createSyncKey), or `version`
 *   is not a u16.
 */
export function notifyFrame(versions: Iterable<readonly [number, bigint]>, version: number): Uint8Array {
  const key = encodeProto(SyncKeySchema, createSyncKey(versions));
  let lengthBytes = 1;
  for (let n = key.byteLength; n >= 0x80; n >>>= 7) lengthBytes++;
  const body = new Uint8Array(1 + lengthBytes + key.byteLength);
  body[0] = 0x0a;
  let at = 1;
  let n = key.byteLength;
  while (n >= 0x80) {
    body[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  body[at++] = n;
  body.set(key, at);
  return encodeFrame({ op: Op.NOTIFY, seq: 0, version, body });
}
