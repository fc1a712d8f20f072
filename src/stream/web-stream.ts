/**
 * A WHATWG `TransformStream` of bytes into frames, for browsers, Deno, Bun and Node alike.
 */
import type { Frame } from "../wire/decode.js";
import { FrameDecoder, type FrameDecoderOptions } from "./frame-decoder.js";

/**
 * Creates a `TransformStream<Uint8Array, Frame>` backed by a {@link FrameDecoder}.
 *
 * Frames alias the chunks written in (see `FrameDecoder`), so a writer must not reuse a chunk's memory
 * after writing it. A bad header errors the stream with the `FrameError`; as for any erroring
 * `TransformStream`, frames still queued and unread at that moment are dropped (those completed in the
 * same chunk as the bad header are enqueued first, but a reader only sees them if it has already pulled
 * them). Use `decodeStream` or `FrameDecoder.push(chunk, out)` to keep every frame before an error.
 * Closing the writable side inside a frame errors with `TRUNCATED`.
 * @throws RangeError for invalid options.
 */
export function frameDecoderStream(options?: FrameDecoderOptions): TransformStream<Uint8Array, Frame> {
  const decoder = new FrameDecoder(options);
  return new TransformStream<Uint8Array, Frame>({
    transform(chunk, controller) {
      const out: Frame[] = [];
      try {
        decoder.push(chunk, out);
      } finally {
        for (const frame of out) controller.enqueue(frame);
      }
    },
    flush() {
      decoder.end();
    },
  });
}
