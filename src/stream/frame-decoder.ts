/**
 * FrameDecoder: reassembles frames from a byte stream cut into arbitrary chunks (TCP, TLS).
 *
 * Theory of operation. The decoder is a small state machine fed with `push(chunk)`; it does no I/O and
 * keeps no timers (sans-I/O, like h11). At any moment it is in one of three states:
 *
 * - `IDLE`: at a frame boundary, holding nothing.
 * - `HEADER`: a header started near the end of an earlier chunk; its first 1–15 bytes sit in a 16-byte
 *   scratch area. Each header field is validated as soon as its bytes are in (length limits first), so a
 *   hostile length is refused before anything is allocated for it.
 * - `BODY`: the frame did not fit in the chunk it started in. Its bytes are gathered into one region of
 *   exactly `packetLength` bytes. For a large frame the region is taken once the header is complete and
 *   valid and the first body byte arrives (a huge claimed length followed by nothing holds only the 16
 *   header bytes). A small frame (one that fits the slab, below) goes to its region as soon as its 4
 *   length bytes have passed the limits, header included; the rest of its header is then validated in
 *   the region as it arrives.
 *
 * Where that region comes from: allocating a typed array of more than a few dozen bytes costs ~0.5 µs
 * here (an off-heap backing store), more than copying the frame. So, like Node's Buffer pool, frames of
 * up to a quarter of `poolSize` are carved from a shared slab that is only ever appended to: each region
 * is handed out once and never reused, so a frame's bytes never change after it is returned. Larger
 * frames, and all frames when `poolSize` is 0, get an ArrayBuffer of their own. The cost of the slab is
 * retention: a frame kept alive keeps its whole slab (default 32 KiB) alive; set `poolSize: 0` if you
 * hold many straddled frames for a long time.
 *
 * Frames that lie wholly inside one chunk are returned as views of that chunk: no copy. A frame that
 * straddles chunks is copied exactly once, into its own buffer; leftovers are never concatenated with the
 * next chunk (that pattern copies an 8 MiB frame arriving in 1460-byte chunks thousands of times over).
 *
 * Aliasing: returned frames alias the caller's chunks, so a chunk must not be reused or overwritten after
 * it is pushed while its frames are in use. The decoder never recycles a buffer it has handed out.
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
const BODY = 2;

/** Below this many bytes a plain loop beats `set(subarray(...))`, which allocates a view per call. */
const SMALL_COPY = 64;

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
  #state = IDLE;
  /** Stream offset of byte 0 of the chunk being pushed (bytes pushed before it). */
  #streamOffset = 0;
  /** Stream offset where the frame now being reassembled starts. */
  #frameStart = 0;
  /** First bytes of a header that straddles chunks. */
  readonly #scratch = new Uint8Array(HEADER_SIZE);
  #scratchFill = 0;
  /** packetLength of the frame in BODY state. */
  #packetLength = 0;
  /** The straddling frame's own buffer; null until its first body byte arrives. */
  #assembly: Uint8Array | null = null;
  #assemblyFill = 0;
  #copiedBytes = 0;
  #error: FrameError | null = null;
  #ended = false;
  readonly #poolSize: number;
  /** Frames up to this size are carved from the slab: a quarter of it, so a slab serves several. */
  readonly #poolMax: number;
  /** The current slab and how much of it has been handed out. Never rewound. */
  #slab: ArrayBuffer | null = null;
  #slabUsed = 0;
  /** `buffer` and `byteOffset` of the last region handed out: known here, so no getter is read later. */
  #regionBuffer: ArrayBufferLike = new ArrayBuffer(0);
  #regionOffset = 0;

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

  /** Bytes held for a frame not yet complete (the header scratch, or the straddling frame so far). */
  get bufferedBytes(): number {
    if (this.#state === HEADER) return this.#scratchFill;
    if (this.#state === BODY) return this.#assembly === null ? HEADER_SIZE : this.#assemblyFill;
    return 0;
  }

  /**
   * Total bytes copied so far: zero while no frame straddles chunks. A straddling frame costs its own
   * length, plus 16 when its header was itself split or ended a chunk (scratch, then frame buffer).
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
   *   reuse an array across pushes, or to keep the frames completed before an error in the same chunk.
   * @returns the frames this chunk completed, in order: views of `chunk` when they lie inside it, else
   *   views of the frame's own reassembly buffer. A shared empty array when none completed and no `out`
   *   was given (do not push into it).
   * @throws FrameError for a bad header (offsets count from the start of the stream); the decoder then
   *   stays failed and throws the same error on every later call.
   * @throws Error if called after `end()`.
   */
  push(chunk: Uint8Array, out?: Frame[]): Frame[] {
    if (this.#error !== null) throw this.#error;
    if (this.#ended) throw new Error("FrameDecoder: push() after end()");
    let frames = out ?? (NO_FRAMES as Frame[]);
    const length = chunk.length;
    const base = this.#streamOffset;
    // Small chunks in the middle of a large frame (a slow link, a 7-byte trickle) only extend it: skip
    // the state loop.
    const assembly = this.#assembly;
    if (assembly !== null && length < this.#packetLength - this.#assemblyFill) {
      const fill = this.#assemblyFill;
      copyBytes(assembly, fill, chunk, 0, length);
      this.#assemblyFill = fill + length;
      this.#copiedBytes += length;
      // A small frame's header may still be arriving in its region: judge the fields now complete.
      if (fill < HEADER_SIZE) this.#checkGatheredHeader(assembly);
      this.#streamOffset = base + length;
      return frames;
    }
    let at = 0;
    // Prototype getters: read once per chunk, and only when a frame inside it needs them (a trickle
    // of tiny chunks never does).
    let buffer: ArrayBufferLike | null = null;
    let byteOffset = 0;
    try {
      while (at < length) {
        if (this.#state === IDLE) {
          const left = length - at;
          if (left >= HEADER_SIZE) {
            checkHeaderPrefix(chunk, at, HEADER_SIZE, this.#limits, base);
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
            this.#frameStart = base + at;
            this.#packetLength = packetLength;
            this.#state = BODY;
            if (left === HEADER_SIZE) {
              // Header exactly at the end of the chunk: keep it in the scratch, allocate nothing yet.
              copyBytes(this.#scratch, 0, chunk, at, HEADER_SIZE);
              this.#copiedBytes += HEADER_SIZE;
            } else {
              const assembly = this.#region(packetLength);
              copyBytes(assembly, 0, chunk, at, left);
              this.#assembly = assembly;
              this.#assemblyFill = left;
              this.#copiedBytes += left;
            }
            at = length;
          } else {
            // Less than a header left: judge what is there.
            checkHeaderPrefix(chunk, at, left, this.#limits, base);
            this.#frameStart = base + at;
            if (left >= 4) {
              const packetLength = readU32(chunk, at);
              if (packetLength <= this.#poolMax) {
                // A small frame (its length already passed the limits): gather it, header and all,
                // straight into its region. A slab region costs nothing worth deferring, and the
                // scratch → region copy of the header is saved.
                const assembly = this.#region(packetLength);
                copyBytes(assembly, 0, chunk, at, left);
                this.#assembly = assembly;
                this.#assemblyFill = left;
                this.#packetLength = packetLength;
                this.#copiedBytes += left;
                this.#state = BODY;
                at = length;
                continue;
              }
            }
            // Otherwise the header waits in the scratch, and nothing is allocated until it is whole.
            copyBytes(this.#scratch, 0, chunk, at, left);
            this.#copiedBytes += left;
            this.#scratchFill = left;
            this.#state = HEADER;
            at = length;
          }
        } else if (this.#state === HEADER) {
          const take = Math.min(HEADER_SIZE - this.#scratchFill, length - at);
          copyBytes(this.#scratch, this.#scratchFill, chunk, at, take);
          this.#copiedBytes += take;
          this.#scratchFill += take;
          at += take;
          checkHeaderPrefix(this.#scratch, 0, this.#scratchFill, this.#limits, this.#frameStart);
          if (this.#scratchFill === HEADER_SIZE) {
            this.#scratchFill = 0;
            this.#packetLength = readU32(this.#scratch, 0);
            this.#state = BODY;
            if (this.#packetLength === HEADER_SIZE) frames = this.#completeFromScratch(frames);
          }
        } else {
          let assembly = this.#assembly;
          if (assembly === null) {
            assembly = this.#region(this.#packetLength);
            // The header is copied a second time here (scratch → frame buffer): 16 bytes, counted.
            copyBytes(assembly, 0, this.#scratch, 0, HEADER_SIZE);
            this.#copiedBytes += HEADER_SIZE;
            this.#assembly = assembly;
            this.#assemblyFill = HEADER_SIZE;
          }
          const fill = this.#assemblyFill;
          const take = Math.min(this.#packetLength - fill, length - at);
          copyBytes(assembly, fill, chunk, at, take);
          this.#copiedBytes += take;
          this.#assemblyFill = fill + take;
          at += take;
          if (fill < HEADER_SIZE) checkHeaderPrefix(assembly, 0, Math.min(fill + take, HEADER_SIZE), this.#limits, this.#frameStart);
          if (this.#assemblyFill === this.#packetLength) {
            if (frames === NO_FRAMES) frames = [];
            frames.push(frameAt(assembly, this.#regionBuffer, this.#regionOffset, 0, this.#packetLength));
            this.#assembly = null;
            this.#assemblyFill = 0;
            this.#state = IDLE;
          }
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
      this.#error = new FrameError(
        "TRUNCATED",
        this.#frameStart,
        `stream ended ${this.bufferedBytes} bytes into a frame` + (this.#state === BODY ? ` of ${this.#packetLength} bytes` : ""),
      );
      throw this.#error;
    }
  }

  /**
   * A fresh region of exactly `length` bytes for one straddling frame: a never-reused piece of the
   * current slab when the frame is small, else an ArrayBuffer of its own.
   */
  #region(length: number): Uint8Array {
    if (length > this.#poolMax) {
      const own = new ArrayBuffer(length);
      this.#regionBuffer = own;
      this.#regionOffset = 0;
      return new Uint8Array(own);
    }
    let slab = this.#slab;
    if (slab === null || this.#slabUsed + length > this.#poolSize) {
      slab = new ArrayBuffer(this.#poolSize);
      this.#slab = slab;
      this.#slabUsed = 0;
    }
    const region = new Uint8Array(slab, this.#slabUsed, length);
    this.#regionBuffer = slab;
    this.#regionOffset = this.#slabUsed;
    // Keep regions 8-byte aligned, so a caller may lay wider typed views over a body if it wants to.
    this.#slabUsed += (length + 7) & ~7;
    return region;
  }

  /** Validates the header fields gathered so far in a small frame's region; a failure is sticky. */
  #checkGatheredHeader(assembly: Uint8Array): void {
    try {
      checkHeaderPrefix(assembly, 0, Math.min(this.#assemblyFill, HEADER_SIZE), this.#limits, this.#frameStart);
    } catch (error) {
      if (error instanceof FrameError) this.#error = error;
      throw error;
    }
  }

  /** A 16-byte frame whose header straddled chunks: it needs its own 16 bytes (the scratch is reused). */
  #completeFromScratch(frames: Frame[]): Frame[] {
    const own = this.#region(HEADER_SIZE);
    copyBytes(own, 0, this.#scratch, 0, HEADER_SIZE);
    this.#copiedBytes += HEADER_SIZE;
    const out = frames === NO_FRAMES ? [] : frames;
    out.push(frameAt(own, this.#regionBuffer, this.#regionOffset, 0, HEADER_SIZE));
    this.#state = IDLE;
    return out;
  }
}

