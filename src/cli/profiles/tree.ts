/**
 * The decoded view of a 16-byte-header frame shared by the goim and Bilibili profiles: each frame as
 * a node with its op name and its body's meaning, batches and compressed bodies as children. The
 * CLI's printers walk this tree; nothing here formats output.
 */
import type { Frame } from "../../wire/decode.js";
import type { Compression } from "./inflate.js";
import type { TextBody } from "./body.js";

/**
 * Where a node's `offset` counts from: `"input"` is the buffer (or stream) the top-level frames came
 * from — batch children live inside it too; `"inflated"` is the decompressed body of the parent.
 */
export type OffsetSpace = "input" | "inflated";

/** What a frame's body means under a profile. */
export type NodeBody =
  | TextBody
  /** A u32 count at the start of the body (goim online count, Bilibili popularity); `rest` is any bytes after it (a view). */
  | { readonly kind: "count"; readonly name: "online" | "popularity"; readonly value: number; readonly rest: Uint8Array }
  /** goim op 9: the body is frames end to end. Their offsets are in the same space as the parent's. */
  | { readonly kind: "batch"; readonly children: FrameNode[] }
  /**
   * Bilibili version 2/3: the body decompresses to frames end to end. `inflated` is a fresh array;
   * the children's bodies are views into it, their offsets count from its start.
   */
  | {
      readonly kind: "compressed";
      readonly algorithm: Compression;
      readonly inflated: Uint8Array;
      readonly children: FrameNode[];
    };

/** One frame as a profile reads it. */
export interface FrameNode {
  /** Byte offset of the frame's first byte, in `space`. */
  readonly offset: number;
  readonly space: OffsetSpace;
  /** Nesting depth: 0 for top-level frames. */
  readonly depth: number;
  /** The frame (views into the input or the parent's inflated body). */
  readonly frame: Frame;
  /** The op's name in the profile's table (`"HEARTBEAT_REPLY"`, `"OP(42)"`…). */
  readonly opName: string;
  /** What the version field means, when the profile gives it one (Bilibili: `"brotli"`…). */
  readonly versionName?: string;
  readonly body: NodeBody;
}

/** Bytes after the last whole frame of a message (Bilibili's echoed heartbeat body). */
export interface Trailer {
  /** Byte offset of the trailer in the input. */
  readonly offset: number;
  /** A view into the input. */
  readonly bytes: Uint8Array;
  /** The trailer read as text, when it is text. */
  readonly text: TextBody;
}

/** Result of decoding a whole message (one buffer of frames) under a profile. */
export interface ProfileMessage {
  readonly nodes: FrameNode[];
  /** Present only when bytes follow the last whole frame and the profile allows that. */
  readonly trailer?: Trailer;
}

/**
 * The byte offsets of `frames` laid end to end from `start`.
 * @returns a fresh array, one offset per frame. Internal helper for the profiles.
 */
export function offsetsOf(frames: readonly Frame[], start: number): number[] {
  const offsets: number[] = [];
  let at = start;
  for (const frame of frames) {
    offsets.push(at);
    at += frame.packetLength;
  }
  return offsets;
}
