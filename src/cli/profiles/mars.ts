/**
 * The Mars profile: Tencent Mars's long-link framing (`mars/stn/proto/longlink_packer.cc`), a 20-byte
 * big-endian header of five u32s:
 *
 * | offset | field         |
 * |-------:|---------------|
 * | 0      | headLength (≥ 20; bytes 20…headLength are an extension, skipped) |
 * | 4      | clientVersion |
 * | 8      | cmdid         |
 * | 12     | seq           |
 * | 16     | bodyLength    |
 *
 * Unpacking is tri-state as in Mars: a whole frame, "need more bytes", or a failure. Limits are
 * checked as soon as the header is read, before anything is sliced: Mars refuses packets over 1 MiB.
 *
 * Names: seq 0xFFFFFFFF is the noop (heartbeat) task id and cmdid 6 the default noop cmdid; cmdid 243
 * is "signal keep"; seq 0 marks a server push.
 */
import { readU32 } from "../../wire/bytes.js";
import { ProfileError } from "./errors.js";

/** Size of the fixed Mars header. */
export const MARS_HEADER_SIZE = 20;
/** Mars's default noop (heartbeat) cmdid. */
export const MARS_NOOP_CMDID = 6;
/** The seq (task id) Mars gives noop frames. */
export const MARS_NOOP_SEQ = 0xffff_ffff;
/** Mars's "signal keep" cmdid. */
export const MARS_SIGNAL_KEEP_CMDID = 243;
/** The seq of a server push. */
export const MARS_PUSH_SEQ = 0;
/** Default limit on bodyLength: 1 MiB, Mars's own. */
export const MARS_DEFAULT_MAX_BODY = 1024 * 1024;
/** Default limit on headLength: 20 bytes plus up to 4 KiB of extension. */
export const MARS_DEFAULT_MAX_HEAD = MARS_HEADER_SIZE + 4096;

/** One decoded Mars frame. `extension` and `body` are views into the input, no copy. */
export interface MarsFrame {
  readonly headLength: number;
  readonly clientVersion: number;
  readonly cmdid: number;
  readonly seq: number;
  readonly bodyLength: number;
  /** Bytes 20…headLength (usually empty). A view. */
  readonly extension: Uint8Array;
  /** A view. */
  readonly body: Uint8Array;
  /** headLength + bodyLength: the whole frame's size. */
  readonly packetLength: number;
}

/** Limits and expectations of the Mars decoder. */
export interface MarsOptions {
  /** Largest bodyLength accepted; default {@link MARS_DEFAULT_MAX_BODY} (1 MiB). */
  maxBodyLength?: number;
  /** Largest headLength accepted; default {@link MARS_DEFAULT_MAX_HEAD}. */
  maxHeadLength?: number;
  /** When set, a frame with another clientVersion fails (Mars's own rule); default: any. */
  clientVersion?: number;
  /** The noop cmdid of this deployment, for naming; default 6. */
  noopCmdid?: number;
}

/** Result of {@link unpackMarsFrame}. */
export type MarsUnpack =
  | { readonly status: "ok"; readonly frame: MarsFrame; /** Offset just past the frame. */ readonly next: number }
  | { readonly status: "need-more"; /** Bytes needed from `at` before the frame can be read (at least this many). */ readonly needed: number };

/** Result of {@link decodeMarsFrames}. */
export interface DecodedMarsFrames {
  /** The frames with their offsets in the input; views into it. */
  readonly frames: { readonly offset: number; readonly frame: MarsFrame }[];
  /** Bytes after the last whole frame (a view); empty unless `allowTrailer`. */
  readonly trailer: Uint8Array;
}

/** How a frame is used, by Mars's conventions. */
export type MarsKind = "noop" | "signal-keep" | "push" | "task";


/**
 * Reads one Mars frame at `at`, Mars's tri-state unpack: a whole frame, or how many bytes are needed.
 * Limits are checked as soon as the header fields are present.
 * @returns `{status: "ok", frame, next}` (frame fields are views into `bytes`) or
 *   `{status: "need-more", needed}`.
 * @throws ProfileError MARS_BAD_HEAD_LENGTH (headLength < 20 or > maxHeadLength),
 *   MARS_CLIENT_VERSION, MARS_BODY_TOO_LARGE — offsets are `baseOffset + ` the field's position.
 */
export function unpackMarsFrame(bytes: Uint8Array, at = 0, options: MarsOptions = {}, baseOffset = 0): MarsUnpack {
  const left = bytes.byteLength - at;
  const where = baseOffset + at;
  if (left >= 4) {
    const headLength = readU32(bytes, at);
    const maxHead = options.maxHeadLength ?? MARS_DEFAULT_MAX_HEAD;
    if (headLength < MARS_HEADER_SIZE || headLength > maxHead) {
      throw new ProfileError("MARS_BAD_HEAD_LENGTH", where, `Mars headLength ${headLength} is outside ${MARS_HEADER_SIZE}…${maxHead}`);
    }
  }
  if (left >= 8 && options.clientVersion !== undefined) {
    const clientVersion = readU32(bytes, at + 4);
    if (clientVersion !== options.clientVersion) {
      throw new ProfileError("MARS_CLIENT_VERSION", where + 4, `Mars clientVersion ${clientVersion}, expected ${options.clientVersion}`);
    }
  }
  if (left < MARS_HEADER_SIZE) return { status: "need-more", needed: MARS_HEADER_SIZE - left };
  const headLength = readU32(bytes, at);
  const bodyLength = readU32(bytes, at + 16);
  const maxBody = options.maxBodyLength ?? MARS_DEFAULT_MAX_BODY;
  if (bodyLength > maxBody) {
    throw new ProfileError("MARS_BODY_TOO_LARGE", where + 16, `Mars bodyLength ${bodyLength} exceeds the ${maxBody}-byte limit`);
  }
  const packetLength = headLength + bodyLength;
  if (left < packetLength) return { status: "need-more", needed: packetLength - left };
  const base = bytes.byteOffset + at;
  const frame: MarsFrame = {
    headLength,
    clientVersion: readU32(bytes, at + 4),
    cmdid: readU32(bytes, at + 8),
    seq: readU32(bytes, at + 12),
    bodyLength,
    extension: new Uint8Array(bytes.buffer, base + MARS_HEADER_SIZE, headLength - MARS_HEADER_SIZE),
    body: new Uint8Array(bytes.buffer, base + headLength, bodyLength),
    packetLength,
  };
  return { status: "ok", frame, next: at + packetLength };
}

/**
 * Decodes one buffer of whole Mars frames laid end to end (one read's worth, or a capture's stream).
 * @returns the frames with their offsets (views into `bytes`, no copy) and the trailer (a view).
 * @throws ProfileError MARS_TRUNCATED (offset: the cut-off frame's start) when the buffer ends inside
 *   a frame, unless `allowTrailer` is set (then those bytes are the trailer); and the header errors
 *   of {@link unpackMarsFrame}, which `allowTrailer` does not excuse.
 */
export function decodeMarsFrames(bytes: Uint8Array, options: MarsOptions & { allowTrailer?: boolean } = {}): DecodedMarsFrames {
  const frames: { offset: number; frame: MarsFrame }[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    const result = unpackMarsFrame(bytes, at, options);
    if (result.status === "need-more") {
      if (options.allowTrailer === true) return { frames, trailer: bytes.subarray(at) };
      throw new ProfileError(
        "MARS_TRUNCATED",
        at,
        `Mars frame cut off: ${bytes.byteLength - at} bytes left, at least ${result.needed} more needed`,
      );
    }
    frames.push({ offset: at, frame: result.frame });
    at = result.next;
  }
  return { frames, trailer: bytes.subarray(bytes.byteLength) };
}

/**
 * How a frame is used: `"noop"` for the noop task id (seq 0xFFFFFFFF), `"signal-keep"` for cmdid 243,
 * `"push"` for seq 0, `"task"` for everything else (a request or its response).
 * @returns one of {@link MarsKind}; never throws.
 */
export function marsFrameKind(frame: Pick<MarsFrame, "cmdid" | "seq">): MarsKind {
  if (frame.seq === MARS_NOOP_SEQ) return "noop";
  if (frame.cmdid === MARS_SIGNAL_KEEP_CMDID) return "signal-keep";
  if (frame.seq === MARS_PUSH_SEQ) return "push";
  return "task";
}

/**
 * A readable name: `"NOOP"` (noop seq with the noop cmdid), `"NOOP(cmdid 24)"` (noop seq with a
 * deployment's own cmdid), `"SIGNAL_KEEP"`, `"PUSH(cmdid 10001)"`, `"CMD(123)"`.
 * @returns a fresh string; never throws.
 */
export function marsFrameName(frame: Pick<MarsFrame, "cmdid" | "seq">, options: Pick<MarsOptions, "noopCmdid"> = {}): string {
  switch (marsFrameKind(frame)) {
    case "noop":
      return frame.cmdid === (options.noopCmdid ?? MARS_NOOP_CMDID) ? "NOOP" : `NOOP(cmdid ${frame.cmdid})`;
    case "signal-keep":
      return "SIGNAL_KEEP";
    case "push":
      return `PUSH(cmdid ${frame.cmdid})`;
    default:
      return `CMD(${frame.cmdid})`;
  }
}
