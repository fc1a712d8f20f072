/**
 * Printers for `dump`: the default text form (header fields named, body decoded, annotated hex dump,
 * children as an indented tree) and `--json` (one object per line, stable field names, bytes as hex).
 */
import { annotatedHexDump } from "./hexdump.js";
import type { DecodedBody, DumpEvent, DumpNode } from "./model.js";
import type { Paint } from "./paint.js";

export interface RenderOptions {
  readonly hex: boolean;
  /** Most bytes of one frame shown in its hex dump; 0 for all. */
  readonly hexBytes: number;
  readonly body: boolean;
  readonly paint: Paint;
}

function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** "packet length 3 is shorter … (BAD_PACKET_LENGTH at byte 34)" → the words, without the suffix. */
function reason(message: string): string {
  return message.replace(/\s*\([A-Z_]+ at byte \d+(?:, op \d+)?\)$/, "");
}

/** Flattens a JSON value into `path: value` lines. */
function fieldLines(value: unknown, path: string, out: string[]): void {
  if (value !== null && typeof value === "object") {
    const entries = Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v] as const) : Object.entries(value);
    if (entries.length === 0) out.push(`${path}: ${Array.isArray(value) ? "[]" : "{}"}`);
    for (const [key, v] of entries) fieldLines(v, path === "" ? String(key).replace(/^\[/, "[") : Array.isArray(value) ? `${path}${key}` : `${path}.${key}`, out);
    return;
  }
  out.push(`${path}: ${JSON.stringify(value)}`);
}

function bodyLines(node: DumpNode, decoded: DecodedBody | undefined): string[] {
  if (node.compressed !== undefined) {
    const n = node.children?.length ?? 0;
    return [`body: ${node.compressed.algorithm}, ${node.body.byteLength} bytes → ${node.compressed.inflated.byteLength} bytes inflated, ${n} frame${n === 1 ? "" : "s"}`];
  }
  if (node.children !== undefined) return [`body: batch of ${node.children.length} frame${node.children.length === 1 ? "" : "s"}`];
  if (node.body.byteLength === 0) return ["body: empty"];
  if (decoded === undefined) return [`body: ${node.body.byteLength} byte${node.body.byteLength === 1 ? "" : "s"} (binary)`];
  switch (decoded.kind) {
    case "protobuf": {
      const lines: string[] = [];
      // A message with no field set (or only unknown ones) has no JSON fields: say so, not ": {}".
      if (decoded.json !== null && typeof decoded.json === "object" && Object.keys(decoded.json).length === 0) lines.push("(no known fields set)");
      else fieldLines(decoded.json, "", lines);
      // Each text right under the base64 line it reads.
      for (const [path, text] of Object.entries(decoded.texts ?? {})) {
        const at = lines.findIndex((l) => l.startsWith(`${path}: `));
        lines.splice(at === -1 ? lines.length : at + 1, 0, `${path} (as UTF-8): ${JSON.stringify(text)}`);
      }
      return [`body: ${decoded.type} (${node.body.byteLength} bytes)`, ...lines.map((l) => `  ${l}`)];
    }
    case "json":
      return [`body: JSON (${node.body.byteLength} bytes)`, ...JSON.stringify(decoded.value, null, 2).split("\n").map((l) => `  ${l}`)];
    case "text":
      return [`body: text ${JSON.stringify(decoded.text)}`];
    case "count": {
      const rest = node.body.byteLength - 4;
      return [`body: ${decoded.name} ${decoded.value}${rest > 0 ? ` (+${rest} more bytes)` : ""}`];
    }
    case "error":
      return [`body: cannot decode: ${reason(decoded.message)} (${decoded.code})`];
  }
}

/** Appends `more` indented by two spaces. A loop, not `push(...more)`: a large frame has more lines than a call may take arguments. */
function appendIndented(lines: string[], more: readonly string[]): void {
  for (const line of more) lines.push(`  ${line}`);
}

function nodeLines(node: DumpNode, options: RenderOptions, depth: number, withHex: boolean): string[] {
  const p = options.paint;
  const fields = node.header.map(([k, v]) => `${k}=${v}`).join(" ");
  const where = node.space === "inflated" ? `@${node.offset} (inflated)` : `@${node.offset}`;
  const version = node.versionName === undefined ? "" : ` [${node.versionName}]`;
  const lines = [`${depth === 0 ? "frame" : "└ frame"} ${where}  ${p.bold(node.name)}  ${fields}${version}`];
  if (options.body) appendIndented(lines, bodyLines(node, node.decoded));
  if (withHex && options.hex) appendIndented(lines, annotatedHexDump(node.raw, node.offset, node.spans, p, options.hexBytes));
  for (const child of node.children ?? []) {
    // Batch children are already in the parent's dump (same bytes, marked); inflated ones are not.
    appendIndented(lines, nodeLines(child, options, depth + 1, child.space === "inflated"));
  }
  if (node.moreChildren !== undefined) lines.push(`  … ${node.moreChildren} more inner frames not shown`);
  return lines;
}

/** The text form of one event. */
export function renderText(event: DumpEvent, options: RenderOptions): string {
  const p = options.paint;
  switch (event.type) {
    case "stream":
      return `${p.bold(`== stream ${event.label}`)} (${event.bytes} bytes${event.note === undefined ? "" : `, ${event.note}`})\n`;
    case "frame":
      return nodeLines(event.node, options, 0, true).join("\n") + "\n";
    case "trailer": {
      const lines = [`trailer @${event.offset}  ${event.bytes.byteLength} bytes after the last frame${event.text === undefined ? "" : ` ${JSON.stringify(event.text)}`}`];
      if (options.hex) appendIndented(lines, annotatedHexDump(event.bytes, event.offset, [], p, options.hexBytes));
      return lines.join("\n") + "\n";
    }
    case "error":
      return `${p.error(`error${event.offset === undefined ? "" : ` at byte ${event.offset}`}: ${reason(event.message)} (${event.code})`)}\n`;
  }
}

function nodeJson(node: DumpNode): Record<string, unknown> {
  const out: Record<string, unknown> = { offset: node.offset, space: node.space, profile: node.profile, name: node.name };
  for (const [k, v] of node.header) out[k] = v;
  if (node.versionName !== undefined) out.versionName = node.versionName;
  out.extension = toHex(node.extension);
  out.body = toHex(node.body);
  if (node.decoded !== undefined) out.decoded = node.decoded;
  if (node.compressed !== undefined) out.compressed = { algorithm: node.compressed.algorithm, inflated: toHex(node.compressed.inflated) };
  if (node.children !== undefined) out.children = node.children.map(nodeJson);
  if (node.moreChildren !== undefined) out.moreChildren = node.moreChildren;
  return out;
}

/** The `--json` form of one event: one line of JSON. */
export function renderJson(event: DumpEvent): string {
  const stream = event.type !== "stream" && event.stream !== undefined ? { stream: event.stream } : {};
  switch (event.type) {
    case "stream":
      return JSON.stringify({ type: "stream", label: event.label, bytes: event.bytes, ...(event.note === undefined ? {} : { note: event.note }) }) + "\n";
    case "frame":
      return JSON.stringify({ type: "frame", ...stream, ...nodeJson(event.node) }, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) + "\n";
    case "trailer":
      return JSON.stringify({ type: "trailer", ...stream, offset: event.offset, bytes: toHex(event.bytes), ...(event.text === undefined ? {} : { text: event.text }) }) + "\n";
    case "error":
      return JSON.stringify({ type: "error", ...stream, offset: event.offset ?? null, code: event.code, message: reason(event.message) }) + "\n";
  }
}
