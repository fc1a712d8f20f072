/**
 * Where `syncwire serve` keeps its state: the one place a stores option plugs in. Without `--redis`,
 * memory (`createMemoryStores()`: one process, gone when it stops). With `--redis URL`, the stores of
 * `syncwire/redis` on that Redis, so two `serve` processes over one Redis (same `--redis-prefix`, same
 * `--blobs` directory) behave as two nodes of one server.
 *
 * The Redis connection is made here, not by `createRedisStores({ url })`, for two reasons: at start-up an
 * unreachable Redis must end the command with a clear message (exit 1) instead of retrying forever, and
 * once it has been up, losing it must be logged (one line when it goes, one when it is back) while the
 * client reconnects with backoff and the links stay open (README "Several nodes on Redis"). `redis` is an
 * optional peer dependency: it is imported only when `--redis` is given.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backoffDelay, type BackoffPolicy } from "../session/backoff.js";
import { createMemoryStores } from "../session/memory/index.js";
import type { ServerStores } from "../session/stores.js";
import { UsageError } from "./errors.js";

/** Stores opened for a server, with what the start-up line says about them and how to let them go. */
export interface ServeStores {
  readonly stores: ServerStores;
  /** For the start-up line, e.g. "in-memory stores". */
  readonly description: string;
  /** Called after the server stopped. */
  close(): Promise<void>;
}

/** The command line's values that choose the stores: `redis`, `redis-prefix`, `blobs`. */
export type ServeStoreArgs = Readonly<Record<string, string | boolean | undefined>>;

/** Store opening failed for a reason outside the command line (Redis unreachable): exit 1, not 2. */
export class StoresUnavailableError extends Error {
  override readonly name = "StoresUnavailableError";
}

/** Reconnection after the first connection: as `createRedisStores({ url })` does (50 ms × 2 up to 2 s, ±20 %). */
const RECONNECT: BackoffPolicy = { initialMs: 50, factor: 2, maxMs: 2_000, jitter: 0.2 };

/** The default blob directory: one per prefix under the temp dir, so nodes on one machine share it. */
export function defaultBlobDirectory(prefix: string): string {
  return join(tmpdir(), `syncwire-blobs-${prefix.replace(/[^A-Za-z0-9_-]+/g, "_") || "_"}`);
}

function stringArg(args: ServeStoreArgs, name: string): string | undefined {
  const value = args[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * Opens the stores the command line asks for.
 * @param log one line per Redis connection event (lost, back), no newline.
 * @returns memory stores without `redis`; Redis stores, connected, with it.
 * @throws UsageError for `--redis-prefix`/`--blobs` without `--redis`, or a URL that is not redis:// or
 *   rediss://; StoresUnavailableError when Redis does not answer the first connection (refused, timed
 *   out, authentication failed).
 */
export async function openServeStores(args: ServeStoreArgs, log: (line: string) => void = () => undefined): Promise<ServeStores> {
  const url = stringArg(args, "redis");
  const prefixArg = stringArg(args, "redis-prefix");
  const blobsArg = stringArg(args, "blobs");
  if (url === undefined) {
    if (prefixArg !== undefined || blobsArg !== undefined) throw new UsageError("--redis-prefix and --blobs go with --redis");
    return { stores: createMemoryStores(), description: "in-memory stores", close: async () => undefined };
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")) {
    throw new UsageError(`--redis needs a URL such as redis://127.0.0.1:6379, got '${url}'`);
  }
  const prefix = prefixArg ?? "syncwire:";
  const blobDirectory = blobsArg ?? defaultBlobDirectory(prefix);
  // Passwords stay out of the log.
  const shown = parsed.password === "" ? url : url.replace(`:${parsed.password}@`, ":***@");

  const [{ createClient }, { createRedisStores }, { closeConnection }] = await Promise.all([import("redis"), import("../redis/index.js"), import("../redis/commander.js")]);
  let connected = false;
  let down = false;
  const client = createClient({
    url,
    // Store calls fail at once while Redis is unreachable, instead of queueing: SENDs go unacked and the
    // clients retransmit, and nothing piles up in this process.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      // Before the first connection an error ends connect() (and the command); after it, retry with backoff.
      reconnectStrategy: (retries: number, cause: Error) => (connected ? backoffDelay(Math.min(retries, 64), RECONNECT, Math.random) : cause),
    },
  });
  const onError = (error: unknown): void => {
    if (!connected || down) return; // the first failure is the start-up error; later ones repeat the same outage
    down = true;
    log(`${new Date().toISOString()} redis ${shown} connection lost: ${(error as Error).message || String(error)}; reconnecting, links stay open`);
  };
  client.on("error", onError);
  client.on("ready", () => {
    if (down) log(`${new Date().toISOString()} redis ${shown} reconnected`);
    down = false;
  });
  try {
    await client.connect();
  } catch (error) {
    client.destroy();
    throw new StoresUnavailableError(`cannot connect to Redis at ${shown}: ${(error as Error).message || String(error)}`);
  }
  connected = true;
  try {
    // The log follows this (command) connection; the subscriber connection createRedisStores duplicates
    // from it goes down and up with it, and its errors only need a listener (an unheard "error" throws).
    const stores = await createRedisStores({ client, prefix, blobDirectory, onError: () => undefined });
    return {
      stores,
      description: `Redis stores at ${shown} (prefix "${prefix}", blobs in ${blobDirectory})`,
      close: async () => {
        await stores.close();
        await closeConnection(client);
      },
    };
  } catch (error) {
    client.destroy();
    throw new StoresUnavailableError(`cannot use Redis at ${shown}: ${(error as Error).message || String(error)}`);
  }
}
