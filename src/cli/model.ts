/**
 * What `syncwire dump` prints, independent of how: one `DumpNode` per frame (with its children for
 * batches and compressed bodies), trailers, stream headings and errors. The profiles fill it, the text
 * and JSON printers read it.
 */

/** A labelled run of bytes inside a frame, for the annotated hex dump. */
export interface Span {
  /** Offset from the start of the node's `raw` bytes. */
  readonly start: number;
  readonly length: number;
  readonly label: string;
  /** Colour class: header fields, extension, body. */
  readonly role: "length" | "hl" | "version" | "op" | "seq" | "field" | "extension" | "body";
}

/** A frame as printed. */
export interface DumpNode {
  /** Byte offset of the frame in its space (the stream, or the parent's inflated bytes). */
  readonly offset: number;
  /** "stream" for input offsets; "inflated" when the offset counts inside a decompressed body. */
  readonly space: "stream" | "inflated";
  readonly profile: "syncwire" | "goim" | "bilibili" | "mars";
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
  /** The body read as something: a protobuf message, JSON, text, a count. Absent for empty or opaque bodies. */
  readonly decoded?: DecodedBody;
  /** Inner frames of a batch (same byte space) or of a compressed body (inflated space). */
  readonly children?: readonly DumpNode[];
  /** Inner frames beyond those in `children`, counted but not described (see `MAX_CHILDREN`). */
  readonly moreChildren?: number;
  /** For a compressed body: the algorithm and the inflated bytes the children live in. */
  readonly compressed?: { readonly algorithm: string; readonly inflated: Uint8Array };
}

/** A readable form of a body. */
export type DecodedBody =
  /**
   * `json` is the canonical protobuf JSON form (bytes as base64). `texts` adds, by field path, the UTF-8
   * reading of the `content` of text messages, which base64 hides from a person.
   */
  | { readonly kind: "protobuf"; readonly type: string; readonly json: unknown; readonly texts?: Readonly<Record<string, string>> }
  | { readonly kind: "json"; readonly value: unknown }
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "count"; readonly name: string; readonly value: number }
  /** The body could not be read; `offset` is where the problem starts, in the frame's space. */
  | { readonly kind: "error"; readonly code: string; readonly message: string; readonly offset: number };

/** One thing the dump reports, in order. */
export type DumpEvent =
  | { readonly type: "stream"; readonly label: string; readonly bytes: number; readonly note?: string }
  | { readonly type: "frame"; readonly node: DumpNode; readonly stream?: string }
  | { readonly type: "trailer"; readonly offset: number; readonly bytes: Uint8Array; readonly text?: string; readonly stream?: string }
  | { readonly type: "error"; readonly offset: number | undefined; readonly code: string; readonly message: string; readonly stream?: string };

/**
 * Inner frames described per batch or compressed body. 8 KiB of zlib can inflate to half a million empty
 * frames; past this many the rest is counted, not described or printed (the parent's bytes, which
 * `encode` uses, are always complete).
 */
export const MAX_CHILDREN = 65_536;

/** The bytes a frame occupies, from its body view (header and body are contiguous in every decoder). */
export function rawOf(body: Uint8Array, headerLength: number): Uint8Array {
  return new Uint8Array(body.buffer, body.byteOffset - headerLength, headerLength + body.byteLength);
}
