/**
 * Shared set-up of the Redis tests: a redis-server per test file (test/support/redis-server.ts), node-redis
 * clients on it that the file closes, and Redis stores over them with a temporary blob directory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { closeConnection } from "../../src/redis/commander.js";
import { createRedisStores, type RedisStores, type RedisStoresOptions } from "../../src/redis/index.js";
import { freshName } from "../session/stores/contract.js";
import { startRedisServer, type RedisServer, type RedisServerOptions } from "../support/redis-server.js";

export { REDIS } from "../support/redis-server.js";

/** A client as a node would make it: offline queue off, quick reconnects, errors kept. */
export function makeClient(url: string) {
  const client = createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: (retries: number) => Math.min(20 * 2 ** retries, 200) } });
  client.on("error", () => undefined);
  return client;
}

/** The same, speaking RESP 2 (node-redis defaults to RESP 3). */
export function makeResp2Client(url: string) {
  const client = createClient({ url, RESP: 2, disableOfflineQueue: true, socket: { reconnectStrategy: (retries: number) => Math.min(20 * 2 ** retries, 200) } });
  client.on("error", () => undefined);
  return client;
}

/** What one test file started, to stop in afterAll. */
export class RedisFixture {
  server!: RedisServer;
  readonly #clients: { close(): Promise<void>; destroy(): void; isOpen: boolean }[] = [];
  readonly #stores: RedisStores[] = [];
  readonly #dirs: string[] = [];

  constructor(readonly options: RedisServerOptions & { own?: boolean } = {}) {}

  async start(): Promise<void> {
    this.server = await startRedisServer(this.options);
  }

  /** A connected client the fixture closes. */
  async client() {
    const client = makeClient(this.server.url);
    this.#clients.push(client);
    await client.connect();
    return client;
  }

  /** A connected RESP 2 client the fixture closes. */
  async resp2Client() {
    const client = makeResp2Client(this.server.url);
    this.#clients.push(client);
    await client.connect();
    return client;
  }

  /** A fresh temporary directory the fixture removes. */
  directory(): string {
    const dir = mkdtempSync(join(tmpdir(), "syncwire-blobs-"));
    this.#dirs.push(dir);
    return dir;
  }

  /** Stores over a new client of their own (as one node), with a fresh key prefix unless given. */
  async stores(options: Partial<RedisStoresOptions> = {}): Promise<RedisStores> {
    const { client = await this.client(), ...rest } = options;
    const stores = await createRedisStores({ client, prefix: `${freshName("t")}:`, blobDirectory: this.directory(), ...rest });
    this.#stores.push(stores);
    return stores;
  }

  async stop(): Promise<void> {
    for (const stores of this.#stores) await stores.close().catch(() => undefined);
    for (const client of this.#clients) if (client.isOpen) await closeConnection(client, 500);
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
    await this.server?.close();
  }
}

/** A clock for the contract suites that really waits: Redis expires keys by its own clock. */
export function realClock() {
  return {
    now: () => Date.now(),
    advance: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  };
}
