// The peer profiles against the peers' vectors (fixtures/peers/peer-frames.json): names, trees,
// decompression, the B4 trailer, popularity, and the decompression cap.
import { describe, expect, test } from "vitest";
import { brotliCompressSync, deflateSync } from "node:zlib";
import { decodeBilibiliMessage, describeBilibiliFrame, bilibiliOpName } from "../../src/cli/profiles/bilibili.js";
import { decodeGoimMessage, goimOpName } from "../../src/cli/profiles/goim.js";
import { ProfileError } from "../../src/cli/profiles/errors.js";
import { inflateCapped } from "../../src/cli/profiles/inflate.js";
import type { FrameNode, NodeBody } from "../../src/cli/profiles/tree.js";
import { decodeFrame, encodeFrame } from "../../src/index.js";
import { readFixture } from "../support/fixtures.js";
import { thrownBy } from "../support/thrown.js";
import { fromHex, toHex } from "../support/hex.js";

interface PeerVector {
  name: string;
  profile: string;
  hex: string;
}
const vectors = new Map(readFixture<PeerVector[]>("peers/peer-frames.json").map((v) => [v.name, fromHex(v.hex)]));
const vector = (name: string): Uint8Array => {
  const bytes = vectors.get(name);
  if (bytes === undefined) throw new Error(`no vector ${name}`);
  return bytes;
};
const INNER_JSON = '{"cmd":"WATCHED_CHANGE","data":{"num":22097,"text_small":"2.2万","text_large":"2.2万人看过"}}';

function childrenOf(body: NodeBody): FrameNode[] {
  if (body.kind !== "compressed" && body.kind !== "batch") throw new Error(`expected children, got ${body.kind}`);
  return body.children;
}
const errorOf = (run: () => unknown): ProfileError => thrownBy(ProfileError, run);

describe("bilibili", () => {
  test.each([
    ["B5", "brotli"],
    ["B8", "zlib"],
  ] as const)("%s decompresses (%s) to the one inner WATCHED_CHANGE frame", (name, algorithm) => {
    const { nodes, trailer } = decodeBilibiliMessage(vector(name));
    expect(trailer).toBeUndefined();
    expect(nodes).toHaveLength(1);
    const outer = nodes[0]!;
    expect([outer.opName, outer.versionName]).toEqual(["NOTIFICATION", algorithm]);
    expect(outer.body.kind === "compressed" && outer.body.algorithm).toBe(algorithm);
    const [inner, ...more] = childrenOf(outer.body);
    expect(more).toHaveLength(0);
    expect(inner!.frame.packetLength).toBe(114);
    expect([inner!.frame.version, inner!.frame.op, inner!.offset, inner!.space, inner!.depth]).toEqual([0, 5, 0, "inflated", 1]);
    expect(inner!.body.kind).toBe("json");
    if (inner!.body.kind === "json") {
      expect(inner!.body.text).toBe(INNER_JSON);
      expect(inner!.body.value).toEqual({ cmd: "WATCHED_CHANGE", data: { num: 22097, text_small: "2.2万", text_large: "2.2万人看过" } });
    }
  });
  test("B4: the echoed heartbeat body after the reply is a trailer, not an error", () => {
    const { nodes, trailer } = decodeBilibiliMessage(vector("B4"));
    expect(nodes).toHaveLength(1);
    expect(nodes[0]!.body).toMatchObject({ kind: "count", name: "popularity", value: 2466 });
    expect(trailer?.offset).toBe(20);
    expect(trailer?.text).toEqual({ kind: "text", text: "[object Object]" });
  });
  test("B6: heartbeat reply with version 0 still reads its u32 popularity 358069", () => {
    const { nodes } = decodeBilibiliMessage(vector("B6"));
    expect([nodes[0]!.opName, nodes[0]!.versionName]).toEqual(["HEARTBEAT_REPLY", "json"]);
    expect(nodes[0]!.body).toMatchObject({ kind: "count", name: "popularity", value: 358069 });
  });
  test("B1/B2/B3: auth JSON, auth reply {code:0}, heartbeat text", () => {
    const [auth] = decodeBilibiliMessage(vector("B1")).nodes;
    expect(auth!.opName).toBe("AUTH");
    expect(auth!.body.kind === "json" && (auth!.body.value as { roomid: number }).roomid).toBe(22608112);
    const [reply] = decodeBilibiliMessage(vector("B2")).nodes;
    expect([reply!.opName, reply!.body]).toEqual(["AUTH_REPLY", { kind: "json", text: '{"code":0}', value: { code: 0 } }]);
    const [beat] = decodeBilibiliMessage(vector("B3")).nodes;
    expect([beat!.opName, beat!.body]).toEqual(["HEARTBEAT", { kind: "text", text: "[object Object]" }]);
    expect(bilibiliOpName(42)).toBe("OP(42)");
  });
  test("nested compression is a tree; offsets of children count in the inflated bytes", () => {
    const inner = vector("B5").subarray(0);
    const middle = encodeFrame({ op: 5, version: 2, body: deflateSync(concat2(vector("B6"), inner)) });
    const { nodes } = decodeBilibiliMessage(middle);
    const level1 = childrenOf(nodes[0]!.body);
    expect(level1.map((n) => [n.offset, n.opName, n.versionName])).toEqual([
      [0, "HEARTBEAT_REPLY", "json"],
      [20, "NOTIFICATION", "brotli"],
    ]);
    const level2 = childrenOf(level1[1]!.body);
    expect(level2[0]!.depth).toBe(2);
    expect(level2[0]!.body.kind).toBe("json");
  });

  const bomb = new Uint8Array(50 * 1024 * 1024); // 50 MiB of zeros
  const bombs = { zlib: deflateSync(bomb, { level: 9 }), brotli: brotliCompressSync(bomb) };
  test.each([
    ["zlib", 2],
    ["brotli", 3],
  ] as const)("a %s bomb (50 MiB of zeros) stops at the cap, fast, with INFLATE_LIMIT", (algorithm, version) => {
    const frame = encodeFrame({ op: 5, version, body: bombs[algorithm] });
    expect(frame.length).toBeLessThan(60_000);
    const started = performance.now();
    const error = errorOf(() => decodeBilibiliMessage(frame, { maxInflate: 4 * 1024 * 1024, maxFrameSize: 1 << 20 }));
    expect(performance.now() - started).toBeLessThan(1500);
    expect(error.code).toBe("INFLATE_LIMIT");
    expect(error.offset).toBe(16);
    expect(error.message).toContain("4194304");
  });
  test("the cap covers the whole tree, and the default cap stops a bomb too", () => {
    const b5 = vector("B5");
    const twice = encodeFrame({ op: 5, version: 2, body: deflateSync(concat2(b5, b5)) });
    // Outer body inflates to 2 × 134 bytes, then each B5 to 114: 268 + 228 = 496 in all.
    expect(() => decodeBilibiliMessage(twice, { maxInflate: 496 })).not.toThrow();
    expect(errorOf(() => decodeBilibiliMessage(twice, { maxInflate: 496 - 1 })).code).toBe("INFLATE_LIMIT");
    const frame = encodeFrame({ op: 5, version: 3, body: bombs.brotli });
    expect(errorOf(() => describeBilibiliFrame(decodeFrame(frame, { versions: "any" }), 0)).code).toBe("INFLATE_LIMIT");
  });
  test("corrupt and cut-off compressed bodies: INFLATE_FAILED; bad inner frames: INNER_FRAME", () => {
    const b8 = vector("B8");
    const cut = encodeFrame({ op: 5, version: 2, body: decodeFrame(b8, { versions: "any" }).body.subarray(0, 30) });
    expect(errorOf(() => decodeBilibiliMessage(cut)).code).toBe("INFLATE_FAILED");
    const garbage = encodeFrame({ op: 5, version: 3, body: Uint8Array.of(1, 2, 3, 4, 5) });
    expect(errorOf(() => decodeBilibiliMessage(garbage)).code).toBe("INFLATE_FAILED");
    const notFrames = encodeFrame({ op: 5, version: 2, body: deflateSync(Uint8Array.of(0, 0, 0, 5, 0, 16)) });
    const error = errorOf(() => decodeBilibiliMessage(notFrames));
    expect(error.code).toBe("INNER_FRAME");
    expect(error.cause).toMatchObject({ code: "BAD_PACKET_LENGTH" });
  });
  test("inflateCapped: exactly the cap passes, one byte less fails", () => {
    const data = new Uint8Array(1000).fill(7);
    expect(inflateCapped(deflateSync(data), "zlib", 1000).length).toBe(1000);
    expect(errorOf(() => inflateCapped(brotliCompressSync(data), "brotli", 999, 33))).toMatchObject({ code: "INFLATE_LIMIT", offset: 33 });
  });
});

describe("goim", () => {
  test("op names from goim's table", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17].map(goimOpName)).toEqual([
      "HANDSHAKE", "HANDSHAKE_REPLY", "HEARTBEAT", "HEARTBEAT_REPLY", "SEND_MSG", "SEND_MSG_REPLY", "DISCONNECT_REPLY",
      "AUTH", "AUTH_REPLY", "RAW", "PROTO_READY", "PROTO_FINISH", "CHANGE_ROOM", "CHANGE_ROOM_REPLY", "SUB", "SUB_REPLY",
      "UNSUB", "UNSUB_REPLY",
    ]);
    expect(goimOpName(1000)).toBe("BUSINESS(1000)");
    expect(goimOpName(99)).toBe("OP(99)");
  });
  test("G1–G4: heartbeat, auth JSON, auth reply, heartbeat reply online count 42", () => {
    expect(decodeGoimMessage(vector("G1")).nodes[0]!.opName).toBe("HEARTBEAT");
    const auth = decodeGoimMessage(vector("G2")).nodes[0]!;
    expect(auth.opName).toBe("AUTH");
    expect(auth.body.kind === "json" && auth.body.value).toEqual({ mid: 123, room_id: "live://1000", platform: "web", accepts: [1000, 1001, 1002] });
    expect(decodeGoimMessage(vector("G3")).nodes[0]!.body).toEqual({ kind: "empty" });
    expect(decodeGoimMessage(vector("G4")).nodes[0]!.body).toMatchObject({ kind: "count", name: "online", value: 42 });
  });
  test("G5 (op 9 over WebSocket) and G6 (raw over TCP) show the same two frames", () => {
    const [batch] = decodeGoimMessage(vector("G5")).nodes;
    expect(batch!.opName).toBe("RAW");
    const children = childrenOf(batch!.body);
    const raw = decodeGoimMessage(vector("G6")).nodes;
    const view = (n: FrameNode): unknown[] => [n.opName, n.body.kind === "json" ? n.body.value : n.body.kind];
    expect(children.map(view)).toEqual([["BUSINESS(1000)", { a: 1 }], ["BUSINESS(1000)", { b: 22 }]]);
    expect(raw.map(view)).toEqual(children.map(view));
    expect(children.map((n) => n.offset)).toEqual([16, 16 + 23]);
    expect(raw.map((n) => n.offset)).toEqual([0, 23]);
    expect(toHex(children[1]!.frame.body)).toBe(toHex(raw[1]!.frame.body));
  });
  test("a bad frame inside a batch: INNER_FRAME at its input offset", () => {
    const batch = encodeFrame({ op: 9, body: Uint8Array.of(0, 0, 0, 2, 0, 16, 0, 1) });
    const error = errorOf(() => decodeGoimMessage(batch));
    expect([error.code, error.offset]).toEqual(["INNER_FRAME", 16]);
  });
});

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
