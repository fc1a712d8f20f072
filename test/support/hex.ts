/** Hex helpers for tests and fixtures. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) throw new Error(`bad hex: ${hex.slice(0, 40)}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** `bytes` copied into the middle of a larger buffer, so views with a non-zero byteOffset get tested. */
export function atOffset(bytes: Uint8Array, before = 7, after = 5): Uint8Array {
  const big = new Uint8Array(before + bytes.byteLength + after).fill(0xee);
  big.set(bytes, before);
  return big.subarray(before, before + bytes.byteLength);
}

/** The parts end to end, in a fresh array of its own (offset 0, not a pooled Buffer). */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
