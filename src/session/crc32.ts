/**
 * CRC-32/IEEE (the polynomial of zlib, gzip, PNG and Ethernet; reflected, initial and final value
 * 0xFFFFFFFF), as CHUNK carries it per part (docs/PROTOCOL.md §10, *Uploads*). Table-driven, one byte
 * per step, plain `Uint8Array` only: runs wherever the core runs. Check value: `crc32("123456789")`
 * is 0xCBF43926.
 */

/** The 256 remainders of the reflected polynomial 0xEDB88320, one per byte value. */
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
 * The CRC-32 of `bytes` (equal to Node's `zlib.crc32(bytes)`).
 * @returns an unsigned 32-bit integer; reads `bytes`, never copies or modifies them.
 * @throws TypeError if `bytes` is not a Uint8Array.
 */
export function crc32(bytes: Uint8Array): number {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("crc32 needs a Uint8Array");
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
