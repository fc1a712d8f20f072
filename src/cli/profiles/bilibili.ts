/**
 * The Bilibili live profile (goim-derived). The header's version field names the body encoding:
 * 0 JSON, 1 int/auth, 2 zlib, 3 brotli. Bodies are read op first (a heartbeat reply was seen with
 * version 0, vector B6), then by version:
 *
 * - op 3 (heartbeat reply): u32 popularity;
 * - version 2/3: the body decompresses (zlib inflate / brotli) to whole frames end to end, decoded
 *   with any version and shown as inner frames (nested compressed bodies too, up to
 *   {@link BILIBILI_MAX_DEPTH} levels);
 * - otherwise JSON (op 5 notifications `{"cmd":…}`, op 7 auth, op 8 auth reply `{"code":0}`) or text.
 *
 * Decompression is bounded twice: `--max-inflate` for the tree under one top-level frame, nested levels
 * included, and `--max-inflate-total` for the whole input (a failed inflation is charged its whole
 * allowance: it may have produced that much before it failed). Inner frames are read one at a time and
 * described while the `--max-frames` budget lasts, so a small body that inflates to half a million
 * frames costs neither the memory of half a million nodes nor the time to print them all.
 *
 * Trailers: the server echoes the client's heartbeat body after its HEARTBEAT_REPLY, inside the same
 * message (vector B4), and the echo has the length of whatever the client sent. So bytes that do not read
 * as frames after a HEARTBEAT_REPLY are a trailer when the input ends there, whatever their length (up to
 * `--max-frame-size`: the frame stream holds them until then). After any other frame they are an error,
 * as in every profile: the stream is out of step. The library's `decodeFrames({ allowTrailer: true })`
 * takes a trailer after any frame and leaves judging it to the caller; this is the CLI's judgement.
 */
import { readU32 } from "../../wire/bytes.js";
import { FrameDecoder } from "../../stream/frame-decoder.js";
import type { Frame } from "../../wire/decode.js";
import { FrameError } from "../../wire/errors.js";
import type { DecodedBody, NodeEvent } from "../model.js";
import { readTextBody } from "./body.js";
import { ProfileError } from "./errors.js";
import { inflateCapped, type Compression } from "./inflate.js";
import { frameNode, framesIn, withInnerFrames, type Place } from "./node.js";
import type { DescribeContext, Profile } from "./profile.js";

/** The ops Bilibili's live service uses (goim's numbers). */
export const BilibiliOp = {
  HEARTBEAT: 2,
  HEARTBEAT_REPLY: 3,
  NOTIFICATION: 5,
  AUTH: 7,
  AUTH_REPLY: 8,
} as const;

/** What the version field means. */
export const BilibiliVersion = { JSON: 0, INT: 1, ZLIB: 2, BROTLI: 3 } as const;

/** Deepest nesting of compressed bodies expanded (Bilibili uses 1). */
export const BILIBILI_MAX_DEPTH = 4;

const OP_NAMES = new Map<number, string>(Object.entries(BilibiliOp).map(([name, op]) => [op, name]));
const VERSION_NAMES = ["json", "int", "zlib", "brotli"] as const;

/**
 * Bilibili's name for an op: `"NOTIFICATION"`, or `"OP(n)"` for ops it does not use.
 * @returns a fresh string; never throws.
 */
export function bilibiliOpName(op: number): string {
  return OP_NAMES.get(op) ?? `OP(${op})`;
}

/**
 * What a version value says about the body: `"json"`, `"int"`, `"zlib"`, `"brotli"`, or
 * `"unknown(n)"`.
 * @returns a fresh string; never throws.
 */
export function bilibiliVersionName(version: number): string {
  return VERSION_NAMES[version] ?? `unknown(${version})`;
}

/** One top-level frame's tree. */
interface Tree {
  /** What is left of `--max-inflate` for this tree. */
  inflateLeft: number;
  /**
   * Where problems inside inflated bytes are reported: the stream offset of the top-level compressed
   * body (an offset inside inflated bytes means nothing in the stream; the reason says where inside).
   */
  readonly anchor: number;
}

/** A compressed body, inflated and checked to be whole frames. */
interface Inflated {
  readonly algorithm: Compression;
  readonly bytes: Uint8Array;
  readonly frames: number;
}

/** Inflates `body` within both budgets, charging them. */
function inflate(body: Uint8Array, algorithm: Compression, at: number, tree: Tree, context: DescribeContext): Uint8Array {
  const total = context.budget.inflateLeft;
  if (total === 0) {
    throw new ProfileError("INFLATE_LIMIT", at, `${algorithm} body not inflated: the whole input's --max-inflate-total budget of ${context.limits.maxInflateTotal} bytes is spent`);
  }
  const allowance = Math.min(tree.inflateLeft, total);
  const limit = allowance === tree.inflateLeft ? `the ${context.limits.maxInflate}-byte limit (--max-inflate)` : `the ${allowance} bytes left of the whole input's --max-inflate-total budget`;
  let bytes: Uint8Array;
  try {
    bytes = inflateCapped(body, algorithm, allowance, at, limit);
  } catch (error) {
    tree.inflateLeft -= allowance;
    context.budget.chargeInflate(allowance);
    throw error;
  }
  tree.inflateLeft -= bytes.byteLength;
  context.budget.chargeInflate(bytes.byteLength);
  return bytes;
}

/** Reads a frame's body: a count, text or JSON, or an inflated body of frames. */
function readBody(frame: Frame, place: Place, depth: number, tree: Tree, context: DescribeContext): DecodedBody | Inflated | undefined {
  const body = frame.body;
  if (frame.op === BilibiliOp.HEARTBEAT_REPLY && body.byteLength >= 4) return { kind: "count", name: "popularity", value: readU32(body, 0) };
  const algorithm: Compression | undefined =
    frame.version === BilibiliVersion.ZLIB ? "zlib" : frame.version === BilibiliVersion.BROTLI ? "brotli" : undefined;
  if (algorithm === undefined || body.byteLength === 0) return readTextBody(body);

  const bodyAt = place.offset + frame.headerLength;
  const inStream = place.space === "stream";
  const at = inStream ? bodyAt : tree.anchor;
  const where = inStream ? `the frame at byte ${place.offset}` : `the frame at byte ${place.offset} of the inflated bytes`;
  if (depth >= BILIBILI_MAX_DEPTH) throw new ProfileError("TOO_DEEP", at, `compressed bodies nested more than ${BILIBILI_MAX_DEPTH} deep (${where})`);
  const bytes = inflate(body, algorithm, at, tree, context);
  let frames = 0;
  try {
    for (const _ of framesIn(bytes, { versions: "any", maxFrameSize: context.limits.maxFrameSize })) frames++;
  } catch (error) {
    if (!(error instanceof FrameError)) throw error;
    throw new ProfileError(
      "INNER_FRAME",
      at,
      `the ${algorithm} body of ${where} decompresses to ${bytes.byteLength} bytes that are not whole frames: ${error.reason} (${error.code} at byte ${error.offset} of them)`,
      { cause: error },
    );
  }
  return { algorithm, bytes, frames };
}

function* bilibiliNode(frame: Frame, place: Place, depth: number, tree: Tree, context: DescribeContext): Generator<NodeEvent, void, undefined> {
  const name = bilibiliOpName(frame.op);
  const versionName = bilibiliVersionName(frame.version);
  let body: DecodedBody | Inflated | undefined;
  try {
    body = readBody(frame, place, depth, tree, context);
  } catch (error) {
    if (!(error instanceof ProfileError)) throw error;
    body = { kind: "error", code: error.code, reason: error.reason, offset: error.offset };
  }
  if (body === undefined || "kind" in body) {
    yield { type: "frame", node: frameNode(frame, place, "bilibili", name, { versionName, decoded: body }), depth };
    return;
  }
  const node = frameNode(frame, place, "bilibili", name, {
    versionName,
    innerFrames: body.frames,
    compressed: { algorithm: body.algorithm, inflated: body.bytes },
  });
  const inner = framesIn(body.bytes, { versions: "any", maxFrameSize: context.limits.maxFrameSize });
  yield* withInnerFrames(node, depth, context.budget, inner, 0, (child, at) => bilibiliNode(child, { offset: at, space: "inflated" }, depth + 1, tree, context));
}

/** The Bilibili live profile. */
export const bilibiliProfile: Profile<Frame> = {
  name: "bilibili",
  createDecoder: (limits) => new FrameDecoder({ versions: "any", maxFrameSize: limits.maxFrameSize }),
  describe: (frame, offset, context) =>
    bilibiliNode(frame, { offset, space: "stream" }, 0, { inflateLeft: context.limits.maxInflate, anchor: offset + frame.headerLength }, context),
  trailerAfter: (frame) => frame.op === BilibiliOp.HEARTBEAT_REPLY,
};
