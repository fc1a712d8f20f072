/**
 * `syncwire serve`: the reference server from the command line, what a client author tests against (as
 * mosquitto is for MQTT). One `SyncwireServer` on the listeners asked for (TCP, TLS, WebSocket, HTTP
 * short links), over the stores of serve-stores.ts, with the reference authentication (the token is
 * the user id, or a `user:token` file). One log line per connection event on stdout; SIGINT or SIGTERM
 * stops it gracefully (every link gets DISCONNECT SERVER_SHUTDOWN with retry_after_ms), exit 0.
 * Frames-level behaviour: README "syncwire serve" and docs/PROTOCOL.md §11.
 *
 * Options: --tcp/--ws/--http/--tls HOST:PORT (at least one; port 0 picks a free port, printed at
 * start-up), --tls-cert/--tls-key FILE (PEM, with --tls), --token-file FILE (`user:token` lines),
 * --heartbeat-ms N (default 30000), --retry-after-ms N (of the shutdown DISCONNECT, default 1000),
 * --allow-origin O (CORS for browsers posting short links from another origin), --redis URL (stores on
 * Redis: this process is one node of a deployment; with --redis-prefix P, default "syncwire:", and
 * --blobs DIR for finished uploads, shared by every node). An unreachable Redis at start-up: exit 1.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { tokenAuthenticator, parseTokenFile } from "../node/authenticate.js";
import { formatServerLogEntry } from "../node/log.js";
import { SyncwireServer, type ListenAddress, type SyncwireServerOptions } from "../node/server.js";
import { UsageError } from "./errors.js";
import type { Io } from "./main.js";
import { openServeStores, StoresUnavailableError, type ServeStores } from "./serve-stores.js";

/**
 * "HOST:PORT" or "[IPv6]:PORT".
 * @throws UsageError naming the option for anything else.
 */
export function parseListenAddress(option: string, text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port > 65535) throw new UsageError(`--${option} needs HOST:PORT such as 127.0.0.1:9000 or [::1]:9000, got '${text}'`);
  return { host: match[1] ?? match[2]!, port };
}

function integerArg(option: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffff_ffff) throw new UsageError(`--${option} needs a whole number of milliseconds, got '${text}'`);
  return Number(text);
}

function readFile(option: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read --${option} '${path}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Resolves on the first SIGINT or SIGTERM (a second one gets Node's default: exit at once). */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.removeListener("SIGINT", on);
      process.removeListener("SIGTERM", on);
      resolve(signal);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

/**
 * Runs the server until SIGINT or SIGTERM.
 * @returns the exit status: 0 after a graceful stop, 1 if a listener could not start or Redis (with
 *   `--redis`) did not answer.
 * @throws UsageError for bad arguments (exit 2 through `run`).
 */
export async function serve(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      tcp: { type: "string" },
      ws: { type: "string" },
      http: { type: "string" },
      tls: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "token-file": { type: "string" },
      "heartbeat-ms": { type: "string" },
      "retry-after-ms": { type: "string" },
      "allow-origin": { type: "string" },
      redis: { type: "string" },
      "redis-prefix": { type: "string" },
      blobs: { type: "string" },
    },
  });
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments, got '${positionals[0]}'`);
  if (values.tcp === undefined && values.ws === undefined && values.http === undefined && values.tls === undefined) {
    throw new UsageError("serve needs at least one listener: --tcp, --ws, --http or --tls");
  }
  if ((values.tls === undefined) !== (values["tls-cert"] === undefined) || (values.tls === undefined) !== (values["tls-key"] === undefined)) {
    throw new UsageError("--tls, --tls-cert and --tls-key go together");
  }
  let tokens: Map<string, string> | undefined;
  if (values["token-file"] !== undefined) {
    try {
      tokens = parseTokenFile(readFile("token-file", values["token-file"]));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`--token-file '${values["token-file"]}': ${(error as Error).message}`);
    }
  }
  const retryAfterMs = integerArg("retry-after-ms", values["retry-after-ms"], 1000);
  const options: SyncwireServerOptions = {
    authenticate: tokenAuthenticator(tokens),
    heartbeatIntervalMs: integerArg("heartbeat-ms", values["heartbeat-ms"], 30_000),
    ...(values.tcp === undefined ? {} : { tcp: parseListenAddress("tcp", values.tcp) }),
    ...(values.ws === undefined ? {} : { ws: parseListenAddress("ws", values.ws) }),
    ...(values.http === undefined ? {} : { http: { ...parseListenAddress("http", values.http), ...(values["allow-origin"] === undefined ? {} : { allowOrigin: values["allow-origin"] }) } }),
    ...(values.tls === undefined
      ? {}
      : { tls: { ...parseListenAddress("tls", values.tls), cert: readFile("tls-cert", values["tls-cert"]!), key: readFile("tls-key", values["tls-key"]!) } }),
    onLog: (entry) => void io.stdout.write(`${formatServerLogEntry(entry)}\n`),
  };

  let opened: ServeStores;
  try {
    opened = await openServeStores(values, (line) => void io.stdout.write(`${line}\n`));
  } catch (error) {
    if (!(error instanceof StoresUnavailableError)) throw error;
    io.stderr.write(`syncwire: ${error.message}\n`);
    return 1;
  }
  const server = new SyncwireServer({ ...options, stores: opened.stores });
  try {
    const addresses = await server.listen();
    for (const [kind, address] of Object.entries(addresses)) io.stdout.write(`listening ${kind.padEnd(4)} ${address.url}\n`);
  } catch (error) {
    io.stderr.write(`syncwire: cannot listen: ${(error as Error).message}\n`);
    await server.close({ graceMs: 0 });
    await opened.close();
    return 1;
  }
  const stopping = stopSignal();
  io.stdout.write(`${opened.description}; ${tokens === undefined ? "any user logs in: the token is the user id" : `${tokens.size} tokens from ${values["token-file"]}`}\n`);
  const signal = await stopping;
  const links = server.engine.connectionCount;
  io.stdout.write(`${signal}: stopping (DISCONNECT SERVER_SHUTDOWN, retry after ${retryAfterMs} ms, to ${links} link${links === 1 ? "" : "s"})\n`);
  await server.close({ retryAfterMs });
  await opened.close();
  io.stdout.write("stopped\n");
  return 0;
}
