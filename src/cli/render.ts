/**
 * Printers for `dump`: the default text form (header fields named, body decoded, annotated hex dump,
 * inner frames as an indented tree) and `--json` (one object per line for each top-level frame, inner
 * frames nested under `children`; stable field names, bytes as hex).
 *
 * Both take the events one at a time, in order, and return the text for each: a frame with inner frames
 * is written as it is described, never held whole. The JSON printer keeps the one piece of state this
 * needs, how many children each open frame has written so far (for the commas).
 */
import { Buffer } from "node:buffer";
import { clockTime, isoTime } from "./clock.js";
import { formatJsonText } from "./json-text.js";
import { annotatedHexDump } from "./hexdump.js";
import type { DecodedBody, DumpEvent, DumpNode } from "./model.js";
import type { Paint } from "./paint.js";

/** What the text form shows. */
export interface RenderOptions {
  readonly hex: boolean;
  /** Most bytes of one frame shown in its hex dump; 0 for all. */
  readonly hexBytes: number;
  readonly body: boolean;
  readonly paint: Paint;
}

/** Turns events into text, one event at a time, in order. */
export type Printer = (event: DumpEvent) => string;

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * Flattens a JSON value into `path: value` lines (indented by `indent`), each text of `texts` right under
 * the line of its path (the base64 it reads).
 */
function fieldLines(value: unknown, path: string, indent: string, texts: Readonly<Record<string, string>> | undefined, out: string[]): void {
  if (value !== null && typeof value === "object") {
    if (Array.isArray(value)) {
      if (value.length === 0) out.push(`${indent}${path}: []`);
      for (let i = 0; i < value.length; i++) fieldLines(value[i], `${path}[${i}]`, indent, texts, out);
      return;
    }
    let empty = true;
    for (const key in value) {
      empty = false;
      fieldLines((value as Record<string, unknown>)[key], path === "" ? key : `${path}.${key}`, indent, texts, out);
    }
    if (empty) out.push(`${indent}${path}: {}`);
    return;
  }
  out.push(`${indent}${path}: ${JSON.stringify(value)}`);
  const text = texts?.[path];
  if (text !== undefined) out.push(`${indent}${path} (as UTF-8): ${JSON.stringify(text)}`);
}

function bodyLines(node: DumpNode): string[] {
  const bytes = node.body.byteLength;
  if (node.compressed !== undefined) {
    return [`body: ${node.compressed.algorithm}, ${bytes} bytes → ${node.compressed.inflated.byteLength} bytes inflated, ${plural(node.innerFrames ?? 0, "frame")}`];
  }
  if (node.innerFrames !== undefined) return [`body: batch of ${plural(node.innerFrames, "frame")}`];
  if (bytes === 0) return ["body: empty"];
  const decoded = node.decoded;
  if (decoded === undefined) return [`body: ${plural(bytes, "byte")} (binary)`];
  switch (decoded.kind) {
    case "protobuf": {
      const lines = [`body: ${decoded.type} (${bytes} bytes)`];
      // A message with no field set (or only unknown ones) has no JSON fields: say so, not ": {}".
      if (decoded.json !== null && typeof decoded.json === "object" && Object.keys(decoded.json).length === 0) lines.push("  (no known fields set)");
      else fieldLines(decoded.json, "", "  ", decoded.texts, lines);
      return lines;
    }
    case "json":
      return [`body: JSON (${bytes} bytes)`, ...(formatJsonText(decoded.json, 2) ?? decoded.json).split("\n").map((l) => `  ${l}`)];
    case "text":
      return [`body: text ${JSON.stringify(decoded.text)}`];
    case "count": {
      const rest = bytes - 4;
      return [`body: ${decoded.name} ${decoded.value}${rest > 0 ? ` (+${rest} more bytes)` : ""}`];
    }
    case "error":
      return [`body: cannot decode: ${decoded.reason} (${decoded.code})`];
  }
}

/** The lines of one frame (not its inner frames), indented for its depth. */
function frameText(node: DumpNode, depth: number, options: RenderOptions): string {
  const p = options.paint;
  const indent = "  ".repeat(depth);
  const fields = node.header.map(([k, v]) => `${k}=${v}`).join(" ");
  const where = node.space === "inflated" ? `@${node.offset} (inflated)` : `@${node.offset}`;
  const version = node.versionName === undefined ? "" : ` [${node.versionName}]`;
  const lines = [`${indent}${depth === 0 ? "frame" : "└ frame"} ${where}  ${p.bold(node.name)}  ${fields}${version}`];
  const more = `${indent}  `;
  if (options.body) for (const line of bodyLines(node)) lines.push(more + line);
  // A batch's children are marked in its own dump (same bytes); inflated frames get a dump of their own.
  if (options.hex && (depth === 0 || node.space === "inflated")) {
    for (const line of annotatedHexDump(node.raw, node.offset, node.spans, p, options.hexBytes)) lines.push(more + line);
  }
  lines.push("");
  return lines.join("\n");
}

/** The text printer. */
export function textPrinter(options: RenderOptions): Printer {
  const p = options.paint;
  const print = recordText(options);
  return (event) => {
    // A live record (syncwire proxy) is headed by when it passed and where: "12:00:01.234  #1 client → server".
    if (event.type === "stream" || event.type === "frame-end" || event.time === undefined || (event.type === "frame" && event.depth > 0)) return print(event);
    return `${p.dim(clockTime(event.time))}  ${p.bold(event.stream ?? "")}\n${print(event)}`;
  };
}

/** The text of one event, as `dump` prints it. */
function recordText(options: RenderOptions): Printer {
  const p = options.paint;
  return (event) => {
    switch (event.type) {
      case "stream":
        return `${p.bold(`== stream ${event.label}`)} (${event.bytes} bytes${event.note === undefined ? "" : `, ${event.note}`})\n`;
      case "frame":
        return frameText(event.node, event.depth, options);
      case "frame-end":
        return event.notShown > 0 ? `${"  ".repeat(event.depth)}  … ${event.notShown} more inner frames not shown (--max-frames)\n` : "";
      case "trailer": {
        let text = `trailer @${event.offset}  ${event.bytes.byteLength} bytes after the last frame ${JSON.stringify(event.text)}\n`;
        if (options.hex) for (const line of annotatedHexDump(event.bytes, event.offset, [], p, options.hexBytes)) text += `  ${line}\n`;
        return text;
      }
      case "error":
        return `${p.error(`error${event.offset === undefined ? "" : ` at byte ${event.offset}`}: ${event.reason} (${event.code})`)}\n`;
    }
  };
}

/** A decoded body as JSON text: a JSON body is written exactly as its (checked, compact) text. */
function decodedJson(decoded: DecodedBody): string {
  switch (decoded.kind) {
    case "json":
      return `{"kind":"json","value":${decoded.json}}`;
    case "error":
      return JSON.stringify({ kind: "error", code: decoded.code, message: decoded.reason, offset: decoded.offset });
    default:
      return JSON.stringify(decoded);
  }
}

/**
 * A node's JSON object without its closing brace (children may follow), after `top` (the record's
 * leading members with their trailing comma, or ""). Written as text, member by member in the order
 * `JSON.stringify` of the equivalent object would give (no header field is named like the members
 * before it): an object per frame and a scan of its hex strings cost more than the rest of the record.
 */
function nodeJsonOpen(node: DumpNode, top: string): string {
  let text = `{${top}"offset":${node.offset},"space":"${node.space}","profile":"${node.profile}","name":${JSON.stringify(node.name)}`;
  for (const [k, v] of node.header) text += `,"${k}":${v}`;
  if (node.versionName !== undefined) text += `,"versionName":${JSON.stringify(node.versionName)}`;
  text += `,"extension":"${toHex(node.extension)}","body":"${toHex(node.body)}"`;
  if (node.decoded !== undefined) text += `,"decoded":${decodedJson(node.decoded)}`;
  if (node.compressed !== undefined) text += `,"compressed":{"algorithm":${JSON.stringify(node.compressed.algorithm)},"inflated":"${toHex(node.compressed.inflated)}"}`;
  return text;
}

/** The `--json` printer: one line per top-level frame (inner frames nested), trailer, stream or error. */
export function jsonPrinter(): Printer {
  /** Children written so far by each open frame, outermost first. */
  const written: number[] = [];
  return (event) => {
    if (event.type === "frame") {
      const depth = event.depth;
      const comma = depth > 0 && written[depth - 1]!++ > 0 ? "," : "";
      const top = depth > 0 ? "" : `"type":"frame",${event.stream === undefined ? "" : `"stream":${JSON.stringify(event.stream)},`}${event.time === undefined ? "" : `"time":"${isoTime(event.time)}",`}`;
      const open = comma + nodeJsonOpen(event.node, top);
      if (event.node.innerFrames === undefined) return open + (depth === 0 ? "}\n" : "}");
      written[depth] = 0;
      return open + ',"children":[';
    }
    const stream = event.type === "stream" ? {} : { ...(event.stream === undefined ? {} : { stream: event.stream }), ...(event.time === undefined ? {} : { time: isoTime(event.time) }) };
    switch (event.type) {
      case "stream":
        return JSON.stringify({ type: "stream", label: event.label, bytes: event.bytes, ...(event.note === undefined ? {} : { note: event.note }) }) + "\n";
      case "frame-end":
        return `]${event.notShown > 0 ? `,"moreChildren":${event.notShown}` : ""}}${event.depth === 0 ? "\n" : ""}`;
      case "trailer":
        return JSON.stringify({ type: "trailer", ...stream, offset: event.offset, bytes: toHex(event.bytes), text: event.text }) + "\n";
      case "error":
        return JSON.stringify({ type: "error", ...stream, offset: event.offset ?? null, code: event.code, message: event.reason }) + "\n";
    }
  };
}
