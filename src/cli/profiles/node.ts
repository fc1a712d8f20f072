/**
 * Building blocks of the 16-byte-header profiles (syncwire, goim, Bilibili): a frame as a `DumpNode`,
 * the spans of its hex dump, the inner frames of a body one at a time, and the events of a node with
 * inner frames under the `--max-frames` budget.
 */
import { readU32, viewOf } from "../../wire/bytes.js";
import { decodeFrame, type Frame } from "../../wire/decode.js";
import { FrameError } from "../../wire/errors.js";
import { HEADER_SIZE, type DecodeOptions } from "../../wire/header.js";
import type { DumpBudget } from "../limits.js";
import type { DecodedBody, DumpNode, NodeEvent, Span } from "../model.js";
import type { ProfileName } from "./profile.js";

/** Where a node sits: its offset, in the stream or in its parent's inflated bytes. */
export interface Place {
  readonly offset: number;
  readonly space: DumpNode["space"];
}

/** What a node adds to its frame's header and bytes. */
export interface NodeParts {
  readonly versionName?: string;
  readonly decoded?: DecodedBody;
  readonly innerFrames?: number;
  readonly compressed?: DumpNode["compressed"];
  /** Default: the frame's own header and body spans. */
  readonly spans?: readonly Span[];
}

/** The bytes a frame occupies, from its body view (header and body are contiguous in every decoder). */
export function rawOf(body: Uint8Array, headerLength: number): Uint8Array {
  return new Uint8Array(body.buffer, body.byteOffset - headerLength, headerLength + body.byteLength);
}

/**
 * Spans of the header fields (and the body, when `withBody`) of a frame whose first byte is at `at` in
 * the bytes being dumped (a batch's children use their own `at` inside the batch).
 * @returns a fresh array.
 */
export function headerSpans(frame: Frame, at: number, withBody: boolean): Span[] {
  const spans: Span[] = [
    { start: at, length: 4, label: "length", role: "length" },
    { start: at + 4, length: 2, label: "hl", role: "hl" },
    { start: at + 6, length: 2, label: "ver", role: "version" },
    { start: at + 8, length: 4, label: "op", role: "op" },
    { start: at + 12, length: 4, label: "seq", role: "seq" },
  ];
  if (frame.headerLength > HEADER_SIZE) spans.push({ start: at + HEADER_SIZE, length: frame.headerLength - HEADER_SIZE, label: "extension", role: "extension" });
  if (withBody && frame.body.byteLength > 0) spans.push({ start: at + frame.headerLength, length: frame.body.byteLength, label: "body", role: "body" });
  return spans;
}

/**
 * A 16-byte-header frame as a node.
 * @returns a fresh node; its byte fields are views of the frame's bytes.
 */
export function frameNode(frame: Frame, place: Place, profile: ProfileName, name: string, parts: NodeParts = {}): DumpNode {
  return {
    offset: place.offset,
    space: place.space,
    profile,
    name,
    header: [
      ["packetLength", frame.packetLength],
      ["headerLength", frame.headerLength],
      ["version", frame.version],
      ["op", frame.op],
      ["seq", frame.seq],
    ],
    ...(parts.versionName === undefined ? {} : { versionName: parts.versionName }),
    extension: frame.extension,
    body: frame.body,
    raw: rawOf(frame.body, frame.headerLength),
    spans: parts.spans ?? headerSpans(frame, 0, true),
    ...(parts.decoded === undefined ? {} : { decoded: parts.decoded }),
    ...(parts.innerFrames === undefined ? {} : { innerFrames: parts.innerFrames }),
    ...(parts.compressed === undefined ? {} : { compressed: parts.compressed }),
  };
}

/**
 * The whole frames laid end to end in `bytes` (a goim batch body, an inflated Bilibili body), one at a
 * time, so half a million of them never sit in an array. The rule is `decodeFrames`'s, applied through
 * `decodeFrame` one frame at a time: the same frames, the same errors at the same offsets (a test holds
 * the two together).
 * @returns frames whose bodies are views of `bytes`.
 * @throws FrameError for bytes that are not whole frames (offset counted from `bytes[0]`), as the
 *   iteration reaches them.
 */
export function* framesIn(bytes: Uint8Array, options: DecodeOptions): Generator<Frame, void, undefined> {
  const length = bytes.byteLength;
  let at = 0;
  while (at < length) {
    const left = length - at;
    const claimed = left >= 4 ? readU32(bytes, at) : 0;
    // A frame that fits is decoded on exactly its bytes; anything else on the rest, which makes decodeFrame
    // report what is wrong with it (a bad header field first, then TRUNCATED).
    const view = claimed >= HEADER_SIZE && claimed <= left ? viewOf(bytes, at, claimed) : viewOf(bytes, at, left);
    let frame: Frame;
    try {
      frame = decodeFrame(view, options);
    } catch (error) {
      if (error instanceof FrameError) throw new FrameError(error.code, at + error.offset, error.reason);
      throw error;
    }
    yield frame;
    at += frame.packetLength;
  }
}

/**
 * The events of a node with inner frames: the node, then each inner frame's events while the budget
 * gives a frame for it (the rest are counted in `notShown`), then the node's end.
 * @param frames the inner frames, in order; `start` is the offset of the first in their space.
 * @param describe the events of one inner frame at `offset`.
 */
export function* withInnerFrames(
  node: DumpNode,
  depth: number,
  budget: DumpBudget,
  frames: Iterable<Frame>,
  start: number,
  describe: (frame: Frame, offset: number) => Iterable<NodeEvent>,
): Generator<NodeEvent, void, undefined> {
  yield { type: "frame", node, depth };
  let shown = 0;
  let at = start;
  for (const frame of frames) {
    if (!budget.takeFrame()) break;
    yield* describe(frame, at);
    at += frame.packetLength;
    shown++;
  }
  yield { type: "frame-end", node, depth, notShown: (node.innerFrames ?? 0) - shown };
}

/**
 * The spans of a batch: its header, then each inner frame's header and body at its place in the batch.
 * @returns the spans and how many inner frames there are. Runs `frames` to the end (so it throws what
 *   they throw: this is also the check that the whole body is frames).
 */
export function batchSpans(batch: Frame, frames: Iterable<Frame>): { spans: Span[]; count: number } {
  const spans = headerSpans(batch, 0, false);
  let at = batch.headerLength;
  let count = 0;
  for (const frame of frames) {
    for (const span of headerSpans(frame, at, true)) spans.push(span);
    at += frame.packetLength;
    count++;
  }
  return { spans, count };
}
