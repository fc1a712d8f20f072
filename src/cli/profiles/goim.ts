/**
 * The goim profile (Terry-Mao/goim): goim's op names, its op-9 "raw" batches split into their frames,
 * and the heartbeat reply's u32 online count. Other bodies are shown as JSON or text when they are.
 *
 * goim sends a batch over WebSocket inside an outer op-9 frame, but over TCP the inner frames go out
 * raw, back to back (goim issue 375): raw frames are just more top-level frames, so both read the same.
 */
import { readU32 } from "../../wire/bytes.js";
import { FrameDecoder } from "../../stream/frame-decoder.js";
import type { Frame } from "../../wire/decode.js";
import { FrameError } from "../../wire/errors.js";
import type { NodeEvent } from "../model.js";
import { readTextBody } from "./body.js";
import { ProfileError } from "./errors.js";
import { batchSpans, frameNode, framesIn, withInnerFrames, type Place } from "./node.js";
import type { DescribeContext, Profile } from "./profile.js";

/** goim's op numbers (`api/protocol/operation.go`). */
export const GoimOp = {
  HANDSHAKE: 0,
  HANDSHAKE_REPLY: 1,
  HEARTBEAT: 2,
  HEARTBEAT_REPLY: 3,
  SEND_MSG: 4,
  SEND_MSG_REPLY: 5,
  DISCONNECT_REPLY: 6,
  AUTH: 7,
  AUTH_REPLY: 8,
  RAW: 9,
  PROTO_READY: 10,
  PROTO_FINISH: 11,
  CHANGE_ROOM: 12,
  CHANGE_ROOM_REPLY: 13,
  SUB: 14,
  SUB_REPLY: 15,
  UNSUB: 16,
  UNSUB_REPLY: 17,
} as const;

/** goim's first business op: ops from here on belong to the application. */
export const GOIM_FIRST_BUSINESS_OP = 1000;

/** Deepest nesting of op-9 batches expanded. goim itself never nests them. */
export const GOIM_MAX_DEPTH = 4;

const NAMES = new Map<number, string>(Object.entries(GoimOp).map(([name, op]) => [op, name]));

/**
 * goim's name for an op: `"HEARTBEAT_REPLY"`, `"BUSINESS(1000)"` for ops ≥ 1000, `"OP(n)"` otherwise.
 * @returns a fresh string; never throws.
 */
export function goimOpName(op: number): string {
  return NAMES.get(op) ?? (op >= GOIM_FIRST_BUSINESS_OP ? `BUSINESS(${op})` : `OP(${op})`);
}

/** A goim frame at `place` (always the stream: batch children share their parent's bytes). */
function* goimNode(frame: Frame, place: Place, depth: number, context: DescribeContext): Generator<NodeEvent, void, undefined> {
  const name = goimOpName(frame.op);
  const body = frame.body;
  if (frame.op === GoimOp.RAW && body.byteLength > 0) {
    const bodyOffset = place.offset + frame.headerLength;
    // Any version (goim writes 1), and the dump's frame limit for inner frames too.
    const options = { versions: "any", maxFrameSize: context.limits.maxFrameSize } as const;
    let batch: ReturnType<typeof batchSpans>;
    try {
      if (depth >= GOIM_MAX_DEPTH) throw new ProfileError("TOO_DEEP", bodyOffset, `op-9 batches nested more than ${GOIM_MAX_DEPTH} deep`);
      batch = batchSpans(frame, framesIn(body, options));
    } catch (error) {
      const problem = error instanceof FrameError ? new ProfileError("INNER_FRAME", bodyOffset + error.offset, `batch body: ${error.reason} (${error.code})`, { cause: error }) : error;
      if (!(problem instanceof ProfileError)) throw problem;
      const decoded = { kind: "error", code: problem.code, reason: problem.reason, offset: problem.offset } as const;
      yield { type: "frame", node: frameNode(frame, place, "goim", name, { decoded }), depth };
      return;
    }
    const node = frameNode(frame, place, "goim", name, { spans: batch.spans, innerFrames: batch.count });
    yield* withInnerFrames(node, depth, context.budget, framesIn(body, options), bodyOffset, (child, at) =>
      goimNode(child, { offset: at, space: "stream" }, depth + 1, context),
    );
    return;
  }
  const decoded =
    frame.op === GoimOp.HEARTBEAT_REPLY && body.byteLength >= 4 ? ({ kind: "count", name: "online", value: readU32(body, 0) } as const) : readTextBody(body);
  yield { type: "frame", node: frameNode(frame, place, "goim", name, { decoded }), depth };
}

/** The goim profile. */
export const goimProfile: Profile<Frame> = {
  name: "goim",
  createDecoder: (limits) => new FrameDecoder({ versions: "any", maxFrameSize: limits.maxFrameSize }),
  describe: (frame, offset, context) => goimNode(frame, { offset, space: "stream" }, 0, context),
};
