/**
 * `syncwire proxy`: a TCP proxy between a client and a server that prints every frame of both
 * directions as it passes, annotated as `dump` prints it, and breaks the link on demand (the fault
 * proxy of `syncwire/node`, `createFaultProxy`). The options, the start, and the stop on SIGINT/SIGTERM;
 * the printing is `proxy-feed.ts`.
 *
 * Exit status: 0 after a clean stop, 1 if a malformed frame was reported (as `dump`) or the address
 * cannot be listened on, 2 for a usage error.
 */
import { parseArgs } from "node:util";
import { createFaultProxy, type FaultProxy } from "../node/fault-proxy.js";
import type { Faults, FaultSettings } from "../node/fault-settings.js";
import { MAX_FRAME_SIZE_LIMIT } from "../wire/header.js";
import { UsageError } from "./errors.js";
import { DEFAULT_LIMITS, MAX_INFLATE_LIMIT, type DumpLimits } from "./limits.js";
import { linkRecordJson, linkRecordText, type ProxyRecord } from "./link-record.js";
import type { Io } from "./main.js";
import { integerOption, profileOption, RENDER_ARGS, renderOptions } from "./options.js";
import { Output } from "./output.js";
import { loadProfile, PROFILE_NAMES, type ProfileName } from "./profiles/profile.js";
import { ProxyFeed } from "./proxy-feed.js";
import { jsonPrinter, textPrinter, type RenderOptions } from "./render.js";

/** The text of `syncwire proxy --help`. */
export const PROXY_HELP = `syncwire proxy — watch and break a live TCP link

Usage:
  syncwire proxy --listen HOST:PORT --upstream HOST:PORT [options]

Clients connect to --listen; each gets its own connection to --upstream, and every byte is forwarded
both ways. Every frame of both directions is printed as it passes, as 'syncwire dump' prints it, under a
heading with the time, the link number and the direction:

  12:00:01.234  #1 client → server
  frame @0  HELLO  packetLength=… (the frame, its body and its annotated hex dump, as dump shows them)

Offsets count the bytes of that direction of that link. Link events (open, end of stream, a dropped
frame, a kill, close with its tallies) are one line each. Ports: HOST:PORT, [IPv6]:PORT, or PORT
alone for 127.0.0.1; --listen port 0 picks a free port (the address is printed on stderr).

Options:
  --profile P          framing and annotation: ${PROFILE_NAMES.join(" | ")} (default ${PROFILE_NAMES[0]})
  --json               one JSON object per line: frames as 'dump --json' prints them plus "stream"
                       ("#1 client → server") and "time" (ISO 8601); link events as {"type":"link",…}
  --no-hex, --no-body, --color, --no-color, --hex-bytes N    as in dump
  --max-frame-size N   largest frame (default ${DEFAULT_LIMITS.maxFrameSize}); a larger one is a framing error
  --max-inflate N      Bilibili: most bytes one frame's compressed bodies inflate to (default ${DEFAULT_LIMITS.maxInflate})

Faults (both directions, unless --faults-on picks one):
  --split N            forward in writes of at most N bytes, each in its own turn of the event loop
                       (1: the receiver reads one byte at a time)
  --merge MS           gather what is forwarded for MS ms, then write it at once (merged writes)
  --delay MS           hold every frame MS ms before forwarding it (latency; order kept)
  --drop P             drop whole frames with probability P (0 to 1), drawn from a seeded generator
  --seed S             the generator's seed (default 1: the same traffic loses the same frames)
  --kill-after N       close the link once N frames have passed in one direction (the Nth is forwarded)
  --kill-after-bytes N close the link once N bytes have been forwarded in one direction
  --faults-on D        up (client → server), down (server → client) or both (default)

A frame is forwarded once it is whole (faults act on whole frames). Bytes that are not frames under the
profile are reported as dump reports them; that direction is then forwarded as bytes, unparsed and
unprinted, to the end of the link (no drops or frame counts there). A killed link: the receiving side
gets the last bytes, then both connections are closed.

Stop with Ctrl-C (SIGINT) or SIGTERM: listening stops, what the proxy holds is written, links are closed
(after 1 s at the latest) and a last line is printed on stderr.

Exit status: 0, or 1 if a malformed frame was reported or the address cannot be listened on, 2 usage error.`;

/** Where to listen or connect. */
interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `proxy`'s command line, checked. */
export interface ProxyOptions {
  readonly listen: HostPort;
  readonly upstream: HostPort;
  readonly profile: ProfileName;
  readonly json: boolean;
  readonly render: RenderOptions;
  readonly limits: DumpLimits;
  readonly faults: FaultSettings;
  readonly seed: number;
}

/** The largest --delay / --merge: Node's longest timer. */
const MAX_MS = 0x7fff_ffff;

/**
 * "HOST:PORT", "[v6]:PORT" or "PORT" (127.0.0.1).
 * @throws UsageError for anything else, or a port below `minPort`.
 */
function hostPort(name: string, value: string | undefined, minPort: number): HostPort {
  if (value === undefined) throw new UsageError(`--${name} HOST:PORT is required`);
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || !(port >= minPort && port <= 65535)) throw new UsageError(`--${name} needs HOST:PORT with a port from ${minPort} to 65535, got '${value}'`);
  const host = match[1] ?? match[2] ?? "";
  return { host: host === "" ? "127.0.0.1" : host, port };
}

/** A probability: "0", "1", "0.25", ".5". */
function probability(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const p = /^(?:\d+(?:\.\d*)?|\.\d+)$/.test(value) ? Number(value) : NaN;
  if (!(p >= 0 && p <= 1)) throw new UsageError(`--drop needs a probability from 0 to 1, got '${value}'`);
  return p;
}

/**
 * Reads `syncwire proxy ARGS`.
 * @throws UsageError for bad options.
 */
export function proxyOptions(args: string[], stdoutIsTTY: boolean): ProxyOptions {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      listen: { type: "string" },
      upstream: { type: "string" },
      profile: { type: "string", default: "syncwire" },
      ...RENDER_ARGS,
      "max-frame-size": { type: "string" },
      "max-inflate": { type: "string" },
      split: { type: "string" },
      merge: { type: "string" },
      delay: { type: "string" },
      drop: { type: "string" },
      seed: { type: "string" },
      "kill-after": { type: "string" },
      "kill-after-bytes": { type: "string" },
      "faults-on": { type: "string", default: "both" },
    },
  });
  if (positionals.length > 0) throw new UsageError(`proxy takes no operands, got '${positionals[0]}'`);
  const on = values["faults-on"];
  if (on !== "up" && on !== "down" && on !== "both") throw new UsageError(`--faults-on needs up, down or both, got '${on}'`);
  const limits: DumpLimits = {
    ...DEFAULT_LIMITS,
    maxFrameSize: integerOption("max-frame-size", values["max-frame-size"], DEFAULT_LIMITS.maxFrameSize, MAX_FRAME_SIZE_LIMIT),
    maxInflate: integerOption("max-inflate", values["max-inflate"], DEFAULT_LIMITS.maxInflate, MAX_INFLATE_LIMIT),
    // A live link has no end: no whole-input budgets (each frame is still bounded by the limits above).
    maxFrames: Infinity,
    maxInflateTotal: Infinity,
  };
  if (limits.maxFrameSize < 16) throw new UsageError("--max-frame-size must be at least 16");
  const faults: Faults = {};
  if (values.split !== undefined) faults.split = integerOption("split", values.split, 0, Number.MAX_SAFE_INTEGER);
  if (values.merge !== undefined) faults.mergeMs = integerOption("merge", values.merge, 0, MAX_MS, 0);
  if (values.delay !== undefined) faults.delayMs = integerOption("delay", values.delay, 0, MAX_MS, 0);
  const drop = probability(values.drop);
  if (drop !== undefined) faults.drop = drop;
  if (values["kill-after"] !== undefined) faults.killAfterFrames = integerOption("kill-after", values["kill-after"], 0, Number.MAX_SAFE_INTEGER);
  if (values["kill-after-bytes"] !== undefined) faults.killAfterBytes = integerOption("kill-after-bytes", values["kill-after-bytes"], 0, Number.MAX_SAFE_INTEGER, 0);
  return {
    listen: hostPort("listen", values.listen, 0),
    upstream: hostPort("upstream", values.upstream, 1),
    profile: profileOption(values.profile),
    json: values.json,
    render: renderOptions(values, stdoutIsTTY),
    limits,
    faults: on === "both" ? faults : { [on]: faults },
    seed: integerOption("seed", values.seed, 1, 0xffff_ffff, 0),
  };
}

const formatAddress = ({ host, port }: HostPort): string => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

/** The faults in words, for the start-up line: "split 1, drop 0.1 (seed 1); client → server only". */
function describeFaults(settings: FaultSettings, seed: number): string {
  const direction = settings.up !== undefined ? "up" : settings.down !== undefined ? "down" : undefined;
  const f: Faults = direction === undefined ? settings : settings[direction]!;
  const parts: string[] = [];
  if (f.split !== undefined) parts.push(`split ${f.split}`);
  if (f.mergeMs !== undefined) parts.push(`merge ${f.mergeMs} ms`);
  if (f.delayMs !== undefined) parts.push(`delay ${f.delayMs} ms`);
  if (f.drop !== undefined) parts.push(`drop ${f.drop} (seed ${seed})`);
  if (f.killAfterFrames !== undefined) parts.push(`kill after ${f.killAfterFrames} frames`);
  if (f.killAfterBytes !== undefined) parts.push(`kill after ${f.killAfterBytes} bytes`);
  if (parts.length === 0) return "none";
  return parts.join(", ") + (direction === undefined ? "" : direction === "up" ? "; client → server only" : "; server → client only");
}

/** A proxy started by {@link startProxy}. */
export interface RunningProxy {
  /** Where it listens (the real port when --listen asked for port 0). */
  readonly address: { readonly host: string; readonly port: number };
  /** The fault proxy underneath (tests change its faults or kill its links). */
  readonly proxy: FaultProxy;
  /**
   * Stops listening, closes the links, prints what is left and a last line on stderr.
   * @returns the exit status: 1 if an error was reported, else 0.
   */
  stop(): Promise<number>;
}

/**
 * Starts the proxy of `options`, printing to `io`: a start-up line on stderr, frames and link records
 * on stdout.
 * @returns the running proxy, or the exit status 1 if the address cannot be listened on (said on stderr).
 */
export async function startProxy(options: ProxyOptions, io: Io): Promise<RunningProxy | number> {
  const profile = await loadProfile(options.profile);
  const paint = options.render.paint;
  const frames = options.json ? jsonPrinter() : textPrinter(options.render);
  const output = new Output<ProxyRecord>(io.stdout, (record) =>
    record.type === "link" ? (options.json ? linkRecordJson(record) : linkRecordText(record, paint)) : frames(record),
  );
  const upstream = formatAddress(options.upstream);
  const feed = new ProxyFeed(profile, options.limits, output, options.faults, upstream);
  let proxy: FaultProxy;
  try {
    proxy = await createFaultProxy({
      listen: options.listen,
      upstream: options.upstream,
      faults: options.faults,
      seed: options.seed,
      framing: () => profile.createDecoder(options.limits),
      onEvent: feed.onEvent,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    io.stderr.write(`syncwire: cannot listen on ${formatAddress(options.listen)}: ${code}\n`);
    return 1;
  }
  io.stderr.write(
    `syncwire proxy: listening on ${formatAddress(proxy.address)}, upstream ${upstream}, profile ${options.profile}, faults: ${describeFaults(options.faults, options.seed)}\n`,
  );
  return {
    address: proxy.address,
    proxy,
    async stop() {
      await proxy.close();
      await feed.idle();
      output.flush();
      const links = proxy.stats.linksOpened;
      io.stderr.write(`syncwire proxy: stopped after ${links === 1 ? "1 link" : `${links} links`}\n`);
      return output.errors > 0 ? 1 : 0;
    },
  };
}

/** Resolves on the first SIGINT or SIGTERM (a second one then ends the process as usual). */
function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/**
 * Runs `syncwire proxy ARGS` until SIGINT or SIGTERM.
 * @returns the exit status (see the top of this file).
 * @throws UsageError for bad options.
 */
export async function proxy(args: string[], io: Io): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout.write(PROXY_HELP + "\n");
    return 0;
  }
  const running = await startProxy(proxyOptions(args, io.stdout.isTTY === true), io);
  if (typeof running === "number") return running;
  await stopSignal();
  return running.stop();
}
