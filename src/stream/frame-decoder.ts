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
 *
 * Two ways out, one machine. `push` returns `Frame` objects; `pushVisit` calls a visitor with the same
 * fields and body view and builds no object, for servers that route millions of frames a second and
 * look at most of them only once. Both share everything but the few lines that hand a frame out: a
 * frame wholly inside the chunk is checked in one go (`#checkWholeHeader`), anything else goes through
 * the straddle states above (`#gather`), which leave a completed frame's location in `#done` for the
 * caller to hand out in its own form. The two loops stay two on purpose: one loop calling either a
 * user's visitor or an internal frame collector would make that call site polymorphic, and V8 would stop
 * inlining the user's visitor into the hot loop.
 */
import { EMPTY_BYTES, readU16, readU32 } from "../wire/bytes.js";
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

/** `#onlyVersion` when every version is accepted, and when a list of several is. */
const ANY_VERSION = -1;
const SOME_VERSIONS = -2;

/**
 * What {@link FrameDecoder.pushVisit} calls for every completed frame.
 * @param op the header's op (u32).
 * @param seq the header's seq (u32).
 * @param body bytes headerLength…packetLength: a view, not a copy (of the pushed chunk, or of the one
 *   copy of a frame that straddled chunks).
 * @param version the header's version (u16).
 * @param extension header bytes 16…headerLength: a view; the shared empty array when there are none.
 */
export type FrameVisitor = (op: number, seq: number, body: Uint8Array, version: number, extension: Uint8Array) => void;

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
  /** Set when a `pushVisit` visitor threw: the decoder lost its place in that chunk. */
  #visitorError: { cause: unknown } | null = null;
  /** True while `pushVisit` runs: a visitor calling back into the decoder is refused. */
  #visiting = false;
  /**
   * True when a call must be refused: failed, stopped by a visitor, ended, or inside a visitor. One flag
   * for the check every push starts with (a 7-byte trickle pays it per 7 bytes); `#refuse` says why.
   */
  #blocked = false;
  /** A straddling frame just completed by `#gather`: its copy, where it starts there, its length. */
  #done: Uint8Array | null = null;
  #doneAt = 0;
  #doneLength = 0;
  /** The limits unpacked for the whole-frame check: maxFrameSize, and the one accepted version, or ANY_VERSION / SOME_VERSIONS. */
  readonly #maxFrameSize: number;
  readonly #onlyVersion: number;
  #ended = false;

  /**
   * @param options limits shared with `decodeFrame` (`maxFrameSize`, default 1 MiB; `versions`, default
   *   [1]) and `poolSize` for straddling frames.
   * @throws RangeError for invalid options.
   */
  constructor(options?: FrameDecoderOptions) {
    const limits = resolveDecodeOptions(options);
    this.#limits = limits;
    this.#maxFrameSize = limits.maxFrameSize;
    const versions = limits.versions;
    this.#onlyVersion = versions === null ? ANY_VERSION : versions.length === 1 ? versions[0]! : SOME_VERSIONS;
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
   * For a hot loop that does not need a `Frame` object per frame, {@link pushVisit} decodes the same
   * way (same limits, same errors at the same offsets, the same views and copies) and hands each
   * frame's fields to a callback instead.
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
   * @throws Error if called after `end()`, or after a visitor passed to `pushVisit` threw.
   */
  push(chunk: Uint8Array, out?: Frame[]): Frame[] {
    this.#checkUsable();
    let frames = out ?? (NO_FRAMES as Frame[]);
    // `length`, not `byteLength`: the same for a Uint8Array, and measurably cheaper on a Buffer.
    const length = chunk.length;
    const base = this.#streamOffset;
    try {
      if (this.#extendOnly(chunk, length)) {
        this.#streamOffset = base + length;
        return frames;
      }
      let at = 0;
      while (at < length) {
        if (this.#state === IDLE && length - at >= HEADER_SIZE) {
          // The hot path: whole frames inside this chunk, handed out as views. `buffer` and
          // `byteOffset` are prototype getters: read once here, not per frame.
          const buffer = chunk.buffer;
          const byteOffset = chunk.byteOffset;
          for (let left = length - at; left >= HEADER_SIZE; left = length - at) {
            const packetLength = this.#checkWholeHeader(chunk, at, base);
            if (packetLength > left) break;
            if (frames === NO_FRAMES) frames = [];
            frames.push(frameAt(chunk, buffer, byteOffset, at, packetLength));
            at += packetLength;
          }
          if (at === length) break;
        }
        // A frame that straddles chunks: start it, or continue it.
        at = this.#gather(chunk, at, length, base);
        const done = this.#done;
        if (done !== null) {
          this.#done = null;
          if (frames === NO_FRAMES) frames = [];
          frames.push(frameAt(done, done.buffer, done.byteOffset, this.#doneAt, this.#doneLength));
        }
      }
    } catch (error) {
      if (error instanceof FrameError) {
        this.#error = error;
        this.#blocked = true;
      }
      throw error;
    }
    this.#streamOffset = base + length;
    return frames;
  }

  /**
   * Feeds the next chunk of the stream and calls `visit` for every frame it completes, in order,
   * instead of building `Frame` objects: the form for a server's hot loop. Equal to {@link push} in
   * everything else — the same limits, the same `FrameError`s at the same offsets (after the frames
   * before the bad one were visited), bodies that are views of `chunk` when the frame lies inside it and
   * of one copy when it straddles chunks, the same sticky failure.
   *
   * @param chunk the next bytes; aliased by the bodies handed out now or later, so do not reuse it.
   * @param visit called as `visit(op, seq, body, version, extension)` for each completed frame: `body`
   *   and `extension` are views (no copy) that stay valid after the call; `extension` is the shared
   *   empty array when headerLength is 16. A visitor that calls back into this decoder gets an Error
   *   (and stops the decoder, as any exception from it does).
   * @returns the number of frames visited.
   * @throws FrameError as {@link push}; the decoder then stays failed.
   * @throws whatever `visit` throws: the rest of the chunk is then unread, so the decoder stops, and
   *   every later call throws an Error whose `cause` is that exception.
   * @throws Error if called after `end()`.
   */
  pushVisit(chunk: Uint8Array, visit: FrameVisitor): number {
    this.#checkUsable();
    const length = chunk.length;
    const base = this.#streamOffset;
    let count = 0;
    let visiting = false;
    this.#visiting = true;
    this.#blocked = true;
    try {
      if (this.#extendOnly(chunk, length)) {
        this.#streamOffset = base + length;
        this.#visiting = false;
        this.#blocked = false;
        return 0;
      }
      let at = 0;
      while (at < length) {
        if (this.#state === IDLE && length - at >= HEADER_SIZE) {
          const buffer = chunk.buffer;
          const byteOffset = chunk.byteOffset;
          for (let left = length - at; left >= HEADER_SIZE; left = length - at) {
            const packetLength = this.#checkWholeHeader(chunk, at, base);
            if (packetLength > left) break;
            const headerLength = readU16(chunk, at + 4);
            const start = byteOffset + at;
            const extension = headerLength === HEADER_SIZE ? EMPTY_BYTES : new Uint8Array(buffer, start + HEADER_SIZE, headerLength - HEADER_SIZE);
            const body = new Uint8Array(buffer, start + headerLength, packetLength - headerLength);
            const op = readU32(chunk, at + 8);
            const seq = readU32(chunk, at + 12);
            const version = readU16(chunk, at + 6);
            at += packetLength;
            count++;
            visiting = true;
            visit(op, seq, body, version, extension);
            visiting = false;
          }
          if (at === length) break;
        }
        at = this.#gather(chunk, at, length, base);
        const done = this.#done;
        if (done !== null) {
          this.#done = null;
          const from = this.#doneAt;
          const packetLength = this.#doneLength;
          const headerLength = readU16(done, from + 4);
          const own = done.buffer;
          const extension = headerLength === HEADER_SIZE ? EMPTY_BYTES : new Uint8Array(own, from + HEADER_SIZE, headerLength - HEADER_SIZE);
          const body = new Uint8Array(own, from + headerLength, packetLength - headerLength);
          count++;
          visiting = true;
          visit(readU32(done, from + 8), readU32(done, from + 12), body, readU16(done, from + 6), extension);
          visiting = false;
        }
      }
    } catch (error) {
      this.#visiting = false;
      if (visiting) this.#visitorError = { cause: error };
      else if (error instanceof FrameError) this.#error = error;
      this.#blocked = this.#error !== null || this.#visitorError !== null || this.#ended;
      throw error;
    }
    // Nothing permanent can have happened in a call that returns: a visitor's end() or push() threw.
    this.#visiting = false;
    this.#blocked = false;
    this.#streamOffset = base + length;
    return count;
  }

  /** @throws the sticky failure, or Error after `end()`, after a visitor threw, or from inside a visitor. */
  #checkUsable(): void {
    if (this.#blocked) this.#refuse();
  }

  /** Throws why calls are refused (see `#blocked`). */
  #refuse(): never {
    if (this.#error !== null) throw this.#error;
    this.#checkNotStopped();
    throw new Error("FrameDecoder: push() after end()");
  }

  /** @throws Error after a visitor threw, or when called from inside a visitor. */
  #checkNotStopped(): void {
    if (this.#visitorError !== null) throw new Error("FrameDecoder: stopped after a frame visitor threw", this.#visitorError);
    if (this.#visiting) throw new Error("FrameDecoder: called from inside its own frame visitor");
  }

  /**
   * Small chunks in the middle of a straddling frame (a slow link, a 7-byte trickle) only extend it.
   * @returns true if the whole chunk was taken that way.
   */
  #extendOnly(chunk: Uint8Array, length: number): boolean {
    const state = this.#state;
    if (state === SMALL && length < this.#packetLength - this.#regionFill) {
      this.#appendSmall(chunk, 0, length, true);
      return true;
    }
    if (state === LARGE && length < this.#packetLength - this.#piecesBytes) {
      this.#pieces.push(chunk);
      this.#piecesBytes += length;
      return true;
    }
    return false;
  }

  /**
   * Checks the whole 16-byte header at `at` in one go (the caller has 16 bytes there).
   * @returns its packetLength (the frame may or may not be wholly in the chunk).
   * @throws FrameError for a bad field, exactly as {@link checkHeaderPrefix} reports it.
   */
  #checkWholeHeader(chunk: Uint8Array, at: number, base: number): number {
    const packetLength = readU32(chunk, at);
    const headerLength = readU16(chunk, at + 4);
    const only = this.#onlyVersion;
    if (
      packetLength < HEADER_SIZE ||
      packetLength > this.#maxFrameSize ||
      headerLength < HEADER_SIZE ||
      headerLength > packetLength ||
      (only >= 0 ? readU16(chunk, at + 6) !== only : only === SOME_VERSIONS && !this.#limits.versions!.includes(readU16(chunk, at + 6)))
    ) {
      // The one place that words the error: it throws here.
      checkHeaderPrefix(chunk, at, HEADER_SIZE, this.#limits, base);
    }
    return packetLength;
  }

  /**
   * Takes bytes of `chunk` from `at` for a frame that straddles chunks: starts one (from IDLE) or
   * continues the one being gathered. When that frame completes, `#done`, `#doneAt` and `#doneLength`
   * say where its copy lies.
   * @returns where the next unread byte of `chunk` is.
   */
  #gather(chunk: Uint8Array, at: number, length: number, base: number): number {
    const state = this.#state;
    if (state === IDLE) {
      const left = length - at;
      checkHeaderPrefix(chunk, at, left < HEADER_SIZE ? left : HEADER_SIZE, this.#limits, base);
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
      return length;
    }
    if (state === HEADER) {
      const fill = this.#scratchFill;
      // Gather the 4 length bytes first: a small frame then moves to its region at once, and only
      // a large frame's header waits here whole.
      const take = Math.min((fill < 4 ? 4 : HEADER_SIZE) - fill, length - at);
      copyBytes(this.#scratch, fill, chunk, at, take);
      this.#copiedBytes += take;
      this.#scratchFill = fill + take;
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
        this.#completeIfWhole();
      }
      return at + take;
    }
    if (state === SMALL) {
      const take = Math.min(this.#packetLength - this.#regionFill, length - at);
      this.#appendSmall(chunk, at, take, true);
      this.#completeIfWhole();
      return at + take;
    }
    const take = Math.min(this.#packetLength - this.#piecesBytes, length - at);
    this.#pieces.push(at === 0 && take === length ? chunk : chunk.subarray(at, at + take));
    this.#piecesBytes += take;
    this.#completeIfWhole();
    return at + take;
  }

  /**
   * Declares the end of the stream.
   * @throws FrameError TRUNCATED (at the partial frame's stream offset) if part of a frame is held, or the
   *   error the decoder already failed with.
   * @throws Error after a `pushVisit` visitor threw, or when called from inside one.
   */
  end(): void {
    if (this.#error !== null) throw this.#error;
    this.#checkNotStopped();
    this.#ended = true;
    this.#blocked = true;
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

  /**
   * Hands the frame being gathered to `#done` if all its bytes are in: a view of the slab (small
   * frames) or of the frame's own buffer (large ones), whose region starts at `#doneAt`.
   */
  #completeIfWhole(): void {
    const packetLength = this.#packetLength;
    if (this.#state === SMALL) {
      if (this.#regionFill < packetLength) return;
      this.#done = this.#slabBytes;
      this.#doneAt = this.#regionOffset;
      this.#regionFill = 0;
    } else {
      if (this.#piecesBytes < packetLength) return;
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
      this.#done = whole;
      this.#doneAt = 0;
    }
    this.#doneLength = packetLength;
    this.#state = IDLE;
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
