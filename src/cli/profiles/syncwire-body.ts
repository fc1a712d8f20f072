/**
 * A syncwire body as a person reads it: the protobuf message of its op in protobuf's JSON form (through
 * the bodies layer, so the CLI shows what a server using syncwire decodes), with the UTF-8 reading of
 * text messages beside their base64; text or JSON for the ops whose body is opaque.
 */
import { toJson } from "@bufbuild/protobuf";
import { decodeMessage } from "../../bodies/codec.js";
import { BodyError } from "../../bodies/errors.js";
import { acceptsEmptyBody, bodySchemaOf, type BodyOp } from "../../bodies/schemas.js";
import type { Frame } from "../../wire/decode.js";
import type { DecodedBody } from "../model.js";
import { readTextBody } from "./body.js";

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

/**
 * Reads the body of `frame`, which starts at stream offset `offset`.
 * @returns the op's message (protobuf JSON form, fresh), text or JSON for opaque ops, `undefined` for an
 *   empty body the op allows or a binary body, or an error body (BAD_BODY or EMPTY_BODY, at its stream offset) when the bytes are not the
 *   op's message. Never throws for bad bytes.
 */
export function syncwireBody(frame: Frame, offset: number): DecodedBody | undefined {
  const schema = bodySchemaOf(frame.op);
  if (schema === undefined) return readTextBody(frame.body);
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
    if (error instanceof BodyError) return { kind: "error", code: error.code, reason: error.reason, offset: offset + error.offset };
    throw error;
  }
}
