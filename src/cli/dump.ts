/**
 * The `dump` pipeline: input bytes (a stream of chunks, or one buffer) → frames under a profile →
 * `DumpEvent`s for a printer. Frame streams use the library's `FrameDecoder`, so what the CLI shows is
 * what a server using syncwire would see, offsets included.
 */
import { FrameDecoder } from "../stream/frame-decoder.js";
import type { Frame } from "../wire/decode.js";
import { FrameError } from "../wire/errors.js";
import { BodyError } from "../bodies/errors.js";
import { concatBytes } from "./concat.js";
import { describeMars, describeSyncwire, fromProfileNode } from "./describe.js";
import type { DumpEvent } from "./model.js";
import { describeBilibiliFrame } from "./profiles/bilibili.js";
import { ProfileError } from "./profiles/errors.js";
import { describeGoimFrame } from "./profiles/goim.js";
import { unpackMarsFrame } from "./profiles/mars.js";

export type Profile = "syncwire" | "goim" | "bilibili" | "mars";
export const PROFILES: readonly Profile[] = ["syncwire", "goim", "bilibili", "mars"];

/** Limits and choices of one dump. */
export interface DumpSettings {
  readonly profile: Profile;
  /** Largest frame accepted (all profiles). */
  readonly maxFrameSize?: number;
  /** Decompression cap for Bilibili bodies. */
  readonly maxInflate?: number;
}

/** Receives events in order. */
export type Emit = (event: DumpEvent) => void;

/** A frame stream decoder for one input (one file, stdin, or one direction of a TCP capture). */
export interface FrameStream {
  /** Feeds bytes. Returns false once the stream has failed (later bytes are ignored). */
  push(chunk: Uint8Array): boolean;
  /**
   * Ends the input. `rest` is the whole input when it was one buffer: in Bilibili's message mode the
   * bytes after the last whole frame are then reported as a trailer instead of an error.
   */
  end(whole?: Uint8Array): void;
}

/** An error from any layer, as an event. Anything that is not ours is a bug and is rethrown. */
function errorEvent(error: unknown, stream: string | undefined, offsetBase = 0): DumpEvent {
  if (error instanceof FrameError || error instanceof ProfileError) {
    return { type: "error", offset: error.offset + offsetBase, code: error.code, message: error.message, ...(stream === undefined ? {} : { stream }) };
  }
  if (error instanceof BodyError) {
    return { type: "error", offset: error.offset + offsetBase, code: error.code, message: error.message, ...(stream === undefined ? {} : { stream }) };
  }
  throw error;
}

/** Creates the frame stream for `settings.profile`. */
export function createFrameStream(settings: DumpSettings, emit: Emit, stream?: string): FrameStream {
  return settings.profile === "mars" ? marsStream(settings, emit, stream) : headerStream(settings, emit, stream);
}

/** The 16-byte-header profiles: syncwire, goim, Bilibili. */
function headerStream(settings: DumpSettings, emit: Emit, stream: string | undefined): FrameStream {
  const decoder = new FrameDecoder({
    versions: settings.profile === "syncwire" ? [1] : "any",
    ...(settings.maxFrameSize === undefined ? {} : { maxFrameSize: settings.maxFrameSize }),
  });
  const tag = stream === undefined ? {} : { stream };
  /** Stream offset of the next frame: frames are contiguous, so it is the sum of their lengths. */
  let next = 0;
  let failed: unknown = null;

  const describe = (frame: Frame, offset: number): void => {
    try {
      if (settings.profile === "syncwire") emit({ type: "frame", node: describeSyncwire(frame, offset), ...tag });
      else if (settings.profile === "goim") emit({ type: "frame", node: fromProfileNode(describeGoimFrame(frame, offset, { versions: "any" }), "goim"), ...tag });
      else {
        const node = describeBilibiliFrame(frame, offset, settings.maxInflate === undefined ? {} : { maxInflate: settings.maxInflate });
        emit({ type: "frame", node: fromProfileNode(node, "bilibili"), ...tag });
      }
    } catch (error) {
      // A body that cannot be read (a decompression bomb, a corrupt batch) is reported; the framing is
      // still in sync, so the frames after it are still shown.
      emit(errorEvent(error, stream));
    }
  };

  // Bilibili: keep the bytes not yet part of a whole frame, so that what follows the last frame can be
  // shown as a trailer even when the input arrives as a stream (stdin). Capped: a desynced stream must
  // not grow without bound.
  const keepTail = settings.profile === "bilibili";
  const tailCap = settings.maxFrameSize ?? 1 << 20;
  let tail: Uint8Array[] = [];
  let tailStart = 0;
  let tailBytes = 0;

  return {
    push(chunk) {
      if (keepTail && tailBytes <= tailCap) {
        tail.push(chunk);
        tailBytes += chunk.byteLength;
      }
      if (failed !== null) return false;
      const out: Frame[] = [];
      try {
        decoder.push(chunk, out);
      } catch (error) {
        failed = error;
      }
      for (const frame of out) {
        describe(frame, next);
        next += frame.packetLength;
      }
      while (tail.length > 0 && tailStart + tail[0]!.byteLength <= next) {
        tailStart += tail[0]!.byteLength;
        tailBytes -= tail[0]!.byteLength;
        tail = tail.slice(1);
      }
      if (failed !== null && !(settings.profile === "bilibili")) emit(errorEvent(failed, stream));
      return failed === null;
    },
    end(whole) {
      if (failed === null) {
        try {
          decoder.end();
          return;
        } catch (error) {
          failed = error;
        }
      } else if (settings.profile !== "bilibili") {
        return; // already reported
      }
      // Bilibili over WebSocket: bytes after the last whole frame are a trailer (its heartbeat reply
      // echoes the client's heartbeat body), not an error.
      if (keepTail && (whole !== undefined || tailBytes <= tailCap)) {
        const bytes = whole !== undefined ? whole.subarray(next) : concatBytes(tail).subarray(next - tailStart);
        const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
        emit({ type: "trailer", offset: next, bytes, text, ...tag });
        return;
      }
      emit(errorEvent(failed, stream));
    },
  };
}

/** Mars's 20-byte header. Mars frames are reassembled by accumulating bytes (the CLI is not a hot path). */
function marsStream(settings: DumpSettings, emit: Emit, stream: string | undefined): FrameStream {
  const tag = stream === undefined ? {} : { stream };
  let buffer = new Uint8Array(0);
  let held = 0;
  /** Stream offset of buffer[0]. */
  let base = 0;
  let failed = false;
  const options = settings.maxFrameSize === undefined ? {} : { maxBodyLength: settings.maxFrameSize };
  return {
    push(chunk) {
      if (failed) return false;
      if (held + chunk.byteLength > buffer.byteLength) {
        const grown = new Uint8Array(Math.max(held + chunk.byteLength, buffer.byteLength * 2, 4096));
        grown.set(buffer.subarray(0, held));
        buffer = grown;
      }
      buffer.set(chunk, held);
      held += chunk.byteLength;
      const view = buffer.subarray(0, held);
      let at = 0;
      try {
        for (;;) {
          const result = unpackMarsFrame(view, at, options, base);
          if (result.status === "need-more") break;
          // Frames are copied out: the accumulation buffer is reused below.
          const own = view.slice(at, result.next);
          const copy = unpackMarsFrame(own, 0, options, base + at);
          if (copy.status === "ok") emit({ type: "frame", node: describeMars(copy.frame, base + at), ...tag });
          at = result.next;
        }
      } catch (error) {
        failed = true;
        emit(errorEvent(error, stream));
        return false;
      }
      buffer.copyWithin(0, at, held);
      held -= at;
      base += at;
      return true;
    },
    end() {
      if (failed || held === 0) return;
      emit({ type: "error", offset: base, code: "MARS_TRUNCATED", message: `Mars frame cut off: the input ends ${held} bytes into it`, ...tag });
    },
  };
}
