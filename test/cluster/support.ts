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
import type { ClientEngineOptions } from "../../src/index.js";
import { createClient } from "../../src/node/index.js";
import { freshName } from "../session/stores/contract.js";
import { REPO_ROOT } from "../support/dist.js";
import { FAST_RECONNECT, type TrackedClient } from "../transports/support.js";

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
    const tracked: DeviceClient = { client, user, device, messages: [], events: [] };
    client.on("*", (event) => {
      tracked.events.push(event.type);
      if (event.type === "message") tracked.messages.push(event.message);
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
