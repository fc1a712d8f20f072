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
 * {@link MarsFrameDecoder} runs that unpack over a stream cut into any chunks, in the shape of the wire
 * core's `FrameDecoder`: frames inside a chunk are views of it, a frame that straddles chunks is
 * gathered into a buffer of its own (never reused), and a failure is sticky.
 *
 * Names: seq 0xFFFFFFFF is the noop (heartbeat) task id and cmdid 6 the default noop cmdid; cmdid 243
 * is "signal keep"; seq 0 marks a server push.
 */
import { EMPTY_BYTES, MAX_U32, readU32 } from "../../wire/bytes.js";
import type { NodeEvent, Span } from "../model.js";
import { readTextBody } from "./body.js";
import { ProfileError } from "./errors.js";
import { rawOf } from "./node.js";
import type { Profile, StreamDecoder } from "./profile.js";

/** Size of the fixed Mars header. */
export const MARS_HEADER_SIZE = 20;
/** Mars's default noop (heartbeat) cmdid. */
export const MARS_NOOP_CMDID = 6;
/** The seq (task id) Mars gives noop frames. */
export const MARS_NOOP_SEQ = MAX_U32;
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

/** Limits of the Mars decoder (headLength is always limited to {@link MARS_DEFAULT_MAX_HEAD}). */
export interface MarsOptions {
  /** Largest bodyLength accepted; default {@link MARS_DEFAULT_MAX_BODY} (1 MiB). */
  maxBodyLength?: number;
}

/** Result of {@link unpackMarsFrame}. */
export type MarsUnpack =
  | { readonly status: "ok"; readonly frame: MarsFrame; /** Offset just past the frame. */ readonly next: number }
  | { readonly status: "need-more"; /** Bytes needed from `at` before the frame can be read (at least this many). */ readonly needed: number };

/** How a frame is used, by Mars's conventions. */
export type MarsKind = "noop" | "signal-keep" | "push" | "task";

/**
 * Reads one Mars frame at `at`, Mars's tri-state unpack: a whole frame, or how many bytes are needed.
 * Limits are checked as soon as the header fields are present.
 * @returns `{status: "ok", frame, next}` (frame fields are views into `bytes`) or
 *   `{status: "need-more", needed}`.
 * @throws ProfileError MARS_BAD_HEAD_LENGTH (headLength < 20 or > {@link MARS_DEFAULT_MAX_HEAD}),
 *   MARS_BODY_TOO_LARGE — offsets are `baseOffset + ` the field's position.
 */
export function unpackMarsFrame(bytes: Uint8Array, at = 0, options: MarsOptions = {}, baseOffset = 0): MarsUnpack {
  const left = bytes.byteLength - at;
  const where = baseOffset + at;
  if (left >= 4) {
    const headLength = readU32(bytes, at);
    if (headLength < MARS_HEADER_SIZE || headLength > MARS_DEFAULT_MAX_HEAD) {
      throw new ProfileError("MARS_BAD_HEAD_LENGTH", where, `Mars headLength ${headLength} is outside ${MARS_HEADER_SIZE}…${MARS_DEFAULT_MAX_HEAD}`);
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
export function marsFrameName(frame: Pick<MarsFrame, "cmdid" | "seq">): string {
  switch (marsFrameKind(frame)) {
    case "noop":
      return frame.cmdid === MARS_NOOP_CMDID ? "NOOP" : `NOOP(cmdid ${frame.cmdid})`;
    case "signal-keep":
      return "SIGNAL_KEEP";
    case "push":
      return `PUSH(cmdid ${frame.cmdid})`;
    default:
      return `CMD(${frame.cmdid})`;
  }
}

/**
 * Mars frames out of a stream cut into any chunks. See the module comment for copies and aliasing: a
 * chunk must not be overwritten after it is pushed.
 */
export class MarsFrameDecoder implements StreamDecoder<MarsFrame> {
  readonly #options: MarsOptions;
  /** The bytes of a frame not yet whole: `#pending[0, #held)`, owned, handed out once complete. */
  #pending: Uint8Array = EMPTY_BYTES;
  #held = 0;
  /** Stream offset of the next byte to arrive. */
  #received = 0;
  #error: ProfileError | null = null;

  constructor(options: MarsOptions = {}) {
    this.#options = options;
  }

  /**
   * Feeds `chunk`.
   * @returns `out` with the frames `chunk` completes appended (views of `chunk`, or of a buffer of their
   *   own for a frame that straddled chunks).
   * @throws ProfileError MARS_BAD_HEAD_LENGTH / MARS_BODY_TOO_LARGE (stream offset of
   *   the field) as soon as a header field is in; after that, every call throws the same error.
   */
  push(chunk: Uint8Array, out: MarsFrame[] = []): MarsFrame[] {
    if (this.#error !== null) throw this.#error;
    try {
      this.#push(chunk, out);
    } catch (error) {
      if (error instanceof ProfileError) this.#error = error;
      throw error;
    }
    return out;
  }

  /**
   * Ends the stream.
   * @throws ProfileError MARS_TRUNCATED (at the cut-off frame) when the stream ended inside a frame, or
   *   the error a push threw.
   */
  end(): void {
    if (this.#error !== null) throw this.#error;
    if (this.#held > 0) {
      this.#error = new ProfileError("MARS_TRUNCATED", this.#received - this.#held, `Mars frame cut off: the input ends ${this.#held} bytes into it`);
      throw this.#error;
    }
  }

  #push(chunk: Uint8Array, out: MarsFrame[]): void {
    const base = this.#received;
    this.#received += chunk.byteLength;
    let at = 0;
    if (this.#held > 0) {
      // Complete the straddling frame: the header first (its limits are checked as its fields arrive),
      // then exactly the bytes it says it has.
      const start = base - this.#held;
      for (;;) {
        const result = unpackMarsFrame(this.#pending.subarray(0, this.#held), 0, this.#options, start);
        if (result.status === "ok") {
          out.push(result.frame);
          this.#pending = EMPTY_BYTES;
          this.#held = 0;
          break;
        }
        const take = Math.min(result.needed, chunk.byteLength - at);
        if (take === 0) return;
        this.#append(chunk.subarray(at, at + take));
        at += take;
      }
    }
    for (;;) {
      const result = unpackMarsFrame(chunk, at, this.#options, base);
      if (result.status === "need-more") break;
      out.push(result.frame);
      at = result.next;
    }
    if (at < chunk.byteLength) this.#append(chunk.subarray(at));
  }

  /** Appends to the pending frame, growing its buffer by doubling (it only ever holds one frame). */
  #append(bytes: Uint8Array): void {
    const needed = this.#held + bytes.byteLength;
    if (needed > this.#pending.byteLength) {
      const grown = new Uint8Array(Math.max(needed, this.#pending.byteLength * 2, 64));
      grown.set(this.#pending.subarray(0, this.#held));
      this.#pending = grown;
    }
    this.#pending.set(bytes, this.#held);
    this.#held = needed;
  }
}

/** A Mars frame at stream offset `offset` as a node. */
function* marsNode(frame: MarsFrame, offset: number): Generator<NodeEvent, void, undefined> {
  const spans: Span[] = [
    { start: 0, length: 4, label: "headLength", role: "hl" },
    { start: 4, length: 4, label: "clientVersion", role: "version" },
    { start: 8, length: 4, label: "cmdid", role: "op" },
    { start: 12, length: 4, label: "seq", role: "seq" },
    { start: 16, length: 4, label: "bodyLength", role: "length" },
  ];
  if (frame.headLength > MARS_HEADER_SIZE) spans.push({ start: MARS_HEADER_SIZE, length: frame.headLength - MARS_HEADER_SIZE, label: "extension", role: "extension" });
  if (frame.bodyLength > 0) spans.push({ start: frame.headLength, length: frame.bodyLength, label: "body", role: "body" });
  const decoded = readTextBody(frame.body);
  const node = {
    offset,
    space: "stream",
    profile: "mars",
    name: marsFrameName(frame),
    header: [
      ["headLength", frame.headLength],
      ["clientVersion", frame.clientVersion],
      ["cmdid", frame.cmdid],
      ["seq", frame.seq],
      ["bodyLength", frame.bodyLength],
    ],
    extension: frame.extension,
    body: frame.body,
    raw: rawOf(frame.body, frame.headLength),
    spans,
    ...(decoded === undefined ? {} : { decoded }),
  } as const;
  yield { type: "frame", node, depth: 0 };
}

/** The Mars profile: `--max-frame-size` is the largest bodyLength. */
export const marsProfile: Profile<MarsFrame> = {
  name: "mars",
  createDecoder: (limits) => new MarsFrameDecoder({ maxBodyLength: limits.maxFrameSize }),
  describe: (frame, offset) => marsNode(frame, offset),
};
