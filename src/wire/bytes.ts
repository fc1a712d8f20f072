/**
 * Tiny helpers for views over `Uint8Array`s. Internal to the wire core; exported from the package root
 * only where a user needs them.
 */

/** The largest u32, 2^32 − 1: the bound of every u32 header field (packetLength, op, seq). */
export const MAX_U32 = 0xffff_ffff;

/**
 * A view of `length` bytes of `bytes` starting at `start`: no copy, shares `bytes.buffer`.
 *
 * A plain `new Uint8Array(buffer, offset, length)` is used on purpose: measured here it costs about a
 * third of `Buffer#subarray` (which goes through the species constructor), and it keeps the core free
 * of Node's `Buffer`. The caller guarantees the range lies inside `bytes`.
 */
export function viewOf(bytes: Uint8Array, start: number, length: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, length);
}

/**
 * A shared, frozen, zero-length array: the `extension` of every frame whose headerLength is 16. There is
 * nothing to alias, and not building a zero-length view per frame is a measurable part of decode cost.
 */
export const EMPTY_BYTES: Uint8Array = Object.freeze(new Uint8Array(0)) as Uint8Array;

/**
 * Big-endian u32 at `at`. Plain byte arithmetic instead of a `DataView`: building a DataView per call
 * costs more (measured ~70 ns here) than reading the 16 header bytes. The caller has checked bounds.
 */
export function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** Big-endian u16 at `at`. The caller has checked bounds. */
export function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}
