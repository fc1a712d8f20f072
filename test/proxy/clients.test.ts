// The real Node client (`createClient`) and the real `SyncwireServer` through the fault proxy
// (`createFaultProxy`): 1-byte writes, merged writes, delays, and links killed at seeded random points
// (inside frames, inside the handshake, either direction), over TCP and — with the proxy forwarding
// bytes unparsed — TLS and WebSocket; and a dead link (frames stop coming, nothing closes). Two users
// send to each other while the link misbehaves; in the end every message was stored once and handed
// over exactly once to each of its two users (sender and recipient), in the order of the user's log, no
// message failed, and each client's SyncKey equals the server's head of its user's log and the key the
// server recorded as committed.
import { afterEach, describe, expect, test } from "vitest";
import { createSyncKey, decodeMessage, formatSyncKey, Op, splitBatch, type Frame } from "../../src/index.js";
import { createFaultProxy, type FaultProxy, type FaultSettings, type SyncwireServer, type SyncwireServerOptions } from "../../src/node/index.js";
import { seededRandom } from "../../src/node/seeded-random.js";
import { LOOPBACK, testCertificate, textMessage, useHarness, waitUntil, type TrackedClient } from "../transports/support.js";
import { closeAll, track } from "./support.js";

const harness = useHarness();
afterEach(closeAll);

type Kind = "tcp" | "tls" | "ws";

interface World {
  readonly server: SyncwireServer;
  readonly proxy: FaultProxy;
  readonly alice: TrackedClient;
  readonly bob: TrackedClient;
  /** Links the proxy killed so far. */
  readonly kills: () => number;
  /** Client ids each user sent, in order. */
  readonly sent: Record<"alice" | "bob", bigint[]>;
  /** The frames clients sent, as the proxy saw them, BATCHes split (TCP only: TLS and WebSocket are not framed). */
  readonly upFrames: Frame[];
}

/**
 * A server on `kind`, a fault proxy in front of it with `faults`, and alice and bob connected through
 * the proxy with seeded randomness (ids, jitter). TCP is framed by the proxy (faults act on whole
 * frames); TLS and WebSocket bytes are forwarded unparsed (faults act on bytes).
 */
async function world(kind: Kind, faults: FaultSettings, seed: number, serverOptions: Partial<SyncwireServerOptions> = {}): Promise<World> {
  const address = { host: LOOPBACK, port: 0 };
  const server = await harness.server({ ...serverOptions, ...(kind === "tls" ? { tls: { ...address, ...testCertificate() } } : { [kind]: address }) });
  let kills = 0;
  const upFrames: Frame[] = [];
  const proxy = await createFaultProxy({
    upstream: { port: server.addresses[kind]!.port },
    faults,
    seed,
    ...(kind === "tcp" ? {} : { framing: null }),
    onEvent: (event) => {
      if (event.type === "kill") kills++;
      if (event.type === "frame" && event.direction === "up") upFrames.push(...(event.frame.op === Op.BATCH ? splitBatch(event.frame) : [event.frame]));
    },
  });
  track(proxy, (p) => (p.killAll(), p.close()));
  const port = proxy.address.port;
  const url = kind === "ws" ? `ws://${LOOPBACK}:${port}/` : `${kind}://${LOOPBACK}:${port}`;
  const client = (user: "alice" | "bob", n: number) =>
    harness.client(url, user, {
      ...(kind === "tls" ? { tls: { ca: testCertificate().cert } } : {}),
      engine: { random: seededRandom(seed, n, 1) },
      random: seededRandom(seed, n, 2),
    });
  const alice = client("alice", 1);
  const bob = client("bob", 2);
  for (const c of [alice, bob]) {
    const ids = new Set<bigint>();
    acks.set(c, ids);
    c.client.on("sent", (e) => void ids.add(e.clientMsgId));
  }
  await Promise.all([alice.client.once("open", () => true, 20_000), bob.client.once("open", () => true, 20_000)]);
  return { server, proxy, alice, bob, kills: () => kills, sent: { alice: [], bob: [] }, upFrames };
}

/** `count` messages from each user to the other, interleaved. */
function exchange(w: World, count: number): void {
  for (let i = 0; i < count; i++) {
    const n = w.sent.alice.length;
    w.sent.alice.push(w.alice.client.send(textMessage("alice", "bob", `a${n}`)));
    w.sent.bob.push(w.bob.client.send(textMessage("bob", "alice", `b${n}`)));
  }
}

/** Client ids of the ACKs a client received (a DUPLICATE after a resend counts once). */
const acks = new WeakMap<TrackedClient, Set<bigint>>();
const acked = (c: TrackedClient): Set<bigint> => acks.get(c)!;

/**
 * Waits until everything sent is acked and both users hold every message, then checks: stored once,
 * handed over exactly once in log order, nothing failed, keys equal the server's head and commit.
 */
async function settledExactlyOnce(w: World, timeoutMs = 30_000): Promise<void> {
  const total = w.sent.alice.length + w.sent.bob.length;
  await waitUntil(
    () => acked(w.alice).size === w.sent.alice.length && acked(w.bob).size === w.sent.bob.length && w.alice.messages.length >= total && w.bob.messages.length >= total,
    `every message acked (${acked(w.alice).size}+${acked(w.bob).size}/${total}) and at both users (${w.alice.messages.length}, ${w.bob.messages.length}/${total})`,
    timeoutMs,
  );
  await new Promise((resolve) => setTimeout(resolve, 100)); // a late duplicate would show now
  for (const c of [w.alice, w.bob]) {
    expect(c.events, `${c.user}: no message failed`).not.toContain("failed");
    expect([...acked(c)].sort(), `${c.user}: every message acked`).toEqual([...w.sent[c.user as "alice" | "bob"]].sort());
    const log = await w.server.stores.log.read(c.user, createSyncKey([]), 10_000);
    const entries = log.entries.map((e) => e.message);
    // Stored once: the user's log holds each user's messages once each, in the order they were sent.
    expect(entries.filter((m) => m.senderId === "alice").map((m) => m.clientMsgId), `${c.user}'s log, alice's messages`).toEqual(w.sent.alice);
    expect(entries.filter((m) => m.senderId === "bob").map((m) => m.clientMsgId), `${c.user}'s log, bob's messages`).toEqual(w.sent.bob);
    // Handed over exactly once, in the log's order.
    expect(c.messages.map((m) => m.serverMsgId), `${c.user}: each message handed over once`).toEqual(entries.map((m) => m.serverMsgId));
    // The client's key is the server's: the head of the user's log, and what the server recorded as committed.
    const head = formatSyncKey(await w.server.stores.log.head(c.user));
    await waitUntil(async () => formatSyncKey(c.client.syncKey) === head && formatSyncKey(await w.server.stores.log.committed(c.user, `${c.user}-device`)) === head, `${c.user}'s key and commit at ${head}`);
  }
}

describe("createClient and SyncwireServer over TCP through the fault proxy", () => {
  test.each([
    ["1-byte writes both ways", { split: 1 }],
    ["merged writes (what arrives within 15 ms goes out in one write)", { mergeMs: 15 }],
    ["delays of 25 ms, in 7-byte writes", { delayMs: 25, split: 7 }],
    ["delays up, 1-byte writes and merged writes down", { up: { delayMs: 10 }, down: { split: 1, mergeMs: 5 } }],
  ] as const)("%s: every message once, keys equal the server's", { timeout: 60_000 }, async (_name, faults) => {
    const w = await world("tcp", faults, 11);
    exchange(w, 15);
    await settledExactlyOnce(w);
    expect(w.proxy.stats.up.frames).toBeGreaterThan(30); // the traffic did go through the proxy
    expect(w.kills()).toBe(0);
  });

  test.each([
    ["no other fault", {}, 21],
    ["3-byte writes", { split: 3 }, 22],
  ] as const)("links killed at seeded random points (%s): resumed, resent with the same ids, every message once", { timeout: 90_000 }, async (_name, base, seed) => {
    await killedAtRandom("tcp", base, seed, 12);
  });
});

test("a dead link (the server's frames stop arriving, nothing closes): missed heartbeats end it, the client reconnects and nothing is lost or shown twice", { timeout: 60_000 }, async () => {
  const w = await world("tcp", {}, 41, { heartbeatIntervalMs: 100 });
  exchange(w, 2);
  await settledExactlyOnce(w);
  // From now on nothing comes back to either client; alice sends meanwhile (stored, its ACK lost).
  w.proxy.setFaults({ down: { drop: 1 } });
  const dead = w.alice.client.once("link-dead", () => true, 10_000);
  const keyBefore = formatSyncKey(w.alice.client.syncKey);
  const duplicates: bigint[] = [];
  w.alice.client.on("sent", (e) => void (e.duplicate && duplicates.push(e.clientMsgId)));
  exchange(w, 2);
  const unacked = w.sent.alice.slice(-2);
  expect((await dead).reason).toBe("heartbeat");
  w.proxy.setFaults({});
  await settledExactlyOnce(w);
  expect(w.alice.events).toContain("reconnecting");
  expect(w.kills()).toBe(0); // the proxy closed nothing: the client gave the link up
  // The new link's HELLO carried alice's SyncKey; her SENDs whose ACKs were lost went again with their
  // ids, and the server, which had stored them, answered DUPLICATE.
  const hellos = w.upFrames.filter((f) => f.op === Op.HELLO).map((f) => decodeMessage(Op.HELLO, f.body)).filter((h) => h.clientId === "alice-device");
  expect(hellos.length).toBeGreaterThanOrEqual(2);
  expect(formatSyncKey(hellos.at(-1)!.syncKey ?? createSyncKey([]))).toBe(keyBefore);
  const sends = w.upFrames.filter((f) => f.op === Op.SEND).map((f) => decodeMessage(Op.SEND, f.body).clientMsgId);
  expect(duplicates.length).toBeGreaterThanOrEqual(1);
  for (const id of duplicates) {
    expect(unacked).toContain(id);
    expect(sends.filter((s) => s === id).length, `SENDs of ${id}`).toBeGreaterThanOrEqual(2);
  }
  expect(new Set(sends)).toEqual(new Set([...w.sent.alice, ...w.sent.bob])); // no id was ever made up for a resend
});

describe.each(["tls", "ws"] as const)("createClient and SyncwireServer over %s through the fault proxy (bytes unparsed)", (kind) => {
  test("1-byte writes both ways, and links killed at seeded random points: every message once, keys equal the server's", { timeout: 90_000 }, async () => {
    await killedAtRandom(kind, { split: 1 }, kind === "tls" ? 31 : 32, 8);
  });
});

/**
 * Rounds of traffic: each sets a kill after a seeded random number of bytes (0 … 999) in a random
 * direction, sends three messages each way, waits until a link is killed or the round's traffic is all
 * through, and lifts the kill. Wherever the count runs out, the link dies: inside a frame, a handshake
 * (TLS's and WebSocket's too, on those transports), a sync page.
 */
async function killedAtRandom(kind: Kind, base: FaultSettings, seed: number, rounds: number): Promise<void> {
  const w = await world(kind, base, seed);
  const random = seededRandom(seed, 99);
  const through = (): boolean => {
    const total = w.sent.alice.length + w.sent.bob.length;
    return acked(w.alice).size === w.sent.alice.length && acked(w.bob).size === w.sent.bob.length && w.alice.messages.length >= total && w.bob.messages.length >= total;
  };
  let quietRounds = 0;
  for (let round = 0; round < rounds; round++) {
    const before = w.kills();
    const direction = random() < 0.5 ? "up" : "down";
    const bytes = Math.floor(random() * 1000);
    w.proxy.setFaults({ ...base, [direction]: { ...base, killAfterBytes: bytes } });
    exchange(w, 3);
    await waitUntil(() => w.kills() > before || through(), `round ${round}: a kill after ${bytes} bytes ${direction}, or the round's messages through`, 30_000);
    if (w.kills() === before) quietRounds++;
    w.proxy.setFaults(base);
  }
  await settledExactlyOnce(w, 60_000);
  // Most rounds killed a link (a round whose traffic stays under its byte count kills nothing), and the
  // clients came back after each.
  expect(quietRounds).toBeLessThanOrEqual(rounds / 2);
  const reconnects = w.alice.events.filter((t) => t === "reconnecting").length + w.bob.events.filter((t) => t === "reconnecting").length;
  expect(reconnects).toBeGreaterThanOrEqual(w.kills());
  expect(w.alice.client.state).toBe("open");
  expect(w.bob.client.state).toBe("open");
}
