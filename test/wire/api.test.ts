// Example-based checks of the API surface: misuse errors, names, seq wrapping, options.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import * as syncwire from "../../src/index.js";
import {
  decodeFrame,
  decodeFrames,
  encodeBatch,
  encodeFrame,
  encodeFrameInto,
  encodeHeader,
  FrameError,
  HEADER_SIZE,
  isApplicationOp,
  isKnownOp,
  nextSeq,
  Op,
  opName,
  resolveDecodeOptions,
  splitBatch,
} from "../../src/index.js";
import { toHex } from "../support/hex.js";

describe("ops", () => {
  test("names", () => {
    expect(opName(Op.HEARTBEAT)).toBe("HEARTBEAT");
    expect(opName(9)).toBe("BATCH");
    expect(opName(15)).toBe("CHUNK_ACK");
    expect(opName(1000)).toBe("APPLICATION(1000)");
    expect(opName(0)).toBe("RESERVED(0)");
    expect(opName(16)).toBe("RESERVED(16)");
    expect(opName(999)).toBe("RESERVED(999)");
    expect(opName(-1)).toBe("RESERVED(-1)");
  });
  test("the numbers shared with goim and Bilibili", () => {
    expect([Op.HEARTBEAT, Op.HEARTBEAT_ACK, Op.HELLO, Op.WELCOME, Op.BATCH]).toStrictEqual([2, 3, 7, 8, 9]);
  });
  test("classification", () => {
    expect(isKnownOp(2) && isKnownOp(15)).toBe(true);
    expect(isKnownOp(1) || isKnownOp(16) || isKnownOp(1000)).toBe(false);
    expect(isApplicationOp(1000) && isApplicationOp(0xffff_ffff)).toBe(true);
    expect(isApplicationOp(999) || isApplicationOp(2 ** 32) || isApplicationOp(1000.5)).toBe(false);
  });
});

describe("seq", () => {
  test("numbers requests from 1 and wraps past 2^32 − 1 to 1, never 0", () => {
    expect(nextSeq(0)).toBe(1);
    expect(nextSeq(1)).toBe(2);
    expect(nextSeq(0xffff_fffe)).toBe(0xffff_ffff);
    expect(nextSeq(0xffff_ffff)).toBe(1);
    expect(() => nextSeq(-1)).toThrow(RangeError);
    expect(() => nextSeq(2 ** 32)).toThrow(RangeError);
  });
});

describe("encoding", () => {
  test("a bare ACK is exactly 16 bytes", () => {
    expect(toHex(encodeFrame({ op: Op.ACK, seq: 7 }))).toBe("00000010001000010000000500000007");
    expect(encodeHeader({ op: Op.HEARTBEAT, seq: 1 })).toStrictEqual(encodeFrame({ op: Op.HEARTBEAT, seq: 1 }));
  });
  test("header for a body written separately", () => {
    expect(toHex(encodeHeader({ op: Op.SEND, seq: 2, bodyLength: 5 }))).toBe("00000015001000010000000400000002");
  });
  test.each([
    ["op", { op: -1 }],
    ["op", { op: 2 ** 32 }],
    ["op", { op: 1.5 }],
    ["seq", { op: 2, seq: 2 ** 32 }],
    ["version", { op: 2, version: 0x10000 }],
  ])("refuses a bad %s", (_f, fields) => {
    expect(() => encodeFrame(fields)).toThrow(RangeError);
    expect(() => encodeHeader(fields)).toThrow(RangeError);
  });
  test("encodeHeader's bodyLength: up to 2^32 − 17, so packetLength fits a u32", () => {
    expect(toHex(encodeHeader({ op: 1000, bodyLength: 0xffff_ffff - 16 }).subarray(0, 4))).toBe("ffffffff");
    for (const bodyLength of [0xffff_ffff - 15, 2 ** 32, -1, 1.5, Number.NaN]) {
      expect(() => encodeHeader({ op: 1000, bodyLength })).toThrow(RangeError);
    }
  });
  test("refuses an extension a u16 headerLength cannot describe", () => {
    expect(() => encodeFrame({ op: 2, extension: new Uint8Array(0xffff - 15) })).toThrow(RangeError);
    expect(encodeFrame({ op: 2, extension: new Uint8Array(0xffff - 16) }).byteLength).toBe(0xffff);
  });
  test("encodeFrameInto reports what it wrote, and writes nothing when the frame does not fit", () => {
    const target = new Uint8Array(40).fill(0xaa);
    expect(encodeFrameInto(target, 4, { op: Op.SEND, seq: 1, body: new Uint8Array([1, 2, 3]) })).toBe(19);
    expect(toHex(target.subarray(4, 23))).toBe("00000013001000010000000400000001010203");
    const before = toHex(target);
    expect(() => encodeFrameInto(target, 30, { op: Op.SEND, body: new Uint8Array(3) })).toThrow(RangeError);
    expect(() => encodeFrameInto(target, -1, { op: Op.SEND })).toThrow(RangeError);
    expect(toHex(target)).toBe(before);
  });
  test("encodeBatch refuses a nested BATCH", () => {
    expect(() => encodeBatch([{ op: Op.BATCH }])).toThrow(RangeError);
  });
  test("a decoded frame re-encodes as is", () => {
    const bytes = encodeFrame({ op: 1234, seq: 9, version: 1, body: new Uint8Array([9, 8]), extension: new Uint8Array([1]) });
    expect(encodeFrame(decodeFrame(bytes))).toStrictEqual(bytes);
  });
});

describe("decoding", () => {
  test("unknown ops and reserved ops pass through", () => {
    for (const op of [0, 1, 16, 999, 1000, 0xffff_ffff]) expect(decodeFrame(encodeFrame({ op })).op).toBe(op);
  });
  test("version list and 'any'", () => {
    const v3 = encodeFrame({ op: 5, version: 3 });
    expect(() => decodeFrame(v3)).toThrow(FrameError);
    expect(decodeFrame(v3, { versions: [1, 3] }).version).toBe(3);
    expect(decodeFrame(v3, { versions: "any" }).version).toBe(3);
  });
  test("an empty message is zero frames", () => {
    expect(decodeFrames(new Uint8Array(0))).toMatchObject({ frames: [], trailer: new Uint8Array(0) });
  });
  test("the maxFrameSize boundary is inclusive", () => {
    const frame = encodeFrame({ op: 4, body: new Uint8Array(48) });
    expect(decodeFrame(frame, { maxFrameSize: 64 }).packetLength).toBe(64);
    expect(() => decodeFrame(frame, { maxFrameSize: 63 })).toThrow(expect.objectContaining({ code: "FRAME_TOO_LARGE" }));
  });
  test("a decoding error says what and where", () => {
    const error = (() => {
      try {
        decodeFrame(new Uint8Array([0, 0, 0, 0x10, 0, 0x10, 0, 2]));
      } catch (e) {
        return e as FrameError;
      }
      throw new Error("no error");
    })();
    expect(error.name).toBe("FrameError");
    expect(error.message).toMatch(/version 2 is not accepted.*UNSUPPORTED_VERSION at byte 6/);
  });
  test("splitBatch refuses a frame that is not a BATCH", () => {
    expect(() => splitBatch(decodeFrame(encodeFrame({ op: 4 })))).toThrow(RangeError);
  });
  test("invalid options are the caller's error", () => {
    expect(() => resolveDecodeOptions({ maxFrameSize: 15 })).toThrow(RangeError);
    expect(() => resolveDecodeOptions({ maxFrameSize: 2 ** 32 })).toThrow(RangeError);
    expect(() => resolveDecodeOptions({ versions: [] })).toThrow(RangeError);
    expect(() => resolveDecodeOptions({ versions: [70000] })).toThrow(RangeError);
    for (const v of [-1, 1.5, 0x10000, Number.NaN]) expect(() => resolveDecodeOptions({ versions: [1, v] })).toThrow(RangeError);
    for (const m of [16.5, Number.NaN, -1]) expect(() => resolveDecodeOptions({ maxFrameSize: m })).toThrow(RangeError);
    // The bounds themselves are accepted.
    expect(resolveDecodeOptions({ maxFrameSize: 16, versions: [0, 0xffff] })).toStrictEqual({ maxFrameSize: 16, versions: [0, 0xffff] });
    expect(resolveDecodeOptions({ maxFrameSize: 2 ** 32 - 1, versions: "any" })).toStrictEqual({ maxFrameSize: 2 ** 32 - 1, versions: null });
    expect(resolveDecodeOptions()).toBe(resolveDecodeOptions());
  });
  test("HEADER_SIZE", () => expect(HEADER_SIZE).toBe(16));
});

describe("the core is platform-neutral", () => {
  const root = new URL("../../src/", import.meta.url);
  const coreFiles = ["wire", "stream", "bodies", "gen/syncwire/v1"].flatMap((d) => readdirSync(new URL(`${d}/`, root)).filter((f) => f.endsWith(".ts")).map((f) => `${d}/${f}`));
  // Skipped only under `npm run mutate`: Stryker rewrites src/ with its instrumentation, which is not ours.
  test.skipIf(process.env.SYNCWIRE_MUTATION_RUN === "1").each(coreFiles)("src/%s uses no Node API", (file) => {
    // Comments may mention Buffer (to explain why it is not used); code may not.
    const source = readFileSync(new URL(file, root), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    expect(source).not.toMatch(/from\s+["']node:|require\(|\bBuffer\b|\bprocess\./);
  });
  test("the root entry exports only documented names", () => {
    expect(Object.keys(syncwire).sort()).toMatchSnapshot();
  });
});
