/**
 * `syncwire dump`: the options, then input → form → frame streams → printed events.
 *
 * - input acquisition and stdin sniffing: `input/source.ts`;
 * - raw bytes go to one frame stream as they come (stdin) or in slices (a file); hex and base64 text is
 *   read whole, checked, and its bytes fed in slices (hex repeats expanded only as far as they are read);
 * - a capture fans out into one frame stream per connection direction, each headed by a "stream" event;
 * - the frame streams (`frame-stream.ts`) run the profile and write to one paced output.
 *
 * Exit status: 1 when any error was reported (the frames before it are shown), else 0.
 */
import { parseArgs } from "node:util";
import { MAX_FRAME_SIZE_LIMIT } from "../wire/header.js";
import { UsageError } from "./errors.js";
import { createFrameStream, type FrameStream } from "./frame-stream.js";
import { parseBase64 } from "./input/base64.js";
import type { InputKind } from "./input/detect.js";
import { parseHex } from "./input/hex.js";
import { openInput, readRest, type OpenedInput } from "./input/source.js";
import { DEFAULT_LIMITS, DumpBudget, MAX_INFLATE_LIMIT, type DumpLimits } from "./limits.js";
import type { Io } from "./main.js";
import { integerOption, profileOption, RENDER_ARGS, renderOptions } from "./options.js";
import { Output } from "./output.js";
import { loadProfile, type ProfileName } from "./profiles/profile.js";
import { jsonPrinter, textPrinter, type RenderOptions } from "./render.js";

/** Input held in memory is fed in slices of this size, so output can drain between them. */
const FEED_BYTES = 64 * 1024;

const INPUT_KINDS: readonly InputKind[] = ["raw", "hex", "base64", "pcap", "pcapng"];

/** `dump`'s command line, checked. */
interface DumpOptions {
  readonly path: string | undefined;
  readonly forced: InputKind | undefined;
  readonly profile: ProfileName;
  readonly port: number | undefined;
  readonly json: boolean;
  readonly render: RenderOptions;
  readonly limits: DumpLimits;
}

function dumpOptions(args: string[], stdoutIsTTY: boolean): DumpOptions {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      input: { type: "string" },
      profile: { type: "string", default: "syncwire" },
      port: { type: "string" },
      ...RENDER_ARGS,
      "max-frame-size": { type: "string" },
      "max-inflate": { type: "string" },
      "max-inflate-total": { type: "string" },
      "max-frames": { type: "string" },
    },
  });
  if (positionals.length > 1) throw new UsageError(`dump takes one input, got ${positionals.length}`);
  const profile = profileOption(values.profile);
  const forced = values.input;
  if (forced !== undefined && !INPUT_KINDS.includes(forced as InputKind)) throw new UsageError(`unknown input form '${forced}' (one of raw, hex, base64, pcap)`);
  const limits: DumpLimits = {
    maxFrameSize: integerOption("max-frame-size", values["max-frame-size"], DEFAULT_LIMITS.maxFrameSize, MAX_FRAME_SIZE_LIMIT),
    maxInflate: integerOption("max-inflate", values["max-inflate"], DEFAULT_LIMITS.maxInflate, MAX_INFLATE_LIMIT),
    maxInflateTotal: integerOption("max-inflate-total", values["max-inflate-total"], DEFAULT_LIMITS.maxInflateTotal, Number.MAX_SAFE_INTEGER, Infinity),
    maxFrames: integerOption("max-frames", values["max-frames"], DEFAULT_LIMITS.maxFrames, Number.MAX_SAFE_INTEGER, Infinity),
  };
  if (limits.maxFrameSize < 16) throw new UsageError("--max-frame-size must be at least 16");
  return {
    path: positionals[0],
    forced: forced as InputKind | undefined,
    profile,
    port: values.port === undefined ? undefined : integerOption("port", values.port, 0, 65535),
    json: values.json,
    limits,
    render: renderOptions(values, stdoutIsTTY),
  };
}

/** `bytes` in slices (views). */
function* slices(bytes: Uint8Array): Generator<Uint8Array, void, undefined> {
  for (let at = 0; at < bytes.byteLength; at += FEED_BYTES) yield bytes.subarray(at, at + FEED_BYTES);
}

/** A raw input's chunks: what was read, then the rest of stdin as it comes (let go of if not all read). */
async function* rawChunks(input: OpenedInput): AsyncGenerator<Uint8Array, void, undefined> {
  if (input.rest === undefined) return yield* slices(input.head);
  try {
    if (input.head.byteLength > 0) yield input.head;
    for (let next = await input.rest.next(); next.done !== true; next = await input.rest.next()) yield next.value;
  } finally {
    // After a fatal error nothing more can be shown: let go of stdin (a live link would never end).
    await input.rest.return?.();
  }
}

/** Feeds `chunks` to `stream` until it ends or cannot show more, writing output as it goes. */
async function pump(stream: FrameStream, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, output: Output): Promise<void> {
  for await (const chunk of chunks) {
    if (!(await stream.push(chunk))) break;
    await output.drained();
  }
  await stream.end();
}

/**
 * A capture's fan-out: one frame stream per connection direction, each headed by a "stream" event, then
 * the cut if the file was cut off. Stops starting streams once one reached the `--max-frames` limit.
 */
async function dumpCapture(bytes: Uint8Array, port: number | undefined, open: (label: string) => FrameStream, output: Output): Promise<void> {
  const { captureStreams } = await import("./input/capture.js");
  const found = captureStreams(bytes, port === undefined ? {} : { port });
  if (found.streams.length === 0) {
    const filter = port === undefined ? "" : `, none on port ${port}`;
    output.emit({ type: "stream", label: "(no TCP payload)", bytes: 0, note: `${found.packetCount} packets, ${found.ignoredPackets} without TCP payload${filter}` });
  }
  for (const s of found.streams) {
    const note = s.gap === undefined ? undefined : `bytes missing from offset ${s.gap.offset}: ${s.gap.missing} not captured`;
    output.emit({ type: "stream", label: s.label, bytes: s.data.byteLength, ...(note === undefined ? {} : { note }) });
    const stream = open(s.label);
    await pump(stream, slices(s.data), output);
    if (stream.limitReached) break;
  }
  const cut = found.truncated;
  if (cut !== undefined) output.emit({ type: "error", offset: cut.offset, code: cut.code, reason: cut.reason });
}

/**
 * Runs `syncwire dump ARGS`.
 * @returns the exit status: 1 if an error was reported, else 0.
 * @throws UsageError for bad options; CliInputError for input that cannot be read as its form (before
 *   any frame is shown).
 */
export async function dump(args: string[], io: Io): Promise<number> {
  const options = dumpOptions(args, io.stdout.isTTY === true);
  const input = await openInput(options.path, io.stdin, options.forced);
  const capture = input.kind === "pcap" || input.kind === "pcapng";
  if (options.port !== undefined && !capture) throw new UsageError("--port applies to captures (pcap, pcapng) only");
  const profile = await loadProfile(options.profile);
  const output = new Output(io.stdout, options.json ? jsonPrinter() : textPrinter(options.render));
  const context = { limits: options.limits, budget: new DumpBudget(options.limits) };
  const open = (label?: string): FrameStream => createFrameStream(profile, context, output, label);

  if (input.kind === "raw") {
    await pump(open(), rawChunks(input), output);
  } else if (capture) {
    await dumpCapture(await readRest(input), options.port, open, output);
  } else {
    const text = new TextDecoder().decode(await readRest(input));
    await pump(open(), input.kind === "hex" ? parseHex(text).chunks(FEED_BYTES) : slices(parseBase64(text)), output);
  }
  output.flush();
  return output.errors > 0 ? 1 : 0;
}
