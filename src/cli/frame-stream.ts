/**
 * One input's frames under one profile: bytes in (a stream of chunks, or one buffer in slices), events
 * out. Every profile runs through here, so offsets, errors, the `--max-frames` budget, Bilibili's
 * trailer and output pacing are written once.
 *
 * Theory of operation. `push` feeds the profile's streaming decoder; each frame it completes is
 * described at its stream offset (`next`, the sum of the frames before it) and its events go to the
 * sink as the profile makes them. After each event the stream waits while the sink is full (stdout not
 * drained), so a frame with half a million inner frames is printed at the pace stdout takes it, in
 * constant memory. Errors inside a frame (a body that is not its op's message, a bomb) are reported
 * after the frame, whose bytes are always shown whole; the framing is still in step, so the stream
 * goes on. A decoder error means the stream is out of step: it is reported and the stream stops
 * (`push` returns false, so the caller stops reading). When the frame budget runs out, before a frame
 * or among its inner frames (those past it are counted, not described), that is reported (FRAME_LIMIT)
 * and the stream stops too.
 *
 * Trailers (profiles with `trailerAfter`, i.e. Bilibili): when the decoder fails right after a frame
 * that may be followed by a trailer, the bytes from there on are held (at most `maxFrameSize` of them,
 * as views of the pushed chunks) instead of reported; if the input ends first they are the trailer,
 * otherwise the error is reported as usual.
 */
import { concatBytes } from "./concat.js";
import { codedError } from "./errors.js";
import type { DecodedBody, DumpEvent } from "./model.js";
import type { DescribeContext, FrameLike, Profile } from "./profiles/profile.js";

/** Where events go. */
export interface EventSink {
  /** Takes one event, in order. */
  emit(event: DumpEvent): void;
  /** A promise while the sink is full (to await before the next event), else `undefined`. */
  ready(): Promise<void> | undefined;
}

/** The frames of one input (one file, stdin, or one direction of a TCP capture). */
export interface FrameStream {
  /**
   * Feeds bytes; `chunk` must not be changed afterwards (frames are views of it).
   * @returns false once nothing more can be shown (an error or the frame limit was reported): stop
   *   reading.
   */
  push(chunk: Uint8Array): Promise<boolean>;
  /** Ends the input: reports a cut-off last frame, or shows a trailer. */
  end(): Promise<void>;
  /** True once the stream stopped at the `--max-frames` limit (the caller starts no further stream). */
  readonly limitReached: boolean;
}

/** Chunks holding the bytes from some stream offset on: Bilibili's possible trailer. */
class Tail {
  readonly #chunks: Uint8Array[] = [];
  #head = 0;
  /** Stream offset of `#chunks[#head]`'s first byte. */
  #start = 0;

  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
  }

  /** Lets go of the chunks that end before stream offset `offset`. */
  dropBefore(offset: number): void {
    while (this.#head < this.#chunks.length && this.#start + this.#chunks[this.#head]!.byteLength <= offset) {
      this.#start += this.#chunks[this.#head]!.byteLength;
      this.#head++;
    }
    if (this.#head > 64 && this.#head * 2 > this.#chunks.length) {
      this.#chunks.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** The bytes from stream offset `offset` on (a fresh array). */
  bytesFrom(offset: number): Uint8Array {
    return concatBytes(this.#chunks.slice(this.#head)).subarray(offset - this.#start);
  }
}

/**
 * A frame stream for `profile`.
 * @param label the capture stream's label, put on every event; absent for a single input.
 */
export function createFrameStream<F extends FrameLike>(profile: Profile<F>, context: DescribeContext, sink: EventSink, label?: string): FrameStream {
  const decoder = profile.createDecoder(context.limits);
  const tag = label === undefined ? {} : { stream: label };
  const tail = profile.trailerAfter === undefined ? undefined : new Tail();
  /** Stream offset of the next frame: frames are contiguous, so it is the sum of their lengths. */
  let next = 0;
  let received = 0;
  let last: F | undefined;
  /** The decoder's error, once it failed. */
  let failure: { readonly offset: number; readonly code: string; readonly reason: string } | undefined;
  let stopped = false;
  let limitReached = false;

  const report = (error: { offset: number; code: string; reason: string }): void => {
    stopped = true;
    sink.emit({ type: "error", offset: error.offset, code: error.code, reason: error.reason, ...tag });
  };
  /** True while the bytes after the last frame may still be a trailer. */
  const mayBeTrailer = (): boolean =>
    tail !== undefined && last !== undefined && profile.trailerAfter!(last) && received - next <= context.limits.maxFrameSize;

  /** The frame budget ran out at the frame at `next` (before it, or among its `cut` inner frames): stop. */
  const limit = (cut: number): void => {
    limitReached = true;
    const what = cut > 0 ? `${cut} inner frames of the frame at byte ${next} and the rest of the input are` : "the rest of the input is";
    report({ offset: next, code: "FRAME_LIMIT", reason: `${context.budget.framesDescribed} frames described, the --max-frames limit: ${what} not shown` });
  };

  const describe = async (frame: F): Promise<void> => {
    if (!context.budget.takeFrame()) return limit(0);
    const errors: Extract<DecodedBody, { kind: "error" }>[] = [];
    let cut = 0;
    for (const event of profile.describe(frame, next, context)) {
      sink.emit({ ...event, ...tag });
      if (event.type === "frame" && event.node.decoded?.kind === "error") errors.push(event.node.decoded);
      if (event.type === "frame-end") cut += event.notShown;
      const full = sink.ready();
      if (full !== undefined) await full;
    }
    for (const error of errors) sink.emit({ type: "error", offset: error.offset, code: error.code, reason: error.reason, ...tag });
    if (cut > 0) limit(cut);
  };

  const fail = (error: unknown): void => {
    const coded = codedError(error);
    if (coded?.offset === undefined) throw error; // decoders raise errors with an offset; anything else is a bug
    failure = { offset: coded.offset, code: coded.code, reason: coded.reason };
  };

  return {
    get limitReached() {
      return limitReached;
    },

    async push(chunk) {
      if (stopped) return false;
      received += chunk.byteLength;
      if (failure !== undefined) {
        // Still deciding whether the bytes after the last frame are a trailer.
        tail!.push(chunk);
        if (!mayBeTrailer()) report(failure);
        return !stopped;
      }
      tail?.push(chunk);
      const frames: F[] = [];
      try {
        decoder.push(chunk, frames);
      } catch (error) {
        fail(error); // the frames before the bad bytes are in `frames`
      }
      for (const frame of frames) {
        await describe(frame);
        if (stopped) return false;
        next += frame.packetLength;
        last = frame;
      }
      tail?.dropBefore(next);
      if (failure !== undefined && !mayBeTrailer()) report(failure);
      return !stopped;
    },

    async end() {
      if (stopped) return;
      if (failure === undefined) {
        try {
          decoder.end();
          return;
        } catch (error) {
          fail(error);
        }
      }
      if (mayBeTrailer()) {
        const bytes = tail!.bytesFrom(next);
        stopped = true;
        sink.emit({ type: "trailer", offset: next, bytes, text: new TextDecoder("utf-8", { fatal: false }).decode(bytes), ...tag });
        return;
      }
      report(failure!);
    },
  };
}
