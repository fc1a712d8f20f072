/**
 * Turns decoded frames into `DumpNode`s, one function per profile. The profile modules (goim,
 * Bilibili, Mars) do the protocol work; this file only shapes their results for the printers.
 */
import { toJson } from "@bufbuild/protobuf";
import { BodyError } from "../bodies/errors.js";
import { decodeMessage } from "../bodies/codec.js";
import { acceptsEmptyBody, bodySchemaOf, type BodyOp } from "../bodies/schemas.js";
import { splitBatch } from "../wire/batch.js";
import type { Frame } from "../wire/decode.js";
import { FrameError } from "../wire/errors.js";
import { HEADER_SIZE } from "../wire/header.js";
import { Op, opName } from "../wire/ops.js";
import { classifyTextBody } from "./profiles/body.js";
import { MARS_HEADER_SIZE, marsFrameName, type MarsFrame } from "./profiles/mars.js";
import type { FrameNode, NodeBody } from "./profiles/tree.js";
import { MAX_CHILDREN, rawOf, type DecodedBody, type DumpNode, type Span } from "./model.js";

function headerFields(frame: Frame): [string, number][] {
  return [
    ["packetLength", frame.packetLength],
    ["headerLength", frame.headerLength],
    ["version", frame.version],
    ["op", frame.op],
    ["seq", frame.seq],
  ];
}

/** Spans of a 16-byte-header frame at `at` inside some raw bytes (children of a batch use their own `at`). */
function headerSpans(frame: Frame, at: number, withBody: boolean): Span[] {
  const spans: Span[] = [
    { start: at, length: 4, label: "length", role: "length" },
    { start: at + 4, length: 2, label: "hl", role: "hl" },
    { start: at + 6, length: 2, label: "ver", role: "version" },
    { start: at + 8, length: 4, label: "op", role: "op" },
    { start: at + 12, length: 4, label: "seq", role: "seq" },
  ];
  if (frame.headerLength > HEADER_SIZE) spans.push({ start: at + HEADER_SIZE, length: frame.headerLength - HEADER_SIZE, label: "extension", role: "extension" });
  if (withBody && frame.body.byteLength > 0) spans.push({ start: at + frame.headerLength, length: frame.body.byteLength, label: "body", role: "body" });
  return spans;
}

function textDecoded(body: Uint8Array): DecodedBody | undefined {
  const text = classifyTextBody(body);
  if (text.kind === "json") return { kind: "json", value: text.value };
  if (text.kind === "text") return { kind: "text", text: text.text };
  return undefined;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The UTF-8 text of every `content` of a text message in a protobuf JSON value (a MessagePacket, or the
 * messages of a SyncResult), by field path.
 */
function textContents(json: unknown, path: string, out: Record<string, string>): void {
  if (Array.isArray(json)) {
    json.forEach((v, i) => textContents(v, `${path}[${i}]`, out));
    return;
  }
  if (json === null || typeof json !== "object") return;
  const record = json as Record<string, unknown>;
  if (record.kind === "MESSAGE_KIND_TEXT" && typeof record.content === "string") {
    try {
      const bytes = Uint8Array.from(atob(record.content), (c) => c.charCodeAt(0));
      out[path === "" ? "content" : `${path}.content`] = strictUtf8.decode(bytes);
    } catch {
      // not UTF-8 after all: the base64 form stays the only one
    }
  }
  for (const [key, value] of Object.entries(record)) {
    if (value !== null && typeof value === "object") textContents(value, path === "" ? key : `${path}.${key}`, out);
  }
}

/** A syncwire body: the protobuf message of its op, text for application ops that hold text. */
function syncwireBody(frame: Frame, offset: number): DecodedBody | undefined {
  const schema = bodySchemaOf(frame.op);
  if (schema === undefined) return textDecoded(frame.body);
  // An empty body is shown as such where the op allows one; where it does not, decoding reports EMPTY_BODY.
  if (frame.body.byteLength === 0 && acceptsEmptyBody(frame.op)) return undefined;
  try {
    const message = decodeMessage(frame.op as BodyOp, frame.body, frame.headerLength);
    const json = toJson(schema, message as never, { alwaysEmitImplicit: false });
    const texts: Record<string, string> = {};
    textContents(json, "", texts);
    return { kind: "protobuf", type: schema.typeName, json, ...(Object.keys(texts).length === 0 ? {} : { texts }) };
  } catch (error) {
    // BodyError offsets count from the frame's start.
    if (error instanceof BodyError) return { kind: "error", code: error.code, message: error.message, offset: offset + error.offset };
    throw error;
  }
}

/**
 * A frame of our own protocol: op names from `Op`, BATCH split into children (views, same bytes),
 * protobuf bodies decoded to their JSON form.
 */
export function describeSyncwire(frame: Frame, offset: number, depth = 0): DumpNode {
  const base = {
    offset,
    space: "stream" as const,
    profile: "syncwire" as const,
    name: opName(frame.op),
    header: headerFields(frame),
    extension: frame.extension,
    body: frame.body,
    raw: rawOf(frame.body, frame.headerLength),
  };
  if (frame.op === Op.BATCH && depth === 0) {
    let inner: Frame[];
    try {
      inner = splitBatch(frame, { versions: "any", maxFrameSize: Math.max(frame.packetLength, HEADER_SIZE) });
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      // splitBatch(frame) counts offsets from the BATCH frame's start.
      return { ...base, spans: headerSpans(frame, 0, true), decoded: { kind: "error", code: error.code, message: error.message, offset: offset + error.offset } };
    }
    const spans = headerSpans(frame, 0, false);
    const children: DumpNode[] = [];
    let at = frame.headerLength;
    for (const child of inner.length > MAX_CHILDREN ? inner.slice(0, MAX_CHILDREN) : inner) {
      children.push(describeSyncwire(child, offset + at, depth + 1));
      for (const span of headerSpans(child, at, true)) spans.push(span);
      at += child.packetLength;
    }
    return { ...base, spans, children, ...(inner.length > MAX_CHILDREN ? { moreChildren: inner.length - MAX_CHILDREN } : {}) };
  }
  const decoded = syncwireBody(frame, offset);
  return { ...base, spans: headerSpans(frame, 0, true), ...(decoded === undefined ? {} : { decoded }) };
}

function nodeDecoded(body: NodeBody): DecodedBody | undefined {
  switch (body.kind) {
    case "json":
      return { kind: "json", value: body.value };
    case "text":
      return { kind: "text", text: body.text };
    case "count":
      return { kind: "count", name: body.name, value: body.value };
    default:
      return undefined;
  }
}

/**
 * A 16-byte-header frame whose body a profile could not read (a decompression bomb, a corrupt batch):
 * shown with its header, bytes and the reason, so nothing in the input goes unprinted.
 */
export function describeUnreadable(frame: Frame, offset: number, profile: DumpNode["profile"], name: string, error: { code: string; message: string }, versionName?: string): DumpNode {
  return {
    offset,
    space: "stream",
    profile,
    name,
    header: headerFields(frame),
    ...(versionName === undefined ? {} : { versionName }),
    extension: frame.extension,
    body: frame.body,
    raw: rawOf(frame.body, frame.headerLength),
    spans: headerSpans(frame, 0, true),
    decoded: { kind: "error", code: error.code, message: error.message, offset },
  };
}

/** A goim or Bilibili node (from the profile modules) as a DumpNode, children included. */
export function fromProfileNode(node: FrameNode, profile: "goim" | "bilibili", spanBase = 0): DumpNode {
  const frame = node.frame;
  const body = node.body;
  const decoded = nodeDecoded(body);
  const common = {
    offset: node.offset,
    space: node.space === "input" ? ("stream" as const) : ("inflated" as const),
    profile,
    name: node.opName,
    header: headerFields(frame),
    ...(node.versionName === undefined ? {} : { versionName: node.versionName }),
    extension: frame.extension,
    body: frame.body,
    raw: rawOf(frame.body, frame.headerLength),
    ...(decoded === undefined ? {} : { decoded }),
  };
  const shown = body.kind === "batch" || body.kind === "compressed" ? body.children.slice(0, MAX_CHILDREN) : [];
  const more = body.kind === "batch" || body.kind === "compressed" ? body.children.length - shown.length : 0;
  const moreChildren = more > 0 ? { moreChildren: more } : {};
  if (body.kind === "batch") {
    const spans = headerSpans(frame, spanBase, false);
    for (const child of shown) for (const span of headerSpans(child.frame, spanBase + child.offset - node.offset, true)) spans.push(span);
    return { ...common, spans, children: shown.map((c) => fromProfileNode(c, profile)), ...moreChildren };
  }
  if (body.kind === "compressed") {
    return {
      ...common,
      spans: headerSpans(frame, spanBase, true),
      children: shown.map((c) => fromProfileNode(c, profile)),
      ...moreChildren,
      compressed: { algorithm: body.algorithm, inflated: body.inflated },
    };
  }
  return { ...common, spans: headerSpans(frame, spanBase, true) };
}

/** A Mars frame (20-byte header) as a DumpNode. */
export function describeMars(frame: MarsFrame, offset: number): DumpNode {
  const spans: Span[] = [
    { start: 0, length: 4, label: "headLength", role: "hl" },
    { start: 4, length: 4, label: "clientVersion", role: "version" },
    { start: 8, length: 4, label: "cmdid", role: "op" },
    { start: 12, length: 4, label: "seq", role: "seq" },
    { start: 16, length: 4, label: "bodyLength", role: "length" },
  ];
  if (frame.headLength > MARS_HEADER_SIZE) spans.push({ start: MARS_HEADER_SIZE, length: frame.headLength - MARS_HEADER_SIZE, label: "extension", role: "extension" });
  if (frame.bodyLength > 0) spans.push({ start: frame.headLength, length: frame.bodyLength, label: "body", role: "body" });
  const decoded = textDecoded(frame.body);
  return {
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
  };
}
