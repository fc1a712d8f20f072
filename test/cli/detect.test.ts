import { describe, expect, test } from "vitest";
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { detectInput } from "../../src/cli/input/detect.js";
import { fromHex } from "../support/hex.js";

const G5 = fromHex("0000003f0010000100000009000000000000001700100001000003e8000000007b2261223a317d0000001800100001000003e8000000007b2262223a32327d");
const fixture = (name: string): Uint8Array => readFileSync(new URL(`../../fixtures/pcap/${name}`, import.meta.url));

describe("detectInput", () => {
  test.each([
    ["raw frame bytes", G5, "raw"],
    ["plain hex", "0000003f00100001", "hex"],
    ["spaced 0x hex", "0x00, 0x00, 0x00, 0x3f", "hex"],
    ["xxd output", "00000000: 0000 003f 0010 0001 0000 0009 0000 0000  ...?............\n", "hex"],
    ["hexdump -C output", "00000000  00 00 00 3f 00 10 00 01  00 00 00 09 00 00 00 00  |...?............|\n", "hex"],
    ["base64", Buffer.from(G5).toString("base64"), "base64"],
    ["url-safe base64", "__8-AAAA", "base64"],
    ["pcap", fixture("exchange.pcap"), "pcap"],
    ["pcapng", fixture("exchange.pcapng"), "pcapng"],
    ["pcap, big-endian nanosecond magic", fromHex("a1b23c4d00020004"), "pcap"],
    ["other text", "hello, world!", "raw"],
    ["hex with a typo (the parser then says where)", "00000010 00100001 00000002 0000000g", "hex"],
    ["0x hex with a stray letter", "0x00, 0x00, 0x00, 0x1z, 0x00, 0x10", "hex"],
    ["unpadded base64 of a heartbeat (mostly hex digits)", "AAAAEAAQAAEAAAACAAAAAQ", "base64"],
    ["hex after a UTF-8 byte order mark", "\ufeff00000010001000010000000200000001", "hex"],
    ["empty", new Uint8Array(0), "raw"],
  ] as const)("%s → %s", (_name, input, kind) => {
    expect(detectInput(input)).toBe(kind);
  });
});
