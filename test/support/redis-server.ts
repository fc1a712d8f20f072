/**
 * A real `redis-server` for the Redis tests (Debian's package; `.ci/run` installs it when missing).
 *
 * `startRedisServer()` starts one on a free loopback port with a fresh temporary directory
 * (`--port N --bind 127.0.0.1 --dir TMP --save '' --appendonly yes|no --daemonize no`), waits until it
 * says it is ready, and returns a handle that stops it by its pid (SIGTERM: a clean shutdown that writes
 * the AOF; or SIGKILL: a crash), starts it again on the same port and directory (the restart tests), and
 * removes everything in `close()`.
 *
 * `SYNCWIRE_REDIS_URL` points the tests at an existing Redis instead: then nothing is started, and the
 * tests that must stop Redis skip (they cannot stop someone else's server).
 *
 * Availability: `REDIS.available` says whether Redis tests can run here. Without redis-server they skip
 * with `REDIS.reason` — except under CI (`CI` set), where a missing Redis is an error: CI must run them.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** The external Redis the tests use instead of starting one, if set. */
export const EXTERNAL_REDIS_URL = process.env.SYNCWIRE_REDIS_URL || undefined;

function findRedisServer(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, "redis-server");
    if (dir !== "" && existsSync(candidate)) return candidate;
  }
  return existsSync("/usr/bin/redis-server") ? "/usr/bin/redis-server" : undefined;
}

const binary = findRedisServer();

/** Whether the Redis tests can run, and if not why. */
export const REDIS: { readonly available: boolean; readonly canStart: boolean; readonly reason: string } = (() => {
  if (EXTERNAL_REDIS_URL !== undefined) return { available: true, canStart: binary !== undefined, reason: `using SYNCWIRE_REDIS_URL=${EXTERNAL_REDIS_URL}` };
  if (binary !== undefined) return { available: true, canStart: true, reason: `using ${binary}` };
  const reason = "redis-server is not installed (apt-get install -y redis-server) and SYNCWIRE_REDIS_URL is not set: the Redis tests are skipped";
  if (process.env.CI) throw new Error(`CI must run the Redis tests, but ${reason}`);
  return { available: false, canStart: false, reason };
})();

/** The version line of the redis-server binary, or undefined. */
export function redisServerVersion(): string | undefined {
  if (binary === undefined) return undefined;
  const result = spawnSync(binary, ["--version"], { encoding: "utf8" });
  return result.stdout.trim() || undefined;
}

/** A free TCP port on 127.0.0.1 (free a moment ago: a start that loses the race is retried). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Keep an append-only file (default false). */
  appendonly?: boolean;
  /** When the AOF is fsynced (default "everysec"). */
  appendfsync?: "always" | "everysec" | "no";
  /** More `--option value` arguments. */
  extraArgs?: readonly string[];
}

/** A redis-server this process started (or the external one). */
export interface RedisServer {
  /** `redis://127.0.0.1:PORT` (or SYNCWIRE_REDIS_URL). */
  readonly url: string;
  /** False for SYNCWIRE_REDIS_URL: `stop`/`start` then throw. */
  readonly owned: boolean;
  /** Whether the server process is running now. */
  readonly running: boolean;
  /** Stops the server: SIGTERM (clean shutdown, AOF written) or SIGKILL (a crash). Resolves once it exited. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts it again on the same port and directory (it reloads its AOF if it kept one). */
  start(): Promise<void>;
  /** Stops it if running and removes its directory. Harmless twice. */
  close(): Promise<void>;
}

const READY = /Ready to accept connections/;
const START_TIMEOUT_MS = 15_000;

class OwnedRedisServer implements RedisServer {
  readonly owned = true;
  readonly port: number;
  readonly #dir: string;
  readonly #args: string[];
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  constructor(port: number, dir: string, options: RedisServerOptions) {
    this.port = port;
    this.#dir = dir;
    this.#args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      options.appendonly === true ? "yes" : "no",
      "--appendfsync",
      options.appendfsync ?? "everysec",
      "--daemonize",
      "no",
      "--loglevel",
      "notice",
      ...(options.extraArgs ?? []),
    ];
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  async start(): Promise<void> {
    if (this.#child !== undefined) throw new Error("redis-server is already running");
    const child = spawn(binary!, this.#args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once("exit", () => resolve()));
    void this.#exited.then(() => {
      if (this.#child === child) this.#child = undefined;
    });
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`redis-server did not get ready within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        output += chunk.toString("utf8");
        if (READY.test(output)) done();
      };
      const onExit = (code: number | null) => fail(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
      const cleanup = () => {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        child.stderr!.off("data", onData);
        child.off("exit", onExit);
      };
      const done = () => {
        cleanup();
        resolve();
      };
      const fail = (error: Error) => {
        cleanup();
        child.kill("SIGKILL");
        reject(error);
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", onExit);
    });
    // Keep draining its output so a full pipe never blocks it.
    child.stdout!.resume();
    child.stderr!.resume();
  }

  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    child.kill(signal);
    await this.#exited;
  }

  async close(): Promise<void> {
    await this.stop("SIGKILL");
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

class ExternalRedisServer implements RedisServer {
  readonly owned = false;
  readonly running = true;
  constructor(readonly url: string) {}
  stop(): Promise<void> {
    throw new Error("cannot stop the Redis at SYNCWIRE_REDIS_URL");
  }
  start(): Promise<void> {
    throw new Error("cannot start the Redis at SYNCWIRE_REDIS_URL");
  }
  async close(): Promise<void> {}
}

/**
 * A running Redis for a test file: the external one (SYNCWIRE_REDIS_URL) unless `own` is true, else a
 * fresh redis-server on a free port (three tries, in case another process takes the port meanwhile).
 * @throws Error if redis-server cannot be started (or `own` is asked for without a binary).
 */
export async function startRedisServer(options: RedisServerOptions & { own?: boolean } = {}): Promise<RedisServer> {
  if (EXTERNAL_REDIS_URL !== undefined && options.own !== true) return new ExternalRedisServer(EXTERNAL_REDIS_URL);
  if (binary === undefined) throw new Error(REDIS.reason);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), "syncwire-redis-"));
    const server = new OwnedRedisServer(await freePort(), dir, options);
    try {
      await server.start();
      return server;
    } catch (error) {
      lastError = error;
      await server.close();
    }
  }
  throw lastError;
}

/** A Redis Cluster of `masters` redis-servers (no replicas) this process started. */
export interface RedisClusterServers {
  /** `redis://127.0.0.1:PORT` of each node. */
  readonly urls: readonly string[];
  close(): Promise<void>;
}

/**
 * Starts `masters` redis-servers with `--cluster-enabled yes`, joins them with `redis-cli --cluster create`
 * (slots spread evenly) and waits until every node reports `cluster_state:ok`.
 * @throws Error if redis-server or redis-cli is missing, or the cluster does not form within 20 s.
 */
export async function startRedisCluster(masters = 3): Promise<RedisClusterServers> {
  if (binary === undefined) throw new Error(REDIS.reason);
  const cli = join(binary, "..", "redis-cli");
  if (!existsSync(cli)) throw new Error(`redis-cli is not installed beside ${binary}`);
  const servers: OwnedRedisServer[] = [];
  const close = async () => {
    for (const server of servers) await server.close();
  };
  try {
    for (let i = 0; i < masters; i++) {
      const dir = mkdtempSync(join(tmpdir(), "syncwire-redis-cluster-"));
      const server = new OwnedRedisServer(await freePort(), dir, { extraArgs: ["--cluster-enabled", "yes", "--cluster-config-file", join(dir, "nodes.conf"), "--cluster-node-timeout", "2000"] });
      servers.push(server);
      await server.start();
    }
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    const created = spawnSync(cli, ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"], { encoding: "utf8", timeout: 20_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}${created.stderr}`);
    const deadline = Date.now() + 20_000;
    for (const server of servers) {
      for (;;) {
        const info = spawnSync(cli, ["-p", String(server.port), "cluster", "info"], { encoding: "utf8", timeout: 5_000 });
        if (/cluster_state:ok/.test(info.stdout)) break;
        if (Date.now() > deadline) throw new Error(`the cluster did not form:\n${info.stdout}${info.stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    return { urls: servers.map((s) => s.url), close };
  } catch (error) {
    await close();
    throw error;
  }
}
