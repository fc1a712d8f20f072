// The goim and Bilibili profiles against the peers' vectors (fixtures/peers/peer-frames.json), run the
// way `dump` runs them: through the frame stream (`profileEvents`), so what is tested is what the command
// does. Names, inner frames, decompression and its caps, trailers, the frame limit on inner frames.
import { describe, expect } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { brotliCompressSync, deflateSync } from "node:zlib";
import { bilibiliOpName } from "../../src/cli/profiles/bilibili.js";
import { goimOpName } from "../../src/cli/profiles/goim.js";
import { ProfileError } from "../../src/cli/profiles/errors.js";
import { inflateCapped } from "../../src/cli/profiles/inflate.js";
import { framesIn } from "../../src/cli/profiles/node.js";
import type { DumpEvent, DumpNode } from "../../src/cli/model.js";
import { decodeFrames, encodeBatch, encodeFrame, FrameError, type Frame } from "../../src/index.js";
import { frameInitArb } from "../support/arbitraries.js";
import { chunksOf } from "../support/chunks.js";
import { ndjson, profileEvents, runCli } from "../support/cli.js";
import { readFixture } from "../support/fixtures.js";
import { concat, fromHex, toHex } from "../support/hex.js";
import { thrownBy } from "../support/thrown.js";

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

/** The nodes of "frame" events, with their depth. */
const frames = (events: DumpEvent[]): (DumpNode & { depth: number })[] =>
  events.flatMap((e) => (e.type === "frame" ? [{ ...e.node, depth: e.depth }] : []));
const types = (events: DumpEvent[]): string[] => events.map((e) => e.type);
const errors = (events: DumpEvent[]): { code: string; offset: number | undefined; reason: string }[] =>
  events.flatMap((e) => (e.type === "error" ? [{ code: e.code, offset: e.offset, reason: e.reason }] : []));

/** A frame of Bilibili's: op, version (2 zlib, 3 brotli) and body. */
const bili = (op: number, version: number, body: Uint8Array): Uint8Array => encodeFrame({ op, version, body });

describe("bilibili", () => {
  test.each([
    ["B5", "brotli"],
    ["B8", "zlib"],
  ] as const)("%s decompresses (%s) to the one inner WATCHED_CHANGE frame", async (name, algorithm) => {
    const events = await profileEvents("bilibili", vector(name));
    expect(types(events)).toEqual(["frame", "frame", "frame-end"]);
    const [outer, inner] = frames(events);
    expect([outer!.name, outer!.versionName, outer!.compressed?.algorithm, outer!.innerFrames]).toEqual(["NOTIFICATION", algorithm, algorithm, 1]);
    expect([inner!.header[0], inner!.offset, inner!.space, inner!.depth]).toEqual([["packetLength", 114], 0, "inflated", 1]);
    expect(inner!.decoded).toEqual({ kind: "json", json: INNER_JSON });
    expect(events[2]).toMatchObject({ type: "frame-end", depth: 0, notShown: 0 });
  });

  test("B4: the echoed heartbeat body after the reply is a trailer, not an error, in any chunking", async () => {
    for (const chunks of [[vector("B4")], chunksOf(vector("B4"), 1), chunksOf(vector("B4"), 7)]) {
      const events = await profileEvents("bilibili", chunks);
      expect(types(events)).toEqual(["frame", "trailer"]);
      expect(frames(events)[0]!.decoded).toEqual({ kind: "count", name: "popularity", value: 2466 });
      expect(events[1]).toMatchObject({ type: "trailer", offset: 20, text: "[object Object]" });
    }
  });

  test("B6: heartbeat reply with version 0 still reads its u32 popularity 358069", async () => {
    const [node] = frames(await profileEvents("bilibili", vector("B6")));
    expect([node!.name, node!.versionName, node!.decoded]).toEqual(["HEARTBEAT_REPLY", "json", { kind: "count", name: "popularity", value: 358069 }]);
  });

  test("B1/B2/B3: auth JSON, auth reply {code:0}, heartbeat text", async () => {
    const [auth] = frames(await profileEvents("bilibili", vector("B1")));
    expect(auth!.name).toBe("AUTH");
    expect(auth!.decoded?.kind === "json" && (JSON.parse(auth!.decoded.json) as { roomid: number }).roomid).toBe(22608112);
    const [reply] = frames(await profileEvents("bilibili", vector("B2")));
    expect([reply!.name, reply!.decoded]).toEqual(["AUTH_REPLY", { kind: "json", json: '{"code":0}' }]);
    const [beat] = frames(await profileEvents("bilibili", vector("B3")));
    expect([beat!.name, beat!.decoded]).toEqual(["HEARTBEAT", { kind: "text", text: "[object Object]" }]);
    expect(bilibiliOpName(42)).toBe("OP(42)");
  });

  test("nested compression is a tree; inner offsets count in the inflated bytes", async () => {
    const middle = bili(5, 2, deflateSync(concat([vector("B6"), vector("B5")])));
    const events = await profileEvents("bilibili", middle);
    expect(types(events)).toEqual(["frame", "frame", "frame", "frame", "frame-end", "frame-end"]);
    expect(frames(events).map((n) => [n.depth, n.offset, n.space, n.name, n.versionName])).toEqual([
      [0, 0, "stream", "NOTIFICATION", "zlib"],
      [1, 0, "inflated", "HEARTBEAT_REPLY", "json"],
      [1, 20, "inflated", "NOTIFICATION", "brotli"],
      [2, 0, "inflated", "NOTIFICATION", "json"],
    ]);
  });

  test("an integer past 2^53 in a JSON body is shown exactly, in the text and the --json form", async () => {
    const body = new TextEncoder().encode('{"cmd":"DANMU_MSG","trigger_time":1626324623404263213,"ratio":1.50}');
    const hex = toHex(bili(5, 0, body));
    const text = await runCli(["dump", "-", "--profile", "bilibili", "--no-hex", "--no-color"], hex);
    expect(text.stdout).toContain('  "trigger_time": 1626324623404263213,\n');
    expect(text.stdout).toContain('  "ratio": 1.50\n'); // as sent, not re-rounded
    const json = await runCli(["dump", "-", "--profile", "bilibili", "--json"], hex);
    expect(json.stdout).toContain('"decoded":{"kind":"json","value":{"cmd":"DANMU_MSG","trigger_time":1626324623404263213,"ratio":1.50}}');
    expect(ndjson(json.stdout)).toHaveLength(1); // still one valid JSON line
  });

  const bomb = new Uint8Array(50 * 1024 * 1024); // 50 MiB of zeros
  const bombs = { zlib: deflateSync(bomb, { level: 9 }), brotli: brotliCompressSync(bomb) };
  test.each([
    ["zlib", 2],
    ["brotli", 3],
  ] as const)("a %s bomb (50 MiB of zeros) stops at the cap with INFLATE_LIMIT at its body", async (algorithm, version) => {
    const frame = bili(5, version, bombs[algorithm]);
    expect(frame.length).toBeLessThan(60_000);
    const events = await profileEvents("bilibili", frame, { maxInflate: 4 * 1024 * 1024 });
    expect(types(events)).toEqual(["frame", "error"]);
    expect(frames(events)[0]!.decoded).toMatchObject({ kind: "error", code: "INFLATE_LIMIT", offset: 16 });
    expect(errors(events)).toEqual([{ code: "INFLATE_LIMIT", offset: 16, reason: `${algorithm} body decompresses to more than the 4194304-byte limit (--max-inflate)` }]);
  });

  test("the per-frame cap covers the whole tree, nested levels included; the default cap stops a bomb", async () => {
    const b5 = vector("B5");
    const twice = bili(5, 2, deflateSync(concat([b5, b5])));
    // Outer body inflates to 2 × 134 bytes, then each B5 to 114: 268 + 228 = 496 in all.
    expect(errors(await profileEvents("bilibili", twice, { maxInflate: 496 }))).toEqual([]);
    const short = await profileEvents("bilibili", twice, { maxInflate: 495 });
    // The second B5 is the one past the cap: it is shown with its error, its sibling and parent are fine.
    expect(frames(short).map((n) => [n.depth, n.decoded?.kind])).toEqual([
      [0, undefined],
      [1, undefined],
      [2, "json"],
      [1, "error"],
    ]);
    expect(errors(short)).toMatchObject([{ code: "INFLATE_LIMIT", offset: 16 }]); // inside inflated bytes: reported at the top-level body
    expect(errors(await profileEvents("bilibili", bili(5, 3, bombs.brotli)))).toMatchObject([{ code: "INFLATE_LIMIT" }]);
  });

  test("--max-inflate-total bounds the whole input; a failed inflation is charged its allowance", async () => {
    const b5 = vector("B5"); // inflates to 114 bytes
    const three = concat([b5, b5, b5]);
    expect(errors(await profileEvents("bilibili", three, { maxInflateTotal: 342 }))).toEqual([]);
    const spent = await profileEvents("bilibili", three, { maxInflateTotal: 300 });
    expect(errors(spent).map((e) => [e.code, e.offset])).toEqual([["INFLATE_LIMIT", 2 * 134 + 16]]);
    expect(errors(spent)[0]!.reason).toBe("brotli body decompresses to more than the 72 bytes left of the whole input's --max-inflate-total budget");
    // Every frame is still shown whole (the framing is in step), and once the budget is spent nothing more is inflated.
    const bombFrame = bili(5, 3, bombs.brotli);
    const many = await profileEvents("bilibili", concat([bombFrame, bombFrame, b5]), { maxInflate: 1000, maxInflateTotal: 1500 });
    expect(frames(many).map((n) => n.decoded?.kind)).toEqual(["error", "error", "error"]);
    expect(errors(many).map((e) => e.reason)).toEqual([
      "brotli body decompresses to more than the 1000-byte limit (--max-inflate)",
      "brotli body decompresses to more than the 500 bytes left of the whole input's --max-inflate-total budget",
      "brotli body not inflated: the whole input's --max-inflate-total budget of 1500 bytes is spent",
    ]);
  });

  test("corrupt and cut-off compressed bodies: INFLATE_FAILED; bad inner frames: INNER_FRAME", async () => {
    const b8 = vector("B8");
    const cut = bili(5, 2, b8.subarray(16, 46));
    expect(errors(await profileEvents("bilibili", cut))).toMatchObject([{ code: "INFLATE_FAILED", offset: 16 }]);
    expect(errors(await profileEvents("bilibili", bili(5, 3, Uint8Array.of(1, 2, 3, 4, 5))))).toMatchObject([{ code: "INFLATE_FAILED" }]);
    const notFrames = bili(5, 2, deflateSync(Uint8Array.of(0, 0, 0, 5, 0, 16)));
    const [error] = errors(await profileEvents("bilibili", notFrames));
    expect([error!.code, error!.offset]).toEqual(["INNER_FRAME", 16]);
    expect(error!.reason).toMatch(/^the zlib body of the frame at byte 0 decompresses to 6 bytes that are not whole frames: .* \(BAD_PACKET_LENGTH at byte 0 of them\)$/);
  });

  test("inflateCapped: exactly the cap passes, one byte less fails", () => {
    const data = new Uint8Array(1000).fill(7);
    expect(inflateCapped(deflateSync(data), "zlib", 1000).length).toBe(1000);
    expect(thrownBy(ProfileError, () => inflateCapped(brotliCompressSync(data), "brotli", 999, 33))).toMatchObject({ code: "INFLATE_LIMIT", offset: 33 });
  });
});

describe("Bilibili trailers and the library's allowTrailer", () => {
  // The library takes whatever follows the last whole frame as a trailer and leaves judging it to the
  // caller; the CLI judges: after a HEARTBEAT_REPLY (where Bilibili echoes the client's heartbeat body,
  // of any length) it is a trailer, after anything else it is the error it would be in any profile.
  const reply = vector("B4").subarray(0, 20);
  const libraryTrailer = (bytes: Uint8Array): string => toHex(decodeFrames(bytes, { versions: "any", allowTrailer: true }).trailer);

  test.each([
    ["15-byte echo (B4)", "[object Object]"],
    ["25-byte echo, which once failed with FRAME_TOO_LARGE", '{"heartbeat":"ping 12345"}'.slice(0, 25)],
    ["an echo that claims a small frame and is cut off", "\u0000\u0000\u0000\u0030 and then the input ends"],
  ])("after a HEARTBEAT_REPLY, a %s is the trailer both agree on", async (_name, echo) => {
    const message = concat([reply, new TextEncoder().encode(echo)]);
    const events = await profileEvents("bilibili", message);
    expect(types(events)).toEqual(["frame", "trailer"]);
    const trailer = events[1] as Extract<DumpEvent, { type: "trailer" }>;
    expect(toHex(trailer.bytes)).toBe(libraryTrailer(message));
    expect(trailer.text).toBe(echo);
  });

  test("after any other frame, bytes that are not frames are an error (the library still calls them a trailer)", async () => {
    const notification = vector("B2");
    const message = concat([notification, new TextEncoder().encode('{"heartbeat":"ping 12345"}')]);
    expect(libraryTrailer(message)).not.toBe("");
    const events = await profileEvents("bilibili", message);
    expect(types(events)).toEqual(["frame", "error"]);
    expect(errors(events)).toMatchObject([{ code: "FRAME_TOO_LARGE", offset: notification.length }]);
  });

  test("a tail longer than --max-frame-size after a HEARTBEAT_REPLY is an error, and is not held past that", async () => {
    const message = concat([reply, new Uint8Array(100).fill(0x5b)]);
    expect(types(await profileEvents("bilibili", message, { maxFrameSize: 100 }))).toEqual(["frame", "trailer"]);
    const events = await profileEvents("bilibili", chunksOf(message, 10), { maxFrameSize: 99 });
    expect(types(events)).toEqual(["frame", "error"]);
    expect(errors(events)).toMatchObject([{ code: "FRAME_TOO_LARGE", offset: 20 }]);
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

  test("G1–G4: heartbeat, auth JSON, auth reply, heartbeat reply online count 42", async () => {
    const only = async (name: string): Promise<DumpNode> => frames(await profileEvents("goim", vector(name)))[0]!;
    expect((await only("G1")).name).toBe("HEARTBEAT");
    const auth = await only("G2");
    expect(auth.name).toBe("AUTH");
    expect(auth.decoded?.kind === "json" && JSON.parse(auth.decoded.json)).toEqual({ mid: 123, room_id: "live://1000", platform: "web", accepts: [1000, 1001, 1002] });
    expect((await only("G3")).decoded).toBeUndefined(); // an empty body
    expect((await only("G4")).decoded).toEqual({ kind: "count", name: "online", value: 42 });
  });

  test("G5 (op 9 over WebSocket) and G6 (raw over TCP) show the same two frames", async () => {
    const batch = frames(await profileEvents("goim", vector("G5")));
    const raw = frames(await profileEvents("goim", vector("G6")));
    expect(batch[0]!.name).toBe("RAW");
    const view = (n: DumpNode): unknown[] => [n.name, n.decoded?.kind === "json" ? JSON.parse(n.decoded.json) : n.decoded?.kind, toHex(n.body)];
    expect(batch.slice(1).map(view)).toEqual([["BUSINESS(1000)", { a: 1 }, toHex(new TextEncoder().encode('{"a":1}'))], ["BUSINESS(1000)", { b: 22 }, toHex(new TextEncoder().encode('{"b":22}'))]]);
    expect(raw.map(view)).toEqual(batch.slice(1).map(view));
    expect(batch.slice(1).map((n) => [n.depth, n.offset, n.space])).toEqual([[1, 16, "stream"], [1, 16 + 23, "stream"]]);
    expect(raw.map((n) => n.offset)).toEqual([0, 23]);
  });

  test("a bad frame inside a batch: INNER_FRAME at its stream offset, the batch still shown", async () => {
    const batch = encodeFrame({ op: 9, body: Uint8Array.of(0, 0, 0, 2, 0, 16, 0, 1) });
    const events = await profileEvents("goim", batch);
    expect(types(events)).toEqual(["frame", "error"]);
    expect(errors(events)).toMatchObject([{ code: "INNER_FRAME", offset: 16 }]);
  });
});

describe("--max-frame-size reaches inner frames under every profile", () => {
  // The bug: with --max-frame-size 8 MiB a 2 MiB inner frame dumped under syncwire but failed under goim
  // (and Bilibili) with INNER_FRAME, whose inner frames were held to the default 1 MiB.
  const big = { op: 1000, body: new Uint8Array(2 * 1024 * 1024).fill(0x61) };
  const inputs = {
    syncwire: encodeBatch([big, { op: 1001, body: Uint8Array.of(1) }]),
    goim: encodeFrame({ op: 9, body: concat([encodeFrame(big), encodeFrame({ op: 1001 })]) }),
    bilibili: bili(5, 2, deflateSync(concat([encodeFrame(big), encodeFrame({ op: 1001 })]))),
  };
  test.each(Object.keys(inputs) as (keyof typeof inputs)[])("%s: a 2 MiB inner frame dumps at 8 MiB", async (profile) => {
    const input = inputs[profile];
    const at8 = await runCli(["dump", "-", "--input", "raw", "--profile", profile, "--max-frame-size", String(8 * 1024 * 1024), "--json", "--no-body"], input);
    expect([at8.code, at8.stderr]).toEqual([0, ""]);
    const [record] = ndjson(at8.stdout);
    expect((record!.children as Record<string, unknown>[]).map((c) => c.packetLength)).toEqual([16 + big.body.length, profile === "syncwire" ? 17 : 16]);
  });
  test("bilibili: an inflated inner frame is held to the limit too, though its compressed frame is small", async () => {
    const at1 = await runCli(["dump", "-", "--input", "raw", "--profile", "bilibili", "--max-frame-size", String(1.5 * 1024 * 1024), "--json"], inputs.bilibili);
    expect(at1.code).toBe(1);
    const failure = ndjson(at1.stdout).find((r) => r.type === "error")!;
    expect([failure.code, failure.offset]).toEqual(["INNER_FRAME", 16]);
    expect(failure.message).toContain("(FRAME_TOO_LARGE at byte 0 of them)");
  });
});

describe("framesIn: decodeFrames one frame at a time", () => {
  const garbage = fc.uint8Array({ maxLength: 40 });
  test.prop([fc.array(frameInitArb({ maxBody: 40, anyVersion: true, allowBatch: true }), { maxLength: 6 }), garbage, fc.constantFrom<number[] | "any">("any", [1]), fc.integer({ min: 16, max: 200 })])(
    "the same frames, and the same error at the same offset",
    (inits, tail, versions, maxFrameSize) => {
      const bytes = concat([...inits.map((f) => encodeFrame(f)), tail]);
      const options = { versions, maxFrameSize };
      const outcome = (run: () => Frame[]): unknown => {
        try {
          return run().map((f) => [f.op, f.seq, f.version, toHex(f.extension), toHex(f.body), f.body.buffer === bytes.buffer]);
        } catch (error) {
          if (!(error instanceof FrameError)) throw error;
          return [error.code, error.offset, error.reason];
        }
      };
      expect(outcome(() => [...framesIn(bytes, options)])).toEqual(outcome(() => decodeFrames(bytes, options).frames));
    },
  );
});
