/**
 * A Node `Transform`: Buffers in, `Frame` objects out. Node-only: exported from `syncwire/node`.
 */
import { Transform, type TransformCallback } from "node:stream";
import type { Frame } from "../wire/decode.js";
import { FrameDecoder, type FrameDecoderOptions } from "../stream/frame-decoder.js";

/**
 * Pipe a socket into it and read frames: `socket.pipe(new FrameDecoderTransform())`.
 *
 * The readable side is in object mode and emits `Frame`s whose bodies alias the incoming chunks, so the
 * source must not reuse a chunk's memory after writing it (sockets and file streams hand each read
 * fresh memory; a source that recycles one buffer needs a copy in between). A `FrameError` destroys the stream with that error;
 * the frames completed before it are pushed first, so a flowing-mode consumer (`on("data")`) sees every
 * one of them, but, as with any destroyed Node stream, frames buffered and not yet read by a paused
 * consumer (an async iterator) are discarded. Ending inside a frame destroys it with `TRUNCATED`. Use
 * `decodeStream(socket)` to keep every frame before an error whatever the pace of the consumer.
 */
export class FrameDecoderTransform extends Transform {
  readonly #decoder: FrameDecoder;

  /**
   * @param options decoder limits (`maxFrameSize`, `versions`, `poolSize`) and the readable side's
   *   `highWaterMark` in frames (default 1024).
   * @throws RangeError for invalid options.
   */
  constructor(options?: FrameDecoderOptions & { highWaterMark?: number }) {
    super({ readableObjectMode: true, readableHighWaterMark: options?.highWaterMark ?? 1024 });
    this.#decoder = new FrameDecoder(options);
  }

  /** Bytes held for a frame not yet complete. */
  get bufferedBytes(): number {
    return this.#decoder.bufferedBytes;
  }

  override _transform(chunk: Uint8Array, _encoding: BufferEncoding, callback: TransformCallback): void {
    const out: Frame[] = [];
    let failure: unknown = null;
    try {
      this.#decoder.push(chunk, out);
    } catch (error) {
      failure = error;
    }
    for (const frame of out) this.push(frame);
    callback(failure as Error | null);
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#decoder.end();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}
