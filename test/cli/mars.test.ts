import { describe, expect } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { decodeMarsFrames, marsFrameKind, marsFrameName, unpackMarsFrame, type MarsFrame } from "../../src/cli/profiles/mars.js";
import { ProfileError } from "../../src/cli/profiles/errors.js";
import { readFixture } from "../support/fixtures.js";
import { thrownBy } from "../support/thrown.js";
import { concat, fromHex, toHex } from "../support/hex.js";

const vectors = new Map(readFixture<{ name: string; hex: string }[]>("peers/peer-frames.json").map((v) => [v.name, fromHex(v.hex)]));
const vector = (name: string): Uint8Array => vectors.get(name)!;

/** A Mars frame built by hand: five big-endian u32s, extension, body. */
function mars(fields: { clientVersion?: number; cmdid: number; seq: number; body?: Uint8Array; extension?: Uint8Array }): Uint8Array {
  const extension = fields.extension ?? new Uint8Array(0);
  const body = fields.body ?? new Uint8Array(0);
  const head = new Uint8Array(20);
  const view = new DataView(head.buffer);
  view.setUint32(0, 20 + extension.length);
  view.setUint32(4, fields.clientVersion ?? 200);
  view.setUint32(8, fields.cmdid);
  view.setUint32(12, fields.seq);
  view.setUint32(16, body.length);
  return concat([head, extension, body]);
}

const errorOf = (run: () => unknown): ProfileError => thrownBy(ProfileError, run);

describe("Mars vectors", () => {
  test.each([
    ["M1", { headLength: 20, clientVersion: 200, cmdid: 24, seq: 0xffffffff, bodyLength: 0 }, "noop", "NOOP(cmdid 24)", ""],
    ["M3", { headLength: 20, clientVersion: 200, cmdid: 6, seq: 0xffffffff, bodyLength: 0 }, "noop", "NOOP", ""],
    ["M4", { headLength: 20, clientVersion: 200, cmdid: 10001, seq: 0, bodyLength: 3 }, "push", "PUSH(cmdid 10001)", "0a0178"],
    ["M5", { headLength: 20, clientVersion: 200, cmdid: 243, seq: 0, bodyLength: 0 }, "signal-keep", "SIGNAL_KEEP", ""],
  ] as const)("%s", (name, fields, kind, label, body) => {
    const { frames, trailer } = decodeMarsFrames(vector(name));
    expect(frames).toHaveLength(1);
    const { frame, offset } = frames[0]!;
    expect(offset).toBe(0);
    expect(frame).toMatchObject(fields);
    expect(toHex(frame.body)).toBe(body);
    expect(frame.extension.length).toBe(0);
    expect(marsFrameKind(frame)).toBe(kind);
    expect(marsFrameName(frame)).toBe(label);
    expect(trailer.length).toBe(0);
  });
  test("M1 is the plain NOOP where the deployment's noop cmdid is 24", () => {
    const frame = decodeMarsFrames(vector("M1")).frames[0]!.frame;
    expect(marsFrameName(frame, { noopCmdid: 24 })).toBe("NOOP");
    expect(marsFrameName({ cmdid: 1234, seq: 7 })).toBe("CMD(1234)");
  });
  test("all four back to back in one buffer, offsets in order", () => {
    const all = concat(["M1", "M3", "M4", "M5"].map(vector));
    const { frames } = decodeMarsFrames(all);
    expect(frames.map((f) => [f.offset, marsFrameName(f.frame)])).toEqual([
      [0, "NOOP(cmdid 24)"],
      [20, "NOOP"],
      [40, "PUSH(cmdid 10001)"],
      [63, "SIGNAL_KEEP"],
    ]);
  });
});

describe("Mars framing", () => {
  test("extension bytes between 20 and headLength are skipped", () => {
    const bytes = mars({ cmdid: 3, seq: 9, extension: Uint8Array.of(0xee, 0xee, 0xee), body: Uint8Array.of(1, 2) });
    const { frame } = decodeMarsFrames(bytes).frames[0]!;
    expect([frame.headLength, toHex(frame.extension), toHex(frame.body), frame.packetLength]).toEqual([23, "eeeeee", "0102", 25]);
  });
  test("unpack is tri-state: need-more until the frame is whole", () => {
    const bytes = vector("M4");
    for (let n = 0; n < bytes.length; n++) expect(unpackMarsFrame(bytes.subarray(0, n)).status).toBe("need-more");
    expect(unpackMarsFrame(bytes.subarray(0, 10))).toEqual({ status: "need-more", needed: 10 });
    expect(unpackMarsFrame(bytes.subarray(0, 21))).toEqual({ status: "need-more", needed: 2 });
    expect(unpackMarsFrame(bytes)).toMatchObject({ status: "ok", next: 23 });
  });
  test.each([
    ["cut-off body", () => decodeMarsFrames(concat([vector("M3"), vector("M4").subarray(0, 21)])), "MARS_TRUNCATED", 20],
    ["headLength 19", () => decodeMarsFrames(concat([vector("M3"), fromHex("00000013000000c800000006ffffffff00000000")])), "MARS_BAD_HEAD_LENGTH", 20],
    ["body over 1 MiB", () => decodeMarsFrames(fromHex("00000014000000c80000271100000000" + "00100001")), "MARS_BODY_TOO_LARGE", 16],
    ["body over a smaller limit", () => decodeMarsFrames(vector("M4"), { maxBodyLength: 2 }), "MARS_BODY_TOO_LARGE", 16],
    ["wrong client version", () => decodeMarsFrames(vector("M4"), { clientVersion: 201 }), "MARS_CLIENT_VERSION", 4],
  ] as const)("%s → %s", (_name, run, code, offset) => {
    const error = errorOf(run);
    expect([error.code, error.offset]).toEqual([code, offset]);
    expect(error.message).toContain(`at byte ${offset}`);
  });
  test("a 1 MiB body is the limit itself and passes; the length is judged before the bytes arrive", () => {
    const head = fromHex("00000014000000c80000271100000000" + "00100000");
    expect(unpackMarsFrame(head)).toEqual({ status: "need-more", needed: 1 << 20 });
  });
  test("allowTrailer keeps a cut-off last frame as the trailer", () => {
    const { frames, trailer } = decodeMarsFrames(concat([vector("M5"), vector("M4").subarray(0, 5)]), { allowTrailer: true });
    expect([frames.length, toHex(trailer)]).toEqual([1, toHex(vector("M4").subarray(0, 5))]);
  });

  const arbFrame = fc.record({
    cmdid: fc.nat({ max: 0xffffffff }),
    seq: fc.nat({ max: 0xffffffff }),
    clientVersion: fc.nat({ max: 0xffffffff }),
    body: fc.uint8Array({ maxLength: 40 }),
    extension: fc.uint8Array({ maxLength: 8 }),
  });
  test.prop([fc.array(arbFrame, { maxLength: 8 })])("hand-built frames decode to their fields", (list) => {
    const { frames } = decodeMarsFrames(concat(list.map(mars)));
    const fields = (f: MarsFrame): unknown[] => [f.cmdid, f.seq, f.clientVersion, toHex(f.body), toHex(f.extension)];
    expect(frames.map((f) => fields(f.frame))).toEqual(list.map((f) => [f.cmdid, f.seq, f.clientVersion, toHex(f.body), toHex(f.extension)]));
  });
  test.prop([fc.uint8Array({ maxLength: 200 })])("random bytes never throw anything but a ProfileError", (bytes) => {
    try {
      decodeMarsFrames(bytes);
    } catch (error) {
      expect(error).toBeInstanceOf(ProfileError);
    }
  });
});
