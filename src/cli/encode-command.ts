/**
 * `syncwire encode`: reads the `dump --json` form and writes the bytes back, so
 * `syncwire dump --json x | syncwire encode` reproduces the input's frames (and trailers) exactly.
 */
import { parseArgs } from "node:util";
import { Buffer } from "node:buffer";
import { MAX_U32 } from "../wire/bytes.js";
import { encodeFrame } from "../wire/encode.js";
import { UsageError } from "./errors.js";
import { CliInputError } from "./input/errors.js";
import { readWholeInput } from "./input/source.js";
import type { Io } from "./main.js";
import { MARS_HEADER_SIZE } from "./profiles/mars.js";

const MAX_U16 = 0xffff;

/** A record that cannot be encoded: BAD_RECORD at its line. */
function badRecord(line: number, reason: string): CliInputError {
  return new CliInputError("BAD_RECORD", reason, { line });
}

function fromHex(hex: unknown, line: number, field: string): Uint8Array {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw badRecord(line, `"${field}" must be a hex string`);
  return new Uint8Array(Buffer.from(hex, "hex"));
}

function uint(value: unknown, line: number, field: string, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) throw badRecord(line, `"${field}" must be an integer from 0 to ${max}`);
  return value;
}

function marsFrame(record: Record<string, unknown>, line: number): Uint8Array {
  const extension = fromHex(record.extension ?? "", line, "extension");
  const body = fromHex(record.body ?? "", line, "body");
  const out = new Uint8Array(MARS_HEADER_SIZE + extension.byteLength + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MARS_HEADER_SIZE + extension.byteLength);
  view.setUint32(4, uint(record.clientVersion, line, "clientVersion", MAX_U32));
  view.setUint32(8, uint(record.cmdid, line, "cmdid", MAX_U32));
  view.setUint32(12, uint(record.seq, line, "seq", MAX_U32));
  view.setUint32(16, body.byteLength);
  out.set(extension, MARS_HEADER_SIZE);
  out.set(body, MARS_HEADER_SIZE + extension.byteLength);
  return out;
}

/**
 * Encodes the NDJSON records of `text` ("frame" and "trailer" lines; "stream" and "error" lines carry
 * no bytes and are skipped).
 * @returns the bytes, one fresh array per record, in order.
 * @throws CliInputError BAD_RECORD (with its line) for a line that is not JSON or a record with missing
 *   or invalid fields.
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
      throw badRecord(line, "not a JSON object (expected the output of 'syncwire dump --json')");
    }
    if (record === null || typeof record !== "object") throw badRecord(line, "not a JSON object");
    if (record.type === "trailer") {
      out.push(fromHex(record.bytes, line, "bytes"));
    } else if (record.type === "frame") {
      if (record.profile === "mars") {
        out.push(marsFrame(record, line));
        return;
      }
      const frame = {
        op: uint(record.op, line, "op", MAX_U32),
        seq: uint(record.seq, line, "seq", MAX_U32),
        version: uint(record.version, line, "version", MAX_U16),
        extension: fromHex(record.extension ?? "", line, "extension"),
        body: fromHex(record.body ?? "", line, "body"),
      };
      try {
        out.push(encodeFrame(frame));
      } catch (error) {
        if (error instanceof RangeError) throw badRecord(line, error.message);
        throw error;
      }
    } else if (record.type !== "stream" && record.type !== "error") {
      throw badRecord(line, `unknown record type ${JSON.stringify(record.type)}`);
    }
  });
  return out;
}

/**
 * Runs `syncwire encode ARGS`.
 * @returns 0; writes hex lines (or `--raw` bytes) to stdout.
 * @throws UsageError for bad options or an unreadable file; CliInputError BAD_RECORD for bad records
 *   (nothing is written then).
 */
export async function encode(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { raw: { type: "boolean", default: false } } });
  if (positionals.length > 1) throw new UsageError(`encode takes one input, got ${positionals.length}`);
  const records = encodeRecords(new TextDecoder().decode(await readWholeInput(positionals[0], io.stdin)));
  if (values.raw) for (const r of records) io.stdout.write(r);
  else for (const r of records) io.stdout.write(Buffer.from(r.buffer, r.byteOffset, r.byteLength).toString("hex") + "\n");
  return 0;
}
