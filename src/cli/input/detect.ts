/**
 * Guessing what an input is from its first bytes, for `dump` without `--input`.
 *
 * Order: capture magic numbers first (exact); then any byte that cannot appear in pasted text means
 * raw frames (ours start with a zero byte unless a frame is ≥ 16 MiB); then text is hex when, once
 * `0x`/`\x` prefixes are dropped, it holds only hex digits and separators, or looks like `xxd` /
 * `hexdump -C` output; hex again when at least 90% of its non-separator characters are hex digits of
 * one letter case and there is no "=" (a typo in pasted hex); base64 when it holds only base64
 * characters; anything else is raw. Every test is linear in the (at most {@link DETECT_BYTES}) bytes.
 */
import { captureFormatOf } from "./pcap.js";

/** What an input is: raw frame bytes, hex or base64 text, or a capture file. */
export type InputKind = "raw" | "hex" | "base64" | "pcap" | "pcapng";

/** How many leading bytes {@link detectInput} looks at; passing more is harmless. */
export const DETECT_BYTES = 4096;

/** The first line of `xxd` (`offset: `) or `hexdump -C` (`offset  `) output. */
const XXD_OR_HEXDUMP = /^\s*[0-9a-fA-F]+(:\s|\s\s)/;

/** The first bytes (up to 24) that `text` decodes to as base64, either alphabet; empty if it does not. */
function decodeBase64Prefix(text: string): Uint8Array {
  let dense = "";
  for (let i = 0; i < text.length && dense.length < 32; i++) {
    const c = text[i]!;
    if (c === "=") break; // padding ends the data (a stray "=" further on makes it not base64 anyway)
    if (c.trim() === "") continue;
    dense += c === "-" ? "+" : c === "_" ? "/" : c;
  }
  try {
    return Uint8Array.from(atob(dense.slice(0, dense.length - (dense.length % 4))), (c) => c.charCodeAt(0));
  } catch {
    return new Uint8Array(0);
  }
}

/** A 16-byte-header frame (a length from 16 to 16 MiB, headerLength ≥ 16), a Mars frame, or a capture. */
function startsLikeFrame(bytes: Uint8Array): boolean {
  if (captureFormatOf(bytes) !== undefined) return true;
  if (bytes.byteLength < 8) return false;
  const first = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  const second = (bytes[4]! << 8) | bytes[5]!;
  return (first >= 16 && first <= 1 << 24 && second >= 16) || first === 20; // 20: Mars's headLength
}

function looksLikeMistypedHex(stripped: string): boolean {
  const dense = stripped.replace(/[\s,:;]/g, "");
  if (dense.length === 0 || dense.includes("=")) return false;
  if (/[a-f]/.test(dense) && /[A-F]/.test(dense)) return false;
  let hexDigits = 0;
  for (const c of dense) if ((c >= "0" && c <= "9") || (c >= "a" && c <= "f") || (c >= "A" && c <= "F")) hexDigits++;
  return hexDigits / dense.length >= 0.9;
}

/** True for a byte pasted text can hold (printable ASCII and white space); any other means raw bytes. Never throws. */
export function isTextByte(byte: number): boolean {
  return byte === 9 || byte === 10 || byte === 13 || byte === 11 || byte === 12 || (byte >= 0x20 && byte <= 0x7e);
}

/**
 * Guesses the kind of an input from its first bytes (up to {@link DETECT_BYTES} are examined).
 * A `string` is treated as its UTF-8 bytes. An empty or whitespace-only input is `"raw"`.
 * @returns the guessed {@link InputKind}; never throws. The guess is a heuristic: `--input` overrides.
 */
export function detectInput(head: Uint8Array | string): InputKind {
  let bytes = typeof head === "string" ? new TextEncoder().encode(head.slice(0, DETECT_BYTES)) : head.subarray(0, DETECT_BYTES);
  // A UTF-8 byte order mark (editors on Windows add one) says nothing about the form.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  const capture = captureFormatOf(bytes);
  if (capture !== undefined) return capture;
  for (const byte of bytes) if (!isTextByte(byte)) return "raw";
  const text = new TextDecoder("latin1").decode(bytes);
  if (text.trim() === "") return "raw";
  const stripped = text.replace(/0[xX]|\\x/g, "");
  if (/^[0-9a-fA-F\s,:;]*$/.test(stripped)) return "hex";
  if (XXD_OR_HEXDUMP.test(text.split("\n", 1)[0] ?? "")) return "hex";
  // Text that is mostly hex digits is hex with a typo (base64 of frames has far fewer hex digits, mixes
  // letter cases or ends in "=" padding): let the hex parser say where the typo is, rather than decode
  // it as base64 or raw and report "frame too large". Printable text cannot be raw frames in practice (a
  // first byte ≥ 0x20 claims ≥ 512 MiB).
  // Unpadded base64 of frames can be mostly hex digits too ("AAAAEAAQAAEAAAACAAAAAQ"): when the text
  // decodes as base64 to something that starts like a frame or a capture, it is base64.
  if (/^[A-Za-z0-9+/\-_=\s]*$/.test(text) && startsLikeFrame(decodeBase64Prefix(text))) return "base64";
  if (looksLikeMistypedHex(stripped)) return "hex";
  if (/^[A-Za-z0-9+/\-_=\s]*$/.test(text)) return "base64";
  return "raw";
}
