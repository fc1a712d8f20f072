// `npm run demo -- --nodes 2`: two syncwire server nodes on one Redis, clients on both, a transcript.
//
// The demo starts its own redis-server (a temporary directory, a free loopback port, stopped at exit),
// then two `syncwire serve --redis` processes — the commands a deployment runs — on the same Redis, key
// prefix and blob directory. Alice's phone connects to node A, her laptop and Bob to node B; every client
// is given both nodes' addresses. Messages cross the nodes (NOTIFY goes through Redis pub/sub), and both
// of Alice's devices see everything. Then node A crashes (SIGKILL) just as Alice sends: her phone finds A
// gone, moves to B, resends what was not acked and syncs. The transcript says which node each frame went
// through; the checks compare every device's SyncKey with its user's head in Redis. Exit 0 when they hold.
//
// It runs the built package (dist/, bin/syncwire.js) through its public API only. scripts/demo.mjs hands
// over here when given `--nodes 2`.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createSyncKey, decodeFrames, failoverTransport, FrameDecoder, MessageKind, Op, opName, splitBatch, syncKeyEquals, SyncwireClient } from "../dist/index.js";
import { nodeTransport } from "../dist/node/index.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LOOPBACK = "127.0.0.1";
const started = performance.now();
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const children = new Set();
const temporary = [];

/** Stops everything this demo started (sync: also runs on process exit). */
function cleanUp() {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
}
process.on("exit", cleanUp);

// ── The transcript ───────────────────────────────────────────────────────────────────────────────────

const time = () => ((performance.now() - started) / 1000).toFixed(3).padStart(7);
const WHO = 18;
const line = (who, dir, op, seq, size, what = "") =>
  console.log(`${time()}  ${who.padEnd(WHO)}  ${dir.padEnd(2)}  ${op.padEnd(12)}  ${seq === undefined ? "    " : String(seq).padStart(4)}  ${size === undefined ? "      " : `${String(size).padStart(4)} B`}  ${what}`.trimEnd());
const note = (who, what) => line(who, "", "", undefined, undefined, what);
const scene = (title) => console.log(`\n── ${title} ${"─".repeat(Math.max(0, 96 - title.length))}`);

function printFrames(who, dir, frames) {
  for (const frame of frames) {
    if (frame.op === Op.BATCH) {
      const inner = splitBatch(frame);
      line(who, dir, "BATCH", frame.seq, frame.packetLength, `${inner.length} frames:`);
      for (const f of inner) line(who, "", `  ${opName(f.op)}`, f.seq, f.packetLength);
    } else {
      line(who, dir, opName(frame.op), frame.seq, frame.packetLength);
    }
  }
}

/**
 * A transport to one node that prints every frame both ways, labelled with the client and the node;
 * `onConnect` is told each time a link to this node is attempted.
 */
function tap(label, transport, onConnect) {
  return {
    kind: transport.kind,
    connect(handlers) {
      onConnect();
      const frames = new FrameDecoder();
      const link = transport.connect({
        open: () => {
          note(label, `${transport.kind} link open`);
          handlers.open();
        },
        bytes: (chunk) => {
          printFrames(label, "<-", frames.push(chunk));
          handlers.bytes(chunk);
        },
        message: (message) => handlers.message(message),
        writable: () => handlers.writable(),
        closed: (reason) => handlers.closed(reason),
      });
      return {
        send(frame) {
          printFrames(label, "->", decodeFrames(frame).frames);
          return link.send(frame);
        },
        close: () => link.close(),
        abort: () => link.abort(),
      };
    },
  };
}

// ── Redis and the nodes ──────────────────────────────────────────────────────────────────────────────

/** redis-server on the PATH, or undefined. */
function findRedisServer() {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir !== "" && existsSync(join(dir, "redis-server"))) return join(dir, "redis-server");
  return undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawns a child whose output is watched; resolves with the match of `ready` (rejects if it exits first). */
function startProcess(command, args, ready, onLine = () => undefined) {
  const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let output = "";
  let pending = "";
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const matched = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop();
      for (const l of lines) onLine(l);
      const match = ready.exec(output);
      if (match !== null) resolve(match);
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.stderr.setEncoding("utf8").on("data", onData);
    void exited.then(({ code, signal }) => reject(new Error(`${command} ${args[0] ?? ""} exited (${code ?? signal}) before it was ready:\n${output}`)));
  });
  return { child, exited, matched, output: () => output };
}

export async function main() {
  const redisServer = findRedisServer();
  if (redisServer === undefined) {
    process.stderr.write("npm run demo -- --nodes 2 needs redis-server, which is not installed (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis).\n");
    return 1;
  }
  // Bounded: whatever happens, the demo ends.
  const watchdog = setTimeout(() => {
    console.log("\nFAILED: the demo did not finish within 45 s");
    process.exit(1);
  }, 45_000);
  watchdog.unref();

  const failures = [];
  const check = (condition, what) => {
    if (!condition) failures.push(what);
  };
  let stores;
  const clients = [];
  try {
    console.log("syncwire demo: two server nodes on one Redis, clients on both (loopback only)");
    const redisDir = mkdtempSync(join(tmpdir(), "syncwire-demo-redis-"));
    const blobs = mkdtempSync(join(tmpdir(), "syncwire-demo-blobs-"));
    temporary.push(redisDir, blobs);
    const redisPort = await freePort();
    const redisUrl = `redis://${LOOPBACK}:${redisPort}`;
    const version = spawnSync(redisServer, ["--version"], { encoding: "utf8" }).stdout.trim().split(" ").find((w) => w.startsWith("v="))?.slice(2) ?? "?";
    const redis = startProcess(redisServer, ["--port", String(redisPort), "--bind", LOOPBACK, "--dir", redisDir, "--save", "", "--appendonly", "no", "--daemonize", "no"], /Ready to accept connections/);
    await redis.matched;
    console.log(`redis-server ${version} on ${redisUrl} (temporary directory, stopped at exit)`);

    const prefix = `demo-${process.pid}:`;
    const nodes = {};
    for (const name of ["A", "B"]) {
      const args = ["serve", "--tcp", `${LOOPBACK}:0`, "--redis", redisUrl, "--redis-prefix", prefix, "--blobs", blobs, "--retry-after-ms", "300"];
      console.log(`node ${name}: syncwire ${args.join(" ")}`);
      // The node's own log: one line per connection event (shown for logins and Redis events).
      const node = startProcess(process.execPath, [join(ROOT, "bin/syncwire.js"), ...args], /^listening tcp +(tcp:\/\/\S+)$/m, (l) => {
        const login = /authenticated user=(\S+) client=(\S+)/.exec(l);
        if (login !== null) note(`node ${name}`, `log: ${login[2]} logged in (user ${login[1]})`);
      });
      const [, url] = await node.matched;
      nodes[name] = { ...node, url, name };
      console.log(`node ${name}: listening on ${url}`);
    }
    const { createRedisStores } = await import("../dist/redis/index.js");
    stores = await createRedisStores({ url: redisUrl, prefix, blobDirectory: blobs });

    console.log(`\n${["   time", "who @ node".padEnd(WHO), "  ", "op".padEnd(12), " seq", "  size", " what happened"].join("  ")}`);

    /** A client given both nodes (failoverTransport), starting at `first`; the transcript names the node of each frame. */
    const client = (user, device, first) => {
      const names = ["A", "B"];
      const who = `${user}-${device}`;
      let linkNode = first; // the node of the latest link (the events below are about it)
      const transport = failoverTransport(
        names.map((n) => tap(`${who} @${n}`, nodeTransport(nodes[n].url), () => (linkNode = n))),
        { start: names.indexOf(first), onSwitch: (index, reason) => note(who, `node ${names[(index + names.length - 1) % names.length]} is unreachable (${reason}): next link goes to node ${names[index]}`) },
      );
      const c = new SyncwireClient({ transport, engine: { clientId: who, token: user, userId: user }, reconnect: { initialMs: 100, factor: 2, jitter: 0.2, maxMs: 1000 } });
      const seen = { who, user, client: c, messages: [], acked: new Map(), duplicates: 0, resumed: 0, closes: 0 };
      c.on("*", (event) => {
        const at = `${who} @${linkNode}`;
        switch (event.type) {
          case "open":
            if (event.resumed) seen.resumed++;
            note(at, event.resumed ? "resumed: unconfirmed messages go again with their client ids, then SYNC" : `open: session ${event.sessionId}`);
            break;
          case "sent":
            seen.acked.set(event.clientMsgId, event.serverMsgId);
            if (event.duplicate) seen.duplicates++;
            note(at, event.duplicate ? `acked DUPLICATE: stored before the crash, not stored again` : `acked: server id ${event.serverMsgId}`);
            break;
          case "message":
            seen.messages.push(event.message);
            note(at, `${event.own ? "synced its own" : event.message.senderId === user ? "synced, sent by Alice's other device" : "got"}: ${event.message.senderId} → ${event.message.recipientId}: ${JSON.stringify(decoder.decode(event.message.content))}`);
            break;
          case "transport-closed":
            seen.closes++;
            note(at, `link closed: ${event.reason}`);
            break;
          case "reconnecting":
            note(at, `reconnecting in ${event.delayMs} ms (attempt ${event.attempt})`);
            break;
        }
      });
      c.start();
      clients.push(seen);
      return seen;
    };
    const text = (from, to, body) => ({ conversationId: `c2c:${[from, to].sort().join(":")}`, recipientId: to, kind: MessageKind.TEXT, content: encoder.encode(body) });
    const until = async (condition, what, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const quiet = () => until(() => clients.every((c) => c.client.state === "open" && c.client.engine.requestsInFlight === 0), "every client quiet");

    scene("Alice's phone connects to node A; her laptop and Bob to node B");
    const phone = client("alice", "phone", "A");
    await until(() => phone.client.state === "open", "the phone open");
    const laptop = client("alice", "laptop", "B");
    const bob = client("bob", "desk", "B");
    await quiet();

    scene("Alice (node A) writes to Bob (node B): the NOTIFY crosses the nodes through Redis");
    phone.client.send(text("alice", "bob", "Hi Bob, from node A"));
    await until(() => bob.messages.length === 1 && laptop.messages.length === 1, "bob and the laptop got it");
    await quiet();

    scene("Bob (node B) answers: both of Alice's devices get it, one on each node");
    bob.client.send(text("bob", "alice", "Hi Alice, from node B"));
    await until(() => phone.messages.length === 2 && laptop.messages.length === 2, "both devices got bob's answer");
    await quiet();

    scene("Node A crashes (SIGKILL) just as Alice sends: her phone moves to node B and resumes");
    const crashId = phone.client.send(text("alice", "bob", "sent as node A crashed"));
    nodes.A.child.kill("SIGKILL");
    const exit = await nodes.A.exited;
    note("node A", `killed (${exit.signal})`);
    await until(() => phone.acked.has(crashId) && bob.messages.length === 3 && laptop.messages.length === 3 && phone.client.state === "open", "the phone resumed on node B");
    phone.client.send(text("alice", "bob", "on node B now"));
    await until(() => bob.messages.length === 4, "bob got the last message");
    await quiet();

    scene("Everything synced: each device's SyncKey equals its user's head in Redis");
    const heads = { alice: await stores.log.head("alice"), bob: await stores.log.head("bob") };
    const keyText = (key) => key.entries.map((e) => `${e.key}_${e.version}`).join("|");
    for (const c of clients) note(`${c.who}`, `SyncKey ${keyText(c.client.syncKey)} = Redis head ${keyText(heads[c.user])}`);

    // ── Checks ───────────────────────────────────────────────────────────────────────────────────
    const texts = (c) => c.messages.map((m) => decoder.decode(m.content));
    const expected = ["Hi Bob, from node A", "Hi Alice, from node B", "sent as node A crashed", "on node B now"];
    for (const c of clients) check(JSON.stringify(texts(c)) === JSON.stringify(expected), `${c.who} got each of the 4 messages once, in order (got ${JSON.stringify(texts(c))})`);
    for (const c of clients) check(syncKeyEquals(c.client.syncKey, heads[c.user]), `${c.who}'s SyncKey equals the head in Redis`);
    check(phone.resumed === 1, `the phone resumed once (${phone.resumed})`);
    check(phone.acked.size === 3 && new Set(phone.acked.values()).size === 3, "the phone's 3 messages were acked with 3 distinct server ids");
    const log = await stores.log.read("bob", createSyncKey([]), 100);
    check(log.entries.length === 4, `Redis holds 4 messages in bob's log, each once (${log.entries.length})`);
    check(laptop.closes === 0 && bob.closes === 0, "the clients on node B never lost their link");

    scene("Goodbye: the clients disconnect, node B stops (SIGTERM), then Redis");
    await Promise.all(clients.map((c) => c.client.disconnect()));
    nodes.B.child.kill("SIGTERM");
    const stopped = await nodes.B.exited;
    check(stopped.code === 0, `node B stopped cleanly (exit ${stopped.code ?? stopped.signal})`);
    note("node B", `stopped (exit ${stopped.code})`);
    await stores.close();
    stores = undefined;
    redis.child.kill("SIGTERM");
    await redis.exited;
    note("redis", "stopped");

    console.log("\nTallies");
    for (const c of clients) console.log(`  ${c.who.padEnd(WHO)}  sent ${c.acked.size}${c.acked.size > 0 ? ` (acked${c.duplicates > 0 ? `; ${c.duplicates} DUPLICATE` : ""})` : ""}, received ${c.messages.length}, resumed ${c.resumed}`);
  } catch (error) {
    failures.push(error instanceof Error ? error.message : String(error));
  } finally {
    for (const c of clients) c.client.close();
    await stores?.close();
    cleanUp();
    clearTimeout(watchdog);
  }
  if (failures.length > 0) {
    console.log(`\nFAILED: ${failures.length} check${failures.length === 1 ? "" : "s"}`);
    for (const f of failures) console.log(`  ✗ ${f}`);
    return 1;
  }
  console.log("\nAll checks passed: every device got every message once, in order, on either node; the keys match Redis.");
  return 0;
}
