/**
 * The `syncwire` command: `dump` (decode frames from bytes, hex, base64 or a capture) and `encode`
 * (turn `dump --json` back into bytes). Exit status: 0 ok, 1 a malformed input (reported with its byte
 * offset, after the frames before it), 2 a usage error. Never a stack trace.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_MAX_FRAME_SIZE } from "../wire/header.js";
import { concatBytes } from "./concat.js";
import { PROFILES, createFrameStream, type DumpSettings, type FrameStream, type Profile } from "./dump.js";
import { EncodeInputError, encodeRecords } from "./encode-command.js";
import { captureStreams } from "./input/capture.js";
import { parseBase64 } from "./input/base64.js";
import { DETECT_BYTES, detectInput, type InputKind } from "./input/detect.js";
import { CliInputError } from "./input/errors.js";
import { parseHex } from "./input/hex.js";
import type { DumpEvent } from "./model.js";
import { createPaint } from "./paint.js";
import { DEFAULT_MAX_INFLATE } from "./profiles/inflate.js";
import { renderJson, renderText, type RenderOptions } from "./render.js";

/** Hex dumps stop after this many bytes of a frame unless `--hex-bytes` says otherwise. */
const DEFAULT_HEX_BYTES = 64 * 1024;

export const HELP = `syncwire — decode and encode syncwire frames (and goim, Bilibili, Mars frames beside them)

Usage:
  syncwire dump [FILE | -] [options]     show the frames in FILE (or stdin)
  syncwire encode [FILE | -] [--raw]     turn 'dump --json' output back into bytes (hex, or raw bytes)
  syncwire --help

Input (auto-detected; force with --input raw|hex|base64|pcap):
  raw bytes        syncwire dump capture.bin
  hex, any form    echo '00000010 00100001 00000002 00000001' | syncwire dump -
                   echo '0x00,0x00,0x00,0x10,0x00,0x10,0x00,0x01,0x00,0x00,0x00,0x02,0x00,0x00,0x00,0x01' | syncwire dump -
                   xxd frames.bin | syncwire dump -        hexdump -C frames.bin | syncwire dump -
                   (a Wireshark "hex stream" is one long hex string: paste it as is)
  base64           echo AAAAEAAQAAEAAAACAAAAAQ== | syncwire dump -
  pcap / pcapng    syncwire dump trace.pcapng --port 5000  (TCP reassembled, each direction a frame stream)
  a live link      nc host port | syncwire dump -          (frames are printed as they complete)

Options:
  --profile P        syncwire (default) | goim | bilibili | mars
  --port N           with a capture: only connections with port N at either end
  --json             one JSON object per line (frames, trailers, errors); bytes as hex
  --no-hex           leave out the hex dumps        --no-body   leave out decoded bodies
  --color/--no-color force colour on or off (default: on when stdout is a terminal)
  --max-frame-size N largest frame accepted (default ${DEFAULT_MAX_FRAME_SIZE}; Mars: largest bodyLength)
  --hex-bytes N      most bytes of one frame in its hex dump (default ${DEFAULT_HEX_BYTES}; 0 for all)
  --max-inflate N    Bilibili: most bytes a compressed body may inflate to (default ${DEFAULT_MAX_INFLATE})
  --raw              encode: write bytes instead of hex

Exit status: 0 all frames decoded, 1 malformed input (reported with its byte offset), 2 usage error.`;

/** A usage error: one line, exit 2. */
class UsageError extends Error {}

interface Io {
  readonly stdout: {
    write(text: string | Uint8Array): unknown;
    readonly isTTY?: boolean;
    /** A Node stream's backpressure signal: when true, output waits for "drain" before reading on. */
    readonly writableNeedDrain?: boolean;
    once?(event: "drain", listener: () => void): unknown;
  };
  readonly stderr: { write(text: string): unknown };
  readonly stdin: AsyncIterable<Uint8Array> & { readonly isTTY?: boolean };
}

function positiveInt(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  // Digits only: Number() would also take "1e3", "0x10" and " 7 ".
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new UsageError(`--${name} needs an integer from 1 to ${max}, got '${value}'`);
  return n;
}

/** True when `bytes` holds a byte that pasted text never does: then the input is raw frames. */
function hasBinaryByte(bytes: Uint8Array): boolean {
  for (const b of bytes) if ((b < 0x20 && b !== 9 && b !== 10 && b !== 13 && b !== 11 && b !== 12) || b >= 0x7f) return true;
  return false;
}

async function readAll(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of source) parts.push(chunk);
  return concatBytes(parts);
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Input held in memory is decoded in slices of this size, so output can drain between them. */
const FEED_BYTES = 64 * 1024;

/** Waits while stdout is full: a large input's output is written as it is made, not held in memory. */
async function drained(io: Io): Promise<void> {
  const out = io.stdout;
  if (out.writableNeedDrain === true && out.once !== undefined) await new Promise<void>((resolve) => out.once!("drain", resolve));
}

/** Pushes `data` through `stream` slice by slice (views, no copy), letting stdout drain in between. */
async function feed(stream: FrameStream, data: Uint8Array, io: Io): Promise<void> {
  for (let at = 0; at < data.byteLength; at += FEED_BYTES) {
    if (!stream.push(data.subarray(at, at + FEED_BYTES))) break;
    await drained(io);
  }
  stream.end(data);
}

/** Runs `syncwire dump`; returns the exit status. */
async function dump(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      input: { type: "string" },
      profile: { type: "string", default: "syncwire" },
      port: { type: "string" },
      json: { type: "boolean", default: false },
      "no-hex": { type: "boolean", default: false },
      "no-body": { type: "boolean", default: false },
      color: { type: "boolean" },
      "no-color": { type: "boolean" },
      "max-frame-size": { type: "string" },
      "max-inflate": { type: "string" },
      "hex-bytes": { type: "string" },
    },
  });
  if (positionals.length > 1) throw new UsageError(`dump takes one input, got ${positionals.length}`);
  const profile = values.profile as Profile;
  if (!PROFILES.includes(profile)) throw new UsageError(`unknown profile '${values.profile}' (one of ${PROFILES.join(", ")})`);
  const forced = values.input;
  if (forced !== undefined && !["raw", "hex", "base64", "pcap", "pcapng"].includes(forced)) {
    throw new UsageError(`unknown input form '${forced}' (one of raw, hex, base64, pcap)`);
  }
  const port = values.port === undefined ? undefined : positiveInt("port", values.port, 0, 65535);
  const settings: DumpSettings = {
    profile,
    maxFrameSize: positiveInt("max-frame-size", values["max-frame-size"], DEFAULT_MAX_FRAME_SIZE, 0xffff_ffff),
    // Inflated bodies are held in memory: 1 GiB is far past any real message and within what Node can allocate.
    maxInflate: positiveInt("max-inflate", values["max-inflate"], DEFAULT_MAX_INFLATE, 1 << 30),
  };
  if (settings.maxFrameSize! < 16) throw new UsageError("--max-frame-size must be at least 16");
  const hexBytes = values["hex-bytes"] === "0" ? 0 : positiveInt("hex-bytes", values["hex-bytes"], DEFAULT_HEX_BYTES, Number.MAX_SAFE_INTEGER);
  const color = values["no-color"] === true ? false : values.color === true ? true : io.stdout.isTTY === true;
  const render: RenderOptions = { hex: !values["no-hex"], hexBytes, body: !values["no-body"], paint: createPaint(color && !values.json) };
  let failed = false;
  const emit = (event: DumpEvent): void => {
    if (event.type === "error") failed = true;
    io.stdout.write(values.json ? renderJson(event) : renderText(event, render));
  };

  const path = positionals[0];
  let bytes: Uint8Array;
  if (path === undefined || path === "-") {
    if (path === undefined && io.stdin.isTTY === true) throw new UsageError("no input: give a FILE, or '-' to read stdin");
    // Stream stdin. The input form is decided as soon as a binary byte shows it is raw, or from the
    // first DETECT_BYTES of text; raw bytes are then decoded as they come.
    const iterator = io.stdin[Symbol.asyncIterator]();
    const headParts: Uint8Array[] = [];
    let headBytes = 0;
    let ended = false;
    while (headBytes < DETECT_BYTES) {
      const next = await iterator.next();
      if (next.done === true) {
        ended = true;
        break;
      }
      headParts.push(next.value);
      headBytes += next.value.byteLength;
      if (forced !== undefined || hasBinaryByte(next.value)) break;
    }
    const head = concatBytes(headParts);
    const kind: InputKind = (forced as InputKind | undefined) ?? detectInput(head.subarray(0, DETECT_BYTES));
    if (port !== undefined && kind !== "pcap" && kind !== "pcapng") throw new UsageError("--port applies to captures (pcap, pcapng) only");
    const rest: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => iterator };
    if (kind === "raw") {
      const stream = createFrameStream(settings, emit);
      const wanted = head.byteLength === 0 || stream.push(head);
      if (wanted && !ended) {
        // After a fatal error nothing more can be shown: stop reading (a live link would never end).
        for await (const chunk of rest) {
          if (!stream.push(chunk)) break;
          await drained(io);
        }
      } else if (!ended) {
        await iterator.return?.(); // let go of stdin (for a Node stream: destroy it)
      }
      stream.end();
      return failed ? 1 : 0;
    }
    bytes = ended ? head : concatBytes([head, await readAll(rest)]);
  } else {
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw new UsageError(`cannot read '${path}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }

  const kind: InputKind = (forced as InputKind | undefined) ?? detectInput(bytes.subarray(0, DETECT_BYTES));
  if (port !== undefined && kind !== "pcap" && kind !== "pcapng") throw new UsageError("--port applies to captures (pcap, pcapng) only");
  if (kind === "pcap" || kind === "pcapng") {
    const capture = captureStreams(bytes, port === undefined ? {} : { port });
    if (capture.streams.length === 0) {
      const filter = port === undefined ? "" : `, none on port ${port}`;
      emit({ type: "stream", label: "(no TCP payload)", bytes: 0, note: `${capture.packetCount} packets, ${capture.ignoredPackets} without TCP payload${filter}` });
    }
    for (const s of capture.streams) {
      const note = s.gap === undefined ? undefined : `bytes missing from offset ${s.gap.offset}: ${s.gap.missing} not captured`;
      emit({ type: "stream", label: s.label, bytes: s.data.byteLength, ...(note === undefined ? {} : { note }) });
      await feed(createFrameStream(settings, emit, s.label), s.data, io);
    }
    if (capture.truncated !== undefined) {
      const cut = capture.truncated;
      emit({ type: "error", offset: cut.offset, code: cut.code, message: cut.message.replace(/\s*\([A-Z_]+ at byte \d+\)$/, "") });
    }
    return failed ? 1 : 0;
  }
  const data = kind === "hex" ? parseHex(text(bytes)) : kind === "base64" ? parseBase64(text(bytes)) : bytes;
  await feed(createFrameStream(settings, emit), data, io);
  return failed ? 1 : 0;
}

/** Runs `syncwire encode`; returns the exit status. */
async function encode(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { raw: { type: "boolean", default: false } } });
  if (positionals.length > 1) throw new UsageError(`encode takes one input, got ${positionals.length}`);
  const path = positionals[0];
  let input: string;
  if (path === undefined || path === "-") {
    if (path === undefined && io.stdin.isTTY === true) throw new UsageError("no input: give a FILE, or '-' to read stdin");
    input = text(await readAll(io.stdin));
  } else {
    try {
      input = readFileSync(path, "utf8");
    } catch (error) {
      throw new UsageError(`cannot read '${path}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  const records = encodeRecords(input);
  if (values.raw) for (const r of records) io.stdout.write(r);
  else for (const r of records) io.stdout.write(Buffer.from(r.buffer, r.byteOffset, r.byteLength).toString("hex") + "\n");
  return 0;
}

/**
 * Runs the command line `args` (without `node` and the script).
 * @returns the exit status; prints to `io`. Never throws for bad input or usage.
 */
export async function run(args: string[], io: Io): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command === undefined) throw new UsageError("no command (dump or encode)");
    if (command === "--help" || command === "-h" || command === "help") {
      io.stdout.write(HELP + "\n");
      return 0;
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout.write(HELP + "\n");
      return 0;
    }
    if (command === "dump") return await dump(rest, io);
    if (command === "encode") return await encode(rest, io);
    throw new UsageError(`unknown command '${command}'`);
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"))) {
      // parseArgs explains at length; the first sentence is the one-line hint we want.
      const first = error.message.split(/\. /)[0]!.replace(/\.$/, "");
      io.stderr.write(`syncwire: ${first}. Try 'syncwire --help'.\n`);
      return 2;
    }
    if (error instanceof CliInputError || error instanceof EncodeInputError) {
      io.stderr.write(`syncwire: ${error.message}\n`);
      return 1;
    }
    // Anything else is a bug in syncwire: say so in one line, still without a stack trace.
    io.stderr.write(`syncwire: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
