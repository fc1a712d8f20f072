// The stores on a real Redis Cluster (three redis-servers with --cluster-enabled, slots spread by
// `redis-cli --cluster create`, no replicas), through node-redis's Cluster client: the store contract,
// and two nodes of one deployment exchanging messages across nodes and shards.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCluster } from "redis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { closeConnection, type RedisClusterLike } from "../../src/redis/commander.js";
import { createRedisStores, type RedisStores, type RedisStoresOptions } from "../../src/redis/index.js";
import {
  describeDedupeContract,
  describeIdAllocatorContract,
  describeObjectContract,
  describePresenceContract,
  describeSyncLogContract,
  describeUploadContract,
  freshName,
} from "../session/stores/contract.js";
import { startRedisCluster, type RedisClusterServers } from "../support/redis-server.js";
import { realClock, REDIS } from "./support.js";
import { crossNodeMessaging, retransmitToOtherNode, sameSendOnBothNodes } from "./scenarios.js";
import { Node } from "./world.js";

let servers: RedisClusterServers;
const clusters: RedisClusterLike[] = [];
const made: RedisStores[] = [];
const dirs: string[] = [];
let shared: RedisStores;
const logs = new Map<number, Promise<RedisStores>>();

function directory(): string {
  const dir = mkdtempSync(join(tmpdir(), "syncwire-blobs-"));
  dirs.push(dir);
  return dir;
}

/** Stores over a Cluster client of their own (as one node would have). */
async function clusterStores(options: Partial<RedisStoresOptions> = {}): Promise<RedisStores> {
  const cluster = createCluster({
    rootNodes: servers.urls.map((url) => ({ url })),
    defaults: { disableOfflineQueue: true, socket: { reconnectStrategy: (retries: number) => Math.min(20 * 2 ** retries, 200) } },
  });
  cluster.on("error", () => undefined);
  clusters.push(cluster);
  await cluster.connect();
  const stores = await createRedisStores({ cluster, prefix: `${freshName("t")}:`, blobDirectory: directory(), ...options });
  made.push(stores);
  return stores;
}

describe.skipIf(!REDIS.canStart)(`the stores on a Redis Cluster of three shards (${REDIS.reason})`, () => {
  beforeAll(async () => {
    servers = await startRedisCluster(3);
    shared = await clusterStores();
  }, 60_000);
  afterAll(async () => {
    for (const stores of made) await stores.close();
    for (const cluster of clusters) await closeConnection(cluster, 500);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await servers?.close();
  });

  test("users' keys spread over the shards (the tests exercise more than one node)", async () => {
    const cluster = clusters[0]!;
    const ranges = (await cluster.sendCommand(undefined, true, ["CLUSTER", "SLOTS"])) as [number, number, [unknown, number]][];
    const ports = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const key = `${shared.keys.log(freshName("spread"))}h`;
      const slot = Number(await cluster.sendCommand(key, true, ["CLUSTER", "KEYSLOT", key]));
      const range = ranges.find(([from, to]) => slot >= Number(from) && slot <= Number(to));
      ports.add(Number(range![2][1]));
    }
    expect(ports.size).toBeGreaterThan(1);
  });

  const timing = { clock: realClock, ttlMs: 400, settle: () => new Promise<void>((resolve) => setTimeout(resolve, 50)) };
  describeDedupeContract("redis cluster", () => shared.dedupe, timing);
  describeIdAllocatorContract("redis cluster", () => shared.ids);
  describeSyncLogContract("redis cluster", ({ retention }) => {
    let stores = logs.get(retention);
    if (stores === undefined) logs.set(retention, (stores = clusterStores({ log: { retention } })));
    return stores.then((s) => s.log);
  });
  describeUploadContract("redis cluster", () => shared.uploads, timing);
  describeObjectContract("redis cluster", () => shared.objects);
  describePresenceContract("redis cluster, sharded pub/sub", () => shared.presence, timing);

  /** Two nodes of one deployment, each with its own Cluster client. */
  const twoNodes = async (): Promise<[Node, Node]> => {
    const prefix = `${freshName("deploy")}:`;
    const blobDirectory = directory();
    return [new Node("node-a", await clusterStores({ prefix, blobDirectory })), new Node("node-b", await clusterStores({ prefix, blobDirectory }))];
  };
  test("two nodes: a user's devices on different nodes, NOTIFY across nodes, sync and commit", () => crossNodeMessaging(twoNodes));
  test("two nodes: a retransmit to the other node is deduplicated", () => retransmitToOtherNode(twoNodes));
  test("two nodes: the same SEND on both at once", () => sameSendOnBothNodes(twoNodes));
});
