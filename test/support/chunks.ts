/** Cutting bytes into chunks, for streaming tests: fixed sizes, or cuts at given positions. */

/** `bytes` cut into views of `size` bytes (the last may be shorter). */
export function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.byteLength; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/** `bytes` cut at the given positions (in any order, repeated, or out of range: clamped), as views; no empty chunks. */
export function chunksAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.byteLength, c))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.byteLength]) {
    if (p > from) out.push(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  return out;
}

/**
 * `bytes` cut at the given positions (as `chunksAt`), each chunk copied into an ArrayBuffer of its own at
 * an odd offset, as a socket hands chunks over: a body view that lies in one chunk must then share that
 * chunk's buffer, and a frame that straddles chunks cannot be a view of any one of them.
 */
export function chunksInOwnBuffers(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  return chunksAt(bytes, cuts).map((chunk) => {
    const own = new Uint8Array(chunk.byteLength + 3);
    own.set(chunk, 3);
    return own.subarray(3);
  });
}

/** `bytes` cut every `size` bytes, each chunk in a buffer of its own (see `chunksInOwnBuffers`). */
export function ownChunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const cuts: number[] = [];
  for (let at = size; at < bytes.byteLength; at += size) cuts.push(at);
  return chunksInOwnBuffers(bytes, cuts);
}
