// `syncwire dump` end to end, in-process through run(args, io): golden output for every fixture (text
// and --json), every pasted hex form, streaming stdin, bad input, and a few runs of the real bin.
//
// Golden files live in fixtures/cli/golden/<set>/<case>.txt (text, --no-color) and .ndjson (--json).
// A missing golden fails; UPDATE_GOLDEN=1 writes them all (review the diff).
// Besides the goldens, every case checks facts taken from the fixture itself (not from the CLI).
import { describe, expect, test, beforeAll } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { brotliCompressSync, constants as zlibConstants } from "node:zlib";
import { chunksOf } from "../support/chunks.js";
import { ensureBuilt, expectGolden, expectNoStackTrace, ndjson, repoPath, runBin, runCli, UPDATE_GOLDEN, type CliResult } from "../support/cli.js";
import { readFixture, type FrameFields } from "../support/fixtures.js";
import { concat, fromHex, toHex } from "../support/hex.js";
import { hexdumpForm, xxdForm } from "../support/hex-forms.js";

interface WireVector {
  name: string;
  hex: string;
  frames: FrameFields[];
  trailer: string;
  inner?: FrameFields[];
}
interface BodyVector {
  name: string;
  op: number;
  seq: number;
  type: string;
  hex: string;
  body: Record<string, unknown>;
}
interface PeerVector {
  name: string;
  profile: string;
  hex: string;
}

const wireVectors = readFixture<WireVector[]>("wire/frames.json");
const bodyVectors = readFixture<BodyVector[]>("bodies/frames.json");
const peerVectors = readFixture<WireVector[]>("wire/peers.json");
const marsVectors = readFixture<PeerVector[]>("peers/peer-frames.json").filter((v) => v.name.startsWith("M"));

/** Case names, made unique (fixtures/wire/frames.json has two vectors named "batch-empty"). */
function uniqueNames<T extends { name: string }>(vectors: readonly T[]): [string, T][] {
  const seen = new Map<string, number>();
  return vectors.map((v) => {
    const n = (seen.get(v.name) ?? 0) + 1;
    seen.set(v.name, n);
    return [n === 1 ? v.name : `${v.name}-${n}`, v];
  });
}

const fields = (record: Record<string, unknown>): FrameFields => ({
  packetLength: record.packetLength as number,
  headerLength: record.headerLength as number,
  version: record.version as number,
  op: record.op as number,
  seq: record.seq as number,
  extension: record.extension as string,
  body: record.body as string,
});
const frameRecords = (records: Record<string, unknown>[]): Record<string, unknown>[] => records.filter((r) => r.type === "frame");
/** Offsets of the top-level "frame @N" lines of the text form. */
const textOffsets = (text: string): number[] => [...text.matchAll(/^frame @(\d+) /gm)].map((m) => Number(m[1]));

/** Runs the text and the JSON form of one case and checks both against their goldens. */
async function goldenCase(set: string, name: string, args: string[], stdin: string | Uint8Array = ""): Promise<{ text: CliResult; json: CliResult }> {
  const text = await runCli(["dump", ...args, "--no-color"], stdin);
  const json = await runCli(["dump", ...args, "--json"], stdin);
  expectNoStackTrace(text);
  expectNoStackTrace(json);
  expectGolden(`${set}/${name}.txt`, text.stdout);
  expectGolden(`${set}/${name}.ndjson`, json.stdout);
  return { text, json };
}

// Skipped while UPDATE_GOLDEN=1: then expectGolden writes files, and would write this one.
test.skipIf(UPDATE_GOLDEN)("a missing golden file fails the test (UPDATE_GOLDEN=1 writes it instead)", () => {
  expect(() => expectGolden("no-such-set/no-such-case.txt", "output")).toThrow(/golden no-such-set\/no-such-case\.txt is missing/);
});

describe("golden output: our frames (fixtures/wire/frames.json)", () => {
  test.each(uniqueNames(wireVectors))("%s", async (name, v) => {
    const { text, json } = await goldenCase("wire", name, ["-"], v.hex + "\n");
    // These vectors test framing and carry arbitrary bodies: a body that is not its op's protobuf
    // message is reported as an error at its offset (exit 1), and every frame is still shown.
    const errors = ndjson(json.stdout).filter((r) => r.type === "error");
    expect([text.code, json.code, text.stderr, json.stderr]).toEqual([errors.length > 0 ? 1 : 0, errors.length > 0 ? 1 : 0, "", ""]);
    const bodyStarts = v.frames.map((f, i) => v.frames.slice(0, i).reduce((n, g) => n + g.packetLength, 0) + f.headerLength);
    for (const e of errors) {
      expect(["BAD_BODY", "EMPTY_BODY"]).toContain(e.code);
      expect(bodyStarts.some((start, i) => (e.offset as number) >= start && (e.offset as number) <= start + v.frames[i]!.body.length / 2)).toBe(true);
    }
    const records = frameRecords(ndjson(json.stdout));
    expect(records.map(fields)).toEqual(v.frames);
    expect(records.every((r) => r.profile === "syncwire" && r.space === "stream")).toBe(true);
    if (v.inner !== undefined) expect(((records[0]!.children ?? []) as Record<string, unknown>[]).map(fields)).toEqual(v.inner);
    // Offsets: each frame starts where the previous one ends.
    const offsets = v.frames.map((_, i) => v.frames.slice(0, i).reduce((n, f) => n + f.packetLength, 0));
    expect(records.map((r) => r.offset)).toEqual(offsets);
    expect(textOffsets(text.stdout)).toEqual(offsets);
  });
});

describe("golden output: our frames with protobuf bodies (fixtures/bodies/frames.json)", () => {
  test.each(uniqueNames(bodyVectors))("%s", async (name, v) => {
    const { text, json } = await goldenCase("bodies", name, ["-"], v.hex + "\n");
    expect([text.code, json.code]).toEqual([0, 0]);
    const [record] = frameRecords(ndjson(json.stdout));
    expect([record!.op, record!.seq]).toEqual([v.op, v.seq]);
    if (Object.keys(v.body).length === 0 && record!.body === "") {
      expect(record!.decoded).toBeUndefined();
      expect(text.stdout).toContain("body: empty");
    } else {
      // The fixture's JSON was made by protobuf-es from proto/ (scripts/make-body-fixtures.mjs), not by the CLI.
      expect(record!.decoded).toMatchObject({ kind: "protobuf", type: v.type, json: v.body });
      // Text messages also carry their content read as UTF-8 (decoded here from the fixture's base64).
      const texts = (record!.decoded as { texts?: Record<string, string> }).texts;
      const packets = v.type === "syncwire.v1.MessagePacket" ? [["content", v.body]] : v.type === "syncwire.v1.SyncResult" ? ((v.body as { messages?: unknown[] }).messages ?? []).map((m, i) => [`messages[${i}].content`, m]) : [];
      const expectedTexts = Object.fromEntries(
        (packets as [string, { kind?: string; content?: string }][])
          .filter(([, m]) => m.kind === "MESSAGE_KIND_TEXT" && m.content !== undefined)
          .map(([path, m]) => [path, Buffer.from(m.content!, "base64").toString("utf8")]),
      );
      expect(texts ?? {}).toEqual(expectedTexts);
      expect(text.stdout).toContain(`body: ${v.type} (`);
    }
    expect(text.stdout).not.toContain("cannot decode");
  });
});

describe("golden output: peers", () => {
  test.each(uniqueNames(peerVectors))("%s", async (name, v) => {
    const profile = name.startsWith("G") ? "goim" : "bilibili";
    const { text, json } = await goldenCase("peers", name, ["-", "--profile", profile], v.hex + "\n");
    expect([text.code, json.code, text.stderr]).toEqual([0, 0, ""]);
    const records = ndjson(json.stdout);
    const frames = frameRecords(records);
    expect(frames.map(fields)).toEqual(v.frames);
    expect(frames.every((r) => r.profile === profile)).toBe(true);
    const trailers = records.filter((r) => r.type === "trailer");
    if (v.trailer === "") {
      expect(trailers).toEqual([]);
    } else {
      const end = v.frames.reduce((n, f) => n + f.packetLength, 0);
      expect(trailers).toEqual([{ type: "trailer", offset: end, bytes: v.trailer, text: new TextDecoder().decode(fromHex(v.trailer)) }]);
      expect(text.stdout).toContain(`trailer @${end}  ${v.trailer.length / 2} bytes after the last frame`);
    }
    if (v.inner !== undefined) expect(((frames[0]!.children ?? []) as Record<string, unknown>[]).map(fields)).toEqual(v.inner);
  });

  test("Bilibili's trailer is shown when the message arrives as a raw stream too (B4 in 1-byte chunks)", async () => {
    const b4 = fromHex(peerVectors.find((v) => v.name === "B4")!.hex);
    const result = await runCli(["dump", "-", "--profile", "bilibili", "--json", "--input", "raw"], chunksOf(b4, 1));
    expect([result.code, result.stderr]).toEqual([0, ""]);
    const records = ndjson(result.stdout);
    expect(records.map((r) => r.type)).toEqual(["frame", "trailer"]);
    expect(records[1]).toEqual({ type: "trailer", offset: 20, bytes: toHex(b4.subarray(20)), text: "[object Object]" });
  });

  test("what the peer profiles show (B4 popularity, B5/B8 inflated JSON, G4 online count)", async () => {
    const byName = new Map(peerVectors.map((v) => [v.name, v.hex]));
    const b4 = await runCli(["dump", "-", "--profile", "bilibili", "--json"], byName.get("B4")!);
    expect(frameRecords(ndjson(b4.stdout))[0]!.decoded).toEqual({ kind: "count", name: "popularity", value: 2466 });
    for (const [name, algorithm] of [["B5", "brotli"], ["B8", "zlib"]] as const) {
      const result = await runCli(["dump", "-", "--profile", "bilibili", "--json"], byName.get(name)!);
      const [frame] = frameRecords(ndjson(result.stdout));
      expect((frame!.compressed as { algorithm: string }).algorithm).toBe(algorithm);
      const [child] = frame!.children as Record<string, unknown>[];
      expect(child!.space).toBe("inflated");
      expect(child!.offset).toBe(0);
      expect((child!.decoded as { value: { cmd: string } }).value.cmd).toBe("WATCHED_CHANGE");
    }
    const g4 = await runCli(["dump", "-", "--profile", "goim", "--no-color"], byName.get("G4")!);
    expect(g4.stdout).toContain("body: online 42");
  });
});

describe("golden output: Mars (fixtures/peers/peer-frames.json)", () => {
  test.each(uniqueNames(marsVectors))("%s", async (name, v) => {
    const { text, json } = await goldenCase("peers", name, ["-", "--profile", "mars"], v.hex + "\n");
    expect([text.code, json.code, text.stderr]).toEqual([0, 0, ""]);
    const bytes = fromHex(v.hex);
    const view = new DataView(bytes.buffer);
    const [record] = frameRecords(ndjson(json.stdout));
    expect([record!.headLength, record!.clientVersion, record!.cmdid, record!.seq, record!.bodyLength]).toEqual([0, 4, 8, 12, 16].map((at) => view.getUint32(at)));
    expect(record!.body).toBe(v.hex.slice(40));
    // Every header field is marked in the hex dump.
    for (const label of ["headLength", "clientVersion", "cmdid", "seq", "bodyLength"]) expect(text.stdout).toContain(`└${label}`);
  });
});

describe("golden output: the captures (fixtures/pcap)", () => {
  test.each(["exchange.pcap", "exchange.pcapng", "exchange-any.pcapng"])("%s", async (file) => {
    const { text, json } = await goldenCase("pcap", file, [repoPath(`fixtures/pcap/${file}`)]);
    expect([text.code, json.code, text.stderr]).toEqual([0, 0, ""]);
    const records = ndjson(json.stdout);
    const streams = records.filter((r) => r.type === "stream");
    // See fixtures/pcap/README.md: three connections, each direction a stream.
    expect(streams.map((s) => s.bytes)).toEqual([421, 130, 421, 130, 16, 21]);
    const ops = frameRecords(records).map((r) => r.name);
    const exchange = ["HELLO", "SEND", "HEARTBEAT", "WELCOME", "ACK", "NOTIFY", "HEARTBEAT_ACK"];
    expect(ops).toEqual([...exchange, ...exchange, "HEARTBEAT", "APPLICATION(1000)"]);
    expect(records.some((r) => r.type === "error")).toBe(false);
    // Every typed body decodes (the old captures had opaque bodies: "cannot decode … (BAD_BODY)").
    expect(text.stdout).not.toContain("cannot decode");
    expect(frameRecords(records).filter((r) => r.body !== "").every((r) => (r.decoded as { kind: string }).kind !== "error")).toBe(true);
  });

  test("--port picks the streams; frame offsets restart in each stream", async () => {
    const result = await runCli(["dump", repoPath("fixtures/pcap/exchange.pcap"), "--port", "5001", "--json"]);
    const records = ndjson(result.stdout);
    expect(records.filter((r) => r.type === "stream").map((r) => r.bytes)).toEqual([16, 21]);
    expect(frameRecords(records).map((r) => [r.stream, r.offset, r.name])).toEqual([
      [records[0]!.label, 0, "HEARTBEAT"],
      [records[2]!.label, 0, "APPLICATION(1000)"],
    ]);
    const all = ndjson((await runCli(["dump", repoPath("fixtures/pcap/exchange.pcap"), "--json"])).stdout);
    expect(frameRecords(all).slice(0, 3).map((r) => r.offset)).toEqual([0, 49, 405]);
  });

  test("a capture on stdin is recognised by its magic number", async () => {
    const file = new Uint8Array(readFileSync(repoPath("fixtures/pcap/exchange.pcapng")));
    const fromFile = await runCli(["dump", repoPath("fixtures/pcap/exchange.pcapng"), "--json"]);
    const fromStdin = await runCli(["dump", "-", "--json"], chunksOf(file, 1000));
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stdout).toBe(fromFile.stdout);
  });
});

describe("output options", () => {
  const hex = bodyVectors.find((v) => v.name === "send-text")!.hex;
  test("--no-hex and --no-body leave out their parts", async () => {
    const full = (await runCli(["dump", "-", "--no-color"], hex)).stdout;
    const noHex = (await runCli(["dump", "-", "--no-color", "--no-hex"], hex)).stdout;
    const noBody = (await runCli(["dump", "-", "--no-color", "--no-body"], hex)).stdout;
    expect(full).toMatch(/^ {2}00000000 {2}00 00 00 67/m);
    expect(noHex).not.toMatch(/00000000/);
    expect(noHex).toContain('conversationId: "c2c:u_1024:u_2048"');
    expect(noBody).not.toContain("conversationId");
    expect(noBody).toMatch(/00000000/);
    expect(noHex.split("\n")[0]).toBe(full.split("\n")[0]);
  });
  test("colour: off on a pipe, on for a terminal or --color, off with --no-color; never in --json", async () => {
    const esc = "\u001b[";
    expect((await runCli(["dump", "-"], hex)).stdout).not.toContain(esc);
    expect((await runCli(["dump", "-"], hex, { stdoutIsTTY: true })).stdout).toContain(esc);
    expect((await runCli(["dump", "-", "--color"], hex)).stdout).toContain(esc);
    expect((await runCli(["dump", "-", "--no-color"], hex, { stdoutIsTTY: true })).stdout).not.toContain(esc);
    expect((await runCli(["dump", "-", "--json", "--color"], hex)).stdout).not.toContain(esc);
    // Colour changes nothing else.
    const plain = (await runCli(["dump", "-"], hex)).stdout;
    const coloured = (await runCli(["dump", "-", "--color"], hex)).stdout;
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, "")).toBe(plain);
  });
});

// ─── Every hex form parses to the same bytes ────────────────────────────────────────────────────────

/** A sample with several frames, text and binary bodies, an extension, and runs of zero rows. */
const SAMPLE = concat([
  fromHex(bodyVectors.find((v) => v.name === "send-text")!.hex),
  fromHex(wireVectors.find((v) => v.name === "batch")!.hex),
  fromHex("0000005000100001000003e800000001" + "00".repeat(64)), // op 1000, 64 zero bytes
  fromHex(wireVectors.find((v) => v.name === "extension")!.hex),
]);

const spaced = [...SAMPLE].map((b) => b.toString(16).padStart(2, "0"));
const base64 = Buffer.from(SAMPLE).toString("base64");
const HEX_FORMS: [string, string][] = [
  ["plain", toHex(SAMPLE) + "\n"],
  ["plain, uppercase, wrapped at 64 digits", (toHex(SAMPLE).toUpperCase().match(/.{1,64}/g) ?? []).join("\n")],
  ["spaced", spaced.join(" ") + "\n"],
  ["grouped in 4-byte words", (toHex(SAMPLE).match(/.{1,8}/g) ?? []).join(" ")],
  ["0x-prefixed", spaced.map((b) => `0x${b}`).join(" ")],
  ["comma-separated 0x bytes (a C array's inside)", spaced.map((b) => `0x${b.toUpperCase()}`).join(", ") + ",\n"],
  ["comma-separated bare bytes", spaced.join(",")],
  ["\\x escapes", spaced.map((b) => `\\x${b}`).join("")],
  ["xxd output", xxdForm(SAMPLE)],
  ["hexdump -C output", hexdumpForm(SAMPLE)],
  ["Wireshark hex stream (one line, no newline)", toHex(SAMPLE)],
  ["base64", base64 + "\n"],
  ["base64 wrapped at 76 columns", (base64.match(/.{1,76}/g) ?? []).join("\n") + "\n"],
];

describe("every hex form parses to the same bytes", () => {
  let reference: string;
  let referenceCode: number;
  beforeAll(async () => {
    const raw = await runCli(["dump", "-", "--json"], SAMPLE);
    expect(raw.code).toBe(ndjson(raw.stdout).some((r) => r.type === "error") ? 1 : 0);
    reference = raw.stdout;
    referenceCode = raw.code;
    expect(frameRecords(ndjson(reference))).toHaveLength(4);
  });
  test("the hexdump -C form really has a collapsed run", () => {
    expect(hexdumpForm(SAMPLE)).toMatch(/^\*$/m);
  });
  test.each(HEX_FORMS)("%s", async (_name, text) => {
    const result = await runCli(["dump", "-", "--json"], text);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(referenceCode);
    expect(result.stdout).toBe(reference);
    const bytes = await runCli(["encode", "--raw"], result.stdout);
    expect(toHex(bytes.stdoutBytes)).toBe(toHex(SAMPLE));
  });
  test("forced --input hex / base64 agree with detection", async () => {
    expect((await runCli(["dump", "-", "--json", "--input", "hex"], xxdForm(SAMPLE))).stdout).toBe(reference);
    expect((await runCli(["dump", "-", "--json", "--input", "base64"], base64)).stdout).toBe(reference);
    expect((await runCli(["dump", "-", "--json", "--input", "raw"], SAMPLE)).stdout).toBe(reference);
  });
  const tool = (name: string): boolean => spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
  test.skipIf(!tool("xxd") || !tool("hexdump"))("the real xxd and hexdump -C agree", async () => {
    for (const args of [["xxd"], ["hexdump", "-C"], ["xxd", "-p"], ["base64"]]) {
      const out = spawnSync(args[0]!, args.slice(1), { input: SAMPLE, encoding: "utf8" });
      expect(out.status).toBe(0);
      const result = await runCli(["dump", "-", "--json"], out.stdout);
      expect([args.join(" "), result.stdout]).toEqual([args.join(" "), reference]);
    }
  });
});

// ─── Streaming ──────────────────────────────────────────────────────────────────────────────────────

describe("streaming stdin", () => {
  const frames = [
    ...bodyVectors.filter((v) => ["hello", "send-text", "ack", "notify", "heartbeat-empty"].includes(v.name)).map((v) => fromHex(v.hex)),
    fromHex(wireVectors.find((v) => v.name === "batch")!.hex),
    fromHex(wireVectors.find((v) => v.name === "extension")!.hex),
  ];
  const stream = concat(frames);
  const offsets = frames.map((_, i) => frames.slice(0, i).reduce((n, f) => n + f.length, 0));

  test("1-byte chunks: every frame printed, offsets right, same output as one chunk", async () => {
    const whole = await runCli(["dump", "-", "--no-color"], stream);
    const bytewise = await runCli(["dump", "-", "--no-color"], chunksOf(stream, 1));
    expect(bytewise.code).toBe(whole.code);
    expect(textOffsets(bytewise.stdout)).toEqual(offsets);
    expect(bytewise.stdout).toBe(whole.stdout);
    const json = frameRecords(ndjson((await runCli(["dump", "-", "--json"], chunksOf(stream, 1))).stdout));
    expect(json.map((r) => r.offset)).toEqual(offsets);
    expect(json.map((r) => r.packetLength)).toEqual(frames.map((f) => f.length));
    // The hex dump's offset column counts in the stream too.
    expect(bytewise.stdout).toContain(`\n  ${offsets[1]!.toString(16).padStart(8, "0")}  00 00 00`);
  });

  test("frames are printed as they complete, before stdin ends", async () => {
    const seen: [number, number[]][] = [];
    const ends = offsets.slice(1).concat(stream.length);
    await runCli(["dump", "-", "--no-color"], chunksOf(stream, 1), {
      beforeChunk: (index, soFar) => {
        if (ends.includes(index)) seen.push([index, textOffsets(soFar)]);
      },
    });
    // Just before byte `index` is delivered, every frame whose last byte came earlier is on stdout.
    for (const [index, printed] of seen) expect(printed).toEqual(offsets.filter((_, k) => ends[k]! <= index));
    expect(seen).toHaveLength(frames.length - 1);
  });

  test("Mars and goim streams in 1-byte chunks", async () => {
    const mars = concat(marsVectors.map((v) => fromHex(v.hex)));
    const marsOut = ndjson((await runCli(["dump", "-", "--profile", "mars", "--json"], chunksOf(mars, 1))).stdout);
    expect(marsOut.map((r) => r.offset)).toEqual([0, 20, 40, 63]);
    expect(marsOut.map((r) => r.cmdid)).toEqual([24, 6, 10001, 243]);
    const g6 = fromHex(peerVectors.find((v) => v.name === "G6")!.hex);
    const goim = ndjson((await runCli(["dump", "-", "--profile", "goim", "--json"], chunksOf(g6, 1))).stdout);
    expect(goim.map((r) => [r.offset, r.op])).toEqual([
      [0, 1000],
      [23, 1000],
    ]);
  });
});

// ─── Bad input ──────────────────────────────────────────────────────────────────────────────────────

describe("bad input: clear error, right exit code, no stack trace", () => {
  const hello = fromHex(bodyVectors.find((v) => v.name === "hello")!.hex); // 66 bytes
  const ack = fromHex(bodyVectors.find((v) => v.name === "ack")!.hex); // 37 bytes
  const errorLines = (text: string): string[] => text.split("\n").filter((l) => l.startsWith("error"));

  test.each([
    ["raw, in one chunk", (b: Uint8Array) => [b] as (Uint8Array | string)[]],
    ["raw, in 5-byte chunks", (b: Uint8Array) => chunksOf(b, 5)],
    ["as hex", (b: Uint8Array) => [toHex(b)]],
  ])("a truncated frame (%s): the frames before it, then the error at its offset; exit 1", async (_name, feed) => {
    const input = concat([hello, ack, ack.subarray(0, 20)]);
    const result = await runCli(["dump", "-", "--no-color", "--no-hex"], feed(input));
    expectNoStackTrace(result);
    expect(result.code).toBe(1);
    expect(textOffsets(result.stdout)).toEqual([0, 66]);
    expect(errorLines(result.stdout)).toEqual([expect.stringMatching(/^error at byte 103: .*\(TRUNCATED\)$/)]);
    const json = ndjson((await runCli(["dump", "-", "--json"], feed(input))).stdout);
    expect(json.at(-1)).toMatchObject({ type: "error", offset: 103, code: "TRUNCATED" });
  });

  test("a header cut short (fewer than 16 bytes left)", async () => {
    const result = await runCli(["dump", "-", "--json"], concat([ack, ack.subarray(0, 7)]));
    expect(result.code).toBe(1);
    expect(ndjson(result.stdout).map((r) => [r.type, r.offset])).toEqual([
      ["frame", 0],
      ["error", 37],
    ]);
  });

  test("garbage bytes: an error at byte 0, nothing else, exit 1", async () => {
    const garbage = Uint8Array.from({ length: 200 }, (_, i) => (i * 151 + 0x80) & 0xff);
    const result = await runCli(["dump", "-", "--no-color"], garbage);
    expectNoStackTrace(result);
    expect(result.code).toBe(1);
    expect(textOffsets(result.stdout)).toEqual([]);
    expect(errorLines(result.stdout)).toEqual([expect.stringMatching(/^error at byte 0: .+ \([A-Z_]+\)$/)]);
  });

  test("garbage after good frames: the frames, then the error where the garbage starts", async () => {
    const result = await runCli(["dump", "-", "--json"], concat([hello, Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)]));
    expect(result.code).toBe(1);
    const records = ndjson(result.stdout);
    expect(records.map((r) => r.type)).toEqual(["frame", "error"]);
    expect(records[1]).toMatchObject({ offset: 66, code: "FRAME_TOO_LARGE" });
  });

  test("BAD_PACKET_LENGTH mid-stream: frames before it printed, none after; exit 1", async () => {
    const bad = fromHex("00000003001000010000000200000001"); // packetLength 3 < 16
    const result = await runCli(["dump", "-", "--no-color", "--no-hex"], chunksOf(concat([hello, ack, bad, ack]), 9));
    expectNoStackTrace(result);
    expect(result.code).toBe(1);
    expect(textOffsets(result.stdout)).toEqual([0, 66]);
    expect(errorLines(result.stdout)).toEqual([expect.stringMatching(/^error at byte 103: packet length 3 .*\(BAD_PACKET_LENGTH\)$/)]);
  });

  test("a version other than 1 under the default profile is an error with its offset", async () => {
    const v2 = fromHex("00000010001000020000000200000001");
    const result = await runCli(["dump", "-", "--json"], concat([ack, v2]));
    expect(result.code).toBe(1);
    // The offset names the offending field: the version, 6 bytes into the frame at 37.
    expect(ndjson(result.stdout).at(-1)).toMatchObject({ type: "error", offset: 37 + 6, code: "UNSUPPORTED_VERSION" });
  });

  test("Mars: a frame cut off, and a bad headLength", async () => {
    const m3 = fromHex(marsVectors.find((v) => v.name === "M3")!.hex);
    const cut = await runCli(["dump", "-", "--profile", "mars", "--json"], chunksOf(concat([m3, m3.subarray(0, 12)]), 3));
    expect(cut.code).toBe(1);
    expect(ndjson(cut.stdout).map((r) => [r.type, r.offset, r.code])).toEqual([
      ["frame", 0, undefined],
      ["error", 20, "MARS_TRUNCATED"],
    ]);
    const badHead = await runCli(["dump", "-", "--profile", "mars", "--no-color"], concat([m3, fromHex("00000004000000c800000006ffffffff00000000")]));
    expectNoStackTrace(badHead);
    expect(badHead.code).toBe(1);
    expect(errorLines(badHead.stdout)).toEqual([expect.stringMatching(/^error at byte 20: .*\(MARS_BAD_HEAD_LENGTH\)$/)]);
  });

  test("a decompression bomb under --profile bilibili: INFLATE_LIMIT at its body, exit 1, the next frame still shown", async () => {
    const zeros = new Uint8Array(50 * 1024 * 1024);
    const brotli = new Uint8Array(brotliCompressSync(zeros, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 } }));
    expect(brotli.length).toBeLessThan(100_000);
    const header = new Uint8Array(16);
    const view = new DataView(header.buffer);
    view.setUint32(0, 16 + brotli.length);
    view.setUint16(4, 16);
    view.setUint16(6, 3); // version 3: brotli
    view.setUint32(8, 5); // op 5: NOTIFICATION
    const bomb = concat([header, brotli]);
    const authReply = fromHex(peerVectors.find((v) => v.name === "B2")!.hex);
    const result = await runCli(["dump", "-", "--profile", "bilibili", "--no-color", "--no-hex"], concat([bomb, authReply]));
    expectNoStackTrace(result);
    expect(result.code).toBe(1);
    const errors = errorLines(result.stdout);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBe("error at byte 16: brotli body decompresses to more than the 8388608-byte limit (--max-inflate) (INFLATE_LIMIT)");
    // The bomb frame itself is shown (header, bytes, the reason), then the AUTH_REPLY after it.
    expect(textOffsets(result.stdout)).toEqual([0, bomb.length]);
    // --max-inflate is honoured: B5 inflates to 114 bytes.
    const b5 = fromHex(peerVectors.find((v) => v.name === "B5")!.hex);
    const lower = await runCli(["dump", "-", "--profile", "bilibili", "--json", "--max-inflate", "113"], b5);
    expect(lower.code).toBe(1);
    // The frame is shown whole (so encode can rebuild it), then the error where its compressed body starts.
    expect(ndjson(lower.stdout)).toMatchObject([{ type: "frame", offset: 0, body: toHex(b5.subarray(16)), decoded: { kind: "error", code: "INFLATE_LIMIT", offset: 16 } }, { type: "error", code: "INFLATE_LIMIT", offset: 16 }]);
    expect(ndjson(lower.stdout)[1]!.message).toContain("113-byte limit");
    expect((await runCli(["dump", "-", "--profile", "bilibili", "--json", "--max-inflate", "114"], b5)).code).toBe(0);
  });

  test("a pcap with a cut-off record, on stdin: the frames before the cut, then the cut at its offset, exit 1", async () => {
    const file = new Uint8Array(readFileSync(repoPath("fixtures/pcap/exchange.pcap")));
    // Walk the records (24-byte file header; each record: 16-byte header, incl_len at +8, LE).
    const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
    const starts: number[] = [];
    for (let at = 24; at < file.length; at += 16 + view.getUint32(at + 8, true)) starts.push(at);
    const cutRecord = starts[Math.floor(starts.length / 2)]!;
    const cut = file.subarray(0, cutRecord + 16 + 10); // 10 bytes into the record's data
    const result = await runCli(["dump", "-", "--json"], chunksOf(cut, 4096));
    expectNoStackTrace(result);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("");
    const records = ndjson(result.stdout);
    // Half the records made it: the HELLO of the first connection, at least, is decoded.
    expect(frameRecords(records).some((r) => r.name === "HELLO")).toBe(true);
    expect(records.at(-1)).toMatchObject({ type: "error", code: "CAPTURE_TRUNCATED", offset: cutRecord });
    // Nothing cut into a capture before its first whole record: still one line on stderr.
    const early = await runCli(["dump", "-"], file.subarray(0, 24 + 16 + 3));
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/^syncwire: .*\(CAPTURE_TRUNCATED at byte 24\)\n$/);
  });

  test.each([
    ["a bad digit", "00 00 00 10 zz", /^syncwire: 'z' is not a hex digit \(BAD_HEX at line 1, column 13\)\n$/],
    ["an odd number of digits", "00000010001000010000000200000001 0", /\(ODD_HEX at line 1, column \d+\)\n$/],
    ["a bad digit on line 3", "00000010\n00100001\n0000000g", /\(BAD_HEX at line 3, column 8\)\n$/],
  ])("invalid hex text with --input hex (%s): one line with line and column, exit 1", async (_name, text, message) => {
    const result = await runCli(["dump", "-", "--input", "hex"], text);
    expectNoStackTrace(result);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
  });

  test("invalid base64 with --input base64", async () => {
    const result = await runCli(["dump", "-", "--input", "base64"], "AAAA*AAA");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^syncwire: .*\(BAD_BASE64 at line 1, column 5\)\n$/);
  });

  test.each([
    ["an unknown option", ["dump", "--frobnicate", "-"], /^syncwire: Unknown option '--frobnicate'\. Try 'syncwire --help'\.\n$/],
    ["an unknown command", ["decode", "-"], /^syncwire: unknown command 'decode'\. Try 'syncwire --help'\.\n$/],
    ["an unknown profile", ["dump", "-", "--profile", "mqtt"], /unknown profile 'mqtt'.*Try 'syncwire --help'\.\n$/],
    ["an unknown input form", ["dump", "-", "--input", "yaml"], /unknown input form 'yaml'.*Try 'syncwire --help'\.\n$/],
    ["two inputs", ["dump", "a", "b"], /dump takes one input, got 2.*Try 'syncwire --help'\.\n$/],
    ["a port out of range", ["dump", "-", "--port", "70000"], /--port needs an integer from 1 to 65535, got '70000'/],
    ["a non-numeric limit", ["dump", "-", "--max-inflate", "lots"], /--max-inflate needs an integer from 1 to \d+, got 'lots'/],
    ["a frame size limit below 16", ["dump", "-", "--max-frame-size", "8"], /--max-frame-size must be at least 16/],
    ["a missing file", ["dump", "/nonexistent/capture.pcap"], /^syncwire: cannot read '\/nonexistent\/capture\.pcap': ENOENT\. Try 'syncwire --help'\.\n$/],
    ["a missing file for encode", ["encode", "/nonexistent/frames.ndjson"], /^syncwire: cannot read '\/nonexistent\/frames\.ndjson': ENOENT/],
    ["no input on a terminal", ["dump"], /no input: give a FILE, or '-' to read stdin/],
  ])("usage error: %s → exit 2, one line on stderr with a hint", async (_name, args, message) => {
    const result = await runCli(args, [], { stdinIsTTY: true });
    expectNoStackTrace(result);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
    expect(result.stderr.split("\n")).toHaveLength(2); // one line, then the final newline
  });

  test("--help and no arguments", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage:");
    const dumpHelp = await runCli(["dump", "--help"]);
    expect([dumpHelp.code, dumpHelp.stdout]).toEqual([0, help.stdout]);
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect([none.stdout, none.stderr]).toEqual(["", "syncwire: no command (dump or encode). Try 'syncwire --help'.\n"]);
  });

  test("empty stdin: nothing printed, exit 0", async () => {
    const result = await runCli(["dump", "-"], []);
    expect([result.code, result.stdout, result.stderr]).toEqual([0, "", ""]);
  });
});

// ─── The real bin ───────────────────────────────────────────────────────────────────────────────────

describe("bin/syncwire.js (spawned)", () => {
  beforeAll(ensureBuilt, 120_000);
  const bin = (args: string[], input?: string | Uint8Array) => runBin(args, input);
  const text = (b: Buffer | string | null): string => (b === null ? "" : b.toString());

  test("--help exits 0 and shows an example for every input form", () => {
    const result = bin(["--help"]);
    expect(result.status).toBe(0);
    const help = text(result.stdout);
    for (const example of ["syncwire dump capture.bin", "| syncwire dump -", "xxd frames.bin | syncwire dump -", "hexdump -C frames.bin", "Wireshark", "echo AAAAEAAQAAEAAAACAAAAAQ== | syncwire dump -", "--port 5000", "nc host port | syncwire dump -"]) {
      expect(help).toContain(example);
    }
  });

  test("a capture fixture decodes: the same output as in-process", async () => {
    const result = bin(["dump", "fixtures/pcap/exchange.pcap", "--no-color"]);
    expect(result.status).toBe(0);
    expect(text(result.stderr)).toBe("");
    expect(text(result.stdout)).toBe((await runCli(["dump", repoPath("fixtures/pcap/exchange.pcap"), "--no-color"])).stdout);
  });

  test("exit codes propagate: 1 for a truncated frame, 2 for a usage error; dump --json | encode --raw", () => {
    const truncated = bin(["dump", "-"], "00000010001000010000000200000001 000000140010");
    expect(truncated.status).toBe(1);
    expect(text(truncated.stdout)).toMatch(/^error at byte 16: .*\(TRUNCATED\)$/m);
    const usage = bin(["dump", "--nope"]);
    expect(usage.status).toBe(2);
    expect(text(usage.stderr)).toMatch(/^syncwire: Unknown option '--nope'\. Try 'syncwire --help'\.\n$/);
    expect(text(usage.stderr)).not.toMatch(/^\s+at /m);
    const b4 = peerVectors.find((v) => v.name === "B4")!.hex;
    const json = bin(["dump", "-", "--profile", "bilibili", "--json"], b4);
    expect(json.status).toBe(0);
    const raw = bin(["encode", "--raw"], json.stdout as Buffer);
    expect(raw.status).toBe(0);
    expect(toHex(new Uint8Array(raw.stdout as Buffer))).toBe(b4);
  });
});
