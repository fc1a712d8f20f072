/**
 * A syncwire body as a person reads it: the protobuf message of its op in protobuf's JSON form (through
 * the bodies layer, so the CLI shows what a server using syncwire decodes), with the UTF-8 reading of
 * text messages beside their base64; text or JSON for the ops whose body is opaque.
 */
import { toJson, type Message } from "@bufbuild/protobuf";
import { decodeMessage } from "../../bodies/codec.js";
import { BodyError } from "../../bodies/errors.js";
import { acceptsEmptyBody, bodySchemaOf, type BodyOp } from "../../bodies/schemas.js";
import { MessageKind, type MessagePacket } from "../../gen/syncwire/v1/message_pb.js";
import type { SyncResult } from "../../gen/syncwire/v1/sync_pb.js";
import type { Frame } from "../../wire/decode.js";
import type { DecodedBody } from "../model.js";
import { readTextBody } from "./body.js";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A text message's content as UTF-8, into `out` under `path`; nothing when it is not text or not UTF-8. */
function textOf(packet: MessagePacket, path: string, out: Record<string, string>): void {
  if (packet.kind !== MessageKind.TEXT || packet.content.byteLength === 0) return;
  try {
    out[path] = strictUtf8.decode(packet.content);
  } catch {
    // not UTF-8 after all: the base64 form stays the only one
  }
}

/**
 * The UTF-8 text of every `content` of a text message in a decoded body (a MessagePacket, or the
 * messages of a SyncResult), by the field path its base64 has in the JSON form. Read from the decoded
 * message's bytes, not back from the JSON's base64: decoding 300 bytes of base64 a character at a time
 * was the largest single cost of a dump.
 */
function textContents(message: Message, out: Record<string, string>): void {
  if (message.$typeName === "syncwire.v1.MessagePacket") textOf(message as MessagePacket, "content", out);
  else if (message.$typeName === "syncwire.v1.SyncResult") (message as SyncResult).messages.forEach((m, i) => textOf(m, `messages[${i}].content`, out));
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
    textContents(message as Message, texts);
    return { kind: "protobuf", type: schema.typeName, json, ...(Object.keys(texts).length === 0 ? {} : { texts }) };
  } catch (error) {
    // BodyError offsets count from the frame's start.
    if (error instanceof BodyError) return { kind: "error", code: error.code, reason: error.reason, offset: offset + error.offset };
    throw error;
  }
}
