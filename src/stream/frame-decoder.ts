/**
 * FrameDecoder: reassembles frames from a byte stream cut into arbitrary chunks (TCP, TLS).
 *
 * Theory of operation. The decoder is a small state machine fed with `push(chunk)`; it does no I/O and
 * keeps no timers (sans-I/O, like h11). Frames that lie wholly inside one chunk are returned as views of
 * that chunk: no copy. A frame that straddles chunks is in one of these states until it completes:
 *
 * - `HEADER`: fewer than 4 of its bytes are known, or it is a large frame whose 16-byte header is not
 *   complete yet. The bytes wait in a 16-byte scratch area and nothing is allocated. Each header field
 *   is validated as soon as its bytes are in, length limits first.
 * - `SMALL`: a frame of at most a quarter of `poolSize` bytes whose length has passed the limits. It is
 *   copied, header included, into a region of exactly `packetLength` bytes carved from a slab; the rest
 *   of its header is validated in the region as it arrives.
 * - `LARGE`: a bigger frame with a complete, valid header. The decoder keeps views of the chunks that
 *   carry it (chunks are the caller's and are not reused, see below) and copies them once, into a buffer
 *   of exactly `packetLength` bytes, when the last byte arrives. Memory held tracks the bytes received,
 *   never the length a peer claims: a huge claimed length followed by nothing holds 16 bytes.
 *
 * So every straddling frame is copied once (plus the up-to-16 header bytes that waited in the scratch),
 * and leftovers are never concatenated with the next chunk (that pattern copies an 8 MiB frame arriving
 * in 1460-byte chunks thousands of times over).
 *
 * Why a slab for small frames: allocating a typed array of more than a few dozen bytes costs ~0.5 µs
 * here (an off-heap backing store), more than copying the frame. Like Node's Buffer pool, the slab is
 * only ever appended to: each region is handed out once and never reused, so a frame's bytes never change
 * after it is returned. The cost is retention: a frame kept alive keeps its whole slab (default 32 KiB)
 * alive; `poolSize: 0` gives every straddling frame an ArrayBuffer of its own.
 *
 * Aliasing: returned frames, and frames still being gathered, alias the caller's chunks, so a chunk must
 * not be reused or overwritten after it is pushed. The decoder never recycles a buffer it has handed out.
 *
 * Errors are sticky: after a `FrameError` the stream is out of sync, and every later `push` or `end`
 * throws the same error. Resynchronising silently would turn garbage into frames.
 */
import { readU32 } from "../wire/bytes.js";
import { frameAt, type Frame } from "../wire/decode.js";
import { FrameError } from "../wire/errors.js";
import { checkHeaderPrefix, HEADER_SIZE, resolveDecodeOptions, type DecodeLimits, type DecodeOptions } from "../wire/header.js";

/** Options of {@link FrameDecoder}. */
export interface FrameDecoderOptions extends DecodeOptions {
  /**
   * Size in bytes of the slabs that straddling frames up to a quarter of this size are copied into.
   * Default 32 KiB; 0 gives every straddling frame an ArrayBuffer of exactly its own size.
   */
  poolSize?: number;
}

const DEFAULT_POOL_SIZE = 32 * 1024;

const IDLE = 0;
const HEADER = 1;
const SMALL = 2;
const LARGE = 3;

/** Below this many bytes a plain loop beats `set(subarray(...))`, which allocates a view per call. */
const SMALL_COPY = 64;

/** Header bytes that carry checked fields (length, header length, version): op and seq take any value. */
const CHECKED_BYTES = 8;

/** Returned when a push completes no frame and the caller gave no `out` array: nothing to allocate. */
const NO_FRAMES: readonly Frame[] = Object.freeze([]);

/** Copies `length` bytes of `source` at `from` into `target` at `to`. */
function copyBytes(target: Uint8Array, to: number, source: Uint8Array, from: number, length: number): void {
  if (length < SMALL_COPY) {
    for (let i = 0; i < length; i++) target[to + i] = source[from + i]!;
  } else {
    target.set(source.subarray(from, from + length), to);
  }
}

/** A streaming frame decoder. See the theory of operation at the top of this file. */
export class FrameDecoder {
  readonly #limits: DecodeLimits;
  readonly #poolSize: number;
  /** Frames up to this size are carved from the slab: a quarter of it, so a slab serves several. */
  readonly #poolMax: number;
  #state = IDLE;
  /** Stream offset of byte 0 of the chunk being pushed (bytes pushed before it). */
  #streamOffset = 0;
  /** Stream offset where the frame now being gathered starts. */
  #frameStart = 0;
  /** packetLength of the frame being gathered (SMALL, LARGE). */
  #packetLength = 0;
  /** HEADER: the first bytes of a header that straddles chunks. */
  #scratch = new Uint8Array(HEADER_SIZE);
  #scratchFill = 0;
  /**
   * SMALL: where the frame's region starts in the slab, and its bytes so far. Bytes are written through
   * one view of the whole slab: no view per region.
   */
  #regionOffset = 0;
  #regionFill = 0;
  /** LARGE: views of the frame's bytes as they arrived, and their total. */
  #pieces: Uint8Array[] = [];
  #piecesBytes = 0;
  /** The slab small regions are carved from, a view of all of it, and how much is handed out. Never rewound. */
  #slab: ArrayBuffer = new ArrayBuffer(0);
  #slabBytes: Uint8Array = new Uint8Array(0);
  #slabUsed = 0;
  #copiedBytes = 0;
  #error: FrameError | null = null;
  #ended = false;

  /**
   * @param options limits shared with `decodeFrame` (`maxFrameSize`, default 1 MiB; `versions`, default
   *   [1]) and `poolSize` for straddling frames.
   * @throws RangeError for invalid options.
   */
  constructor(options?: FrameDecoderOptions) {
    this.#limits = resolveDecodeOptions(options);
    const poolSize = options?.poolSize ?? DEFAULT_POOL_SIZE;
    if (!Number.isInteger(poolSize) || poolSize < 0 || poolSize > 1 << 30) {
      throw new RangeError(`poolSize must be an integer from 0 to 2^30, got ${poolSize}`);
    }
    this.#poolSize = poolSize;
    this.#poolMax = poolSize >>> 2;
  }

  /** Bytes received for a frame not yet complete (held in the scratch, a region, or chunk views). */
  get bufferedBytes(): number {
    switch (this.#state) {
      case HEADER:
        return this.#scratchFill;
      case SMALL:
        return this.#regionFill;
      case LARGE:
        return this.#piecesBytes;
      default:
        return 0;
    }
  }

  /**
   * Total bytes copied so far: zero while no frame straddles chunks. A straddling frame costs its own
   * length, plus at most 16 for header bytes that waited in the scratch.
   */
  get copiedBytes(): number {
    return this.#copiedBytes;
  }

  /** Total bytes pushed so far: the stream offset the next chunk starts at. */
  get bytesReceived(): number {
    return this.#streamOffset;
  }

  /** The error the decoder failed with, or null. Once set it never clears. */
  get error(): FrameError | null {
    return this.#error;
  }

  /**
   * Feeds the next chunk of the stream.
   *
   * @param chunk the next bytes; aliased by the frames returned now or later, so do not reuse it.
   * @param out optional array the completed frames are appended to (and which is returned). Pass one to
   *   keep the frames completed before an error in the same chunk.
   * @returns the frames this chunk completed, in order: views of `chunk` when they lie inside it, else
   *   views of the frame's own copy. A shared empty array when none completed and no `out` was given (do
   *   not push into it).
   * @throws FrameError for a bad header (offsets count from the start of the stream), or
   *   FRAME_TOO_LARGE if memory for a frame within the limits cannot be had; the decoder then stays
   *   failed and throws the same error on every later call.
   * @throws Error if called after `end()`.
   */
  push(chunk: Uint8Array, out?: Frame[]): Frame[] {
    if (this.#error !== null) throw this.#error;
    if (this.#ended) throw new Error("FrameDecoder: push() after end()");
    let frames = out ?? (NO_FRAMES as Frame[]);
    // `length`, not `byteLength`: the same for a Uint8Array, and measurably cheaper on a Buffer.
    const length = chunk.length;
    const base = this.#streamOffset;
    try {
      // Small chunks in the middle of a straddling frame (a slow link, a 7-byte trickle) only extend it.
      if (this.#state === SMALL && length < this.#packetLength - this.#regionFill) {
        this.#appendSmall(chunk, 0, length, true);
        this.#streamOffset = base + length;
        return frames;
      }
      if (this.#state === LARGE && length < this.#packetLength - this.#piecesBytes) {
        this.#pieces.push(chunk);
        this.#piecesBytes += length;
        this.#streamOffset = base + length;
        return frames;
      }
      let at = 0;
      // Prototype getters: read once per chunk, and only when a frame inside it needs them.
      let buffer: ArrayBufferLike | null = null;
      let byteOffset = 0;
      while (at < length) {
        const state = this.#state;
        if (state === IDLE) {
          const left = length - at;
          checkHeaderPrefix(chunk, at, left < HEADER_SIZE ? left : HEADER_SIZE, this.#limits, base);
          if (left >= HEADER_SIZE) {
            const packetLength = readU32(chunk, at);
            if (packetLength <= left) {
              // The hot path: the whole frame is in this chunk. Hand out views.
              if (frames === NO_FRAMES) frames = [];
              if (buffer === null) {
                buffer = chunk.buffer;
                byteOffset = chunk.byteOffset;
              }
              frames.push(frameAt(chunk, buffer, byteOffset, at, packetLength));
              at += packetLength;
              continue;
            }
          }
          // The frame straddles: gather it.
          this.#frameStart = base + at;
          if (left >= 4 && this.#startFrame(readU32(chunk, at), left)) {
            // The bytes at hand were just checked in place: no second check from the region.
            if (this.#state === SMALL) this.#appendSmall(chunk, at, left, false);
            else {
              this.#pieces.push(at === 0 ? chunk : chunk.subarray(at));
              this.#piecesBytes = left;
            }
          } else {
            copyBytes(this.#scratch, 0, chunk, at, left);
            this.#copiedBytes += left;
            this.#scratchFill = left;
            this.#state = HEADER;
          }
          at = length;
        } else if (state === HEADER) {
          const fill = this.#scratchFill;
          // Gather the 4 length bytes first: a small frame then moves to its region at once, and only
          // a large frame's header waits here whole.
          const take = Math.min((fill < 4 ? 4 : HEADER_SIZE) - fill, length - at);
          copyBytes(this.#scratch, fill, chunk, at, take);
          this.#copiedBytes += take;
          this.#scratchFill = fill + take;
          at += take;
          checkHeaderPrefix(this.#scratch, 0, this.#scratchFill, this.#limits, this.#frameStart);
          if (this.#scratchFill >= 4 && this.#startFrame(readU32(this.#scratch, 0), this.#scratchFill)) {
            const gathered = this.#scratchFill;
            this.#scratchFill = 0;
            if (this.#state === SMALL) this.#appendSmall(this.#scratch, 0, gathered, false);
            else {
              // The scratch becomes the frame's first piece; the next header gets a new one.
              this.#pieces.push(this.#scratch);
              this.#piecesBytes = HEADER_SIZE;
              this.#scratch = new Uint8Array(HEADER_SIZE);
            }
            frames = this.#completeIfWhole(frames);
          }
        } else if (state === SMALL) {
          const take = Math.min(this.#packetLength - this.#regionFill, length - at);
          this.#appendSmall(chunk, at, take, true);
          at += take;
          frames = this.#completeIfWhole(frames);
        } else {
          const take = Math.min(this.#packetLength - this.#piecesBytes, length - at);
          this.#pieces.push(at === 0 && take === length ? chunk : chunk.subarray(at, at + take));
          this.#piecesBytes += take;
          at += take;
          frames = this.#completeIfWhole(frames);
        }
      }
    } catch (error) {
      if (error instanceof FrameError) this.#error = error;
      throw error;
    }
    this.#streamOffset = base + length;
    return frames;
  }

  /**
   * Declares the end of the stream.
   * @throws FrameError TRUNCATED (at the partial frame's stream offset) if part of a frame is held, or the
   *   error the decoder already failed with.
   */
  end(): void {
    if (this.#error !== null) throw this.#error;
    this.#ended = true;
    if (this.#state !== IDLE) {
      const total = this.#state === HEADER ? "" : ` of ${this.#packetLength} bytes`;
      this.#error = new FrameError("TRUNCATED", this.#frameStart, `stream ended ${this.bufferedBytes} bytes into a frame${total}`);
      this.#pieces = [];
      throw this.#error;
    }
  }

  /**
   * Chooses how to gather a straddling frame whose length (already within the limits) is known, with
   * `headerBytes` of it at hand: SMALL (a slab region now) or, once its whole header is in, LARGE.
   * @returns false while a large frame's header is incomplete (it keeps waiting in the scratch).
   */
  #startFrame(packetLength: number, headerBytes: number): boolean {
    if (packetLength <= this.#poolMax) {
      this.#packetLength = packetLength;
      this.#takeRegion(packetLength);
      this.#state = SMALL;
      return true;
    }
    if (headerBytes < HEADER_SIZE) return false;
    this.#packetLength = packetLength;
    this.#pieces = [];
    this.#piecesBytes = 0;
    this.#state = LARGE;
    return true;
  }

  /** Copies bytes of a small frame into its region, validating header fields as they complete (`check`). */
  #appendSmall(source: Uint8Array, from: number, length: number, check: boolean): void {
    const fill = this.#regionFill;
    copyBytes(this.#slabBytes, this.#regionOffset + fill, source, from, length);
    this.#copiedBytes += length;
    this.#regionFill = fill + length;
    if (check && fill < CHECKED_BYTES) this.#checkRegionHeader(fill + length);
  }

  /** Validates the header fields of a small frame that its first `filled` bytes complete. */
  #checkRegionHeader(filled: number): void {
    const at = this.#regionOffset;
    checkHeaderPrefix(this.#slabBytes, at, filled < HEADER_SIZE ? filled : HEADER_SIZE, this.#limits, this.#frameStart - at);
  }

  /** Emits the frame being gathered if all its bytes are in. */
  #completeIfWhole(frames: Frame[]): Frame[] {
    const packetLength = this.#packetLength;
    let frame: Frame;
    if (this.#state === SMALL) {
      if (this.#regionFill < packetLength) return frames;
      frame = frameAt(this.#slabBytes, this.#slab, 0, this.#regionOffset, packetLength);
      this.#regionFill = 0;
    } else {
      if (this.#piecesBytes < packetLength) return frames;
      let own: ArrayBuffer;
      try {
        own = new ArrayBuffer(packetLength);
      } catch {
        throw new FrameError("FRAME_TOO_LARGE", this.#frameStart, `cannot allocate ${packetLength} bytes for a frame within maxFrameSize`);
      }
      const whole = new Uint8Array(own);
      let at = 0;
      for (const piece of this.#pieces) {
        whole.set(piece, at);
        at += piece.length;
      }
      this.#copiedBytes += packetLength;
      this.#pieces = [];
      this.#piecesBytes = 0;
      frame = frameAt(whole, own, 0, 0, packetLength);
    }
    this.#state = IDLE;
    const out = frames === NO_FRAMES ? [] : frames;
    out.push(frame);
    return out;
  }

  /** Takes a fresh region of exactly `length` bytes: a never-reused piece of the current slab. */
  #takeRegion(length: number): void {
    if (this.#slabUsed + length > this.#slab.byteLength) {
      this.#slab = new ArrayBuffer(this.#poolSize);
      this.#slabBytes = new Uint8Array(this.#slab);
      this.#slabUsed = 0;
    }
    this.#regionOffset = this.#slabUsed;
    this.#regionFill = 0;
    // Keep regions 8-byte aligned, so a caller may lay wider typed views over a body if it wants to.
    this.#slabUsed += (length + 7) & ~7;
  }
}
