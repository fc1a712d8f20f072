/**
 * `syncwire encode`: reads the `dump --json` form and writes the bytes back, so
 * `syncwire dump --json x | syncwire encode` reproduces the input's frames (and trailers) exactly.
 */
import { encodeFrame } from "../wire/encode.js";
import { MARS_HEADER_SIZE } from "./profiles/mars.js";

/** A usage-level problem with the JSON input: reported with its line number. */
export class EncodeInputError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = "EncodeInputError";
  }
}

function fromHex(hex: unknown, line: number, field: string): Uint8Array {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new EncodeInputError(line, `"${field}" must be a hex string`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function uint(value: unknown, line: number, field: string, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) throw new EncodeInputError(line, `"${field}" must be an integer from 0 to ${max}`);
  return value;
}

function marsFrame(record: Record<string, unknown>, line: number): Uint8Array {
  const extension = fromHex(record.extension ?? "", line, "extension");
  const body = fromHex(record.body ?? "", line, "body");
  const out = new Uint8Array(MARS_HEADER_SIZE + extension.byteLength + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MARS_HEADER_SIZE + extension.byteLength);
  view.setUint32(4, uint(record.clientVersion, line, "clientVersion", 0xffff_ffff));
  view.setUint32(8, uint(record.cmdid, line, "cmdid", 0xffff_ffff));
  view.setUint32(12, uint(record.seq, line, "seq", 0xffff_ffff));
  view.setUint32(16, body.byteLength);
  out.set(extension, MARS_HEADER_SIZE);
  out.set(body, MARS_HEADER_SIZE + extension.byteLength);
  return out;
}

/**
 * Encodes the NDJSON records of `text` ("frame" and "trailer" lines; "stream" and "error" lines carry
 * no bytes and are skipped).
 * @returns the bytes, one array per record, in order.
 * @throws EncodeInputError for a line that is not JSON or a record with missing or invalid fields.
 */
export function encodeRecords(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") return;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      throw new EncodeInputError(line, "not a JSON object (expected the output of `syncwire dump --json`)");
    }
    if (record === null || typeof record !== "object") throw new EncodeInputError(line, "not a JSON object");
    if (record.type === "trailer") {
      out.push(fromHex(record.bytes, line, "bytes"));
    } else if (record.type === "frame") {
      if (record.profile === "mars") {
        out.push(marsFrame(record, line));
      } else {
        try {
          out.push(
            encodeFrame({
              op: uint(record.op, line, "op", 0xffff_ffff),
              seq: uint(record.seq, line, "seq", 0xffff_ffff),
              version: uint(record.version, line, "version", 0xffff),
              extension: fromHex(record.extension ?? "", line, "extension"),
              body: fromHex(record.body ?? "", line, "body"),
            }),
          );
        } catch (error) {
          if (error instanceof RangeError) throw new EncodeInputError(line, error.message);
          throw error;
        }
      }
    } else if (record.type !== "stream" && record.type !== "error") {
      throw new EncodeInputError(line, `unknown record type ${JSON.stringify(record.type)}`);
    }
  });
  return out;
}
