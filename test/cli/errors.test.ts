// Every coded error carries its reason bare (the message without the "(CODE at …)" suffix), so the CLI
// prints code and offset its own way without taking messages apart; and the CLI's one error path.
import { describe, expect, test } from "vitest";
import { codedError } from "../../src/cli/errors.js";
import { CliInputError } from "../../src/cli/input/errors.js";
import { ProfileError } from "../../src/cli/profiles/errors.js";
import { BodyError, decodeFrame, decodeMessage, FrameError, Op, parseSyncKey, SyncKeyFormatError } from "../../src/index.js";
import { runCli } from "../support/cli.js";
import { fromHex } from "../support/hex.js";
import { thrownBy } from "../support/thrown.js";

describe("reason: the message without its suffix", () => {
  test.each([
    ["FrameError", () => thrownBy(FrameError, () => decodeFrame(fromHex("00000003001000010000000200000001"))), "(BAD_PACKET_LENGTH at byte 0)", true],
    ["BodyError", () => thrownBy(BodyError, () => decodeMessage(Op.SEND, fromHex("ff"), 16)), "(BAD_BODY at byte 16, op 4)", true],
    ["SyncKeyFormatError (not the CLI's: it reads no SyncKey text)", () => thrownBy(SyncKeyFormatError, () => parseSyncKey("1_2|x")), "(BAD_SYNC_KEY at character 4)", false],
    ["ProfileError", () => new ProfileError("INFLATE_FAILED", 7, "zlib body does not decompress"), "(INFLATE_FAILED at byte 7)", true],
    ["CliInputError", () => new CliInputError("BAD_HEX", "'z' is not a hex digit", { line: 2, column: 5 }), "(BAD_HEX at line 2, column 5)", true],
    ["CliInputError, a line only", () => new CliInputError("BAD_RECORD", "not a JSON object", { line: 3 }), "(BAD_RECORD at line 3)", true],
  ] as const)("%s", (_name, make, suffix, cli) => {
    const error = make();
    expect(error.message).toBe(`${error.reason} ${suffix}`);
    expect(error.reason).not.toMatch(/\(.*\)$/);
    expect(codedError(error)).toBe(cli ? error : undefined);
  });
  test("anything else is not a coded error", () => {
    expect(codedError(new RangeError("x"))).toBeUndefined();
    expect(codedError("a string")).toBeUndefined();
  });
});

describe("the one error path", () => {
  test("a coded error inside the input: on stdout at its stream offset, with the bare reason (exit 1)", async () => {
    const result = await runCli(["dump", "-", "--no-color"], "00000010001000010000000200000001 00000003001000010000000200000001");
    expect([result.code, result.stderr]).toEqual([1, ""]);
    expect(result.stdout.split("\n").filter((l) => l.startsWith("error"))).toEqual(["error at byte 16: packet length 3 is shorter than the 16-byte header (BAD_PACKET_LENGTH)"]);
  });
  test("a coded error reading the input's form: one line on stderr with its position (exit 1)", async () => {
    const result = await runCli(["dump", "-", "--input", "base64"], "AAAA*AAA");
    expect([result.code, result.stdout, result.stderr]).toEqual([1, "", "syncwire: '*' is not a base64 character (BAD_BASE64 at line 1, column 5)\n"]);
  });
});
