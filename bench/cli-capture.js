// A large, realistic capture for the CLI throughput bench (bench/cli.js): one link's frames as a
// syncwire client and server exchange them — SENDs with text of 20–400 bytes, their ACKs, NOTIFYs,
// SYNC / SYNC_RESULT pages of 1–20 messages, SYNC_COMMITs, heartbeats, and BATCHes of ACKs and NOTIFYs as
// a batching server sends them — built with the library (dist/), deterministic (seeded). Written twice:
// the raw frames (both directions, in the order they were sent) and a classic pcap (µs, little-endian,
// Ethernet) of the same frames on one IPv4 TCP connection with its handshake, each direction cut into
// 1448-byte segments as a real link would, so `dump` reassembles both directions.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { AckSchema, encodeBatch, encodeBodyFrame, encodeFrame, MessageKind, MessagePacketSchema, NotifySchema, Op, SyncCommitSchema, SyncRequestSchema, SyncResultSchema } from "../dist/index.js";
import { concatBytes as concat } from "../dist/cli/concat.js";
import { mulberry32 } from "../dist/node/seeded-random.js";

/** A seeded PRNG (mulberry32), the one the fault proxy and the tests use. */
const seeded = mulberry32;

const WORDS = "are we still on for lunch tomorrow at noon I'll book the usual place see you there 你好 привет 👋 ok thanks".split(" ");
const utf8 = new TextEncoder();
const T0 = 1_735_689_600_000n;

/**
 * The frames of a link of about `bytes` bytes in all.
 * @returns `{ up, down, all, count }`: client → server and server → client frames (copies, in order), both interleaved in send order, and how many frames (BATCH inner frames included).
 */
export function linkFrames(bytes, seed = 12) {
  const random = seeded(seed);
  const pick = (n) => Math.floor(random() * n);
  const text = () => {
    // Words until about `target` characters (a few more bytes for the non-ASCII ones).
    const target = 20 + pick(380);
    let s = WORDS[pick(WORDS.length)];
    while (s.length < target) s += " " + WORDS[pick(WORDS.length)];
    return utf8.encode(s);
  };
  const up = [];
  const down = [];
  const all = [];
  let size = 0;
  let count = 0;
  let upSeq = 0;
  let downSeq = 0;
  let msgId = 0x0190_0000_0000_0000n;
  let serverId = 9_000_000n;
  let version = 620_943_800n;
  // encodeBodyFrame may return a view of a shared slab: keep a copy.
  const send = (list, frame, frames = 1) => {
    const copy = frame.slice();
    list.push(copy);
    all.push(copy);
    size += copy.byteLength;
    count += frames;
  };
  const packet = (i) =>
    create(MessagePacketSchema, {
      clientMsgId: msgId + BigInt(i),
      serverMsgId: serverId + BigInt(i),
      conversationId: `c2c:u_${1000 + pick(50)}:u_2048`,
      senderId: `u_${1000 + pick(50)}`,
      recipientId: "u_2048",
      kind: MessageKind.TEXT,
      content: text(),
      createdAtMs: T0 + BigInt(pick(1e9)),
    });
  while (size < bytes) {
    const roll = random();
    if (roll < 0.5) {
      // The client sends, the server acks (half the time in a BATCH with the NOTIFY it owes the recipient's other device).
      msgId++;
      serverId++;
      send(up, encodeBodyFrame(Op.SEND, packet(0), { seq: ++upSeq }));
      const ack = { op: Op.ACK, seq: upSeq, body: encodeBodyFrameBody(Op.ACK, create(AckSchema, { clientMsgId: msgId, serverMsgId: serverId, serverTimeMs: T0 + serverId })) };
      const notify = { op: Op.NOTIFY, seq: 0, body: encodeBodyFrameBody(Op.NOTIFY, create(NotifySchema, { syncKey: { entries: [{ key: 1, version: ++version }] }, selector: 1 })) };
      if (random() < 0.5) send(down, encodeBatch([ack, notify], { seq: ++downSeq }), 3);
      else {
        send(down, encodeFrame(ack));
        send(down, encodeFrame(notify));
      }
    } else if (roll < 0.8) {
      // A sync cycle: SYNC, one SYNC_RESULT page, SYNC_COMMIT.
      const key = { entries: [{ key: 1, version }] };
      send(up, encodeBodyFrame(Op.SYNC, create(SyncRequestSchema, { syncKey: key, limit: 100 }), { seq: ++upSeq }));
      const n = 1 + pick(20);
      const messages = Array.from({ length: n }, (_, i) => packet(i));
      msgId += BigInt(n);
      serverId += BigInt(n);
      version += BigInt(n);
      const next = { entries: [{ key: 1, version }] };
      send(down, encodeBodyFrame(Op.SYNC_RESULT, create(SyncResultSchema, { messages, syncKey: next, hasMore: false }), { seq: upSeq }));
      send(up, encodeBodyFrame(Op.SYNC_COMMIT, create(SyncCommitSchema, { syncKey: next }), { seq: ++upSeq }));
    } else {
      send(up, encodeFrame({ op: Op.HEARTBEAT, seq: ++upSeq }));
      send(down, encodeFrame({ op: Op.HEARTBEAT_ACK, seq: upSeq }));
    }
  }
  return { up, down, all, count, bytes: size };
}

/** A body message's bytes (the body of `encodeBodyFrame`'s frame, copied). */
function encodeBodyFrameBody(op, message) {
  return encodeBodyFrame(op, message).slice(16);
}


const MSS = 1448;
const CLIENT = { ip: [10, 0, 0, 2], port: 51234, mac: [2, 0, 0, 0, 0, 2] };
const SERVER = { ip: [10, 0, 0, 1], port: 5000, mac: [2, 0, 0, 0, 0, 1] };

/** One Ethernet/IPv4/TCP packet record of a pcap (record header included). */
function packetRecord(from, to, seq, ack, flags, payload, usec) {
  const ipLength = 20 + 20 + payload.byteLength;
  const record = new Uint8Array(16 + 14 + ipLength);
  const v = new DataView(record.buffer);
  v.setUint32(0, Math.floor(usec / 1e6), true);
  v.setUint32(4, usec % 1e6, true);
  v.setUint32(8, record.byteLength - 16, true);
  v.setUint32(12, record.byteLength - 16, true);
  record.set(to.mac, 16);
  record.set(from.mac, 22);
  v.setUint16(28, 0x0800);
  const ip = 30;
  v.setUint8(ip, 0x45);
  v.setUint16(ip + 2, ipLength);
  v.setUint16(ip + 6, 0x4000); // don't fragment
  v.setUint8(ip + 8, 64);
  v.setUint8(ip + 9, 6);
  record.set(from.ip, ip + 12);
  record.set(to.ip, ip + 16);
  const tcp = ip + 20;
  v.setUint16(tcp, from.port);
  v.setUint16(tcp + 2, to.port);
  v.setUint32(tcp + 4, seq >>> 0);
  v.setUint32(tcp + 8, ack >>> 0);
  v.setUint8(tcp + 12, 5 << 4);
  v.setUint8(tcp + 13, flags);
  v.setUint16(tcp + 14, 65535);
  record.set(payload, tcp + 20);
  return record;
}

/** A pcap of one TCP connection carrying `up` (client → server) and `down`, segments of each side alternating. */
export function pcapOf(up, down) {
  const header = new Uint8Array(24);
  const h = new DataView(header.buffer);
  h.setUint32(0, 0xa1b2c3d4, true);
  h.setUint16(4, 2, true);
  h.setUint16(6, 4, true);
  h.setUint32(16, 65535, true);
  h.setUint32(20, 1, true); // Ethernet
  const records = [header];
  const SYN = 0x02;
  const ACK = 0x10;
  const PSH = 0x08;
  let usec = 1_735_689_600_000_000 % 2 ** 31;
  let cseq = 1000;
  let sseq = 500_000;
  records.push(packetRecord(CLIENT, SERVER, cseq++, 0, SYN, new Uint8Array(0), usec++));
  records.push(packetRecord(SERVER, CLIENT, sseq++, cseq, SYN | ACK, new Uint8Array(0), usec++));
  records.push(packetRecord(CLIENT, SERVER, cseq, sseq, ACK, new Uint8Array(0), usec++));
  const upBytes = concat(up);
  const downBytes = concat(down);
  for (let u = 0, d = 0; u < upBytes.byteLength || d < downBytes.byteLength; ) {
    if (u < upBytes.byteLength) {
      const piece = upBytes.subarray(u, u + MSS);
      records.push(packetRecord(CLIENT, SERVER, cseq, sseq, ACK | PSH, piece, usec++));
      cseq += piece.byteLength;
      u += piece.byteLength;
    }
    if (d < downBytes.byteLength) {
      const piece = downBytes.subarray(d, d + MSS);
      records.push(packetRecord(SERVER, CLIENT, sseq, cseq, ACK | PSH, piece, usec++));
      sseq += piece.byteLength;
      d += piece.byteLength;
    }
  }
  return concat(records);
}

/**
 * Writes `link.bin` (raw frames) and `link.pcap` into `dir`.
 * @returns the paths, sizes and frame count.
 */
export function writeCapture(dir, bytes) {
  const link = linkFrames(bytes);
  const raw = path.join(dir, "link.bin");
  const pcap = path.join(dir, "link.pcap");
  writeFileSync(raw, concat(link.all));
  const capture = pcapOf(link.up, link.down);
  writeFileSync(pcap, capture);
  return { raw, pcap, frameBytes: link.bytes, pcapBytes: capture.byteLength, frames: link.count };
}
