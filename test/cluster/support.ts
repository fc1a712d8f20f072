/**
 * Test support for the multi-process tests: `syncwire serve --redis` nodes as child processes of the built
 * package (dist/, bin/syncwire.js), sharing one redis-server, and real Node clients (`createClient` from
 * `syncwire/node`) given the nodes' URLs, tracking what they see. Everything a test file starts is stopped
 * by `Deployment.stop()` (afterAll), bounded: clients closed, nodes SIGKILLed if still running.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { createSyncKey, type ClientEngineOptions, type MessagePacket } from "../../src/index.js";
import type { RedisStores } from "../../src/redis/index.js";
import { createClient } from "../../src/node/index.js";
import { freshName } from "../session/stores/contract.js";
import { RedisFixture } from "../redis/support.js";
import { ensureDistBuilt, REPO_ROOT } from "../support/dist.js";
import type { RedisServerOptions } from "../support/redis-server.js";
import { FAST_RECONNECT, textMessage, textOf, type TrackedClient } from "../transports/support.js";

/** One `syncwire serve --redis` child process. */
export class ServeNode {
  output = "";
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** `tcp://127.0.0.1:PORT`, once started. */
  url = "";

  constructor(
    readonly name: string,
    args: readonly string[],
  ) {
    this.child = spawn(process.execPath, [join(REPO_ROOT, "bin/syncwire.js"), "serve", "--tcp", "127.0.0.1:0", ...args], { cwd: REPO_ROOT });
    this.child.stdout.setEncoding("utf8").on("data", (text: string) => (this.output += text));
    this.child.stderr.setEncoding("utf8").on("data", (text: string) => (this.output += text));
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits until the output matches `pattern` (or the process exits, or 20 s pass: then throws with the output). */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.output);
      if (match !== null) return match;
      if (Date.now() > deadline || !this.running) throw new Error(`${this.name}: no ${pattern} in its output:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Sends `signal` and waits for the exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}

export { conversation, textMessage, textOf, waitUntil, FAST_RECONNECT } from "../transports/support.js";

/** A tracked client and its device id (HELLO's client_id). */
export interface DeviceClient extends TrackedClient {
  readonly device: string;
  /** Every ACK the client reported ("sent" events): client id → server id, and whether it was DUPLICATE. */
  readonly acks: { clientMsgId: bigint; serverMsgId: bigint; duplicate: boolean }[];
  /** Why each of its links went away ("transport-closed" events). */
  readonly closes: string[];
}

/** A deployment of one test file: a key prefix and blob directory of its own, nodes on one Redis, clients. */
export class Deployment {
  readonly prefix = `${freshName("cluster")}:`;
  readonly blobs = mkdtempSync(join(tmpdir(), "syncwire-cluster-blobs-"));
  readonly nodes: ServeNode[] = [];
  readonly clients: DeviceClient[] = [];

  constructor(readonly redisUrl: string) {}

  /** Starts a node and waits until it listens and has its stores. */
  async node(name: string, extraArgs: readonly string[] = []): Promise<ServeNode> {
    const node = new ServeNode(name, ["--redis", this.redisUrl, "--redis-prefix", this.prefix, "--blobs", this.blobs, ...extraArgs]);
    this.nodes.push(node);
    const [, port] = await node.waitFor(/^listening tcp +tcp:\/\/127\.0\.0\.1:(\d+)$/m);
    await node.waitFor(/^Redis stores at .*$/m);
    node.url = `tcp://127.0.0.1:${port}`;
    return node;
  }

  /**
   * A started client of `user`'s `device` (token = user id) given every node's URL, starting at node
   * `first`: when its node cannot be reached it goes to the next (failoverTransport).
   */
  client(user: string, device: string, first: number, engine: Partial<ClientEngineOptions> = {}): DeviceClient {
    const client = createClient({
      url: this.nodes.map((n) => n.url),
      firstNode: first,
      reconnect: FAST_RECONNECT,
      engine: { clientId: device, token: user, userId: user, ...engine },
      start: false,
    });
    const tracked: DeviceClient = { client, user, device, messages: [], events: [], acks: [], closes: [] };
    client.on("*", (event) => {
      tracked.events.push(event.type);
      if (event.type === "message") tracked.messages.push(event.message);
      if (event.type === "sent") tracked.acks.push({ clientMsgId: event.clientMsgId, serverMsgId: event.serverMsgId, duplicate: event.duplicate });
      if (event.type === "transport-closed") tracked.closes.push(event.reason);
    });
    this.clients.push(tracked);
    client.start();
    return tracked;
  }

  /** How many times `device` logged in on `node`, from the node's log (one line per connection event). */
  static logins(node: ServeNode, device: string): number {
    return [...node.output.matchAll(new RegExp(`^\\S+Z tcp#\\d+ \\S+ authenticated user=\\S+ client=${device} `, "gm"))].length;
  }

  /** Closes every client, SIGKILLs every node still running, removes the blob directory. */
  async stop(): Promise<void> {
    for (const { client } of this.clients.splice(0)) client.close();
    await Promise.all(this.nodes.map((n) => n.kill("SIGKILL")));
    rmSync(this.blobs, { recursive: true, force: true });
  }
}

/** Every message in `user`'s log, oldest first, read straight from Redis. */
export async function logOf(stores: RedisStores, user: string): Promise<MessagePacket[]> {
  const { entries, hasMore } = await stores.log.read(user, createSyncKey([]), 10_000);
  expect(hasMore).toBe(false);
  return entries.map((e) => e.message);
}

/**
 * Traffic in a ring: each sender sends numbered TEXT messages ("<device>#<round>") to its recipient user.
 * Remembers what was sent, so `check` can prove every message was acked, stored once with the id its ACK
 * gave, and handed to the recipient's device exactly once.
 */
export class RingTraffic {
  /** Per sender device: client id → text, in send order. */
  readonly sent = new Map<DeviceClient, Map<bigint, string>>();

  constructor(readonly pairs: readonly (readonly [sender: DeviceClient, recipient: DeviceClient])[]) {
    for (const [sender] of pairs) this.sent.set(sender, new Map());
  }

  /** One message from every sender. */
  round(round: number): void {
    for (const [sender, recipient] of this.pairs) {
      const body = `${sender.device}#${round}`;
      this.sent.get(sender)!.set(sender.client.send(textMessage(sender.user, recipient.user, body)), body);
    }
  }

  /** Messages sent so far. */
  get sentCount(): number {
    return [...this.sent.values()].reduce((n, m) => n + m.size, 0);
  }

  /** Distinct messages acked so far. */
  get ackedCount(): number {
    return this.pairs.reduce((n, [sender]) => n + new Set(sender.acks.map((a) => a.clientMsgId)).size, 0);
  }

  /** True once every message sent was acked and every recipient device has all of them. */
  done(): boolean {
    return this.pairs.every(([sender, recipient]) => {
      const ids = this.sent.get(sender)!;
      const acked = new Set(sender.acks.map((a) => a.clientMsgId));
      return [...ids.keys()].every((id) => acked.has(id)) && recipient.messages.filter((m) => m.senderId === sender.user).length >= ids.size;
    });
  }

  /**
   * Nothing lost, nothing twice: every message acked (OK or DUPLICATE, always with the same server id),
   * in the recipient's log in Redis once with that id, and on the recipient's device once.
   */
  async check(stores: RedisStores): Promise<void> {
    for (const [sender, recipient] of this.pairs) {
      const ids = this.sent.get(sender)!;
      const serverIds = new Map<bigint, Set<bigint>>();
      for (const ack of sender.acks) serverIds.set(ack.clientMsgId, (serverIds.get(ack.clientMsgId) ?? new Set()).add(ack.serverMsgId));
      expect([...ids.keys()].filter((id) => serverIds.get(id)?.size !== 1), `${sender.device}: messages not acked, or acked with two server ids`).toEqual([]);
      const stored = (await logOf(stores, recipient.user)).filter((m) => m.senderId === sender.user);
      expect(stored.map(textOf).sort(), `${recipient.user}'s log: each of ${sender.device}'s messages once`).toEqual([...ids.values()].sort());
      for (const m of stored) expect([...serverIds.get(m.clientMsgId)!], `${ids.get(m.clientMsgId)}: the stored id is the acked one`).toEqual([m.serverMsgId]);
      const delivered = recipient.messages.filter((m) => m.senderId === sender.user).map(textOf);
      expect(delivered.sort(), `${recipient.device}: each of ${sender.device}'s messages once`).toEqual([...ids.values()].sort());
    }
  }
}

/** What `useDeployment` sets up for a test file. */
export interface DeploymentContext {
  readonly fixture: RedisFixture;
  /** The deployment, with nodes "node-a" and "node-b" running (set in beforeAll). */
  deployment: Deployment;
  /** Stores of the test process on the deployment's prefix, to read Redis (set in beforeAll). */
  stores: RedisStores;
}

/**
 * For a describe block: beforeAll builds dist/, starts Redis (`redisOptions`: see RedisFixture), two
 * `serve --redis` nodes on it and the test process's own stores; afterAll stops them all.
 */
export function useDeployment(redisOptions: RedisServerOptions & { own?: boolean } = {}): DeploymentContext {
  const context = { fixture: new RedisFixture(redisOptions) } as DeploymentContext;
  beforeAll(async () => {
    ensureDistBuilt();
    await context.fixture.start();
    context.deployment = new Deployment(context.fixture.server.url);
    await Promise.all([context.deployment.node("node-a"), context.deployment.node("node-b")]);
    context.stores = await context.fixture.stores({ prefix: context.deployment.prefix, blobDirectory: context.deployment.blobs });
  }, 120_000);
  afterAll(async () => {
    await context.deployment?.stop();
    await context.fixture.stop();
  }, 20_000);
  return context;
}
