// pcap/pcapng fixtures are REAL tcpdump captures (scripts/make-pcap-fixtures.sh): the streams they hold
// are rebuilt here from the frames the capture script sent, independently of the reader.
import { describe, expect } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { readFileSync } from "node:fs";
import { captureStreams } from "../../src/cli/input/capture.js";
import { readCapture } from "../../src/cli/input/pcap.js";
import { reassembleTcp } from "../../src/cli/input/tcp-reassembly.js";
import type { TcpSegment } from "../../src/cli/input/packets.js";
import { CliInputError } from "../../src/cli/input/errors.js";
import { create } from "@bufbuild/protobuf";
import {
  AckSchema,
  HelloSchema,
  MessagePacketSchema,
  NotifySchema,
  Op,
  WelcomeSchema,
  decodeMessage,
  decodeFrames,
  encodeBodyFrame,
  encodeFrame,
} from "../../src/index.js";
import { concat, toHex } from "../support/hex.js";

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../fixtures/pcap/${name}`, import.meta.url)));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

// The frames scripts/make-pcap-fixtures.sh sends (see fixtures/pcap/README.md), built the same way:
// protobuf bodies with encodeBodyFrame, empty heartbeats with encodeFrame. (`slice`: encodeBodyFrame
// may return a view of a pooled slab.)
const CLIENT_MSG_ID = 0x0190_1a2b_3c4d_5e6fn;
const SEND_TEXT =
  "syncwire capture fixture: a SEND whose MessagePacket carries a text message of about three " +
  "hundred bytes, so that its frame spans dozens of 7-byte TCP segments and the reader must " +
  "reassemble the stream before the decoder sees a whole frame. UTF-8: 你好, привет, 👋. The end.";
const CLIENT = concat([
  encodeBodyFrame(
    Op.HELLO,
    create(HelloSchema, { versions: [1], clientId: "cli-demo", token: "t0k3n-demo", capabilities: { maxFrameSize: 1048576, batching: true } }),
    { seq: 1 },
  ).slice(),
  encodeBodyFrame(
    Op.SEND,
    create(MessagePacketSchema, {
      clientMsgId: CLIENT_MSG_ID,
      conversationId: "c2c:u_1024:u_2048",
      senderId: "u_1024",
      recipientId: "u_2048",
      kind: 1,
      content: text(SEND_TEXT),
      createdAtMs: 1_732_000_000_123n,
    }),
    { seq: 2 },
  ).slice(),
  encodeFrame({ op: Op.HEARTBEAT, seq: 3 }),
]);
const SERVER = concat([
  encodeBodyFrame(
    Op.WELCOME,
    create(WelcomeSchema, {
      version: 1,
      sessionId: "s_8d2e",
      heartbeatIntervalMs: 30000,
      limits: { maxFrameSize: 1048576, maxBatchFrames: 64, maxInFlight: 32 },
      serverTimeMs: 1_732_000_000_001n,
    }),
    { seq: 1 },
  ).slice(),
  encodeBodyFrame(Op.ACK, create(AckSchema, { clientMsgId: CLIENT_MSG_ID, serverMsgId: 9_000_001n, serverTimeMs: 1_732_000_000_130n }), { seq: 2 }).slice(),
  encodeBodyFrame(Op.NOTIFY, create(NotifySchema, { syncKey: { entries: [{ key: 1, version: 620_943_800n }] }, selector: 2 }), { seq: 0 }).slice(),
  encodeFrame({ op: Op.HEARTBEAT_ACK, seq: 3 }),
]);
const DECOY_CLIENT = encodeFrame({ op: Op.HEARTBEAT, seq: 1 });
const DECOY = encodeFrame({ op: 1000, seq: 9, body: text("decoy") });

const FILES = ["exchange.pcap", "exchange.pcapng", "exchange-any.pcapng"] as const;

/** Offsets of every record in a little-endian classic pcap (header 24, records 16 + data). */
function pcapRecords(file: Uint8Array): { start: number; end: number }[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const records: { start: number; end: number }[] = [];
  for (let at = 24; at < file.length; ) {
    const end = at + 16 + view.getUint32(at + 8, true);
    records.push({ start: at, end });
    at = end;
  }
  return records;
}

/** Rebuilds a classic LE pcap with records in a new order, link type and data. */
function rebuildPcap(file: Uint8Array, order: number[], linkType?: number, mapData?: (data: Uint8Array) => Uint8Array): Uint8Array {
  const records = pcapRecords(file);
  const header = file.slice(0, 24);
  if (linkType !== undefined) new DataView(header.buffer).setUint32(20, linkType, true);
  const parts: Uint8Array[] = [header];
  for (const i of order) {
    const r = records[i]!;
    const data = mapData ? mapData(file.subarray(r.start + 16, r.end)) : file.subarray(r.start + 16, r.end);
    const recordHeader = file.slice(r.start, r.start + 16);
    const v = new DataView(recordHeader.buffer);
    v.setUint32(8, data.length, true);
    v.setUint32(12, data.length, true);
    parts.push(recordHeader, data);
  }
  return concat(parts);
}

function expectExchange(streams: ReturnType<typeof captureStreams>["streams"]): void {
  expect(streams.map((s) => s.connection)).toEqual([0, 0, 1, 1, 2, 2]);
  const [c4, s4, c6, s6, decoyClient, decoyServer] = streams;
  expect(c4!.label).toMatch(/^127\.0\.0\.1:\d+ → 127\.0\.0\.1:5000$/);
  expect(s4!.label).toMatch(/^127\.0\.0\.1:5000 → 127\.0\.0\.1:\d+$/);
  expect(c6!.label).toMatch(/^\[::1\]:\d+ → \[::1\]:5000$/);
  expect(s6!.label).toMatch(/^\[::1\]:5000 → \[::1\]:\d+$/);
  for (const s of [c4!, c6!]) expect(toHex(s.data)).toBe(toHex(CLIENT));
  for (const s of [s4!, s6!]) expect(toHex(s.data)).toBe(toHex(SERVER));
  expect(toHex(decoyClient!.data)).toBe(toHex(DECOY_CLIENT));
  expect(toHex(decoyServer!.data)).toBe(toHex(DECOY));
  for (const s of streams) {
    expect(s.gap).toBeUndefined();
    expect(s.sawSyn).toBe(true);
    expect(s.closed).toBe(true);
  }
}

describe("real captures", () => {
  test.each(FILES)("%s reassembles to the frames sent, each split over several segments", (name) => {
    const result = captureStreams(fixture(name));
    expect(result.format).toBe(name.endsWith("pcapng") ? "pcapng" : "pcap");
    expectExchange(result.streams);
    expect(Math.min(...result.streams.map((s) => s.segments))).toBeGreaterThanOrEqual(3);
    expect(result.streams[0]!.segments).toBeGreaterThanOrEqual(Math.ceil(CLIENT.length / 7));
    const ops = decodeFrames(result.streams[1]!.data).frames.map((f) => [f.op, f.seq]);
    expect(ops).toEqual([[8, 1], [5, 2], [10, 0], [3, 3]]);
  });
  test("the exchange's bodies are real protobuf messages: lengths and a decoded SEND", () => {
    const streams = captureStreams(fixture("exchange.pcap")).streams;
    expect(streams.map((s) => s.data.length)).toEqual([421, 130, 421, 130, 16, 21]);
    const client = decodeFrames(streams[0]!.data).frames;
    expect(client.map((f) => [f.op, f.seq, f.packetLength])).toEqual([[7, 1, 49], [4, 2, 356], [2, 3, 16]]);
    const send = decodeMessage(Op.SEND, client[1]!.body);
    expect(new TextDecoder().decode(send.content)).toBe(SEND_TEXT);
    expect(send.content.length).toBeGreaterThanOrEqual(280);
    expect(decodeMessage(Op.NOTIFY, decodeFrames(streams[1]!.data).frames[2]!.body).syncKey?.entries[0]?.version).toBe(620_943_800n);
    const server = decodeFrames(streams[1]!.data).frames;
    expect(server.map((f) => f.packetLength)).toEqual([47, 37, 30, 16]);
  });
  test("link types: Ethernet in the pcap, Linux cooked v2 in the -i any capture", () => {
    expect(new Set(readCapture(fixture("exchange.pcap")).packets.map((p) => p.linkType))).toEqual(new Set([1]));
    expect(new Set(readCapture(fixture("exchange-any.pcapng")).packets.map((p) => p.linkType))).toEqual(new Set([276]));
  });
  test("pcap and pcapng of the same capture give the same packets and timestamps", () => {
    const a = readCapture(fixture("exchange.pcap")).packets;
    const b = readCapture(fixture("exchange.pcapng")).packets;
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) {
      expect(toHex(b[i]!.data)).toBe(toHex(a[i]!.data));
      expect([b[i]!.seconds, b[i]!.nanoseconds]).toEqual([a[i]!.seconds, a[i]!.nanoseconds]);
    }
  });
  test("--port picks the streams", () => {
    const only5001 = captureStreams(fixture("exchange.pcap"), { port: 5001 }).streams;
    expect(only5001.map((s) => toHex(s.data))).toEqual([toHex(DECOY_CLIENT), toHex(DECOY)]);
    expect(captureStreams(fixture("exchange.pcap"), { port: 5000 }).streams).toHaveLength(4);
    expect(captureStreams(fixture("exchange.pcap"), { port: 1 }).streams).toHaveLength(0);
  });
  test.prop([fc.infiniteStream(fc.nat()), fc.array(fc.nat(), { maxLength: 30 })], { numRuns: 30 })(
    "records shuffled and retransmitted: the same streams",
    (randoms, duplicates) => {
      const file = fixture("exchange.pcap");
      const n = pcapRecords(file).length;
      const order = Array.from({ length: n }, (_, i) => i);
      const it = randoms[Symbol.iterator]();
      for (let i = n - 1; i > 0; i--) {
        const j = it.next().value! % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const d of duplicates) order.splice(d % order.length, 0, order[(d * 31) % order.length]!);
      const streams = captureStreams(rebuildPcap(file, order)).streams;
      const byLabel = new Map(streams.map((s) => [s.label, toHex(s.data)]));
      for (const s of captureStreams(file).streams) expect(byLabel.get(s.label)).toBe(toHex(s.data));
    },
  );
});

describe("other link types and byte orders, derived from the real capture", () => {
  const file = fixture("exchange.pcap");
  const all = pcapRecords(file).map((_, i) => i);
  const ipOf = (frame: Uint8Array): Uint8Array => frame.subarray(14);
  const ethertypeOf = (frame: Uint8Array): number => (frame[12]! << 8) | frame[13]!;
  test.each([
    ["raw IP (101)", 101, (f: Uint8Array) => ipOf(f)],
    ["IPv4/IPv6 linktypes by version are not mixed: raw 12", 12, (f: Uint8Array) => ipOf(f)],
    ["BSD NULL, little-endian family", 0, (f: Uint8Array) => concat([Uint8Array.of(ethertypeOf(f) === 0x0800 ? 2 : 30, 0, 0, 0), ipOf(f)])],
    ["OpenBSD LOOP, big-endian family", 108, (f: Uint8Array) => concat([Uint8Array.of(0, 0, 0, ethertypeOf(f) === 0x0800 ? 2 : 24), ipOf(f)])],
    ["Linux SLL", 113, (f: Uint8Array) => concat([Uint8Array.of(0, 0, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, f[12]!, f[13]!), ipOf(f)])],
    ["Ethernet with a VLAN tag", 1, (f: Uint8Array) => concat([f.subarray(0, 12), Uint8Array.of(0x81, 0, 0, 5), f.subarray(12)])],
  ] as const)("%s", (_name, linkType, map) => {
    expectExchange(captureStreams(rebuildPcap(file, all, linkType, map)).streams);
  });
  test("big-endian and nanosecond-magic pcap", () => {
    const records = pcapRecords(file);
    const be = new Uint8Array(file.length);
    const src = new DataView(file.buffer, file.byteOffset, file.byteLength);
    const dst = new DataView(be.buffer);
    dst.setUint32(0, 0xa1b23c4d); // nanosecond magic, big-endian
    dst.setUint16(4, 2);
    dst.setUint16(6, 4);
    for (const at of [8, 12, 16, 20]) dst.setUint32(at, src.getUint32(at, true));
    for (const r of records) {
      dst.setUint32(r.start, src.getUint32(r.start, true));
      dst.setUint32(r.start + 4, src.getUint32(r.start + 4, true) * 1000);
      dst.setUint32(r.start + 8, src.getUint32(r.start + 8, true));
      dst.setUint32(r.start + 12, src.getUint32(r.start + 12, true));
      be.set(file.subarray(r.start + 16, r.end), r.start + 16);
    }
    expectExchange(captureStreams(be).streams);
    const a = readCapture(file).packets[5]!;
    const b = readCapture(be).packets[5]!;
    expect([b.seconds, b.nanoseconds]).toEqual([a.seconds, a.nanoseconds]);
  });
});

describe("pcapng built by hand", () => {
  /** A little-endian pcapng block: type, length, body padded to 4, length. */
  const block = (type: number, body: Uint8Array): Uint8Array => {
    const padded = (body.length + 3) & ~3;
    const out = new Uint8Array(12 + padded);
    const v = new DataView(out.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, out.length, true);
    out.set(body, 8);
    v.setUint32(out.length - 4, out.length, true);
    return out;
  };
  const u32s = (...values: number[]): Uint8Array => {
    const out = new Uint8Array(values.length * 4);
    values.forEach((x, i) => new DataView(out.buffer).setUint32(i * 4, x, true));
    return out;
  };
  test("per-interface link types, EPB and SPB, nanosecond if_tsresol", () => {
    const file = fixture("exchange.pcap");
    const packets = readCapture(file).packets; // Ethernet frames
    const shb = block(0x0a0d0d0a, concat([u32s(0x1a2b3c4d), Uint8Array.of(1, 0, 0, 0), new Uint8Array(8).fill(0xff)]));
    const tsresol = Uint8Array.of(9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0); // if_tsresol = 10^-9, then opt_endofopt
    const idbEthernet = block(1, concat([Uint8Array.of(1, 0, 0, 0), u32s(0)]));
    const idbRaw = block(1, concat([Uint8Array.of(101, 0, 0, 0), u32s(0), tsresol]));
    const parts: Uint8Array[] = [shb, idbEthernet, idbRaw];
    packets.forEach((p, i) => {
      if (i % 2 === 0) {
        parts.push(block(3, concat([u32s(p.data.length), p.data]))); // SPB: interface 0, Ethernet
      } else {
        const ip = p.data.subarray(14); // EPB on interface 1: raw IP
        const ticks = BigInt(p.seconds) * 1_000_000_000n + BigInt(p.nanoseconds);
        parts.push(block(6, concat([u32s(1, Number(ticks >> 32n), Number(ticks & 0xffffffffn), ip.length, ip.length), ip])));
      }
    });
    const built = concat(parts);
    const capture = readCapture(built);
    expect(capture.packets.map((p) => p.linkType).slice(0, 4)).toEqual([1, 101, 1, 101]);
    expect([capture.packets[1]!.seconds, capture.packets[1]!.nanoseconds]).toEqual([packets[1]!.seconds, packets[1]!.nanoseconds]);
    expectExchange(captureStreams(built).streams);
  });
});

describe("cut-off and malformed captures", () => {
  /** The error a cut capture reports: thrown before the first whole packet, else returned with the packets before the cut. */
  const errorOf = (bytes: Uint8Array): CliInputError => {
    try {
      const result = captureStreams(bytes);
      if (result.truncated !== undefined) {
        expect(result.packetCount).toBeGreaterThan(0);
        return result.truncated;
      }
    } catch (error) {
      expect(error).toBeInstanceOf(CliInputError);
      return error as CliInputError;
    }
    throw new Error("expected a CliInputError");
  };
  test.prop([fc.integer({ min: 1, max: 10_000 })])("a pcap cut anywhere: CAPTURE_TRUNCATED at the cut record's start", (seed) => {
    const file = fixture("exchange.pcap");
    const records = pcapRecords(file);
    const cut = 24 + (seed * 7919) % (file.length - 24);
    const inside = records.find((r) => r.start < cut && cut < r.end);
    if (inside === undefined) {
      expect(() => captureStreams(file.subarray(0, cut))).not.toThrow();
      return;
    }
    const error = errorOf(file.subarray(0, cut));
    expect(error.code).toBe("CAPTURE_TRUNCATED");
    expect(error.offset).toBe(inside.start);
    expect(error.message).toMatch(/at byte \d+/);
    // The records before the cut are kept.
    const kept = records.filter((r) => r.end <= cut).length;
    if (kept > 0) expect(captureStreams(file.subarray(0, cut)).packetCount).toBe(kept);
  });
  test("a pcapng cut inside a block: CAPTURE_TRUNCATED, never a RangeError", () => {
    const file = fixture("exchange.pcapng");
    for (const cut of [5, 13, 100, 1001, file.length - 3]) {
      const error = errorOf(file.subarray(0, cut));
      expect(error.code).toBe("CAPTURE_TRUNCATED");
      expect(error.offset).toBeLessThan(cut);
    }
  });
  test("a pcap header cut short, a bad magic, a bad pcapng block length", () => {
    expect(errorOf(fixture("exchange.pcap").subarray(0, 10)).code).toBe("CAPTURE_TRUNCATED");
    expect(errorOf(Uint8Array.of(1, 2, 3, 4, 5)).code).toBe("NOT_A_CAPTURE");
    const bad = fixture("exchange.pcapng").slice();
    new DataView(bad.buffer).setUint32(4, 13, true); // SHB length not a multiple of 4
    expect(errorOf(bad).code).toBe("CAPTURE_MALFORMED");
  });
  test("an unknown link type", () => {
    const file = fixture("exchange.pcap");
    const error = errorOf(rebuildPcap(file, [0], 147));
    expect(error.code).toBe("UNSUPPORTED_LINKTYPE");
    expect(error.offset).toBe(24);
  });
});

describe("reassembly rules (synthetic segments)", () => {
  const seg = (seq: number, payload: string, flags: { syn?: boolean; fin?: boolean } = {}, index = 0): TcpSegment => ({
    packetIndex: index,
    ipVersion: 4,
    srcAddress: "10.0.0.1",
    srcPort: 1234,
    dstAddress: "10.0.0.2",
    dstPort: 80,
    seq: seq >>> 0,
    syn: flags.syn ?? false,
    fin: flags.fin ?? false,
    rst: false,
    payload: text(payload),
    missingBytes: 0,
  });
  const data = (segments: TcpSegment[]): string => new TextDecoder().decode(reassembleTcp(segments)[0]!.data);
  test("out of order, overlapping and retransmitted segments across the 2^32 wrap", () => {
    const isn = 0xffff_fffa;
    const segments = [seg(isn, "", { syn: true }), seg(isn + 7, "ghij"), seg(isn + 1, "abcd"), seg(isn + 3, "cdefg"), seg(isn + 1, "abcd"), seg(isn + 11, "k", { fin: true })];
    expect(data(segments)).toBe("abcdefghijk");
    expect(reassembleTcp(segments)[0]!.closed).toBe(true);
  });
  test("a short retransmission inside a longer segment changes nothing", () => {
    expect(data([seg(0, "", { syn: true }), seg(1, "abcdefgh"), seg(3, "CD"), seg(9, "ij")])).toBe("abcdefghij");
  });
  test("without a SYN the lowest seq starts the stream", () => {
    expect(data([seg(105, "fgh"), seg(100, "abcde")])).toBe("abcdefgh");
  });
  test("a hole: the stream stops there and says what is missing", () => {
    const [stream] = reassembleTcp([seg(0, "", { syn: true }), seg(1, "abc"), seg(10, "xyz")]);
    expect(new TextDecoder().decode(stream!.data)).toBe("abc");
    expect(stream!.gap).toEqual({ offset: 3, missing: 6 });
  });
  test("many tiny segments in reverse order stay fast (no quadratic joins)", () => {
    const n = 50_000;
    const segments = Array.from({ length: n }, (_, i) => seg(1 + (n - 1 - i) * 4, "abcd", {}, i));
    const started = performance.now();
    const [stream] = reassembleTcp(segments);
    expect(stream!.data.length).toBe(n * 4);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
