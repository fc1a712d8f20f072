/**
 * Tiny helpers for views over `Uint8Array`s. Internal to the wire core; exported from the package root
 * only where a user needs them.
 */

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
 * A `DataView` over exactly the bytes of `bytes`. Never `new DataView(bytes.buffer)`: small Node
 * Buffers live at an offset inside a shared 8 KiB pool.
 */
export function dataViewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
