// Hostile inputs that once cost `syncwire dump` an internal error, minutes of CPU, gigabytes of memory or
// the frames around them. The reproducers are fixtures/cli/hostile/ (see its README and
// scripts/make-cli-hostile-fixtures.mjs); each is run here through the command.
//
// Time is never asserted with a timer (see bench/ for speed). Work is bounded by counting it (frames
// described, inflations done, slices expanded), and the two "must be linear" and "memory stays flat"
// properties are checked in child processes: one with a time limit a quadratic parser cannot meet by a
// factor of a hundred or more, one with a heap or resident-memory bound the old behaviour passed many
// times over.
import { beforeAll, describe, expect } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { annotatedHexDump } from "../../src/cli/hexdump.js";
import { createPaint } from "../../src/cli/paint.js";
import { encodeFrame } from "../../src/index.js";
import { ensureBuilt, expectNoStackTrace, ndjson, repoPath, runBin, runCli } from "../support/cli.js";
import { concat, fromHex, toHex } from "../support/hex.js";

const fixture = (name: string): string => readFileSync(repoPath(`fixtures/cli/hostile/${name}`), "utf8");
const frameLines = (text: string): string[] => text.split("\n").filter((l) => /^ *(└ )?frame @/.test(l));
const errorRecords = (stdout: string): Record<string, unknown>[] => ndjson(stdout).filter((r) => r.type === "error");

beforeAll(ensureBuilt, 120_000);

describe("1. --hex-bytes between a dump's length and the next multiple of 16", () => {
  test("a 20-byte frame with --hex-bytes 17: both rows, no internal error", async () => {
    const result = await runCli(["dump", "-", "--hex-bytes", "17", "--no-color"], fixture("hex-bytes-17.hex"));
    expectNoStackTrace(result);
    // Exit 1 for the body (4 bytes that are not a MessagePacket), reported after the frame, which is shown.
    expect([result.code, result.stderr]).toEqual([1, ""]);
    expect(result.stdout).toMatch(/^frame @0 {2}SEND /);
    expect(result.stdout).toMatch(/\nerror at byte \d+: .*\(BAD_BODY\)\n$/);
    expect(result.stdout).toContain("  00000010  aa bb cc dd                                       |....|\n");
    expect(result.stdout).not.toContain("more bytes");
  });
  test("a 15-byte Bilibili trailer with --hex-bytes 1", async () => {
    const result = await runCli(["dump", "-", "--profile", "bilibili", "--hex-bytes", "1", "--no-color"], fixture("trailer-hex-bytes-1.hex"));
    expect([result.code, result.stderr]).toEqual([0, ""]);
    expect(result.stdout).toContain("  00000014  5b 6f 62 6a 65 63 74 20  4f 62 6a 65 63 74 5d     |[object Object]|\n");
  });
  test.prop([fc.uint8Array({ maxLength: 100 }), fc.nat({ max: 120 })])("any length and any --hex-bytes: whole rows up to the end, the rest counted", (bytes, maxBytes) => {
    const lines = annotatedHexDump(bytes, 0, [{ start: 0, length: bytes.length, label: "body", role: "body" }], createPaint(false), maxBytes);
    const shown = maxBytes === 0 ? bytes.length : Math.min(bytes.length, Math.ceil(maxBytes / 16) * 16);
    expect(lines.filter((l) => /^[0-9a-f]{8} /.test(l))).toHaveLength(Math.ceil(shown / 16));
    expect(lines.at(-1)?.includes(`… ${bytes.length - shown} more bytes`) ?? false).toBe(shown < bytes.length);
  });
});

describe("2. hex detection and parsing are linear", () => {
  test("the reproducer is refused at its first bad character", async () => {
    const result = await runCli(["dump", "-"], fixture("hexdump-bars.txt"));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("syncwire: '|' is not a hex digit (BAD_HEX at line 1, column 11)\n");
  });
  // The 120 KB reproducer took 43 s through /\|.*\|\s*$/: quadratic, so ten times the input would take
  // about 4,300 s. Each variant below is ten times the reproducer and must finish within 20 s, which a
  // quadratic algorithm cannot do on a machine even a hundred times faster (43 s), while a linear one
  // needs well under a second (a hundred times slower would still pass). The run is a child process, so
  // a regression fails at the time limit instead of hanging the suite.
  test.each([
    ["'|' × 1,200,000 after a hexdump offset", "00000000  " + "|".repeat(1_200_000) + "x"],
    ["'|' at both ends of 1,200,000 spaces", "00000000  |" + " ".repeat(1_200_000) + "|x"],
    ["1,200,001 hex digits with no separator", "0".repeat(1_200_001)],
    ["1,200,000 lines of an xxd offset", "00000000: \n".repeat(120_000)],
    ["'=' × 1,200,000 after base64", "AAAA" + "=".repeat(1_200_000) + "A"],
  ])("%s: read within a time only a linear parser meets", (_name, text) => {
    const result = runBin(["dump", "-"], text, { timeoutMs: 20_000 });
    expect(result.signal).toBeNull(); // not killed at the time limit
    expect([0, 1]).toContain(result.status);
    expect(String(result.stderr)).not.toContain("internal error");
  });
});

describe("3. Bilibili: work bounded across the whole input, output streamed, memory flat", () => {
  const many = fixture("bilibili-466033-frames.hex").trim();

  test("a 36-byte frame that inflates to 466,033 frames: described up to --max-frames, the rest counted", async () => {
    expect(many.length / 2).toBeLessThan(40);
    const result = await runCli(["dump", "-", "--profile", "bilibili", "--json", "--max-frames", "1000"], many);
    expect(result.code).toBe(1);
    const [record, error, ...rest] = ndjson(result.stdout);
    expect(rest).toEqual([]);
    expect([(record!.children as unknown[]).length, record!.moreChildren]).toEqual([999, 466_033 - 999]);
    expect(error).toMatchObject({ type: "error", code: "FRAME_LIMIT", offset: 0 });
    expect(error!.message).toBe("1000 frames described, the --max-frames limit: 465034 inner frames of the frame at byte 0 and the rest of the input are not shown");
    const text = await runCli(["dump", "-", "--profile", "bilibili", "--max-frames", "1000", "--no-hex"], many);
    expect(frameLines(text.stdout)).toHaveLength(1000);
    expect(text.stdout).toContain("  … 465034 more inner frames not shown (--max-frames)\n");
  });

  test("64 copies with --json and the default limits: streamed within a 96 MB heap (the old tree took 1.9 GB)", () => {
    const input = many.repeat(64);
    const result = runBin(["dump", "-", "--profile", "bilibili", "--json"], input, { nodeArgs: ["--max-old-space-size=96"], discardStdout: true, measureRss: true, timeoutMs: 120_000 });
    expect(result.signal).toBeNull();
    expect(result.stderr).toBe(""); // no out-of-memory report
    expect(result.status).toBe(1); // the --max-frames limit (100,000 by default) is reached in the first frame
    expect(result.maxRssKiB).toBeLessThan(300 * 1024);
  }, 150_000);

  test("30,840 copies of a frame that inflates past the cap: 32 inflations (the --max-inflate-total budget), then none", async () => {
    const frame = fixture("bilibili-past-cap.hex").trim();
    expect(frame.length / 2).toBeLessThan(50);
    const result = await runCli(["dump", "-", "--profile", "bilibili", "--json", "--no-body"], frame.repeat(30_840));
    expect(result.code).toBe(1);
    const reasons = errorRecords(result.stdout).map((r) => r.message as string);
    expect(reasons).toHaveLength(30_840); // every frame shown and reported: the framing is in step
    const inflated = reasons.filter((r) => r.includes("decompresses to more than"));
    expect(inflated).toHaveLength(32); // 256 MiB / 8 MiB
    expect(new Set(reasons.slice(32))).toEqual(new Set(["brotli body not inflated: the whole input's --max-inflate-total budget of 268435456 bytes is spent"]));
  });

  test("a frame whose compressed body cannot be read is still shown whole, so encode rebuilds the input", async () => {
    const json = (text: string): Uint8Array => encodeFrame({ op: 5, version: 0, body: new TextEncoder().encode(text) });
    const notFrames = encodeFrame({ op: 5, version: 2, body: new Uint8Array(deflateSync(Buffer.from("hello world, not frames"))) });
    const input = concat([json('{"a":1}'), notFrames, json('{"b":2}')]);
    const dumped = await runCli(["dump", "-", "--profile", "bilibili", "--json", "--input", "raw"], input);
    expect(dumped.code).toBe(1);
    expect(ndjson(dumped.stdout).map((r) => [r.type, r.offset])).toEqual([["frame", 0], ["frame", 23], ["error", 23 + 16], ["frame", 23 + notFrames.length]]);
    const encoded = await runCli(["encode", "--raw"], dumped.stdout);
    expect(toHex(encoded.stdoutBytes)).toBe(toHex(input));
  });

  test("garbage is an error (exit 1), not a trailer: no HEARTBEAT_REPLY before it", async () => {
    const garbage = Uint8Array.from({ length: 1000 }, (_, i) => (i * 97 + 31) & 0xff);
    const bad = await runCli(["dump", "-", "--profile", "bilibili", "--json", "--input", "raw"], garbage);
    expect(bad.code).toBe(1);
    expect(ndjson(bad.stdout).map((r) => r.type)).toEqual(["error"]);
  });
});

describe("4. '*' lines in a pasted hexdump -C: expanded lazily, bounded by what is described", () => {
  test("75 bytes standing for 256 MiB of 1-byte rows: the decoder stops at byte 0, little is expanded", () => {
    const text = fixture("hexdump-star-1-byte-row.txt");
    expect(text.length).toBe(75);
    // The old parser made 268 million 1-byte copies (9.3 s, 568 MB) before the decoder saw byte 0.
    const result = runBin(["dump", "-"], text, { measureRss: true });
    expect(result.status).toBe(1);
    expect(String(result.stdout)).toMatch(/^error at byte 0: .*\(BAD_PACKET_LENGTH\)\n$/);
    expect(result.maxRssKiB).toBeLessThan(150 * 1024);
  });

  test("90 bytes standing for 16.7 million heartbeats: described up to --max-frames, then the dump stops", async () => {
    const text = fixture("hexdump-star-heartbeats.txt");
    expect(text.length).toBe(90);
    const result = await runCli(["dump", "-", "--json", "--max-frames", "1000"], text);
    expect(result.code).toBe(1);
    const records = ndjson(result.stdout);
    expect(records.filter((r) => r.type === "frame")).toHaveLength(1000);
    expect(records.at(-1)).toMatchObject({ type: "error", code: "FRAME_LIMIT", offset: 16_000 });
  });

  test("the same with the default limits, in a child: bounded memory", () => {
    const result = runBin(["dump", "-"], fixture("hexdump-star-heartbeats.txt"), { discardStdout: true, measureRss: true, timeoutMs: 120_000 });
    expect(result.signal).toBeNull();
    expect(result.status).toBe(1); // FRAME_LIMIT after 100,000 frames
    expect(result.maxRssKiB).toBeLessThan(200 * 1024);
  }, 150_000);

  test("a '*' line cannot claim more than 256 MiB", async () => {
    const text = "00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n7ffffff0\n";
    const result = await runCli(["dump", "-"], text);
    expectNoStackTrace(result);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/repeat expands to \d+ bytes.*\(BAD_HEX at line 3, column 1\)\n$/);
  });
});

describe("large and deep inputs lose nothing", () => {
  const frame = (op: number, body: Uint8Array): Uint8Array => encodeFrame({ op, body });
  const heartbeat = fromHex("00000010001000010000000200000001");

  test("a 1 MiB BATCH of 65,535 empty frames: every child listed, the hex dump capped", async () => {
    const batch = frame(9, concat(Array.from({ length: 65_535 }, () => heartbeat)));
    const result = await runCli(["dump", "-", "--no-color"], batch);
    expectNoStackTrace(result);
    expect(result.code).toBe(0);
    expect(result.stdout.match(/^ {2}└ frame @/gm)).toHaveLength(65_535);
    expect(result.stdout).toContain(`… ${batch.length - 64 * 1024} more bytes (--hex-bytes 0 shows all)`);
  });

  test("inner frames past --max-frames are counted, not described; encode still rebuilds every byte", async () => {
    const batch = frame(9, concat(Array.from({ length: 65_537 }, () => heartbeat)));
    // 65,537 × 16 + 16 bytes is just over the default 1 MiB frame limit.
    const dumped = await runCli(["dump", "-", "--json", "--max-frame-size", "2000000", "--max-frames", "65537"], batch);
    expect(dumped.code).toBe(1);
    const [record, error] = ndjson(dumped.stdout);
    expect([(record!.children as unknown[]).length, record!.moreChildren, error!.code]).toEqual([65_536, 1, "FRAME_LIMIT"]);
    const encoded = await runCli(["encode", "--raw"], dumped.stdout);
    expect(toHex(encoded.stdoutBytes)).toBe(toHex(batch));
  });

  test("JSON nested 5,000 deep is shown as text, and the next frame still comes", async () => {
    const deep = new TextEncoder().encode("[".repeat(5000) + "]".repeat(5000));
    const result = await runCli(["dump", "-", "--json"], concat([frame(1000, deep), heartbeat]));
    expectNoStackTrace(result);
    expect(result.code).toBe(0);
    const records = ndjson(result.stdout);
    expect(records.map((r) => r.name)).toEqual(["APPLICATION(1000)", "HEARTBEAT"]);
    expect((records[0]!.decoded as { kind: string }).kind).toBe("text");
  });

  test("a malformed BATCH body under the syncwire profile is an error at its stream offset", async () => {
    // A HEARTBEAT, then a BATCH whose body is one inner header claiming 5 bytes.
    const batch = fromHex("000000180010000100000009000000000000000500100001");
    const result = await runCli(["dump", "-", "--json"], concat([heartbeat, batch]));
    expect(result.code).toBe(1);
    expect(errorRecords(result.stdout)).toMatchObject([{ code: "BAD_PACKET_LENGTH", offset: 16 + 16 }]);
  });

  test("after a fatal error on stdin no more input is read (a live link must not keep the CLI alive)", async () => {
    let pulled = 0;
    const bad = fromHex("00000003001000010000000100000001");
    const result = await runCli(["dump", "-"], [heartbeat, bad, heartbeat, heartbeat, heartbeat], { beforeChunk: (i) => void (pulled = i + 1) });
    expect(result.code).toBe(1);
    expect(pulled).toBeLessThanOrEqual(3);
  });

  test.each([
    ["--port with an input that is not a capture", ["dump", "-", "--port", "5000"], /--port applies to captures/],
    ["a limit written as 1e3", ["dump", "-", "--max-frame-size", "1e3"], /--max-frame-size needs an integer/],
    ["a port written in hex", ["dump", "-", "--port", "0x10"], /--port needs an integer/],
    ["an inflate limit past 1 GiB", ["dump", "-", "--max-inflate", "9007199254740991"], /--max-inflate needs an integer from 1 to 1073741824/],
    ["a negative frame budget", ["dump", "-", "--max-frames=-1"], /--max-frames needs an integer from 0 to 9007199254740991/],
  ])("usage error: %s", async (_name, args, message) => {
    const result = await runCli(args, heartbeat);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
