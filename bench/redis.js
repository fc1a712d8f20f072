// Several nodes on one Redis: acked messages per second through two `ServerEngine` nodes, each over its
// own `createRedisStores` (its own node-redis connections, as two processes would have), sharing one
// redis-server; beside the same topology over one set of memory stores, in the same run. Run after a
// build: `npm run bench -- redis` (or `node bench/redis.js`).
//
// Redis: the bench starts its own `redis-server` (Debian's package) on a free loopback port with a
// temporary directory, AOF on with `appendfsync everysec` (the README's production setting), and stops
// it and removes the directory at the end; SYNCWIRE_REDIS_URL points it at an existing Redis instead
// (then `FLUSHALL` is not run: keys go under a fresh prefix, and the Redis-side columns include
// whatever else that server does).
//
// Topology: 16 sender devices (users s0…s15; BENCH_REDIS_SENDERS), half on each node, each sending to
// its own recipient (offline: their logs fill to the retention bound and are trimmed — the steady
// state). A benchmark call is one batch: every sender queues 128 messages (128 conversations: the client
// keeps one SEND per conversation in flight, and 128 is WELCOME's max_in_flight) in one tick, and the
// loop pumps frames both ways until all are acked. Frames travel one by one (the client is told not to
// expect BATCH frames, so the loop can drop the senders' NOTIFYs: SEND → ACK only) except in the
// "senders online" case, where BATCH frames carry them and every NOTIFY is answered with SYNC and
// SYNC_COMMIT, as an app would.
//
// Suite cases (one benchmark.js suite, so the ratios compare them side by side):
// - memory stores: both engines over one `createMemoryStores()` (engines and codec only: the ceiling);
// - Redis, coalesced and pipelined: the default — the store calls of one event-loop turn share one
//   command per kind (src/redis/coalesce.ts), and node-redis writes one turn's commands at once;
// - the same with the senders online (read and commit scripts, NOTIFY over sharded pub/sub);
// - Redis with `coalesce: false`: one command per store call, pipelined by node-redis only (what the
//   stores did before coalescing).
// The table after it adds, for a few batches each, one command per call *without* pipelining: a
// wrapper keeps one command in flight per connection (each waits for the previous reply), so every
// command is its own round trip — too slow for the suite.
//
// "Where the time goes": per case, the commands each SEND costs (counted by a wrapper around each
// node's sendCommand), the round trips (node-redis writes what was issued in one turn with one corked
// socket write: `cork()` on the sockets to Redis is counted), the CPU each side spent per SEND (Node:
// process.cpuUsage, both nodes and the clients, which share this process; Redis: INFO cpu), and
// Redis's time per command (INFO commandstats deltas; commands run inside scripts are listed too).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createClient } from "redis";
import * as lib from "../dist/index.js";
import { createRedisStores } from "../dist/redis/index.js";
import { formatRate, runSuiteAsync } from "./harness.js";
import { report } from "./report.js";
import { mulberry32 } from "../dist/node/seeded-random.js";

const T0 = Date.UTC(2025, 0, 1);
const SENDERS = Number(process.env.BENCH_REDIS_SENDERS ?? 16);
const PER_SENDER = 128;
const content = new TextEncoder().encode("Are we still on for lunch tomorrow at noon? I'll book the usual place, 12:00.");

/** A seeded PRNG (mulberry32), the one the fault proxy and the tests use. */
const seeded = mulberry32;

// ---- redis-server ---------------------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts redis-server on a free loopback port in a temporary directory; resolves with { url, port, stop }. */
async function startRedis() {
  const external = process.env.SYNCWIRE_REDIS_URL;
  if (external) return { url: external, port: Number(new URL(external).port || 6379), owned: false, stop: async () => undefined };
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), "syncwire-bench-redis-"));
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--daemonize", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  await new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 15_000);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`redis-server exited (${code}):\n${output}`)));
    child.stdout.on("data", (chunk) => {
      output += chunk;
      if (/Ready to accept connections/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.stdout.resume();
  child.stderr.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    owned: true,
    stop: async () => {
      child.kill("SIGKILL");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- counting round trips ------------------------------------------------------------------------

/** Socket writes to Redis (node-redis corks once per write of everything queued in one tick). */
const writes = { count: 0 };
let redisPort = 0;
const cork = net.Socket.prototype.cork;
net.Socket.prototype.cork = function countedCork() {
  if (this.remotePort === redisPort) writes.count++;
  return cork.call(this);
};

/** Commands issued, by name. */
const commands = new Map();
function countCommand(args) {
  const name = String(args[0]).toUpperCase();
  commands.set(name, (commands.get(name) ?? 0) + 1);
}

/**
 * A node-redis client whose sendCommand counts commands and, with `serial`, keeps one command in flight
 * at a time (each waits for the previous reply: no pipelining).
 */
function instrumentedClient(url, { serial }) {
  const client = createClient({ url, disableOfflineQueue: true });
  client.on("error", (error) => console.error("redis client:", error.message));
  const send = client.sendCommand.bind(client);
  let chain = Promise.resolve();
  client.sendCommand = (args, options) => {
    countCommand(args);
    if (!serial) return send(args, options);
    const reply = chain.then(() => send(args, options));
    chain = reply.catch(() => undefined);
    return reply;
  };
  return client;
}

/** Redis's CPU time so far, in µs (INFO cpu: user + system). */
async function redisCpu(client) {
  const text = await client.info("cpu");
  const user = Number(/used_cpu_user:([\d.]+)/.exec(text)?.[1] ?? NaN);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(text)?.[1] ?? NaN);
  return (user + sys) * 1e6;
}

async function commandStats(client) {
  const text = await client.info("commandstats");
  const stats = new Map();
  for (const line of text.split("\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (match) stats.set(match[1].toUpperCase(), { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return stats;
}

// ---- the loop ---------------------------------------------------------------------------------------

/** Two server nodes and SENDERS devices spread over them, pumped in one process. */
class TwoNodes {
  /**
   * @param {object[]} stores the stores of node 0 and node 1 (the same object twice for memory)
   * @param {{ withholdNotify: boolean, label: string }} options
   */
  constructor(stores, { withholdNotify, label }) {
    this.now = T0;
    this.withholdNotify = withholdNotify;
    this.acked = 0;
    this.nodes = stores.map(
      (s, n) =>
        new lib.ServerEngine({
          stores: s,
          authenticate: (hello) => ({ user: hello.token }),
          random: seeded(n + 1),
        }),
    );
    this.wakeUp = undefined;
    const wake = () => {
      const resolve = this.wakeUp;
      this.wakeUp = undefined;
      resolve?.();
    };
    this.devices = [];
    for (let d = 0; d < SENDERS; d++) {
      const user = `${label}s${d}`;
      // Without batching from the server a withheld NOTIFY is a frame of its own the loop can drop.
      const client = new lib.ClientEngine({ clientId: `${user}-phone`, token: user, userId: user, random: seeded(100 + d), batching: !withholdNotify });
      const link = this.nodes[d % 2].accept(this.now, { wake });
      client.connect(this.now);
      this.devices.push({ user, recipient: `${label}r${d}`, client, link });
    }
  }

  /** One pass both ways. @returns whether any frame moved. */
  #pump() {
    const now = this.now;
    let moved = false;
    for (const { client, link } of this.devices) {
      for (let f = client.pollTransmit(now); f !== undefined; f = client.pollTransmit(now)) {
        link.receiveMessage(f, now);
        moved = true;
      }
    }
    return moved;
  }

  #down() {
    const now = this.now;
    let moved = false;
    for (const { client, link } of this.devices) {
      for (let f = link.pollTransmit(now); f !== undefined; f = link.pollTransmit(now)) {
        // The op is the header's bytes 8–11: NOTIFY is 10.
        if (this.withholdNotify && f[11] === lib.Op.NOTIFY && f[10] === 0 && f[9] === 0 && f[8] === 0) continue;
        client.receiveMessage(f, now);
        moved = true;
      }
      for (let e = client.pollEvent(); e !== undefined; e = client.pollEvent()) {
        if (e.type === "sent") this.acked++;
        else if (e.type === "failed" || e.type === "error" || e.type === "disconnected" || e.type === "link-dead") throw new Error(`unexpected ${e.type}: ${e.reason ?? e.code ?? e.error}`);
      }
      while (link.pollEvent() !== undefined);
    }
    return moved;
  }

  /** Pumps until `target` messages are acked and nothing moves. */
  async settle(target) {
    for (let round = 0; round < 100_000; round++) {
      let moved = this.#pump();
      await Promise.all(this.devices.map((d) => d.link.idle()));
      moved = this.#down() || moved;
      if (!moved) {
        if (this.acked >= target) return;
        // Waiting for pub/sub (a NOTIFY from the other node) or a store reply outside idle().
        await new Promise((resolve) => {
          this.wakeUp = resolve;
          setTimeout(resolve, 2);
        });
      }
    }
    throw new Error(`the loop does not settle: ${this.acked} acked, expected ${target}`);
  }

  /** Every sender queues PER_SENDER messages (one per conversation) in one tick; waits for all ACKs. */
  async batch() {
    this.now++;
    const target = this.acked + SENDERS * PER_SENDER;
    for (const { client, user, recipient } of this.devices) {
      for (let i = 0; i < PER_SENDER; i++) {
        client.send({ conversationId: `c2c:${user}:${recipient}:${i}`, recipientId: recipient, kind: lib.MessageKind.TEXT, content }, this.now);
      }
    }
    await this.settle(target);
    if (this.acked !== target) throw new Error(`${this.acked} acked, expected ${target}`);
  }
}

// ---- setup ------------------------------------------------------------------------------------------

const load = () => os.loadavg().map((n) => n.toFixed(2)).join(" ");
console.log(`\nload average before: ${load()}`);
const redis = await startRedis();
redisPort = redis.port;
const admin = createClient({ url: redis.url });
admin.on("error", () => undefined);
await admin.connect();
console.log(`redis: ${redis.owned ? "started " : ""}${redis.url}, ${(await admin.info("server")).match(/redis_version:(\S+)/)?.[1]}, AOF ${(await admin.configGet("appendonly")).appendonly} (appendfsync ${(await admin.configGet("appendfsync")).appendfsync})`);
const blobDirectory = mkdtempSync(path.join(os.tmpdir(), "syncwire-bench-blobs-"));
const run = `bench${Date.now().toString(36)}:`;
const opened = [];

/** Two nodes' stores on Redis, each with its own (instrumented) client. */
async function redisNodes(label, { serial, coalesce, make = createRedisStores }) {
  const stores = [];
  for (let n = 0; n < 2; n++) {
    const client = instrumentedClient(redis.url, { serial });
    await client.connect();
    const s = await make({ client, prefix: `${run}${label}`, blobDirectory, coalesce });
    opened.push(async () => {
      await s.close();
      await client.close();
    });
    stores.push(s);
  }
  return stores;
}

const memoryStores = lib.createMemoryStores({ objects: { randomBytes: (t) => t.fill(7) } });
const loops = {
  memory: new TwoNodes([memoryStores, memoryStores], { withholdNotify: true, label: "m" }),
  ackOnly: new TwoNodes(await redisNodes("a:", { serial: false, coalesce: true }), { withholdNotify: true, label: "a" }),
  online: new TwoNodes(await redisNodes("o:", { serial: false, coalesce: true }), { withholdNotify: false, label: "o" }),
  perCall: new TwoNodes(await redisNodes("p:", { serial: false, coalesce: false }), { withholdNotify: true, label: "p" }),
  serial: new TwoNodes(await redisNodes("s:", { serial: true, coalesce: false }), { withholdNotify: true, label: "s" }),
};
// BENCH_BASELINE_DIST=/path/to/another/dist adds that build's Redis stores (same engines, same run), for
// before/after figures: build the older commit in a scratch checkout and point at its dist/.
const baselineDist = process.env.BENCH_BASELINE_DIST;
if (baselineDist !== undefined) {
  const baseline = await import(new URL(`file://${baselineDist.replace(/\/$/, "")}/redis/index.js`).href);
  loops.baseline = new TwoNodes(await redisNodes("b:", { serial: false, make: baseline.createRedisStores }), { withholdNotify: true, label: "b" });
}
for (const loop of Object.values(loops)) await loop.settle(0);
for (const loop of Object.values(loops)) await loop.batch();

const perBatch = SENDERS * PER_SENDER;
const cases = [
  { name: "memory stores (one store object shared by both nodes)", fn: () => loops.memory.batch(), perOp: perBatch },
  { name: "Redis: calls coalesced, pipelined (the default)", fn: () => loops.ackOnly.batch(), perOp: perBatch, reference: true },
  { name: "Redis: the same, senders online (NOTIFY → SYNC → COMMIT through Redis)", fn: () => loops.online.batch(), perOp: perBatch },
  { name: "Redis: one command per store call, pipelined (coalesce: false)", fn: () => loops.perCall.batch(), perOp: perBatch },
];
if (loops.baseline !== undefined) cases.push({ name: "baseline: Redis stores of BENCH_BASELINE_DIST", fn: () => loops.baseline.batch(), perOp: perBatch });
const title = `two server nodes on one Redis: ${SENDERS} senders (half on each node) × ${PER_SENDER} messages per batch, SEND → ACK`;
// BENCH_REDIS_PROFILE_ONLY=1 skips the suite (for working on the stores: the table below is enough).
const rows = process.env.BENCH_REDIS_PROFILE_ONLY ? [] : await runSuiteAsync(title, cases, { unit: "acked msgs", key: "redis-throughput" });

// ---- where the time goes ------------------------------------------------------------------------

const PROFILE_BATCHES = Number(process.env.BENCH_REDIS_PROFILE_BATCHES ?? 10);
const profile = [];
for (const [key, name, batches] of [
  ["memory", "memory stores", PROFILE_BATCHES],
  ["ackOnly", "coalesced, pipelined", PROFILE_BATCHES],
  ["online", "coalesced, pipelined, senders online", PROFILE_BATCHES],
  ["perCall", "one command per call, pipelined", Math.max(1, PROFILE_BATCHES / 2)],
  ["serial", "one command per call, no pipelining", 1],
  ...(loops.baseline === undefined ? [] : [["baseline", "baseline (BENCH_BASELINE_DIST), pipelined", Math.max(1, PROFILE_BATCHES / 2)]]),
]) {
  const loop = loops[key];
  commands.clear();
  const beforeCpu = await redisCpu(admin);
  const beforeStats = await commandStats(admin);
  const beforeWrites = writes.count;
  const started = process.hrtime.bigint();
  const nodeCpu = process.cpuUsage();
  for (let b = 0; b < batches; b++) await loop.batch();
  const nodeUsed = process.cpuUsage(nodeCpu);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const roundTrips = writes.count - beforeWrites;
  const afterStats = await commandStats(admin);
  const redisUsed = (await redisCpu(admin)) - beforeCpu;
  const sends = batches * perBatch;
  let issued = 0;
  for (const [, n] of commands) issued += n;
  let redisUsec = 0;
  const perCommand = [];
  for (const [command, after] of afterStats) {
    if (command === "INFO") continue;
    const before = beforeStats.get(command) ?? { calls: 0, usec: 0 };
    const calls = after.calls - before.calls;
    if (calls <= 0) continue;
    const usec = after.usec - before.usec;
    redisUsec += usec;
    perCommand.push(`${command} ${(calls / sends).toFixed(2)}× ${(usec / calls).toFixed(1)} µs`);
  }
  const row = {
    name,
    rate: sends / seconds,
    commandsPerSend: issued / sends,
    roundTripsPerBatch: roundTrips / batches,
    roundTripsPerSend: roundTrips / sends,
    redisUsecPerSend: redisUsec / sends,
    redisShare: redisUsec / 1e6 / seconds,
    nodeCpuPerSend: (nodeUsed.user + nodeUsed.system) / sends,
    redisCpuPerSend: redisUsed / sends,
    perCommand: perCommand.join(", "),
  };
  profile.push(row);
}
report(
  "redis-round-trips",
  `where the time goes: batches of ${perBatch} SENDs through 2 nodes (round trips = socket writes to Redis; CPU from process.cpuUsage and Redis's INFO cpu)`,
  ["case", "acked msgs/s", "commands / SEND", "round trips / batch", "round trips / SEND", "Node CPU µs / SEND", "Redis CPU µs / SEND", "Redis commands per SEND (µs per call, commandstats)"],
  profile.map((p) => [p.name, formatRate(p.rate), p.commandsPerSend.toFixed(2), p.roundTripsPerBatch.toFixed(1), p.roundTripsPerSend.toFixed(3), p.nodeCpuPerSend.toFixed(1), p.redisCpuPerSend.toFixed(1), p.perCommand]),
  { rows, profile },
);

for (const close of opened) await close();
await admin.close();
await redis.stop();
rmSync(blobDirectory, { recursive: true, force: true });
console.log(`\nload average after: ${load()}`);
