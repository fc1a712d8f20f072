// The Mars profile: the peers' vectors and hand-built frames through MarsFrameDecoder (what `dump` runs),
// in one buffer and in any chunking; names; limits checked as the header arrives; the cut-off frame.
import { describe, expect } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { MarsFrameDecoder, marsFrameKind, marsFrameName, unpackMarsFrame, type MarsFrame } from "../../src/cli/profiles/mars.js";
import { ProfileError } from "../../src/cli/profiles/errors.js";
import { chunksAt } from "../support/chunks.js";
import { profileEvents } from "../support/cli.js";
import { readFixture } from "../support/fixtures.js";
import { concat, fromHex, toHex } from "../support/hex.js";
import { marsBytes } from "../support/mars.js";
import { thrownBy } from "../support/thrown.js";

const vectors = new Map(readFixture<{ name: string; hex: string }[]>("peers/peer-frames.json").map((v) => [v.name, fromHex(v.hex)]));
const vector = (name: string): Uint8Array => vectors.get(name)!;

/** Every frame of `chunks`, through one decoder, ended. */
function decodeAll(chunks: readonly Uint8Array[], maxBodyLength?: number): MarsFrame[] {
  const decoder = new MarsFrameDecoder(maxBodyLength === undefined ? {} : { maxBodyLength });
  const out: MarsFrame[] = [];
  for (const chunk of chunks) decoder.push(chunk, out);
  decoder.end();
  return out;
}

const errorOf = (run: () => unknown): ProfileError => thrownBy(ProfileError, run);

describe("Mars vectors", () => {
  test.each([
    ["M1", { headLength: 20, clientVersion: 200, cmdid: 24, seq: 0xffffffff, bodyLength: 0 }, "noop", "NOOP(cmdid 24)", ""],
    ["M3", { headLength: 20, clientVersion: 200, cmdid: 6, seq: 0xffffffff, bodyLength: 0 }, "noop", "NOOP", ""],
    ["M4", { headLength: 20, clientVersion: 200, cmdid: 10001, seq: 0, bodyLength: 3 }, "push", "PUSH(cmdid 10001)", "0a0178"],
    ["M5", { headLength: 20, clientVersion: 200, cmdid: 243, seq: 0, bodyLength: 0 }, "signal-keep", "SIGNAL_KEEP", ""],
  ] as const)("%s", (name, fields, kind, label, body) => {
    const [frame, ...more] = decodeAll([vector(name)]);
    expect(more).toHaveLength(0);
    expect(frame).toMatchObject(fields);
    expect(toHex(frame!.body)).toBe(body);
    expect(frame!.extension.length).toBe(0);
    expect(marsFrameKind(frame!)).toBe(kind);
    expect(marsFrameName(frame!)).toBe(label);
    expect(marsFrameName({ cmdid: 1234, seq: 7 })).toBe("CMD(1234)");
  });
  test("all four back to back, as the dump shows them: offsets in order", async () => {
    const events = await profileEvents("mars", concat(["M1", "M3", "M4", "M5"].map(vector)));
    expect(events.map((e) => (e.type === "frame" ? [e.node.offset, e.node.name] : e.type))).toEqual([
      [0, "NOOP(cmdid 24)"],
      [20, "NOOP"],
      [40, "PUSH(cmdid 10001)"],
      [63, "SIGNAL_KEEP"],
    ]);
  });
});

describe("Mars framing", () => {
  test("extension bytes between 20 and headLength are skipped; frames in one chunk are views of it", () => {
    const bytes = marsBytes({ cmdid: 3, seq: 9, extension: Uint8Array.of(0xee, 0xee, 0xee), body: Uint8Array.of(1, 2) });
    const [frame] = decodeAll([bytes]);
    expect([frame!.headLength, toHex(frame!.extension), toHex(frame!.body), frame!.packetLength]).toEqual([23, "eeeeee", "0102", 25]);
    expect(frame!.body.buffer).toBe(bytes.buffer);
  });
  test("unpack is tri-state: need-more until the frame is whole", () => {
    const bytes = vector("M4");
    for (let n = 0; n < bytes.length; n++) expect(unpackMarsFrame(bytes.subarray(0, n)).status).toBe("need-more");
    expect(unpackMarsFrame(bytes.subarray(0, 10))).toEqual({ status: "need-more", needed: 10 });
    expect(unpackMarsFrame(bytes.subarray(0, 21))).toEqual({ status: "need-more", needed: 2 });
    expect(unpackMarsFrame(bytes)).toMatchObject({ status: "ok", next: 23 });
  });
  test.each([
    ["cut-off body", [concat([vector("M3"), vector("M4").subarray(0, 21)])], undefined, "MARS_TRUNCATED", 20],
    ["headLength 19", [concat([vector("M3"), fromHex("00000013000000c800000006ffffffff00000000")])], undefined, "MARS_BAD_HEAD_LENGTH", 20],
    ["body over 1 MiB", [fromHex("00000014000000c80000271100000000" + "00100001")], undefined, "MARS_BODY_TOO_LARGE", 16],
    ["body over a smaller limit", [vector("M4")], 2, "MARS_BODY_TOO_LARGE", 16],
    ["headLength 19, split inside its first field", [vector("M3"), fromHex("000000"), fromHex("13000000c8")], undefined, "MARS_BAD_HEAD_LENGTH", 20],
  ] as const)("%s → %s", (_name, chunks, limit, code, offset) => {
    const error = errorOf(() => decodeAll(chunks, limit));
    expect([error.code, error.offset]).toEqual([code, offset]);
    expect(error.message).toContain(`at byte ${offset}`);
  });
  test("a failed decoder stays failed", () => {
    const decoder = new MarsFrameDecoder();
    const bad = fromHex("00000013000000c800000006ffffffff00000000");
    const first = errorOf(() => decoder.push(bad));
    expect(errorOf(() => decoder.push(vector("M3")))).toBe(first);
    expect(errorOf(() => decoder.end())).toBe(first);
  });
  test("a 1 MiB body is the limit itself and passes; the length is judged before the bytes arrive", () => {
    const head = fromHex("00000014000000c80000271100000000" + "00100000");
    expect(unpackMarsFrame(head)).toEqual({ status: "need-more", needed: 1 << 20 });
    expect(new MarsFrameDecoder().push(head)).toEqual([]);
  });

  const arbFrame = fc.record({
    cmdid: fc.nat({ max: 0xffffffff }),
    seq: fc.nat({ max: 0xffffffff }),
    clientVersion: fc.nat({ max: 0xffffffff }),
    body: fc.uint8Array({ maxLength: 40 }),
    extension: fc.uint8Array({ maxLength: 8 }),
  });
  test.prop([fc.array(arbFrame, { maxLength: 8 }), fc.array(fc.nat({ max: 400 }), { maxLength: 30 })])(
    "hand-built frames decode to their fields, in any chunking (down to 1-byte chunks)",
    (list, cuts) => {
      const bytes = concat(list.map(marsBytes));
      const fields = (f: MarsFrame): unknown[] => [f.cmdid, f.seq, f.clientVersion, toHex(f.body), toHex(f.extension)];
      const expected = list.map((f) => [f.cmdid, f.seq, f.clientVersion, toHex(f.body), toHex(f.extension)]);
      expect(decodeAll(chunksAt(bytes, cuts)).map(fields)).toEqual(expected);
      expect(decodeAll(chunksAt(bytes, Array.from({ length: bytes.length }, (_, i) => i))).map(fields)).toEqual(expected);
    },
  );
  test.prop([fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat({ max: 200 }), { maxLength: 8 })])(
    "random bytes in any chunking: the same outcome, and never anything but a ProfileError",
    (bytes, cuts) => {
      const outcome = (chunks: readonly Uint8Array[]): unknown => {
        try {
          return decodeAll(chunks).map((f) => toHex(f.body));
        } catch (error) {
          expect(error).toBeInstanceOf(ProfileError);
          return [(error as ProfileError).code, (error as ProfileError).offset];
        }
      };
      expect(outcome(chunksAt(bytes, cuts))).toEqual(outcome([bytes]));
    },
  );
});
