/**
 * The `dump` pipeline: input bytes (a stream of chunks, or one buffer) → frames under a profile →
 * `DumpEvent`s for a printer. Frame streams use the library's `FrameDecoder`, so what the CLI shows is
 * what a server using syncwire would see, offsets included.
 */
import { FrameDecoder } from "../stream/frame-decoder.js";
import type { Frame } from "../wire/decode.js";
import { FrameError } from "../wire/errors.js";
import { HEADER_SIZE } from "../wire/header.js";
import { BodyError } from "../bodies/errors.js";
import { concatBytes } from "./concat.js";
import { describeMars, describeSyncwire, describeUnreadable, fromProfileNode } from "./describe.js";
import type { DumpEvent, DumpNode } from "./model.js";
import { bilibiliOpName, bilibiliVersionName, describeBilibiliFrame } from "./profiles/bilibili.js";
import { ProfileError } from "./profiles/errors.js";
import { describeGoimFrame, goimOpName } from "./profiles/goim.js";
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
  /** Feeds bytes. Returns false once nothing more can be shown (a fatal error was reported). */
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

/**
 * Bilibili only: at most this many bytes after the last whole frame are shown as a trailer when they do
 * not read as a frame (its heartbeat reply echoes the 15-byte "[object Object]"). More than that is a
 * broken stream and an error, as for every other profile.
 */
const MAX_TRAILER = HEADER_SIZE - 1;

/** The 16-byte-header profiles: syncwire, goim, Bilibili. */
function headerStream(settings: DumpSettings, emit: Emit, stream: string | undefined): FrameStream {
  const decoder = new FrameDecoder({
    versions: settings.profile === "syncwire" ? [1] : "any",
    ...(settings.maxFrameSize === undefined ? {} : { maxFrameSize: settings.maxFrameSize }),
  });
  const tag = stream === undefined ? {} : { stream };
  /** Stream offset of the next frame: frames are contiguous, so it is the sum of their lengths. */
  let next = 0;
  let received = 0;
  let failed: FrameError | null = null;
  let reported = false;
  // Bilibili: the chunks holding bytes from `next` on, to show a trailer. A queue with a head index.
  const keepTail = settings.profile === "bilibili";
  const tail: Uint8Array[] = [];
  let tailHead = 0;
  let tailStart = 0;

  /** Reports every body error inside a node (its own, its children's) as an error event. */
  const reportInner = (node: DumpNode): void => {
    if (node.decoded?.kind === "error") emit({ type: "error", offset: node.decoded.offset, code: node.decoded.code, message: node.decoded.message, ...tag });
    for (const child of node.children ?? []) reportInner(child);
  };

  const describe = (frame: Frame, offset: number): void => {
    let node: DumpNode;
    try {
      if (settings.profile === "syncwire") node = describeSyncwire(frame, offset);
      else if (settings.profile === "goim") node = fromProfileNode(describeGoimFrame(frame, offset, { versions: "any" }), "goim");
      else node = fromProfileNode(describeBilibiliFrame(frame, offset, settings.maxInflate === undefined ? {} : { maxInflate: settings.maxInflate }), "bilibili");
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      // A body that cannot be read (a decompression bomb, a corrupt batch): the frame is still shown,
      // whole, so `encode` can rebuild the input; the error is reported at the frame. The framing is in
      // sync, so the frames after it are shown too.
      const name = settings.profile === "goim" ? goimOpName(frame.op) : bilibiliOpName(frame.op);
      const versionName = settings.profile === "bilibili" ? bilibiliVersionName(frame.version) : undefined;
      node = describeUnreadable(frame, offset, settings.profile, name, { code: error.code, message: error.message }, versionName);
    }
    emit({ type: "frame", node, ...tag });
    reportInner(node);
  };

  const reportFailure = (): void => {
    if (failed === null || reported) return;
    reported = true;
    emit(errorEvent(failed, stream));
  };

  return {
    push(chunk) {
      if (failed !== null) {
        // Still deciding whether the bytes after the last frame are a Bilibili trailer.
        if (!keepTail || reported) return false;
        tail.push(chunk);
        received += chunk.byteLength;
        if (received - next > MAX_TRAILER) reportFailure();
        return !reported;
      }
      received += chunk.byteLength;
      if (keepTail) tail.push(chunk);
      const out: Frame[] = [];
      try {
        decoder.push(chunk, out);
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        failed = error;
      }
      for (const frame of out) {
        describe(frame, next);
        next += frame.packetLength;
      }
      while (tailHead < tail.length && tailStart + tail[tailHead]!.byteLength <= next) {
        tailStart += tail[tailHead]!.byteLength;
        tailHead++;
      }
      if (tailHead > 64 && tailHead * 2 > tail.length) {
        tail.splice(0, tailHead);
        tailHead = 0;
      }
      if (failed !== null && !(keepTail && received - next <= MAX_TRAILER)) reportFailure();
      return !reported;
    },
    end(whole) {
      if (failed === null) {
        try {
          decoder.end();
          return;
        } catch (error) {
          if (!(error instanceof FrameError)) throw error;
          failed = error;
        }
      }
      if (reported) return;
      // Bilibili: a short tail (its echoed heartbeat body), or a cut-off last frame, is a trailer.
      if (keepTail && (received - next <= MAX_TRAILER || failed.code === "TRUNCATED")) {
        const bytes = whole !== undefined ? whole.subarray(next) : concatBytes(tail.slice(tailHead)).subarray(next - tailStart);
        emit({ type: "trailer", offset: next, bytes, text: new TextDecoder("utf-8", { fatal: false }).decode(bytes), ...tag });
        return;
      }
      reportFailure();
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
