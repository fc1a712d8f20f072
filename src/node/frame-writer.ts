/**
 * FrameWriter: writes frames to a Node socket or any `Writable` without joining header and body, or
 * coalesces the frames of one tick into one write. Node-only: exported from `syncwire/node`.
 */
import { encodeBatch } from "../wire/batch.js";
import { decodeFrame } from "../wire/decode.js";
import { checkHeaderFields, encodeFrame, encodeFrameInto, encodeHeader, frameSize, type FrameInit } from "../wire/encode.js";
import { HEADER_SIZE, MAX_FRAME_SIZE_LIMIT } from "../wire/header.js";
import { Op } from "../wire/ops.js";

/** What a FrameWriter needs of a socket: the `Writable` methods it calls. `net.Socket` fits. */
export interface FrameSink {
  write(chunk: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
  once(event: "drain", listener: () => void): unknown;
  readonly writableNeedDrain: boolean;
  /** Called with the error if writing a coalesced group fails at the end of a tick (a Node stream has it). */
  destroy?(error: Error): unknown;
}

/** Options of {@link FrameWriter}. */
export interface FrameWriterOptions {
  /**
   * - `"none"` (default): every frame goes out at once, header and body as two writes under
   *   cork/uncork, which Node turns into one `writev`: the body is never copied.
   * - `"batch"`: frames written within one tick are wrapped into one BATCH frame (one copy each).
   * - `"concat"`: frames written within one tick are packed back to back into one buffer.
   */
  coalesce?: "none" | "batch" | "concat";
  /** A coalesced group is flushed early once it holds this many bytes. Default 64 KiB. */
  maxCoalesceBytes?: number;
}

/**
 * Writes frames to a sink, in order, respecting backpressure.
 *
 * Bodies are written by reference in `"none"` mode: do not modify a body's bytes until the sink has
 * flushed it (after `drain`, or when `write` returned true). Coalescing modes copy bodies into the group
 * buffer at the end of the tick: the frame's fields are captured when `write` is called, so reusing the
 * `FrameInit` object is safe, but a body's bytes must stay unchanged until then.
 */
export class FrameWriter {
  readonly #sink: FrameSink;
  readonly #mode: "none" | "batch" | "concat";
  readonly #maxCoalesceBytes: number;
  /** Frames waiting for the end of the tick: fields to encode, or frames already encoded (`writeEncoded`). */
  #pending: (FrameInit | Uint8Array)[] = [];
  #pendingBytes = 0;
  #scheduled = false;

  /**
   * @throws RangeError for an unknown `coalesce` mode or a `maxCoalesceBytes` that is not a positive integer.
   */
  constructor(sink: FrameSink, options: FrameWriterOptions = {}) {
    const mode = options.coalesce ?? "none";
    if (mode !== "none" && mode !== "batch" && mode !== "concat") throw new RangeError(`unknown coalesce mode ${String(mode)}`);
    const max = options.maxCoalesceBytes ?? 64 * 1024;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxCoalesceBytes must be a positive integer, got ${max}`);
    this.#sink = sink;
    this.#mode = mode;
    this.#maxCoalesceBytes = max;
  }

  /** Bytes of frames waiting for the end of the tick (coalescing modes). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * Writes one frame (now, or at the end of the tick when coalescing).
   * @returns false when the sink asks the caller to wait for `drain` (see {@link drained}).
   * @throws RangeError if a field does not fit its wire width (checked now, not at flush time).
   */
  write(frame: FrameInit): boolean {
    // Capture the fields now: a coalesced group is encoded at the end of the tick, and the caller may
    // reuse or change its object before then. Validation also happens here, never at flush time.
    const { op, seq, version } = checkHeaderFields(frame);
    const snapshot: FrameInit = { op, seq, version };
    if (frame.body !== undefined) snapshot.body = frame.body;
    if (frame.extension !== undefined) snapshot.extension = frame.extension;
    const size = frameSize(snapshot);
    if (this.#mode === "none") return this.#writeNow(snapshot);
    // A frame too big to coalesce, or a BATCH (which cannot go inside a BATCH), goes out alone, after
    // whatever is pending so order is kept.
    if (size > this.#maxCoalesceBytes || (this.#mode === "batch" && op === Op.BATCH)) {
      this.flush();
      return this.#writeNow(snapshot);
    }
    return this.#enqueue(snapshot, size);
  }

  #enqueue(frame: FrameInit | Uint8Array, size: number): boolean {
    if (this.#pendingBytes + size > this.#maxCoalesceBytes) this.flush();
    this.#pending.push(frame);
    this.#pendingBytes += size;
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(() => {
        this.#scheduled = false;
        try {
          this.flush();
        } catch (error) {
          // Nobody is on the stack to catch this: hand it to the sink, as a failed write would be.
          if (this.#sink.destroy === undefined) throw error;
          this.#sink.destroy(error as Error);
        }
      });
    }
    return !this.#sink.writableNeedDrain;
  }

  /**
   * Writes one frame that is already encoded (a whole frame, or a BATCH), such as a session engine's
   * `pollTransmit()` result: at once in `"none"` mode, else with the frames of this tick. In `"batch"`
   * mode it is read back into its fields (views, no copy) and joins the BATCH like any frame.
   *
   * The bytes are written by reference (`"none"`, or a frame too large to coalesce) or copied into the
   * group at the end of the tick: either way they must not change until then.
   * @returns false when the sink asks the caller to wait for `drain` (see {@link drained}).
   * @throws RangeError if `frame` is not one whole frame (shorter than a header, or its packetLength
   *   disagrees with its length); TypeError if it is not a Uint8Array.
   */
  writeEncoded(frame: Uint8Array): boolean {
    if (!(frame instanceof Uint8Array)) throw new TypeError("frame must be a Uint8Array");
    if (frame.byteLength < HEADER_SIZE) throw new RangeError(`an encoded frame has at least ${HEADER_SIZE} bytes, got ${frame.byteLength}`);
    if (this.#mode === "batch") {
      let fields: FrameInit;
      try {
        fields = decodeFrame(frame, { versions: "any", maxFrameSize: MAX_FRAME_SIZE_LIMIT });
      } catch (error) {
        throw new RangeError(`not one whole frame: ${(error as Error).message}`);
      }
      return this.write(fields);
    }
    const length = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0);
    if (length !== frame.byteLength) throw new RangeError(`packetLength ${length} disagrees with the ${frame.byteLength} bytes given`);
    if (this.#mode === "none") return this.#sink.write(frame);
    const size = frame.byteLength;
    if (size > this.#maxCoalesceBytes) {
      this.flush();
      return this.#sink.write(frame);
    }
    return this.#enqueue(frame, size);
  }

  /**
   * Writes the pending group now (coalescing modes); does nothing when none is pending.
   * @returns the sink's `write` result (true when nothing was written).
   */
  flush(): boolean {
    const frames = this.#pending;
    if (frames.length === 0) return true;
    this.#pending = [];
    const bytes = this.#pendingBytes;
    this.#pendingBytes = 0;
    if (frames.length === 1) return this.#writeNow(frames[0]!);
    // Batch mode holds fields only (writeEncoded read them back).
    if (this.#mode === "batch") return this.#sink.write(encodeBatch(frames as FrameInit[]));
    const group = new Uint8Array(bytes);
    let at = 0;
    for (const frame of frames) {
      if (frame instanceof Uint8Array) {
        group.set(frame, at);
        at += frame.byteLength;
      } else {
        at += encodeFrameInto(group, at, frame);
      }
    }
    return this.#sink.write(group);
  }

  /** Resolves when the sink can take more: at once if it does not need a drain, else on `drain`. */
  drained(): Promise<void> {
    if (!this.#sink.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.#sink.once("drain", resolve));
  }

  #writeNow(frame: FrameInit | Uint8Array): boolean {
    if (frame instanceof Uint8Array) return this.#sink.write(frame);
    const body = frame.body;
    if ((frame.extension?.byteLength ?? 0) > 0) return this.#sink.write(encodeFrame(frame));
    const header = encodeHeader({ op: frame.op, seq: frame.seq, version: frame.version, bodyLength: body?.byteLength ?? 0 });
    if (body === undefined || body.byteLength === 0) return this.#sink.write(header);
    // Two writes under cork: Node hands both to the kernel in one writev, and the body is not copied.
    this.#sink.cork();
    this.#sink.write(header);
    const ok = this.#sink.write(body);
    this.#sink.uncork();
    return ok;
  }
}

