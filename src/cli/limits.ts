/**
 * What one `syncwire dump` may spend, and the budget one input spends it from.
 *
 * Most of the work a dump does is proportional to its input: every frame costs at least 16 input bytes
 * (32 characters of hex). Two things are not, and a few bytes of hostile input can ask for minutes and
 * gigabytes through them: decompression (Bilibili bodies: 88 bytes of zlib can inflate to 466,033
 * frames) and `*` lines in a pasted `hexdump -C` (one line can stand for 256 MiB). So besides the
 * per-frame limits, one {@link DumpBudget} per input counts, across every frame and every stream of a
 * capture, the frames described and the bytes inflated. Hex repeats are expanded lazily, row by row,
 * only as far as the decoder reads, so they are bounded by what is described too.
 *
 * No I/O here: this module is loaded for `--help`, so it stays small.
 */
import { DEFAULT_MAX_FRAME_SIZE } from "../wire/header.js";

/** Most bytes one top-level frame's compressed bodies may inflate to, nested levels included: 8 MiB. */
export const DEFAULT_MAX_INFLATE = 8 * 1024 * 1024;
/** Most bytes inflated for the whole input: 256 MiB. */
export const DEFAULT_MAX_INFLATE_TOTAL = 256 * 1024 * 1024;
/** Most frames described for the whole input, top-level and inner: 100,000 (a live link left running wants `--max-frames 0`). */
export const DEFAULT_MAX_FRAMES = 100_000;
/** Hex dumps stop after this many bytes of a frame unless `--hex-bytes` says otherwise. */
export const DEFAULT_HEX_BYTES = 64 * 1024;
/** The largest `--max-inflate`: inflated bodies are held in memory, and 1 GiB is within what Node can allocate. */
export const MAX_INFLATE_LIMIT = 1024 * 1024 * 1024;

/** The limits of one dump. `Infinity` means no limit (`--max-frames 0`, `--max-inflate-total 0`). */
export interface DumpLimits {
  /** Largest frame accepted, outer and inner frames alike (Mars: largest bodyLength). */
  readonly maxFrameSize: number;
  /** Most bytes one top-level frame's compressed bodies may inflate to. */
  readonly maxInflate: number;
  /** Most bytes inflated for the whole input. */
  readonly maxInflateTotal: number;
  /** Most frames described for the whole input. */
  readonly maxFrames: number;
}

/** The defaults, as `--help` states them. */
export const DEFAULT_LIMITS: DumpLimits = Object.freeze({
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  maxInflate: DEFAULT_MAX_INFLATE,
  maxInflateTotal: DEFAULT_MAX_INFLATE_TOTAL,
  maxFrames: DEFAULT_MAX_FRAMES,
});

/**
 * What is left for one input: frames to describe and bytes to inflate. One instance per dump, shared by
 * every stream of a capture; the profiles and the frame stream take from it.
 */
export class DumpBudget {
  #framesLeft: number;
  #inflateLeft: number;
  #framesDescribed = 0;

  constructor(limits: DumpLimits) {
    this.#framesLeft = limits.maxFrames;
    this.#inflateLeft = limits.maxInflateTotal;
  }

  /** Frames described so far. */
  get framesDescribed(): number {
    return this.#framesDescribed;
  }

  /** True once no frame may be described any more. */
  get framesSpent(): boolean {
    return this.#framesLeft <= 0;
  }

  /** Bytes that may still be inflated (`Infinity` without a limit). */
  get inflateLeft(): number {
    return this.#inflateLeft;
  }

  /**
   * Takes one frame from the budget.
   * @returns false, taking nothing, when the budget is spent: the frame is then counted, not described.
   */
  takeFrame(): boolean {
    if (this.#framesLeft <= 0) return false;
    this.#framesLeft--;
    this.#framesDescribed++;
    return true;
  }

  /** Charges `bytes` of inflation work (never below zero). */
  chargeInflate(bytes: number): void {
    this.#inflateLeft = Math.max(0, this.#inflateLeft - bytes);
  }
}
