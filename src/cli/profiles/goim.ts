/**
 * The goim profile (Terry-Mao/goim): goim's op names, its op-9 "raw" batches split into their frames,
 * and the heartbeat reply's u32 online count. Other bodies are shown as JSON or text when they are.
 *
 * goim sends a batch over WebSocket inside an outer op-9 frame, but over TCP the inner frames go out
 * raw, back to back (goim issue 375): {@link decodeGoimMessage} reads both, since raw frames are just
 * more top-level frames.
 */
import { readU32 } from "../../wire/bytes.js";
import { decodeFrames, type Frame } from "../../wire/decode.js";
import { FrameError } from "../../wire/errors.js";
import type { DecodeOptions } from "../../wire/header.js";
import { classifyTextBody } from "./body.js";
import { ProfileError } from "./errors.js";
import { offsetsOf, type FrameNode, type NodeBody, type ProfileMessage } from "./tree.js";

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

const NAMES = new Map<number, string>(Object.entries(GoimOp).map(([name, op]) => [op, name]));

/**
 * goim's name for an op: `"HEARTBEAT_REPLY"`, `"BUSINESS(1000)"` for ops ≥ 1000, `"OP(n)"` otherwise.
 * @returns a fresh string; never throws.
 */
export function goimOpName(op: number): string {
  return NAMES.get(op) ?? (op >= GOIM_FIRST_BUSINESS_OP ? `BUSINESS(${op})` : `OP(${op})`);
}

/** Options of the goim profile. */
export interface GoimOptions extends DecodeOptions {
  /** Deepest nesting of op-9 batches expanded; default 4. goim itself never nests them. */
  maxDepth?: number;
}

/** Wire options for goim: any version is shown (goim writes 1), limits as given. */
function wireOptions(options: GoimOptions): DecodeOptions {
  return { versions: options.versions ?? "any", ...(options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize }) };
}

/**
 * Decodes one buffer of whole goim frames (a WebSocket message, or a TCP capture's stream).
 * @returns the frames as nodes (offsets in the input); bodies are views into `bytes`.
 * @throws FrameError for a bad or cut-off top-level frame (offset in `bytes`); ProfileError
 *   INNER_FRAME for a bad frame inside a batch, TOO_DEEP past `maxDepth`.
 */
export function decodeGoimMessage(bytes: Uint8Array, options: GoimOptions = {}): ProfileMessage {
  const { frames } = decodeFrames(bytes, wireOptions(options));
  const offsets = offsetsOf(frames, 0);
  return { nodes: frames.map((frame, i) => describeGoimFrame(frame, offsets[i]!, options)) };
}

/**
 * Reads one frame (for example from a streaming decoder) under the goim profile.
 * @param offset the frame's offset in the input, so batch children get input offsets too.
 * @returns a node whose bodies are views into the frame.
 * @throws ProfileError INNER_FRAME (offset: the batch body's start in the input) when a batch body is
 *   not whole frames, TOO_DEEP when batches nest past `maxDepth`.
 */
export function describeGoimFrame(frame: Frame, offset: number, options: GoimOptions = {}, depth = 0): FrameNode {
  return { offset, space: "input", depth, frame, opName: goimOpName(frame.op), body: goimBody(frame, offset, options, depth) };
}

function goimBody(frame: Frame, offset: number, options: GoimOptions, depth: number): NodeBody {
  const body = frame.body;
  if (frame.op === GoimOp.RAW && body.byteLength > 0) {
    const maxDepth = options.maxDepth ?? 4;
    const bodyOffset = offset + frame.headerLength;
    if (depth >= maxDepth) throw new ProfileError("TOO_DEEP", bodyOffset, `op-9 batches nested more than ${maxDepth} deep`);
    let frames: Frame[];
    try {
      frames = decodeFrames(body, wireOptions(options)).frames;
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      throw new ProfileError("INNER_FRAME", bodyOffset + error.offset, `batch body: ${error.message}`, { cause: error });
    }
    const offsets = offsetsOf(frames, bodyOffset);
    return { kind: "batch", children: frames.map((inner, i) => describeGoimFrame(inner, offsets[i]!, options, depth + 1)) };
  }
  if (frame.op === GoimOp.HEARTBEAT_REPLY && body.byteLength >= 4) {
    const value = readU32(body, 0);
    return { kind: "count", name: "online", value, rest: body.subarray(4) };
  }
  return classifyTextBody(body);
}
