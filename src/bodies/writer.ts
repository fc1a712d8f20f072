/**
 * A small protobuf wire writer for the fast encoders, writing straight into a pooled slab.
 *
 * Why a slab: V8 allocates a `Uint8Array` of more than 64 bytes off-heap, which costs ~250 ns for a
 * 146-byte array on the reference machine — longer than encoding the message. So, like Node's
 * `Buffer.allocUnsafe` pool, the writer encodes into a shared 64 KiB `ArrayBuffer` and hands out a view
 * of exactly the bytes written; the next encode continues after them. Handed-out bytes are never
 * written again, so each result is the caller's to keep; it only shares its `.buffer` with other
 * results (do not transfer that buffer; `slice()` a result that must stand alone).
 *
 * Single pass: a nested message's length prefix is reserved as one byte and widened afterwards if the
 * content turned out longer (a `copyWithin`, rare for chat-sized messages) — protobuf-es's fork/join
 * without its chunk lists. Positions a caller keeps (`beginNested`) are relative to the message start,
 * because a message that outgrows the slab moves to a new one.
 *
 * One writer serves every encode: encoding is synchronous and never re-entered (messages are plain
 * data), so no two encodes interleave.
 */
import { MAX_U32 } from "../wire/bytes.js";

const ENCODER = new TextEncoder();
/** Strings shorter than this fit a one-byte length prefix even at 3 bytes per UTF-16 unit (42 × 3 = 126). */
const SHORT_STRING = 43;
/** Size of a fresh slab. */
const SLAB_SIZE = 64 * 1024;

/** Number of bytes of the varint encoding of the u32 `v`. */
export function varintSize32(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x20_0000 ? 3 : v < 0x1000_0000 ? 4 : 5;
}

/** Single-pass writer over pooled slabs. */
export class BodyWriter {
  buf: Uint8Array;
  view: DataView;
  /** Where the message being written starts in `buf`. */
  start = 0;
  /** Next byte to write. */
  pos = 0;

  constructor() {
    this.buf = new Uint8Array(SLAB_SIZE);
    this.view = new DataView(this.buf.buffer);
  }

  /** Starts a message at the current position. */
  begin(): void {
    this.start = this.pos;
  }

  /** Drops what was written since `begin()`. */
  abandon(): void {
    this.pos = this.start;
  }

  /** Makes room for `n` more bytes, moving the message being written to a new slab if needed. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.start;
    const size = Math.max(SLAB_SIZE, 2 * (used + n));
    const slab = new Uint8Array(size);
    slab.set(this.buf.subarray(this.start, this.pos));
    this.buf = slab;
    this.view = new DataView(slab.buffer);
    this.start = 0;
    this.pos = used;
  }

  /** A u32 varint (also tags and lengths). */
  uint32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** An int32 varint: negative values take 10 bytes (sign-extended to 64 bits), as protobuf requires. */
  int32(v: number): void {
    if (v >= 0) return this.uint32(v);
    this.varint64Parts(v >>> 0, MAX_U32);
  }

  /** A uint64 varint from a `bigint` the caller has range-checked. */
  uint64(v: bigint): void {
    if (v <= 0xffff_ffffn) return this.uint32(Number(v));
    this.ensure(10);
    // The slab's DataView splits the value without BigInt arithmetic.
    const view = this.view;
    const at = this.pos;
    view.setBigUint64(at, v, true);
    this.varint64Parts(view.getUint32(at, true), view.getUint32(at + 4, true));
  }

  /** A varint from two u32 halves. */
  varint64Parts(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (hi > 0 || lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  /** A fixed64 (little-endian) from a range-checked `bigint`. */
  fixed64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }

  /** A fixed32 (little-endian). */
  fixed32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  /** A length-prefixed UTF-8 string; lone surrogates become U+FFFD, as with `TextEncoder`. */
  string(s: string): void {
    const n = s.length;
    this.ensure(5 + 3 * n);
    const buf = this.buf;
    const at = this.pos;
    if (n < SHORT_STRING) {
      let p = at + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i < n) p = at + 1 + ENCODER.encodeInto(s, buf.subarray(at + 1)).written;
      buf[at] = p - at - 1;
      this.pos = p;
      return;
    }
    // Long string: write after the widest prefix it could need, then close the gap.
    const room = varintSize32(3 * n);
    const written = ENCODER.encodeInto(s, buf.subarray(at + room)).written;
    const need = varintSize32(written);
    if (need < room) buf.copyWithin(at + need, at + room, at + room + written);
    this.uint32(written); // at `at`: room was ensured above, so this cannot move the message
    this.pos = at + need + written;
  }

  /** A length-prefixed byte string (copied in). */
  bytes(b: Uint8Array): void {
    const n = b.byteLength;
    this.uint32(n);
    this.raw(b);
  }

  /** Raw bytes, no prefix (unknown fields' data). */
  raw(b: Uint8Array): void {
    const n = b.byteLength;
    this.ensure(n);
    const buf = this.buf;
    const pos = this.pos;
    if (n <= 16) {
      for (let i = 0; i < n; i++) buf[pos + i] = b[i]!;
    } else {
      buf.set(b, pos);
    }
    this.pos = pos + n;
  }

  /** Reserves a one-byte length prefix for a nested message. @returns its position relative to the message start. */
  beginNested(): number {
    this.ensure(1);
    return this.pos++ - this.start;
  }

  /** Back-fills the length of the nested message begun at `mark`, widening the prefix if needed. */
  endNested(mark: number): void {
    const at = this.start + mark;
    const len = this.pos - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    const extra = varintSize32(len) - 1;
    this.ensure(extra);
    const at2 = this.start + mark; // ensure() may have moved the message
    this.buf.copyWithin(at2 + 1 + extra, at2 + 1, this.pos);
    const end = this.pos + extra;
    this.pos = at2;
    this.uint32(len);
    this.pos = end;
  }

  /** Hands out the message written since `begin()`: a view of the slab, never written again. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.buf.buffer, this.start, this.pos - this.start);
    this.start = this.pos;
    return out;
  }
}
