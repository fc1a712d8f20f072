/**
 * Frames from any async source of byte chunks: a Node `Readable` or socket, a `ReadableStream`
 * (async-iterable in Node, Deno and Bun), or a generator.
 */
import type { Frame } from "../wire/decode.js";
import { FrameDecoder, type FrameDecoderOptions } from "./frame-decoder.js";

/**
 * Decodes the frames of a byte stream as they complete.
 *
 * Frames alias the source's chunks (see `FrameDecoder`). Frames completed before a bad header are
 * yielded first; then the iteration throws the `FrameError`. If the source ends inside a frame the
 * iteration throws `TRUNCATED`. Stopping the iteration early (`break`) returns the source's iterator.
 * @throws FrameError as described; RangeError for invalid options; whatever the source throws.
 */
export async function* decodeStream(source: AsyncIterable<Uint8Array>, options?: FrameDecoderOptions): AsyncGenerator<Frame, void, undefined> {
  const decoder = new FrameDecoder(options);
  for await (const chunk of source) {
    const out: Frame[] = [];
    try {
      decoder.push(chunk, out);
    } finally {
      yield* out;
    }
  }
  decoder.end();
}
