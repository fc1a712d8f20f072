/**
 * A small protobuf wire reader: bounds-checked varints, fixed-width values, length-delimited views and
 * validated skipping of unknown fields. It backs both the hand-written fast decoders (fast-decode.ts)
 * and the schema-driven validator that guards the protobuf-es path (validate.ts), so the two report
 * the same error at the same offset.
 *
 * Every read takes the `end` of the enclosing message: nothing is read past it, so a nested message can
 * never borrow bytes from its parent. Every failure is a {@link BodyError} BAD_BODY whose offset is the
 * start of the offending tag, length or value plus `base`.
 *
 * Values match protobuf-es's `BinaryReader` on everything it accepts that we accept: 32-bit fields
 * take the low 32 bits of a varint; `bytes()` returns a view (no copy); strings are strict UTF-8 with
 * a leading BOM dropped (the WHATWG decoder protobuf-es uses). Stricter than protobuf-es: varints
 * longer than 10 bytes or above 2^64 − 1, lengths past the enclosing message, and unknown groups
 * nested deeper than {@link MAX_GROUP_DEPTH} are errors.
 */
import { viewOf } from "../wire/bytes.js";
import { BodyError } from "./errors.js";

/** Deepest nesting of unknown groups accepted before BAD_BODY. */
export const MAX_GROUP_DEPTH = 32;

/** An unknown field, exactly as protobuf-es keeps it in `$unknown`: `data` is a view of the value bytes. */
export interface UnknownField {
  no: number;
  wireType: number;
  data: Uint8Array;
}

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });
/** Strings up to this many bytes are tried as ASCII before calling the decoder. */
const ASCII_FAST_MAX = 64;

/** 8 bytes and a DataView for building `bigint`s: `getBigUint64` is cheaper than BigInt arithmetic. */
const SCRATCH = new Uint8Array(8);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);

/** Unsigned 64-bit value from two u32 halves. */
export function u64(lo: number, hi: number): bigint {
  if (hi === 0 && lo < 0x4000_0000) return BigInt(lo);
  SCRATCH_VIEW.setUint32(0, lo, true);
  SCRATCH_VIEW.setUint32(4, hi, true);
  return SCRATCH_VIEW.getBigUint64(0, true);
}

const fromCharCode = String.fromCharCode;

/**
 * `buf[at…stop)` as a string if every byte is ASCII, else `undefined`. Eight characters per
 * `String.fromCharCode` call, and the last 0–7 in one call: about 3× faster than one character per
 * call, and than `TextDecoder`, for the short ids a chat message carries.
 */
function asciiString(buf: Uint8Array, at: number, stop: number): string | undefined {
  let s = "";
  let bits = 0;
  let i = at;
  for (; i + 8 <= stop; i += 8) {
    const a = buf[i]!, b = buf[i + 1]!, c = buf[i + 2]!, d = buf[i + 3]!;
    const e = buf[i + 4]!, f = buf[i + 5]!, g = buf[i + 6]!, h = buf[i + 7]!;
    bits |= a | b | c | d | e | f | g | h;
    s += fromCharCode(a, b, c, d, e, f, g, h);
  }
  const n = stop - i;
  if (n === 0) return bits < 0x80 ? s : undefined;
  // The tail in one call: a string of up to 7 characters is copied flat, so `s + tail` stays cheap.
  const a = buf[i]!;
  const b = n > 1 ? buf[i + 1]! : 0, c = n > 2 ? buf[i + 2]! : 0, d = n > 3 ? buf[i + 3]! : 0;
  const e = n > 4 ? buf[i + 4]! : 0, f = n > 5 ? buf[i + 5]! : 0, g = n > 6 ? buf[i + 6]! : 0;
  bits |= a | b | c | d | e | f | g;
  if (bits >= 0x80) return undefined;
  switch (n) {
    case 1:
      return s + fromCharCode(a);
    case 2:
      return s + fromCharCode(a, b);
    case 3:
      return s + fromCharCode(a, b, c);
    case 4:
      return s + fromCharCode(a, b, c, d);
    case 5:
      return s + fromCharCode(a, b, c, d, e);
    case 6:
      return s + fromCharCode(a, b, c, d, e, f);
    default:
      return s + fromCharCode(a, b, c, d, e, f, g);
  }
}

/** Reading state over one body. `pos` moves forward; `base` shifts error offsets (the body's place in its frame). */
export class BodyReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly base: number;
  readonly op: number;
  /** `buf.buffer` and `buf.byteOffset` (prototype getters), read on the first `bytes()` and kept. */
  #buffer: ArrayBufferLike | null = null;
  #byteOffset = 0;

  /**
   * @param buf the body (read in place; views returned by `bytes()` alias it).
   * @param base added to every error offset.
   * @param op reported in errors.
   */
  constructor(buf: Uint8Array, base: number, op: number) {
    this.buf = buf;
    this.pos = 0;
    this.base = base;
    this.op = op;
  }

  /** @throws BodyError BAD_BODY at `at`, always. */
  fail(at: number, message: string): never {
    throw new BodyError("BAD_BODY", this.op, this.base + at, message);
  }

  /** A varint's low 32 bits, as an unsigned number (int32 fields apply `| 0`). */
  varint32(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos < end) {
      const b = buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    const start = pos;
    let result = 0;
    for (let shift = 0; shift < 63; shift += 7) {
      if (pos >= end) this.fail(start, "truncated varint");
      const b = buf[pos++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return result >>> 0;
      }
    }
    if (pos >= end) this.fail(start, "truncated varint");
    if (buf[pos++]! > 1) this.fail(start, "varint longer than 10 bytes or above 2^64 - 1");
    this.pos = pos;
    return result >>> 0;
  }

  /** A varint as an unsigned 64-bit `bigint` (uint64 fields). */
  varint64(end: number): bigint {
    const buf = this.buf;
    let pos = this.pos;
    const start = pos;
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) this.fail(start, "truncated varint");
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return BigInt(lo); // at most 28 bits: a small integer
      }
    }
    if (pos >= end) this.fail(start, "truncated varint");
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b < 0x80) {
      this.pos = pos;
      return u64(lo >>> 0, hi);
    }
    for (let shift = 3; shift < 31; shift += 7) {
      if (pos >= end) this.fail(start, "truncated varint");
      b = buf[pos++]!;
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return u64(lo >>> 0, hi >>> 0);
      }
    }
    if (pos >= end) this.fail(start, "truncated varint");
    b = buf[pos++]!;
    if (b > 1) this.fail(start, "varint longer than 10 bytes or above 2^64 - 1");
    hi |= b << 31;
    this.pos = pos;
    return u64(lo >>> 0, hi >>> 0);
  }

  /**
   * A tag as the unsigned number `fieldNo << 3 | wireType`. Like protobuf-es: at most 5 bytes and
   * 32 bits, field number ≥ 1, wire type ≤ 5.
   */
  tag(end: number): number {
    const buf = this.buf;
    const start = this.pos;
    // Field numbers 1…15 take one byte: every tag of syncwire's schema. Answer those without the loop.
    if (start < end) {
      const b = buf[start]!;
      if (b < 0x80 && b >= 8 && (b & 7) <= 5) {
        this.pos = start + 1;
        return b;
      }
    }
    let pos = start;
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end) this.fail(start, "truncated tag");
      const b = buf[pos++]!;
      if (shift === 28) {
        if (b > 0x0f) this.fail(start, "tag varint overflows 32 bits");
        result |= b << 28;
        break;
      }
      result |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    result >>>= 0;
    if (result >>> 3 === 0 || (result & 7) > 5) this.fail(start, `illegal tag: field ${result >>> 3}, wire type ${result & 7}`);
    this.pos = pos;
    return result;
  }

  /** Reads a length prefix and checks the value fits before `end`. @returns the start of the value; `pos` is left there. */
  length(end: number): number {
    const buf = this.buf;
    const start = this.pos;
    // Most lengths are one byte: answer those without the loop (this is on every string and bytes field).
    if (start < end) {
      const first = buf[start]!;
      if (first < 0x80) {
        if (first > end - start - 1) this.fail(start, `length ${first} runs past the end of the message`);
        this.pos = start + 1;
        return first;
      }
    }
    let pos = start;
    // Not varint32: a length must be read whole. Keeping only its low 32 bits would turn 2^32 + 1 into
    // 1 and accept bytes that every other protobuf parser rejects.
    let len = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end) this.fail(start, "truncated varint");
      if (shift > 63) this.fail(start, "varint longer than 10 bytes");
      const b = buf[pos++]!;
      // Integer shifts while the value fits 28 bits (every length a frame can hold); past that, exact below
      // 2^53, and anything larger is past any end, which is all that matters below. (`2 ** shift` on every
      // byte made a two-byte length, as each message in a SyncResult has, cost more than the message's strings.)
      len = shift < 28 ? len | ((b & 0x7f) << shift) : len + (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    this.pos = pos;
    if (len > end - pos) this.fail(start, `length ${len} runs past the end of the message`);
    return len;
  }

  /** A `bytes` value: a view into the body, no copy. */
  bytes(end: number): Uint8Array {
    const len = this.length(end);
    const at = this.pos;
    this.pos = at + len;
    let buffer = this.#buffer;
    if (buffer === null) {
      buffer = this.#buffer = this.buf.buffer;
      this.#byteOffset = this.buf.byteOffset;
    }
    return new Uint8Array(buffer, this.#byteOffset + at, len);
  }

  /** A `string` value: strict UTF-8 (BAD_BODY on invalid sequences). */
  string(end: number): string {
    const len = this.length(end);
    const buf = this.buf;
    const at = this.pos;
    const stop = at + len;
    this.pos = stop;
    if (len <= ASCII_FAST_MAX) {
      // A leading BOM is not ASCII, so the decoder below drops it exactly as protobuf-es does.
      const ascii = asciiString(buf, at, stop);
      if (ascii !== undefined) return ascii;
    }
    return this.utf8(at, len);
  }

  /** `len` bytes at `at` through the strict UTF-8 decoder. Apart from `string()` so that stays small enough to inline. */
  private utf8(at: number, len: number): string {
    try {
      return STRICT_UTF8.decode(viewOf(this.buf, at, len));
    } catch {
      return this.fail(at, "invalid UTF-8 in a string field");
    }
  }

  /** A fixed64 as an unsigned `bigint`. */
  fixed64(end: number): bigint {
    const buf = this.buf;
    const at = this.pos;
    if (end - at < 8) this.fail(at, "truncated fixed64");
    this.pos = at + 8;
    const lo = (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
    const hi = (buf[at + 4]! | (buf[at + 5]! << 8) | (buf[at + 6]! << 16) | (buf[at + 7]! << 24)) >>> 0;
    return u64(lo, hi);
  }

  /** A `bool`: any non-zero varint (up to 64 bits) is true, as protobuf-es reads it. */
  bool(end: number): boolean {
    const buf = this.buf;
    const pos = this.pos;
    if (pos < end) {
      const b = buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b !== 0;
      }
    }
    const start = pos;
    let p = pos;
    let bits = 0;
    for (let i = 0; i < 10; i++) {
      if (p >= end) this.fail(start, "truncated varint");
      const b = buf[p++]!;
      bits |= b & 0x7f;
      if (b < 0x80) {
        if (i === 9 && b > 1) break;
        this.pos = p;
        return bits !== 0;
      }
    }
    return this.fail(start, "varint longer than 10 bytes or above 2^64 - 1");
  }

  /** A `fixed32` (little-endian u32). */
  fixed32(end: number): number {
    const buf = this.buf;
    const at = this.pos;
    if (end - at < 4) this.fail(at, "truncated fixed32");
    this.pos = at + 4;
    return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
  }

  /**
   * The values of a repeated `uint32` field, appended to `into`: one value when the field arrived
   * unpacked (wire type 0), a packed run when length-delimited (wire type 2), as protobuf-es accepts both.
   * The caller has matched the tag to the field number; `wireType` is the tag's.
   */
  uint32s(wireType: number, end: number, into: number[]): void {
    if (wireType === 0) {
      into.push(this.varint32(end));
      return;
    }
    const len = this.length(end);
    const stop = this.pos + len;
    while (this.pos < stop) into.push(this.varint32(stop));
  }

  /**
   * Skips the value of an unknown field (the tag at `tagStart` has been read) and returns it the way
   * protobuf-es stores it: a view of the value bytes (for a group, through its end tag).
   */
  skip(tag: number, tagStart: number, end: number, depth: number): Uint8Array {
    const start = this.pos;
    switch (tag & 7) {
      case 0:
        this.varint64Skip(end);
        break;
      case 1:
        if (end - start < 8) this.fail(start, "truncated fixed64");
        this.pos = start + 8;
        break;
      case 2: {
        const len = this.length(end); // advances pos to the value first
        this.pos += len;
        break;
      }
      case 3: {
        if (depth >= MAX_GROUP_DEPTH) this.fail(tagStart, `groups nested deeper than ${MAX_GROUP_DEPTH}`);
        const fieldNo = tag >>> 3;
        for (;;) {
          const innerStart = this.pos;
          const inner = this.tag(end);
          if ((inner & 7) === 4) {
            if (inner >>> 3 !== fieldNo) this.fail(innerStart, `end-group tag ${inner >>> 3} does not close group ${fieldNo}`);
            break;
          }
          this.skip(inner, innerStart, end, depth + 1);
        }
        break;
      }
      case 4:
        return this.fail(tagStart, "end-group tag without a group");
      default:
        if (end - start < 4) this.fail(start, "truncated fixed32");
        this.pos = start + 4;
    }
    return viewOf(this.buf, start, this.pos - start);
  }

  /** Skips an unknown field and appends it to `unknown` (created when undefined). */
  unknown(tag: number, tagStart: number, end: number, unknown: UnknownField[] | undefined): UnknownField[] {
    const data = this.skip(tag, tagStart, end, 0);
    const field: UnknownField = { no: tag >>> 3, wireType: tag & 7, data };
    if (unknown === undefined) return [field];
    unknown.push(field);
    return unknown;
  }

  private varint64Skip(end: number): void {
    const start = this.pos;
    const buf = this.buf;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) this.fail(start, "truncated varint");
      const b = buf[this.pos++]!;
      if (b < 0x80) {
        if (i === 9 && b > 1) this.fail(start, "varint longer than 10 bytes or above 2^64 - 1");
        return;
      }
    }
    this.fail(start, "varint longer than 10 bytes or above 2^64 - 1");
  }
}
