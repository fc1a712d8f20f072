#!/usr/bin/env node
// Writes fixtures/cli/hostile/: the inputs that once broke `syncwire dump` (an internal error, minutes
// of CPU, gigabytes of memory), kept as reproducers; test/cli/hostile.test.ts runs each one. What each
// did and what it must do now: fixtures/cli/hostile/README.md.
// Built with Node's Buffer and zlib only (not src/). Run: node scripts/make-cli-hostile-fixtures.mjs
import { mkdirSync, writeFileSync } from "node:fs";
import { brotliCompressSync, constants } from "node:zlib";

const dir = new URL("../fixtures/cli/hostile/", import.meta.url);
mkdirSync(dir, { recursive: true });
const write = (name, text) => writeFileSync(new URL(name, dir), text);

function frame(op, version, body = Buffer.alloc(0)) {
  const b = Buffer.alloc(16 + body.length);
  b.writeUInt32BE(b.length, 0);
  b.writeUInt16BE(16, 4);
  b.writeUInt16BE(version, 6);
  b.writeUInt32BE(op, 8);
  b.writeUInt32BE(0, 12);
  body.copy(b, 16);
  return b;
}
const brotli = (bytes) => brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24 } });

// 1. --hex-bytes between a dump's length and the next multiple of 16.
write("hex-bytes-17.hex", "00000014001000010000000400000001aabbccdd\n");
// Bilibili B4: a heartbeat reply and the 15-byte echo after it (dumped with --hex-bytes 1).
write("trailer-hex-bytes-1.hex", "00000014001000010000000300000001000009a25b6f626a656374204f626a6563745d\n");

// 2. One line that took /\|.*\|\s*$/ 43 s to refuse.
write("hexdump-bars.txt", "00000000  " + "|".repeat(120_000) + "x");

// 3. Bilibili: a frame of a few dozen bytes whose brotli body inflates to 466,033 empty frames (7.5 MB,
// under the 8 MiB per-frame cap), and one whose body inflates past the cap (16 MiB of zeros).
const empty = frame(2, 1);
write("bilibili-466033-frames.hex", frame(5, 3, brotli(Buffer.concat(Array.from({ length: 466_033 }, () => empty)))).toString("hex") + "\n");
write("bilibili-past-cap.hex", frame(5, 3, brotli(Buffer.alloc(16 * 1024 * 1024))).toString("hex") + "\n");

// 4. hexdump -C '*' lines: a 1-byte row repeated to 256 MiB, and a heartbeat row repeated to 256 MiB
// (16.7 million frames).
write("hexdump-star-1-byte-row.txt", "00000000  00                                                |.|\n*\n10000000\n");
write("hexdump-star-heartbeats.txt", "00000000  00 00 00 10 00 10 00 01  00 00 00 02 00 00 00 01  |................|\n*\n10000000\n");
