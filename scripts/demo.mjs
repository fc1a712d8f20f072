#!/usr/bin/env node
// `npm run demo`: a syncwire server and two clients on loopback, with a transcript of every frame.
//
// The server listens on TCP, WebSocket and HTTP over in-memory stores. Alice connects over TCP, Bob over
// a WebSocket; they exchange text messages. Alice uploads an image in parts over HTTP short links
// (several POSTs at once) and sends a message that refers to it; Bob syncs it. Then Alice sends a burst
// of messages and her link is cut once, just as an ACK is on its way: she reconnects, resends what was
// not confirmed with the same client ids (the server answers DUPLICATE for the one it had stored), and
// Bob sees every message exactly once. The transcript shows each frame (time, who, direction, op, seq,
// size) and what happened; the tallies and the checks come last. Exit 0 when every check holds.
//
// It runs the built package (dist/, made by `npm ci` or `npm run build`) through its public API only.
import {
  decodeFrames,
  decodeMessage,
  FrameDecoder,
  MessageKind,
  Op,
  opName,
  splitBatch,
  syncKeyEquals,
  SyncwireClient,
  ShortLinkClient,
  AckStatus,
  DisconnectCode,
} from "../dist/index.js";
import { nodeTransport, SyncwireServer, tokenAuthenticator } from "../dist/node/index.js";

// `npm run demo -- --nodes 2`: two nodes on a local Redis instead (scripts/demo-cluster.mjs).
const nodesAt = process.argv.indexOf("--nodes");
if (nodesAt >= 0) {
  const nodes = process.argv[nodesAt + 1];
  if (nodes !== "1" && nodes !== "2") {
    process.stderr.write(`npm run demo: --nodes takes 1 or 2, got ${nodes === undefined ? "nothing" : `'${nodes}'`}\n`);
    process.exit(2);
  }
  if (nodes === "2") process.exit(await (await import("./demo-cluster.mjs")).main());
}

const LOOPBACK = "127.0.0.1";
const started = performance.now();
const failures = [];
const tallies = new Map(); // who → { sent, received, bytesOut, bytesIn }
const decoder = new TextDecoder();
const encoder = new TextEncoder();

// Bounded: whatever happens, the demo ends.
const watchdog = setTimeout(() => {
  console.log("\nFAILED: the demo did not finish within 30 s");
  process.exit(1);
}, 30_000);
watchdog.unref();

// ── The transcript ───────────────────────────────────────────────────────────────────────────────────

const time = () => ((performance.now() - started) / 1000).toFixed(3).padStart(7);
const WHO = 12;

function line(who, dir, op, seq, size, what) {
  const cells = [time(), who.padEnd(WHO), dir.padEnd(2), (op ?? "").padEnd(12), seq === undefined ? "    " : String(seq).padStart(4), size === undefined ? "      " : `${String(size).padStart(4)} B`];
  console.log(`${cells.join("  ")}  ${what ?? ""}`.trimEnd());
}

function note(who, what) {
  line(who, "", "", undefined, undefined, what);
}

function scene(title) {
  console.log(`\n── ${title} ${"─".repeat(Math.max(0, 96 - title.length))}`);
}

function tally(who) {
  if (!tallies.has(who)) tallies.set(who, { framesOut: 0, framesIn: 0, bytesOut: 0, bytesIn: 0 });
  return tallies.get(who);
}

function check(condition, what) {
  if (!condition) failures.push(what);
  return condition;
}

const quote = (bytes) => JSON.stringify(decoder.decode(bytes));

/** What a frame says, in a few words (the body decoded for the ops that matter here). */
function describe(frame) {
  try {
    switch (frame.op) {
      case Op.SEND: {
        const m = decodeMessage(Op.SEND, frame.body);
        return m.kind === MessageKind.IMAGE ? `image ${m.media?.objectId.slice(0, 8)}…, ${m.media?.size} B` : quote(m.content);
      }
      case Op.ACK: {
        const a = decodeMessage(Op.ACK, frame.body);
        if (a.status === AckStatus.DUPLICATE) return `DUPLICATE, server id ${a.serverMsgId}`;
        return a.clientMsgId === 0n ? "ok" : `ok, server id ${a.serverMsgId}`;
      }
      case Op.NOTIFY:
        return "something new: sync";
      case Op.SYNC_RESULT: {
        const r = decodeMessage(Op.SYNC_RESULT, frame.body);
        return `${r.messages.length} message${r.messages.length === 1 ? "" : "s"}${r.hasMore ? ", more" : ""}`;
      }
      case Op.CHUNK: {
        const c = decodeMessage(Op.CHUNK, frame.body);
        return `part ${c.partIndex + 1}/${c.partCount}, ${c.data.byteLength} B`;
      }
      case Op.CHUNK_ACK: {
        const c = decodeMessage(Op.CHUNK_ACK, frame.body);
        return c.complete ? `complete: object ${c.objectId.slice(0, 8)}…` : `stored part ${c.received.map((p) => p + 1).join(", ")}`;
      }
      case Op.DISCONNECT: {
        const d = decodeMessage(Op.DISCONNECT, frame.body);
        return `${DisconnectCode[d.code]}${d.retryAfterMs ? `, retry after ${d.retryAfterMs} ms` : ""}`;
      }
      default:
        return "";
    }
  } catch {
    return "";
  }
}

function printFrames(who, dir, frames) {
  const t = tally(who);
  for (const frame of frames) {
    if (dir === "->") (t.framesOut++, (t.bytesOut += frame.packetLength));
    else (t.framesIn++, (t.bytesIn += frame.packetLength));
    if (frame.op === Op.BATCH) {
      const inner = splitBatch(frame);
      line(who, dir, "BATCH", frame.seq, frame.packetLength, `${inner.length} frames:`);
      for (const f of inner) line(who, "", `  ${opName(f.op)}`, f.seq, f.packetLength, describe(f));
    } else {
      line(who, dir, opName(frame.op), frame.seq, frame.packetLength, describe(frame));
    }
  }
}

/**
 * A transport that prints every frame both ways (decoding copies of what passes; the engine gets the
 * bytes untouched), and can cut the link when an incoming frame matches `cut.when`.
 */
function tap(who, transport, cut) {
  return {
    kind: transport.kind,
    short: transport.short,
    connect(handlers) {
      const frames = new FrameDecoder();
      let closed = false;
      const close = (reason) => {
        if (closed) return;
        closed = true;
        handlers.closed(reason);
      };
      const incoming = (found, deliver) => {
        if (closed) return;
        // The frame to lose may travel alone or inside a BATCH (an ACK and a NOTIFY often share one).
        const hit = (f) => (f.op === Op.BATCH ? splitBatch(f).some((inner) => cut.when(inner)) : cut.when(f));
        const victim = cut?.armed ? found.find(hit) : undefined;
        if (victim !== undefined) {
          cut.armed = false;
          printFrames(who, "<-", found.slice(0, found.indexOf(victim)));
          note(who, `✂ the link is cut as ${cut.label} arrives${victim.op === Op.BATCH ? " (in a BATCH)" : ""}: it never reaches ${who.split(" ")[0]}`);
          link.abort();
          close("the link was cut");
          return;
        }
        printFrames(who, "<-", found);
        deliver();
      };
      const link = transport.connect({
        open: () => {
          if (!transport.short) note(who, `${transport.kind} link open`);
          handlers.open();
        },
        bytes: (chunk) => incoming(frames.push(chunk), () => handlers.bytes(chunk)),
        message: (message) => incoming(decodeFrames(message).frames, () => handlers.message(message)),
        writable: () => handlers.writable(),
        closed: (reason) => close(reason),
      });
      return {
        send(frame) {
          if (!closed) printFrames(who, "->", decodeFrames(frame).frames);
          return link.send(frame);
        },
        close: () => link.close(),
        abort: () => link.abort(),
      };
    },
  };
}

/** A client with a printed transcript and the notes a reader wants: acks, syncs, progress, resumes. */
function client(who, user, url, options = {}) {
  const c = new SyncwireClient({
    transport: tap(who, nodeTransport(url), options.cut),
    engine: { clientId: `${user}-${options.device ?? "phone"}`, token: user, userId: user, ...options.engine },
    reconnect: { initialMs: 200, factor: 2, jitter: 0.2, maxMs: 2000 },
  });
  const seen = { messages: [], own: [], acked: new Map(), duplicates: 0, resumed: 0, reconnects: 0 };
  c.on("*", (event) => {
    switch (event.type) {
      case "open":
        if (event.resumed) seen.resumed++;
        note(who, event.resumed ? `resumed: a new session; unconfirmed messages go again with their client ids` : `open: session ${event.sessionId}`);
        break;
      case "sent":
        seen.acked.set(event.clientMsgId, event.serverMsgId);
        if (event.duplicate) seen.duplicates++;
        note(who, event.duplicate ? `acked (DUPLICATE: the server had stored it before the cut; not stored again)` : `acked: server id ${event.serverMsgId}`);
        break;
      case "retry":
        note(who, `retried: message ${event.clientMsgId}, attempt ${event.attempt}`);
        break;
      case "message":
        (event.own ? seen.own : seen.messages).push(event.message);
        if (!event.own) {
          const m = event.message;
          note(who, m.kind === MessageKind.IMAGE ? `got ${m.senderId}'s image: object ${m.media?.objectId}, ${m.media?.size} B` : `got from ${m.senderId}: ${quote(m.content)}`);
        }
        break;
      case "synced":
        if (event.count > 0) note(who, `synced ${event.count} new; commits its SyncKey`);
        break;
      case "transport-closed":
        note(who, `link closed: ${event.reason}`);
        break;
      case "reconnecting":
        seen.reconnects++;
        note(who, `reconnecting in ${event.delayMs} ms (attempt ${event.attempt})`);
        break;
      case "upload-progress":
        note(who, `upload ${"█".repeat(event.acked)}${"░".repeat(event.total - event.acked)} ${event.acked}/${event.total} parts`);
        break;
      case "upload-complete":
        note(who, `upload complete: object ${event.objectId}`);
        break;
      case "upload-failed":
      case "failed":
      case "error":
      case "link-dead":
        note(who, `${event.type}: ${event.reason ?? event.code ?? ""}`);
        break;
    }
  });
  c.start();
  return { client: c, seen, user };
}

const text = (from, to, body) => ({ conversationId: `c2c:${[from, to].sort().join(":")}`, recipientId: to, kind: MessageKind.TEXT, content: encoder.encode(body) });

/** Waits for `condition` (checked on every event of `c`, and every 50 ms). */
function until(condition, what, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = () => {
      if (condition()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 10);
    };
    poll();
  });
}

// ── The story ────────────────────────────────────────────────────────────────────────────────────────

console.log("syncwire demo: a server and two clients on loopback (in-memory stores)");
const server = new SyncwireServer({
  authenticate: tokenAuthenticator(), // the token is the user id, as `syncwire serve` does by default
  tcp: { host: LOOPBACK, port: 0 },
  ws: { host: LOOPBACK, port: 0 },
  http: { host: LOOPBACK, port: 0 },
});
const addresses = await server.listen();
console.log(`server listening on ${addresses.tcp.url}, ${addresses.ws.url} and ${addresses.http.url}`);
console.log(`\n${["   time", "who".padEnd(WHO), "  ", "op".padEnd(12), " seq", "  size", " what happened"].join("  ")}`);

let alice, bob, uploader;
try {
  scene("Alice connects over TCP, Bob over a WebSocket");
  // The cut: armed later, it fires on one chosen incoming frame.
  const cut = { armed: false, when: () => false };
  alice = client("alice (tcp)", "alice", addresses.tcp.url, { cut });
  await until(() => alice.client.state === "open", "alice open");
  bob = client("bob (ws)", "bob", addresses.ws.url);
  await until(() => bob.client.state === "open" && alice.client.engine.requestsInFlight === 0 && bob.client.engine.requestsInFlight === 0, "both open and synced");

  scene("They exchange text messages");
  alice.client.send(text("alice", "bob", "Hi Bob, Alice here, over TCP."));
  await until(() => bob.seen.messages.length === 1, "bob got alice's message");
  bob.client.send(text("bob", "alice", "Hi Alice! Bob, on a WebSocket."));
  await until(() => alice.seen.messages.length === 1 && bob.seen.acked.size === 1, "alice got bob's message");

  scene("Alice uploads an image in parts over HTTP short links (several POSTs at once)");
  const image = new Uint8Array(96 * 1024);
  image.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]); // a PNG's signature, then "pixels"
  for (let i = 8; i < image.length; i++) image[i] = (i * 2654435761) >>> 24;
  let inFlight = 0;
  let mostInFlight = 0;
  let posts = 0;
  // fetch, printing each POST's frames and its answer's: every POST starts with the session's HELLO.
  const tappedFetch = async (url, init) => {
    const n = ++posts;
    mostInFlight = Math.max(mostInFlight, ++inFlight);
    note("alice (http)", `POST #${n} (${inFlight} in flight)`);
    printFrames("alice (http)", "->", decodeFrames(init.body).frames);
    try {
      const response = await fetch(url, init);
      const body = await response.arrayBuffer();
      note("alice (http)", `POST #${n}: HTTP ${response.status}`);
      printFrames("alice (http)", "<-", decodeFrames(new Uint8Array(body)).frames);
      return { ok: response.ok, status: response.status, arrayBuffer: async () => body };
    } finally {
      inFlight--;
    }
  };
  uploader = new ShortLinkClient({
    url: addresses.http.url,
    engine: { clientId: "alice-laptop", token: "alice", userId: "alice", partSize: 16 * 1024 },
    fetch: tappedFetch,
    concurrency: 4,
  });
  uploader.on("upload-progress", (e) => note("alice (http)", `upload ${"█".repeat(e.acked)}${"░".repeat(e.total - e.acked)} ${e.acked}/${e.total} parts`));
  const { objectId } = await uploader.upload(image, "image/png").done;
  note("alice (http)", `upload complete: object ${objectId} in ${posts} POSTs, up to ${mostInFlight} at once`);
  alice.client.send({ ...text("alice", "bob", "A photo for you"), kind: MessageKind.IMAGE, media: { objectId, contentType: "image/png", size: BigInt(image.byteLength) } });
  await until(() => bob.seen.messages.some((m) => m.media?.objectId === objectId), "bob synced the image message");

  scene("Alice sends a burst; her link is cut once, just as the ACK of the third is on its way");
  const burst = ["one", "two", "three", "four", "five"].map((w) => `burst ${w}`);
  const ids = burst.map((body) => alice.client.send(text("alice", "bob", body)));
  // One SEND per conversation is in flight at a time: the third goes out once the second is acked, and
  // the cut drops the ACK that names it. The server has stored it; Alice does not know.
  cut.when = (f) => f.op === Op.ACK && decodeMessage(Op.ACK, f.body).clientMsgId === ids[2];
  cut.label = `the ACK of "${burst[2]}"`;
  cut.armed = true;
  await until(() => burst.every((b) => bob.seen.messages.some((m) => decoder.decode(m.content) === b)) && ids.every((id) => alice.seen.acked.has(id)), "the burst delivered after the cut", 15_000);

  scene("Everything synced: each side's SyncKey equals the server's");
  await until(() => alice.client.engine.requestsInFlight === 0 && bob.client.engine.requestsInFlight === 0, "quiet");
  const heads = { alice: await server.stores.log.head("alice"), bob: await server.stores.log.head("bob") };
  note("alice (tcp)", `SyncKey ${alice.client.syncKey.entries.map((e) => `${e.key}_${e.version}`).join("|")} = server's ${heads.alice.entries.map((e) => `${e.key}_${e.version}`).join("|")}`);
  note("bob (ws)", `SyncKey ${bob.client.syncKey.entries.map((e) => `${e.key}_${e.version}`).join("|")} = server's ${heads.bob.entries.map((e) => `${e.key}_${e.version}`).join("|")}`);

  // ── Checks ─────────────────────────────────────────────────────────────────────────────────────
  const bobTexts = bob.seen.messages.map((m) => (m.kind === MessageKind.IMAGE ? "[image]" : decoder.decode(m.content)));
  check(JSON.stringify(bobTexts) === JSON.stringify(["Hi Bob, Alice here, over TCP.", "[image]", ...burst]), `bob got each of alice's 7 messages once, in order (got ${JSON.stringify(bobTexts)})`);
  check(alice.seen.messages.length === 1 && decoder.decode(alice.seen.messages[0].content) === "Hi Alice! Bob, on a WebSocket.", "alice got bob's message once");
  check(alice.seen.acked.size === 7 && bob.seen.acked.size === 1, "every message was acked (alice 7, bob 1)");
  check(new Set(alice.seen.acked.values()).size === 7, "alice's 7 messages have 7 distinct server ids");
  check(alice.seen.duplicates === 1, `the message whose ACK the cut lost was answered DUPLICATE on the resend (${alice.seen.duplicates})`);
  check(alice.seen.resumed === 1 && alice.seen.reconnects === 1, `alice's link was cut once and resumed once (${alice.seen.reconnects} reconnects, ${alice.seen.resumed} resumes)`);
  const stored = await server.stores.objects.read(objectId);
  check(stored !== undefined && Buffer.from(stored).equals(image), "the server holds the image byte for byte");
  check(mostInFlight >= 2, `the parts went as concurrent POSTs (at most ${mostInFlight} at once)`);
  check(syncKeyEquals(alice.client.syncKey, heads.alice) && syncKeyEquals(bob.client.syncKey, heads.bob), "both SyncKeys equal the server's");
  check(syncKeyEquals(await server.stores.log.committed("bob", "bob-phone"), heads.bob), "bob committed everything he synced");
  const log = await server.stores.log.read("alice", { $typeName: "syncwire.v1.SyncKey", entries: [] }, 100);
  check(log.entries.length === 8, `the server stored 8 messages in alice's log, each once (${log.entries.length})`);
} catch (error) {
  failures.push(error instanceof Error ? error.message : String(error));
}

scene("Goodbye: DISCONNECT NORMAL from the clients, then the server stops");
await Promise.all([alice?.client.disconnect(), bob?.client.disconnect()]);
uploader?.close();
await server.close({ retryAfterMs: 1000 });

console.log("\nTallies");
for (const [who, t] of tallies) {
  console.log(`  ${who.padEnd(WHO)}  sent ${String(t.framesOut).padStart(3)} frames (${String(t.bytesOut).padStart(6)} B), received ${String(t.framesIn).padStart(3)} frames (${String(t.bytesIn).padStart(6)} B)`);
}
if (alice !== undefined && bob !== undefined) {
  console.log(`  messages: alice sent ${alice.seen.acked.size} (acked; ${alice.seen.duplicates} DUPLICATE after the cut), bob sent ${bob.seen.acked.size}; bob received ${bob.seen.messages.length}, alice ${alice.seen.messages.length}`);
  console.log(`  reconnects: alice ${alice.seen.reconnects}, bob ${bob.seen.reconnects}`);
}

if (failures.length > 0) {
  console.log(`\nFAILED: ${failures.length} check${failures.length === 1 ? "" : "s"}`);
  for (const f of failures) console.log(`  ✗ ${f}`);
  process.exit(1);
}
console.log("\nAll checks passed: every message arrived exactly once, in order; the image is stored; the keys match.");
clearTimeout(watchdog);
