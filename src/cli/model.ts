/**
 * What `syncwire dump` prints, independent of how: frames as `DumpNode`s, streamed in pre-order (a frame,
 * then its inner frames, then a "frame-end" that closes it), trailers, stream headings and errors. The
 * profiles build the nodes, the printers (`render.ts`) read them; nothing holds a whole tree, so a frame
 * with half a million inner frames is printed in constant memory.
 */
import type { ProfileName } from "./profiles/profile.js";

/** A labelled run of bytes inside a frame, for the annotated hex dump. */
export interface Span {
  /** Offset from the start of the node's `raw` bytes. */
  readonly start: number;
  readonly length: number;
  readonly label: string;
  /** Colour class: header fields, extension, body. */
  readonly role: "length" | "hl" | "version" | "op" | "seq" | "field" | "extension" | "body";
}

/** A frame as printed. Its inner frames are not in it: they follow it as events of their own. */
export interface DumpNode {
  /** Byte offset of the frame in its space (the stream, or the parent's inflated bytes). */
  readonly offset: number;
  /** "stream" for input offsets; "inflated" when the offset counts inside a decompressed body. */
  readonly space: "stream" | "inflated";
  readonly profile: ProfileName;
  /** The op / cmdid name. */
  readonly name: string;
  /** Header fields in wire order, as `[name, value]`. */
  readonly header: readonly (readonly [string, number])[];
  /** What the version means, for Bilibili. */
  readonly versionName?: string;
  readonly extension: Uint8Array;
  readonly body: Uint8Array;
  /** The whole frame's bytes (a view), for the hex dump. */
  readonly raw: Uint8Array;
  /** Spans inside `raw`, including those of batch children (same bytes). */
  readonly spans: readonly Span[];
  /** The body read as something: a protobuf message, JSON, text, a count, an error. Absent for empty or opaque bodies. */
  readonly decoded?: DecodedBody;
  /**
   * Set for a batch or a compressed body: how many inner frames it holds. Those that fit the
   * `--max-frames` budget follow as "frame" events one level deeper, then a "frame-end" closes this one.
   */
  readonly innerFrames?: number;
  /** For a compressed body: the algorithm and the inflated bytes its inner frames live in. */
  readonly compressed?: { readonly algorithm: string; readonly inflated: Uint8Array };
}

/** A readable form of a body. */
export type DecodedBody =
  /**
   * `json` is the canonical protobuf JSON form (bytes as base64). `texts` adds, by field path, the UTF-8
   * reading of the `content` of text messages, which base64 hides from a person.
   */
  | { readonly kind: "protobuf"; readonly type: string; readonly json: unknown; readonly texts?: Readonly<Record<string, string>> }
  /** A JSON body, as compact JSON text: numbers exactly as sent (an integer past 2^53 stays exact). */
  | { readonly kind: "json"; readonly json: string }
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "count"; readonly name: string; readonly value: number }
  /** The body could not be read; `offset` is where the problem starts, in the stream (see `profiles/node.ts`). */
  | { readonly kind: "error"; readonly code: string; readonly reason: string; readonly offset: number };

/** A frame, or the end of a frame's inner frames, as a profile describes it. */
export type NodeEvent =
  | { readonly type: "frame"; readonly node: DumpNode; /** 0 for a top-level frame. */ readonly depth: number }
  | {
      readonly type: "frame-end";
      /** The node whose inner frames end here (one with `innerFrames`). */
      readonly node: DumpNode;
      readonly depth: number;
      /** Inner frames counted but not described (the `--max-frames` budget ran out). */
      readonly notShown: number;
    };

/** The stream a record belongs to: a capture's connection direction; absent for a single input. */
interface InStream {
  readonly stream?: string;
  /**
   * When the record's bytes passed, in ms since the epoch: set by `syncwire proxy` (whose streams are
   * live links), absent in `dump`. The text form heads a top-level record with it, JSON adds `time`.
   */
  readonly time?: number;
}

/** One thing the dump reports, in order. */
export type DumpEvent =
  | { readonly type: "stream"; readonly label: string; readonly bytes: number; readonly note?: string }
  | (NodeEvent & InStream)
  | ({ readonly type: "trailer"; readonly offset: number; readonly bytes: Uint8Array; readonly text: string } & InStream)
  | ({ readonly type: "error"; readonly offset: number | undefined; readonly code: string; readonly reason: string } & InStream);
