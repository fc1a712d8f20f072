// What the fuzzer feeds, and what it holds each decoder to. Every target makes its own input from a
// seeded generator (random bytes or text, or a valid input from the corpus bent by the mutators) and
// throws a `Failure` when a property breaks:
//
// - library decoders raise only their own coded error (FrameError, BodyError, SyncKeyFormatError) with a
//   known code and an offset inside the input; never a RangeError, TypeError or anything else;
// - bodies of decoded frames are views of the input (no copy);
// - the streaming FrameDecoder, cut anywhere, agrees with decodeFrames on the whole buffer, and the fast
//   body decoder with protobuf-es wherever it accepts;
// - the CLI's input readers raise only CliInputError; every profile gives the same events whether its
//   input comes in one piece or in random chunks, and never throws; the whole `dump` command, with random
//   options, never reports an internal error.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  BODY_ERROR_CODES,
  BODY_OPS,
  BodyError,
  FRAME_ERROR_CODES,
  FrameDecoder,
  FrameError,
  SyncKeyFormatError,
  bodySchemaOf,
  decodeBody,
  decodeFrame,
  decodeFrames,
  decodeMessage,
  decodeProto,
  formatSyncKey,
  parseSyncKey,
  splitBatch,
  syncKeyEquals,
} from "../../dist/index.js";
import { encodeRecords } from "../../dist/cli/encode-command.js";
import { createFrameStream } from "../../dist/cli/frame-stream.js";
import { captureStreams } from "../../dist/cli/input/capture.js";
import { parseBase64 } from "../../dist/cli/input/base64.js";
import { detectInput } from "../../dist/cli/input/detect.js";
import { CliInputError } from "../../dist/cli/input/errors.js";
import { parseHex } from "../../dist/cli/input/hex.js";
import { DumpBudget } from "../../dist/cli/limits.js";
import { run } from "../../dist/cli/main.js";
import { loadProfile, PROFILE_NAMES } from "../../dist/cli/profiles/profile.js";
import { jsonPrinter } from "../../dist/cli/render.js";
import { concat, generatorFor, mutateBytes, mutateText, randomChunks, randomText } from "./inputs.js";

/** A property that does not hold for an input. */
export class Failure extends Error {}

const hex = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
const describeError = (error) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** Runs `fn`; only `type` errors with a known code and an in-range offset may come out. */
function onlyCoded(fn, type, codes, limit) {
  try {
    return { value: fn() };
  } catch (error) {
    if (!(error instanceof type)) throw new Failure(`untyped throw: ${describeError(error)}`);
    if (codes !== undefined && !codes.includes(error.code)) throw new Failure(`unknown code ${error.code}`);
    if (limit !== undefined && !(Number.isInteger(error.offset) && error.offset >= 0 && error.offset <= limit)) {
      throw new Failure(`offset ${error.offset} outside 0…${limit}: ${error.message}`);
    }
    return { error };
  }
}

/** Frame fields for comparison. */
const fields = (f) => `${f.packetLength}/${f.headerLength}/${f.version}/${f.op}/${f.seq}/${hex(f.extension)}/${hex(f.body)}`;

/** A row of the annotated hex dump, as the text form prints it (no colour: stdout is not a terminal). */
const HEX_ROW = /^ *[0-9a-f]{8} {2}[0-9a-f ]{48} {2}\|.{1,16}\|$/;

/** Random decode options: any version or v1, a small or the default frame limit. */
function decodeOptions(r) {
  return { versions: r.chance(0.5) ? "any" : [1], ...(r.chance(0.5) ? { maxFrameSize: 16 + r.int(4096) } : {}) };
}

/** Frame-ish bytes: random, or a valid input bent. */
function frameBytes(r, corpus) {
  if (r.chance(0.2)) return r.bytes(r.size(512));
  const base = r.chance(0.7) ? r.pick(corpus.frames) : concat(Array.from({ length: 2 + r.int(3) }, () => r.pick(corpus.frames)));
  return mutateBytes(r, base, corpus);
}

/** Text for the text readers: random, or a valid hex/base64/xxd/hexdump text bent. */
function textInput(r, corpus) {
  return r.chance(0.2) ? randomText(r, 400) : mutateText(r, r.pick(corpus.texts));
}

const limitsFor = (r) => ({ maxFrameSize: r.chance(0.5) ? 1 << 20 : 16 + r.int(2048), maxInflate: 1 << 20, maxInflateTotal: 4 << 20, maxFrames: 2000 });

/** The events of a profile's frame stream over `chunks`, as the JSON printer writes them. */
async function profileOutput(profile, limits, chunks) {
  const printer = jsonPrinter();
  let out = "";
  const sink = { emit: (event) => void (out += printer(event)), ready: () => undefined };
  const stream = createFrameStream(profile, { limits, budget: new DumpBudget(limits) }, sink);
  for (const chunk of chunks) if (!(await stream.push(chunk))) break;
  await stream.end();
  return out;
}

/** @type {{ name: string, make: (r: any, corpus: any) => any, run: (input: any, r: any) => unknown, show: (input: any) => string }[]} */
export const TARGETS = [
  {
    name: "decodeFrame",
    make: (r, corpus) => ({ bytes: frameBytes(r, corpus), options: decodeOptions(r) }),
    run({ bytes, options }) {
      const { value } = onlyCoded(() => decodeFrame(bytes, options), FrameError, FRAME_ERROR_CODES, bytes.length);
      if (value !== undefined && value.body.buffer !== bytes.buffer) throw new Failure("body is a copy, not a view of the input");
    },
  },
  {
    name: "decodeFrames",
    make: (r, corpus) => ({ bytes: frameBytes(r, corpus), options: { ...decodeOptions(r), allowTrailer: r.chance(0.5) } }),
    run({ bytes, options }) {
      const { value, error } = onlyCoded(() => decodeFrames(bytes, options), FrameError, FRAME_ERROR_CODES, bytes.length);
      if (error !== undefined && options.allowTrailer) throw new Failure(`allowTrailer, yet ${error.code}`);
      if (value === undefined) return;
      const used = value.frames.reduce((n, f) => n + f.packetLength, 0);
      if (used + value.trailer.length !== bytes.length) throw new Failure(`frames (${used}) and trailer (${value.trailer.length}) do not cover ${bytes.length} bytes`);
      if (value.frames.some((f) => f.body.buffer !== bytes.buffer)) throw new Failure("a body is a copy, not a view of the input");
    },
  },
  {
    name: "splitBatch",
    make: (r, corpus) => ({ bytes: frameBytes(r, corpus), options: decodeOptions(r) }),
    run({ bytes, options }) {
      onlyCoded(() => splitBatch(bytes, options), FrameError, FRAME_ERROR_CODES, bytes.length);
      const frame = onlyCoded(() => decodeFrame(bytes, { versions: "any" }), FrameError).value;
      if (frame !== undefined && frame.op === 9) onlyCoded(() => splitBatch(frame, options), FrameError, FRAME_ERROR_CODES, bytes.length);
    },
  },
  {
    name: "FrameDecoder vs decodeFrames",
    make: (r, corpus) => {
      const bytes = frameBytes(r, corpus);
      return { bytes, chunks: randomChunks(r, bytes), options: decodeOptions(r), poolSize: r.pick([undefined, 0, 64, 256]) };
    },
    run({ bytes, chunks, options, poolSize }) {
      const whole = onlyCoded(() => decodeFrames(bytes, options).frames, FrameError, FRAME_ERROR_CODES, bytes.length);
      const decoder = new FrameDecoder({ ...options, ...(poolSize === undefined ? {} : { poolSize }) });
      const got = [];
      const streamed = onlyCoded(
        () => {
          for (const chunk of chunks) decoder.push(chunk, got);
          decoder.end();
        },
        FrameError,
        FRAME_ERROR_CODES,
        bytes.length,
      );
      const a = whole.error === undefined ? "ok" : `${whole.error.code}@${whole.error.offset}`;
      const b = streamed.error === undefined ? "ok" : `${streamed.error.code}@${streamed.error.offset}`;
      if (a !== b) throw new Failure(`decodeFrames: ${a}, FrameDecoder: ${b}`);
      if (whole.value !== undefined && whole.value.map(fields).join() !== got.map(fields).join()) throw new Failure("different frames");
    },
  },
  {
    name: "decodeMessage (every op)",
    make: (r, corpus) => {
      const seed = r.pick(corpus.bodies);
      const op = r.chance(0.7) ? seed.op : r.pick(BODY_OPS);
      return { op, body: r.chance(0.15) ? r.bytes(r.size(256)) : mutateBytes(r, seed.body, corpus), offset: r.int(64) };
    },
    run({ op, body, offset }) {
      onlyCoded(() => decodeMessage(op, body, offset), BodyError, BODY_ERROR_CODES, body.length + offset);
      const lazy = decodeBody({ op, body, headerLength: offset });
      if (!lazy.opaque) onlyCoded(() => lazy.message, BodyError, BODY_ERROR_CODES, body.length + offset);
    },
  },
  {
    name: "decodeProto vs protobuf-es",
    make: (r, corpus) => {
      const seed = r.pick(corpus.bodies);
      return { op: r.chance(0.7) ? seed.op : r.pick(BODY_OPS), body: r.chance(0.15) ? r.bytes(r.size(256)) : mutateBytes(r, seed.body, corpus) };
    },
    run({ op, body }) {
      const schema = bodySchemaOf(op);
      const { value } = onlyCoded(() => decodeProto(schema, body), BodyError, BODY_ERROR_CODES, body.length);
      if (value === undefined) return;
      let reference;
      try {
        reference = fromBinary(schema, body);
      } catch (error) {
        throw new Failure(`decodeProto accepted what protobuf-es refuses: ${describeError(error)}`);
      }
      if (hex(toBinary(schema, value)) !== hex(toBinary(schema, reference))) throw new Failure("decodeProto and protobuf-es decode different messages");
    },
  },
  {
    name: "parseSyncKey",
    make: (r, corpus) => ({ text: r.chance(0.3) ? randomText(r, 60) : mutateText(r, r.pick(corpus.syncKeys)) }),
    run({ text }) {
      const { value } = onlyCoded(() => parseSyncKey(text), SyncKeyFormatError, ["BAD_SYNC_KEY"], text.length);
      if (value !== undefined && !syncKeyEquals(parseSyncKey(formatSyncKey(value)), value)) throw new Failure("format ∘ parse does not round-trip");
    },
    show: ({ text }) => JSON.stringify(text),
  },
  {
    name: "CLI detectInput",
    make: (r, corpus) => ({ bytes: r.chance(0.5) ? frameBytes(r, corpus) : new TextEncoder().encode(textInput(r, corpus)) }),
    run({ bytes }) {
      const kind = detectInput(bytes);
      if (!["raw", "hex", "base64", "pcap", "pcapng"].includes(kind)) throw new Failure(`unknown kind ${kind}`);
    },
  },
  {
    name: "CLI parseHex",
    make: (r, corpus) => ({ text: textInput(r, corpus), size: 1 + r.int(100) }),
    run({ text, size }) {
      const { value } = onlyCoded(() => parseHex(text), CliInputError);
      if (value === undefined) return;
      let total = 0;
      // Take at most 1 MiB: a '*' line may stand for 256 MiB, expanded only as far as it is read.
      for (const chunk of value.chunks(size)) if ((total += chunk.length) > 1 << 20) return;
      if (total !== value.length) throw new Failure(`chunks hold ${total} bytes, length says ${value.length}`);
    },
    show: ({ text }) => JSON.stringify(text),
  },
  {
    name: "CLI parseBase64",
    make: (r, corpus) => ({ text: textInput(r, corpus) }),
    run({ text }) {
      onlyCoded(() => parseBase64(text), CliInputError);
    },
    show: ({ text }) => JSON.stringify(text),
  },
  {
    name: "CLI captureStreams",
    make: (r, corpus) => ({ bytes: mutateBytes(r, r.pick(corpus.captures), corpus), port: r.chance(0.3) ? r.pick([5000, 5001, 1]) : undefined }),
    run({ bytes, port }) {
      onlyCoded(() => captureStreams(bytes, port === undefined ? {} : { port }), CliInputError);
    },
  },
  {
    name: "CLI encodeRecords",
    make: (r, corpus) => ({ text: mutateText(r, r.pick(corpus.ndjson)) }),
    run({ text }) {
      onlyCoded(() => encodeRecords(text), CliInputError);
    },
    show: ({ text }) => JSON.stringify(text),
  },
  {
    name: "CLI profiles (whole vs chunked)",
    make: (r, corpus) => {
      const bytes = frameBytes(r, corpus);
      return { bytes, chunks: randomChunks(r, bytes), profile: r.pick(PROFILE_NAMES), limits: limitsFor(r) };
    },
    async run({ bytes, chunks, profile, limits }) {
      const loaded = await loadProfile(profile);
      let whole;
      let chunked;
      try {
        whole = await profileOutput(loaded, limits, bytes.length === 0 ? [] : [bytes]);
        chunked = await profileOutput(loaded, limits, chunks);
      } catch (error) {
        throw new Failure(`${profile}: threw ${describeError(error)}`);
      }
      if (whole !== chunked) throw new Failure(`${profile}: output differs with the input in ${chunks.length} chunks`);
    },
    show: ({ bytes, profile, limits }) => `${profile} ${JSON.stringify(limits)} ${hex(bytes)}`,
  },
  {
    name: "CLI dump (whole command)",
    make: (r, corpus) => {
      const text = r.chance(0.4);
      const data = text ? new TextEncoder().encode(textInput(r, corpus)) : r.chance(0.1) ? mutateBytes(r, r.pick(corpus.captures), corpus) : frameBytes(r, corpus);
      const args = ["dump", "-", "--profile", r.pick(PROFILE_NAMES), "--max-frames", String(1 + r.int(3000)), "--max-inflate-total", String(4 << 20)];
      // Mostly the text form: --json output is what the profiles target compares already.
      if (r.chance(0.3)) args.push("--json");
      if (r.chance(0.1)) args.push("--no-hex");
      if (r.chance(0.2)) args.push("--no-body");
      if (r.chance(0.5)) args.push("--hex-bytes", String(r.int(49)));
      if (r.chance(0.2)) args.push("--input", r.pick(["raw", "hex", "base64", "pcap"]));
      if (r.chance(0.2)) args.push("--max-frame-size", String(16 + r.int(4096)));
      return { data, chunks: randomChunks(r, data), args };
    },
    async run({ chunks, args }) {
      let stderr = "";
      let stdout = "";
      const io = {
        stdout: { write: (text) => void (stdout += typeof text === "string" ? text : "") },
        stderr: { write: (text) => void (stderr += text) },
        stdin: {
          async *[Symbol.asyncIterator]() {
            for (const chunk of chunks) yield chunk.slice();
          },
        },
      };
      const code = await run(args, io);
      if (stderr.includes("internal error")) throw new Failure(stderr.trim());
      if (code !== 0 && code !== 1) throw new Failure(`exit ${code}: ${stderr.trim()}`);
      // Every hex dump row is whole: offset, 16 cells of two hex digits or blanks, the ascii column.
      if (!args.includes("--json")) {
        for (const line of stdout.split("\n")) {
          if (/^ *[0-9a-f]{8} {2}/.test(line) && !HEX_ROW.test(line)) throw new Failure(`malformed hex dump row: ${JSON.stringify(line)}`);
        }
      }
    },
    show: ({ data, args }) => `syncwire ${args.join(" ")} <<< ${hex(data)}`,
  },
];

/** How a target's input is printed in a failure report: hex of its bytes by default. */
export function showInput(target, input) {
  if (target.show !== undefined) return target.show(input);
  const bytes = input.bytes ?? input.body;
  return `${hex(bytes)}${input.op === undefined ? "" : ` (op ${input.op})`}${input.options === undefined ? "" : ` ${JSON.stringify(input.options)}`}`;
}

/** Input `index` of the run with `seed` over `targets`: which target, its generator, and the input. */
export function inputAt(targets, seed, index, corpus) {
  const target = targets[index % targets.length];
  const r = generatorFor(seed, index);
  return { target, r, input: target.make(r, corpus) };
}
