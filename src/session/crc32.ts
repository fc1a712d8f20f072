/**
 * CRC-32/IEEE (the checksum of zlib's `crc32`, PNG and gzip: reflected polynomial 0xEDB88320, initial
 * value and final XOR 0xFFFFFFFF), table-driven, one byte per step. Platform-neutral: plain arrays only.
 * CHUNK bodies carry it per part (docs/PROTOCOL.md §10, §11.6).
 */

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The CRC-32 of `bytes`, as zlib's `crc32(bytes)` computes it.
 * @returns an unsigned 32-bit integer (0 … 2^32 − 1). Reads `bytes` only; copies nothing.
 * @throws TypeError if `bytes` is not a Uint8Array.
 */
export function crc32(bytes: Uint8Array): number {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("crc32 needs a Uint8Array");
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
