/**
 * The `syncwire` command: `dump` (decode frames from bytes, hex, base64 or a capture) and `encode`
 * (turn `dump --json` back into bytes). Exit status: 0 ok, 1 a malformed input (reported with its byte
 * offset, after the frames before it), 2 a usage error. Never a stack trace.
 *
 * Start-up: this module loads only what `--help` needs; each command, and each profile, is imported when
 * it is used (protobuf-es alone costs more than Node's own start-up).
 */
import { DEFAULT_HEX_BYTES, DEFAULT_LIMITS, DEFAULT_MAX_FRAMES } from "./limits.js";
import { codedError, UsageError } from "./errors.js";
import type { Stdin } from "./input/source.js";
import type { Stdout } from "./output.js";
import { PROFILE_NAMES } from "./profiles/profile.js";

/** The text of `syncwire --help`: every input form, option and limit, with their defaults. */
export const HELP = `syncwire — decode and encode syncwire frames (and goim, Bilibili, Mars frames beside them)

Usage:
  syncwire dump [FILE | -] [options]     show the frames in FILE (or stdin)
  syncwire encode [FILE | -] [--raw]     turn 'dump --json' output back into bytes (hex, or raw bytes)
  syncwire serve [--tcp H:P] [--ws H:P] [--http H:P] [--tls H:P --tls-cert F --tls-key F] [--token-file F]
                 [--redis URL [--redis-prefix P] [--blobs DIR]]
                                         run a server until SIGINT/SIGTERM: in-memory stores, or with --redis
                                         one node of several sharing that Redis (README: syncwire serve)
  syncwire proxy --listen HOST:PORT --upstream HOST:PORT [options]
                                         watch and break a live TCP link (see syncwire proxy --help)
  syncwire --help

Input (auto-detected; force with --input raw|hex|base64|pcap):
  raw bytes        syncwire dump capture.bin
  hex, any form    echo '00000010 00100001 00000002 00000001' | syncwire dump -
                   echo '0x00,0x00,0x00,0x10,0x00,0x10,0x00,0x01,0x00,0x00,0x00,0x02,0x00,0x00,0x00,0x01' | syncwire dump -
                   xxd frames.bin | syncwire dump -        hexdump -C frames.bin | syncwire dump -
                   (a Wireshark "hex stream" is one long hex string: paste it as is)
  base64           echo AAAAEAAQAAEAAAACAAAAAQ== | syncwire dump -
  pcap / pcapng    syncwire dump trace.pcapng --port 5000  (TCP reassembled, each direction a frame stream)
  a live link      nc host port | syncwire dump - --max-frames 0   (frames are printed as they complete)

Options:
  --profile P        ${PROFILE_NAMES.join(" | ")} (the first is the default)
  --port N           with a capture: only connections with port N at either end
  --json             one JSON object per line (frames, trailers, errors); bytes as hex
  --no-hex           leave out the hex dumps        --no-body   leave out decoded bodies
  --color/--no-color force colour on or off (default: on when stdout is a terminal)
  --hex-bytes N      most bytes of one frame in its hex dump (default ${DEFAULT_HEX_BYTES}; 0 for all)

Limits (a few bytes of hostile input must not cost minutes or gigabytes):
  --max-frame-size N largest frame accepted, inner frames too (default ${DEFAULT_LIMITS.maxFrameSize}; Mars: largest bodyLength)
  --max-frames N     most frames described in the whole input, inner frames too (default ${DEFAULT_MAX_FRAMES};
                     0 for no limit); past it the dump stops, inner frames past it are counted
  --max-inflate N    Bilibili: most bytes one frame's compressed bodies inflate to (default ${DEFAULT_LIMITS.maxInflate})
  --max-inflate-total N
                     Bilibili: most bytes inflated in the whole input (default ${DEFAULT_LIMITS.maxInflateTotal}; 0 for no limit)

Bilibili trailers: bytes after a HEARTBEAT_REPLY that are not frames (the server's echo of the client's
heartbeat body) are shown as a trailer when the input ends there, up to --max-frame-size of them.

Exit status: 0 all frames decoded, 1 malformed input or a limit reached (reported with its byte offset),
2 usage error.`;

/** What the command talks to: Node's process streams, or fakes in tests. */
export interface Io {
  readonly stdout: Stdout;
  readonly stderr: { write(text: string): unknown };
  readonly stdin: Stdin;
}

/** The one place a failure becomes an exit status and a line on stderr. */
function failed(error: unknown, io: Io): number {
  if (error instanceof UsageError || (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"))) {
    // parseArgs explains at length; the first sentence is the one-line hint we want.
    const first = error.message.split(/\. /)[0]!.replace(/\.$/, "");
    io.stderr.write(`syncwire: ${first}. Try 'syncwire --help'.\n`);
    return 2;
  }
  const coded = codedError(error);
  if (coded !== undefined) {
    // Input that cannot be read as its form, before any frame: the message names the code and where.
    io.stderr.write(`syncwire: ${coded.message}\n`);
    return 1;
  }
  // Anything else is a bug in syncwire: say so in one line, still without a stack trace.
  io.stderr.write(`syncwire: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

/**
 * Runs the command line `args` (without `node` and the script).
 * @returns the exit status; prints to `io`. Never throws for bad input or usage.
 */
export async function run(args: string[], io: Io): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command === undefined) throw new UsageError("no command (dump or encode)");
    if (command === "proxy") return await (await import("./proxy-command.js")).proxy(rest, io);
    if (command === "--help" || command === "-h" || command === "help" || rest.includes("--help") || rest.includes("-h")) {
      io.stdout.write(HELP + "\n");
      return 0;
    }
    if (command === "dump") return await (await import("./dump-command.js")).dump(rest, io);
    if (command === "encode") return await (await import("./encode-command.js")).encode(rest, io);
    if (command === "serve") return await (await import("./serve-command.js")).serve(rest, io);
    throw new UsageError(`unknown command '${command}'`);
  } catch (error) {
    return failed(error, io);
  }
}
