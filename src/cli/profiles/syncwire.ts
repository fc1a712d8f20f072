/**
 * The syncwire profile: our own frames, read as a server using syncwire reads them — the wire core's
 * `FrameDecoder` (version 1 only), `splitBatch` for BATCH, and the bodies layer for each op's protobuf
 * message (`syncwire-body.ts`).
 */
import { FrameDecoder } from "../../stream/frame-decoder.js";
import { splitBatch } from "../../wire/batch.js";
import type { Frame } from "../../wire/decode.js";
import { FrameError } from "../../wire/errors.js";
import { PROTOCOL_VERSION } from "../../wire/header.js";
import { Op, opName } from "../../wire/ops.js";
import type { NodeEvent } from "../model.js";
import { batchSpans, frameNode, withInnerFrames, type Place } from "./node.js";
import type { DescribeContext, Profile } from "./profile.js";
import { syncwireBody } from "./syncwire-body.js";

function* leaf(frame: Frame, place: Place, depth: number): Generator<NodeEvent, void, undefined> {
  yield { type: "frame", node: frameNode(frame, place, "syncwire", opName(frame.op), { decoded: syncwireBody(frame, place.offset) }), depth };
}

function* describeSyncwire(frame: Frame, offset: number, context: DescribeContext): Generator<NodeEvent, void, undefined> {
  const place: Place = { offset, space: "stream" };
  if (frame.op !== Op.BATCH) return yield* leaf(frame, place, 0);
  let inner: Frame[];
  try {
    // Inner frames of any version, within the dump's frame limit; an inner BATCH is NESTED_BATCH.
    inner = splitBatch(frame, { versions: "any", maxFrameSize: context.limits.maxFrameSize });
  } catch (error) {
    if (!(error instanceof FrameError)) throw error;
    // splitBatch(frame) counts offsets from the BATCH frame's start.
    const decoded = { kind: "error", code: error.code, reason: error.reason, offset: offset + error.offset } as const;
    yield { type: "frame", node: frameNode(frame, place, "syncwire", opName(frame.op), { decoded }), depth: 0 };
    return;
  }
  const { spans, count } = batchSpans(frame, inner);
  const node = frameNode(frame, place, "syncwire", opName(frame.op), { spans, innerFrames: count });
  yield* withInnerFrames(node, 0, context.budget, inner, offset + frame.headerLength, (child, at) => leaf(child, { offset: at, space: "stream" }, 1));
}

/** The syncwire profile (the default). */
export const syncwireProfile: Profile<Frame> = {
  name: "syncwire",
  createDecoder: (limits) => new FrameDecoder({ versions: [PROTOCOL_VERSION], maxFrameSize: limits.maxFrameSize }),
  describe: describeSyncwire,
};
