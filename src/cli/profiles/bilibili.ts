/**
 * The Bilibili live profile (goim-derived). The header's version field names the body encoding:
 * 0 JSON, 1 int/auth, 2 zlib, 3 brotli. Bodies are read op first (a heartbeat reply was seen with
 * version 0, vector B6), then by version:
 *
 * - op 3 (heartbeat reply): u32 popularity;
 * - version 2/3: the body decompresses (zlib inflate / brotli) to whole frames end to end, decoded
 *   with any version and expanded recursively into a tree;
 * - otherwise JSON (op 5 notifications `{"cmd":…}`, op 7 auth, op 8 auth reply `{"code":0}`) or text.
 *
 * Decompression is capped: `maxInflate` is the budget for the whole tree under one top-level frame,
 * nested levels included, so a bomb stops at the cap with `INFLATE_LIMIT` instead of filling memory.
 *
 * Message mode ({@link decodeBilibiliMessage}) accepts bytes after the last whole frame as a trailer
 * (the server echoes the client's heartbeat body after its reply, vector B4).
 */
import { readU32 } from "../../wire/bytes.js";
import { decodeFrames, type Frame } from "../../wire/decode.js";
import { FrameError } from "../../wire/errors.js";
import type { DecodeOptions } from "../../wire/header.js";
import { classifyTextBody } from "./body.js";
import { ProfileError } from "./errors.js";
import { DEFAULT_MAX_INFLATE, inflateCapped, type Compression } from "./inflate.js";
import { offsetsOf, type FrameNode, type NodeBody, type OffsetSpace, type ProfileMessage } from "./tree.js";

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

/** Options of the Bilibili profile. */
export interface BilibiliOptions {
  /** Largest packetLength accepted, outer and inner frames; default 1 MiB (see `DecodeOptions`). */
  maxFrameSize?: number;
  /** Decompression budget per top-level frame, nested levels included; default {@link DEFAULT_MAX_INFLATE} (8 MiB). */
  maxInflate?: number;
  /** Deepest nesting of compressed bodies expanded; default 4 (Bilibili uses 1). */
  maxDepth?: number;
}

/** Mutable state shared by one top-level frame's tree. */
interface Budget {
  remaining: number;
}

function wireOptions(options: BilibiliOptions): DecodeOptions {
  return { versions: "any", ...(options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize }) };
}

/**
 * Decodes one WebSocket message (or any buffer of whole frames) under the Bilibili profile. Bytes
 * that do not make a whole frame after the last one are returned as the trailer, not an error.
 * @returns the nodes (top-level offsets in `bytes`; bodies are views into `bytes` or into fresh
 *   inflated buffers) and the trailer, if any (a view into `bytes`).
 * @throws FrameError for a bad header in a top-level frame (a cut-off last frame is the trailer);
 *   ProfileError INFLATE_LIMIT / INFLATE_FAILED / INNER_FRAME / TOO_DEEP from the bodies.
 * @throws RangeError for invalid options.
 */
export function decodeBilibiliMessage(bytes: Uint8Array, options: BilibiliOptions = {}): ProfileMessage {
  const { frames, trailer } = decodeFrames(bytes, { ...wireOptions(options), allowTrailer: true });
  const offsets = offsetsOf(frames, 0);
  const nodes = frames.map((frame, i) => describeBilibiliFrame(frame, offsets[i]!, options));
  if (trailer.byteLength === 0) return { nodes };
  return { nodes, trailer: { offset: bytes.byteLength - trailer.byteLength, bytes: trailer, text: classifyTextBody(trailer) } };
}

/**
 * Reads one top-level frame (for example from a streaming decoder) under the Bilibili profile.
 * @param offset the frame's offset in the input (used for the node and for error offsets).
 * @returns the node tree; compressed bodies carry their inflated bytes (fresh arrays).
 * @throws ProfileError INFLATE_LIMIT / INFLATE_FAILED (offset: the compressed body's start in the
 *   input, or in the parent's inflated bytes when nested), INNER_FRAME (offset of the bad inner frame
 *   in the inflated bytes; `cause` is the FrameError), TOO_DEEP.
 * @throws RangeError for invalid options.
 */
export function describeBilibiliFrame(frame: Frame, offset: number, options: BilibiliOptions = {}): FrameNode {
  const maxInflate = options.maxInflate ?? DEFAULT_MAX_INFLATE;
  if (!Number.isSafeInteger(maxInflate) || maxInflate < 0) throw new RangeError(`maxInflate must be a non-negative integer, got ${maxInflate}`);
  return describe(frame, offset, "input", 0, options, { remaining: maxInflate });
}

function describe(frame: Frame, offset: number, space: OffsetSpace, depth: number, options: BilibiliOptions, budget: Budget): FrameNode {
  return {
    offset,
    space,
    depth,
    frame,
    opName: bilibiliOpName(frame.op),
    versionName: bilibiliVersionName(frame.version),
    body: bodyOf(frame, offset, depth, options, budget),
  };
}

function bodyOf(frame: Frame, offset: number, depth: number, options: BilibiliOptions, budget: Budget): NodeBody {
  const body = frame.body;
  if (frame.op === BilibiliOp.HEARTBEAT_REPLY && body.byteLength >= 4) {
    const value = readU32(body, 0);
    return { kind: "count", name: "popularity", value, rest: body.subarray(4) };
  }
  const algorithm: Compression | undefined =
    frame.version === BilibiliVersion.ZLIB ? "zlib" : frame.version === BilibiliVersion.BROTLI ? "brotli" : undefined;
  if (algorithm === undefined || body.byteLength === 0) return classifyTextBody(body);

  const bodyOffset = offset + frame.headerLength;
  const maxDepth = options.maxDepth ?? 4;
  if (depth >= maxDepth) throw new ProfileError("TOO_DEEP", bodyOffset, `compressed bodies nested more than ${maxDepth} deep`);
  const inflated = inflateCapped(body, algorithm, budget.remaining, bodyOffset);
  budget.remaining -= inflated.byteLength;
  let frames: Frame[];
  try {
    frames = decodeFrames(inflated, wireOptions(options)).frames;
  } catch (error) {
    if (!(error instanceof FrameError)) throw error;
    throw new ProfileError(
      "INNER_FRAME",
      error.offset,
      `the ${algorithm} body of the frame at byte ${offset} decompresses to ${inflated.byteLength} bytes that are not whole frames: ${error.message}`,
      { cause: error },
    );
  }
  const offsets = offsetsOf(frames, 0);
  return {
    kind: "compressed",
    algorithm,
    inflated,
    children: frames.map((inner, i) => describe(inner, offsets[i]!, "inflated", depth + 1, options, budget)),
  };
}
