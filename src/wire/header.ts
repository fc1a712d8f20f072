/**
 * The 16-byte header: constants, decoder limits and the one place header fields are validated.
 *
 * Layout (big-endian):
 *
 * | offset | size | field        |
 * |-------:|-----:|--------------|
 * | 0      | 4    | packetLength (whole frame, header included) |
 * | 4      | 2    | headerLength (≥ 16; bytes 16…headerLength are an extension) |
 * | 6      | 2    | version      |
 * | 8      | 4    | op           |
 * | 12     | 4    | seq          |
 *
 * Every decoder (one frame, a message of frames, a batch body, the streaming decoder) calls
 * {@link checkHeaderPrefix}, so a length from the wire is judged in one place and always before
 * anything is allocated for it.
 */
import { MAX_U32, readU16, readU32 } from "./bytes.js";
import { FrameError } from "./errors.js";

/** Size of the fixed header in bytes. A frame with an empty body is exactly this long. */
export const HEADER_SIZE = 16;

/** The protocol version syncwire writes and, by default, the only one it accepts. */
export const PROTOCOL_VERSION = 1;

/** Default limit on `packetLength`: 1 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 1_048_576;

/** The largest `maxFrameSize` a decoder can be given: packetLength is a u32. */
export const MAX_FRAME_SIZE_LIMIT = MAX_U32;

/** Options every decoder accepts. */
export interface DecodeOptions {
  /**
   * Largest accepted `packetLength`, header included. Default {@link DEFAULT_MAX_FRAME_SIZE} (1 MiB);
   * an integer from 16 to 2^32 − 1. Checked as soon as the 4 length bytes are read, before any
   * allocation.
   */
  maxFrameSize?: number;
  /**
   * Versions accepted in header bytes 6–7. Default `[1]`. `"any"` accepts every value, for foreign
   * traffic such as Bilibili's, where the field names the body encoding (0 JSON, 1 int, 2 zlib,
   * 3 brotli).
   */
  versions?: readonly number[] | "any";
}

/** Validated decoder limits. Build once with {@link resolveDecodeOptions} and reuse on hot paths. */
export interface DecodeLimits {
  readonly maxFrameSize: number;
  /** `null` accepts any version. */
  readonly versions: readonly number[] | null;
}

const DEFAULT_VERSIONS: readonly number[] = Object.freeze([PROTOCOL_VERSION]);

const DEFAULT_LIMITS: DecodeLimits = Object.freeze({
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  versions: DEFAULT_VERSIONS,
});

/**
 * Checks and freezes decoder options. Returns a shared object when `options` is undefined, so the
 * default path allocates nothing.
 * @throws RangeError if `maxFrameSize` is not an integer in 16…2^32 − 1, or `versions` is empty or
 *   holds a value that is not a u16.
 */
export function resolveDecodeOptions(options?: DecodeOptions): DecodeLimits {
  if (options === undefined) return DEFAULT_LIMITS;
  const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  if (!Number.isInteger(maxFrameSize) || maxFrameSize < HEADER_SIZE || maxFrameSize > MAX_FRAME_SIZE_LIMIT) {
    throw new RangeError(`maxFrameSize must be an integer from ${HEADER_SIZE} to ${MAX_FRAME_SIZE_LIMIT}, got ${maxFrameSize}`);
  }
  const versions = options.versions ?? DEFAULT_VERSIONS;
  if (versions === "any") return Object.freeze({ maxFrameSize, versions: null });
  if (versions.length === 0) throw new RangeError("versions must list at least one version, or be \"any\"");
  for (const v of versions) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`versions must be u16 integers, got ${v}`);
  }
  return Object.freeze({ maxFrameSize, versions: Object.freeze([...versions]) });
}

/**
 * Validates the header fields that lie wholly inside the first `available` (0…16) header bytes at
 * `at`, in wire order, so the first bad field is the one reported:
 * packetLength ≥ 16 and ≤ maxFrameSize; 16 ≤ headerLength ≤ packetLength; version accepted.
 *
 * `streamBase` is added to error offsets: the position of `bytes[0]` in the caller's input.
 * @throws FrameError BAD_PACKET_LENGTH, FRAME_TOO_LARGE, BAD_HEADER_LENGTH or UNSUPPORTED_VERSION.
 */
export function checkHeaderPrefix(
  bytes: Uint8Array,
  at: number,
  available: number,
  limits: DecodeLimits,
  streamBase: number,
): void {
  if (available < 4) return;
  const packetLength = readU32(bytes, at);
  const where = streamBase + at;
  if (packetLength < HEADER_SIZE) {
    throw new FrameError("BAD_PACKET_LENGTH", where, `packet length ${packetLength} is shorter than the ${HEADER_SIZE}-byte header`);
  }
  if (packetLength > limits.maxFrameSize) {
    throw new FrameError("FRAME_TOO_LARGE", where, `packet length ${packetLength} exceeds maxFrameSize ${limits.maxFrameSize}`);
  }
  if (available < 6) return;
  const headerLength = readU16(bytes, at + 4);
  if (headerLength < HEADER_SIZE) {
    throw new FrameError("BAD_HEADER_LENGTH", where + 4, `header length ${headerLength} is below ${HEADER_SIZE}`);
  }
  if (headerLength > packetLength) {
    throw new FrameError("BAD_HEADER_LENGTH", where + 4, `header length ${headerLength} exceeds packet length ${packetLength}`);
  }
  if (available < 8) return;
  const versions = limits.versions;
  if (versions !== null) {
    const version = readU16(bytes, at + 6);
    // One accepted version is the common case; avoid the call into includes() for it.
    if (versions.length === 1 ? versions[0] !== version : !versions.includes(version)) {
      throw new FrameError("UNSUPPORTED_VERSION", where + 6, `version ${version} is not accepted (accepted: ${versions.join(", ")})`);
    }
  }
}

/**
 * Writes a 16-byte header into `target` at `at` with plain byte stores: no `DataView` to allocate per
 * frame. The caller has checked every field's range and that 16 bytes fit.
 */
export function writeHeader(
  target: Uint8Array,
  at: number,
  packetLength: number,
  headerLength: number,
  version: number,
  op: number,
  seq: number,
): void {
  target[at] = packetLength >>> 24;
  target[at + 1] = packetLength >>> 16;
  target[at + 2] = packetLength >>> 8;
  target[at + 3] = packetLength;
  target[at + 4] = headerLength >>> 8;
  target[at + 5] = headerLength;
  target[at + 6] = version >>> 8;
  target[at + 7] = version;
  target[at + 8] = op >>> 24;
  target[at + 9] = op >>> 16;
  target[at + 10] = op >>> 8;
  target[at + 11] = op;
  target[at + 12] = seq >>> 24;
  target[at + 13] = seq >>> 16;
  target[at + 14] = seq >>> 8;
  target[at + 15] = seq;
}
