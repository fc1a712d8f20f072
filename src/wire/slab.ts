/**
 * A pool of small byte regions for encoders, as Node's `Buffer.allocUnsafe` keeps one: a shared
 * 64 KiB `ArrayBuffer` handed out in never-reused pieces.
 *
 * Why: a `Uint8Array` of more than 64 bytes gets an off-heap backing store, which costs ~0.25–0.5 µs to
 * allocate here — several times the cost of writing a 272-byte frame into it. A view of a slab costs
 * one small object.
 *
 * What a caller gets: a view of exactly the bytes asked for, which no later call ever hands out or
 * writes again (the slab is only appended to and replaced when full, never rewound). The bytes are the
 * caller's; the `.buffer` is not: it is shared with other results, so never transfer it (`postMessage`
 * transfer lists, `ArrayBuffer.prototype.transfer`), and build a `DataView` or wider typed view with
 * the result's `byteOffset`. `slice()` a result that must stand alone. The cost is retention: one
 * result kept alive keeps its whole slab (64 KiB) alive.
 *
 * Regions start 8-byte aligned, so a caller may lay wider typed views over them if it wants to.
 */

/** Size of one slab. */
export const SLAB_SIZE = 64 * 1024;

/** The largest region taken from a slab; bigger requests get an ArrayBuffer of their own. */
export const SLAB_MAX_REGION = SLAB_SIZE >>> 3;

let slab = new ArrayBuffer(SLAB_SIZE);
let used = 0;

/**
 * `size` bytes for an encoder to fill: a view of the shared slab when `size` ≤ {@link SLAB_MAX_REGION},
 * else a fresh array of its own. Not zero-filled in general (callers write every byte); in practice a
 * region is only ever handed out once, so it holds zeros.
 * @internal The caller has checked that `size` is a non-negative integer.
 */
export function allocFromSlab(size: number): Uint8Array {
  if (size > SLAB_MAX_REGION) return new Uint8Array(size);
  let at = used;
  if (at + size > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    at = 0;
  }
  used = (at + size + 7) & ~7;
  return new Uint8Array(slab, at, size);
}
