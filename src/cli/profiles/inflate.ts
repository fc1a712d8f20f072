/**
 * Capped decompression of Bilibili bodies (version 2 = zlib, version 3 = brotli) with `node:zlib`.
 *
 * The cap is enforced by zlib itself (`maxOutputLength`): decompression stops as soon as the output
 * would pass it, so a bomb (megabytes of zeros compressed to a few bytes) costs at most the cap plus
 * one 16 KiB output chunk of memory, and only the time to produce that much.
 */
import { brotliDecompressSync, inflateSync } from "node:zlib";
import { ProfileError } from "./errors.js";

/** The body encodings that need decompressing. */
export type Compression = "zlib" | "brotli";

/**
 * Decompresses `bytes` (a zlib stream with its RFC 1950 header, or a brotli stream).
 * @param maxOutput the most bytes the result may hold (an integer ≥ 0).
 * @param offset where to report a failure (the body's stream offset).
 * @param limit the cap in words, for the reason of INFLATE_LIMIT (default: "the N-byte limit (--max-inflate)").
 * @returns a fresh `Uint8Array` (a plain view over the Buffer zlib produced).
 * @throws ProfileError INFLATE_LIMIT when the output would exceed `maxOutput`; INFLATE_FAILED when the
 *   stream is corrupt or cut off. Both at `offset`.
 * @throws RangeError if `maxOutput` is not a non-negative safe integer.
 */
export function inflateCapped(bytes: Uint8Array, algorithm: Compression, maxOutput: number, offset = 0, limit = `the ${maxOutput}-byte limit (--max-inflate)`): Uint8Array {
  if (!Number.isSafeInteger(maxOutput) || maxOutput < 0) throw new RangeError(`maxOutput must be a non-negative integer, got ${maxOutput}`);
  const tooLarge = (cause?: unknown): ProfileError =>
    new ProfileError("INFLATE_LIMIT", offset, `${algorithm} body decompresses to more than ${limit}`, cause === undefined ? undefined : { cause });
  let out: Buffer;
  try {
    // maxOutputLength must be ≥ 1; a zero budget still fails on the first output byte below.
    const options = { maxOutputLength: Math.max(1, maxOutput) };
    out = algorithm === "zlib" ? inflateSync(bytes, options) : brotliDecompressSync(bytes, options);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(error);
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProfileError("INFLATE_FAILED", offset, `${algorithm} body of ${bytes.byteLength} bytes does not decompress: ${reason}`, { cause: error });
  }
  if (out.byteLength > maxOutput) throw tooLarge();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
