// Redis going away under two nodes (a redis-server this file starts, AOF on with appendfsync always, and
// kills with SIGKILL): while it is down SENDs are not acknowledged and links stay open; a new HELLO is
// refused with SERVER_SHUTDOWN and retry advice; the nodes reconnect with backoff when it is back, and the
// traffic resumes — no acknowledged message lost, none stored or delivered twice.
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from "vitest";
import { createRedisStores } from "../../src/redis/index.js";
import { create } from "@bufbuild/protobuf";
import { createSyncKey, DisconnectCode, MessagePacketSchema } from "../../src/index.js";
import { freshName } from "../session/stores/contract.js";
import { text, untext } from "../session/server/support.js";
import { REDIS, RedisFixture } from "./support.js";
import { Node, World, type Device } from "./world.js";

const fixture = new RedisFixture({ own: true, appendonly: true, appendfsync: "always" });

const message = (text: string) => create(MessagePacketSchema, { conversationId: "c", content: new TextEncoder().encode(text) });
const CLIENT = { ackTimeoutMs: 1_000, maxRetries: 1_000, maxBackoffMs: 2_000, syncTimeoutMs: 1_000 };
const opened = (d: Device) => d.client.state === "open";
const sentIds = (d: Device) => new Set(d.eventsOf("sent").map((e) => e.clientMsgId));

describe.skipIf(!REDIS.canStart)(`Redis restarts under two nodes (${REDIS.reason})`, () => {
  beforeAll(() => fixture.start());
  afterAll(() => fixture.stop());

  test("with Redis down every store call rejects at once; after the restart they work again, and listeners are poked with their head", async () => {
    // Stores made from a url: their own client, offline queue off, the default reconnect backoff.
    const stores = await createRedisStores({ url: fixture.server.url, prefix: `${freshName("t")}:`, blobDirectory: fixture.directory() });
    onTestFinished(() => stores.close());
    const user = freshName("u");
    await stores.log.append(user, 1, message("before"), "k0");
    const heads: bigint[] = [];
    await stores.presence.subscribe(user, (head) => heads.push(head.entries[0]?.version ?? 0n));
    await fixture.server.stop("SIGKILL");
    expect(heads).toEqual([]);
    const started = Date.now();
    const limits = { maxObjectSize: 10, maxOpenUploads: 1, idleMs: 1000 };
    const calls: Promise<unknown>[] = [
      stores.dedupe.get(user, 1n, 0),
      stores.dedupe.putIfAbsent(user, 1n, { serverMsgId: 1n, serverTimeMs: 1n }, 0, 1000),
      stores.ids.next(user),
      stores.log.append(user, 1, message("lost"), "k1"),
      stores.log.read(user, createSyncKey([]), 10),
      stores.log.head(user),
      stores.log.commit(user, "d", createSyncKey([[1, 1n]])),
      stores.log.committed(user, "d"),
      stores.uploads.putPart(user, "u", { partCount: 1, totalSize: 1n, contentType: "" }, 0, new Uint8Array(1), limits, 0),
      stores.uploads.state(user, "u", limits, 0),
      stores.objects.stat("x"),
      stores.presence.publish(user, createSyncKey([[1, 5n]])),
      stores.presence.subscribe(freshName("other"), () => undefined),
    ];
    // Settle them all together: awaiting one by one would leave the later ones rejected with no handler
    // yet (Node reports that as an unhandled rejection, and vitest fails the run for it).
    const outcomes = await Promise.allSettled(calls);
    expect(outcomes.map((o) => o.status)).toEqual(calls.map(() => "rejected"));
    for (const outcome of outcomes) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(2_000);

    await fixture.server.start();
    // The scripts are gone from the restarted server (NOSCRIPT): they are sent again.
    await expect.poll(() => stores.log.append(user, 1, message("after"), "k2").then((r) => r.version, () => -1n), { timeout: 10_000 }).toBe(2n);
    // The subscriber connection came back: its listener was told the user's head as it was then (1 or 2) (a NOTIFY
    // may have been missed while it was down).
    await expect.poll(() => heads.length, { timeout: 10_000 }).toBe(1);
    expect(heads[0]! >= 1n).toBe(true);
    expect((await stores.log.read(user, createSyncKey([]), 10)).entries.map((e) => new TextDecoder().decode(e.message.content))).toEqual(["before", "after"]);
  });

  test("Redis killed mid-traffic and restarted (AOF always): no acked message lost, no duplicates, traffic resumes", async () => {
    const prefix = `${freshName("deploy")}:`;
    const blobDirectory = fixture.directory();
    const a = new Node("node-a", await fixture.stores({ prefix, blobDirectory }));
    const b = new Node("node-b", await fixture.stores({ prefix, blobDirectory }));
    const world = new World([a, b]);
    const alice = freshName("alice");
    const phone = world.device(alice, "phone", a, CLIENT);
    const laptop = world.device(alice, "laptop", b, CLIENT);
    const senders = [world.device(freshName("bob"), "bob-phone", a, CLIENT), world.device(freshName("carol"), "carol-phone", b, CLIENT)];
    await world.run(() => [phone, laptop, ...senders].every(opened), "every device to open");

    // Traffic: each sender sends to alice in two conversations (so SENDs overlap), one message per round.
    const sent = new Map<bigint, string>();
    const sendRound = (round: number) => {
      for (const sender of senders) {
        const body = `${sender.user}#${round}`;
        sent.set(sender.client.send({ conversationId: `c${round % 2}:${sender.user}`, recipientId: alice, content: text(body) }, world.now), body);
      }
    };
    for (let round = 0; round < 6; round++) {
      sendRound(round);
      await world.run(() => senders.every((d) => d.eventsOf("sent").length > round), `round ${round} to be acknowledged`);
    }
    // Four more rounds, a few ms apart, with the links pumped all along; Redis is killed in the middle of
    // them, with SENDs being stored and ACKs on their way.
    let pumping = true;
    const pump = (async () => {
      while (pumping) {
        world.step();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    try {
      for (let round = 6; round < 10; round++) {
        sendRound(round);
        await new Promise((resolve) => setTimeout(resolve, 15));
        if (round === 8) await fixture.server.stop("SIGKILL");
      }
    } finally {
      // Stop the pump whatever happened above, so a failure cannot leave it running past the test.
      pumping = false;
      await pump;
    }
    world.step();
    // What was acknowledged by then must survive.
    const ackedBeforeKill = new Map(senders.flatMap((d) => d.eventsOf("sent")).map((e) => [e.clientMsgId, e.serverMsgId]));
    expect(ackedBeforeKill.size).toBeGreaterThan(0);

    // While Redis is down: more messages, retransmissions — no ACK, no link dropped.
    for (let round = 10; round < 14; round++) sendRound(round);
    for (let i = 0; i < 5; i++) {
      world.advance(1_000);
      await world.idle(60);
    }
    const ackedDuringOutage = senders.flatMap((d) => d.eventsOf("sent")).filter((e) => !ackedBeforeKill.has(e.clientMsgId));
    expect(ackedDuringOutage).toEqual([]);
    for (const device of [phone, laptop, ...senders]) {
      expect(device.client.state).toBe("open");
      expect(device.link!.state).toBe("open");
      expect(device.eventsOf("disconnected")).toEqual([]);
      expect(device.eventsOf("link-dead")).toEqual([]);
    }
    const storeErrors = senders.flatMap((d) => d.serverEvents).filter((e) => e.type === "error" && e.source === "store" && e.request === "SEND");
    expect(storeErrors.length).toBeGreaterThan(0);

    // A new link while Redis is down: its user has no subscription on that node yet, so the handshake
    // is refused with SERVER_SHUTDOWN and retry advice (the client comes back later).
    const dave = world.device(freshName("dave"), "dave-phone", b, CLIENT);
    await world.run(() => dave.client.state === "closed", "dave's refusal");
    expect(dave.serverEvents).toContainEqual(expect.objectContaining({ type: "refused", code: DisconnectCode.SERVER_SHUTDOWN }));

    // Redis comes back (same port and directory; it replays its AOF). The nodes' clients reconnect by
    // themselves; the clients' retransmissions are then answered.
    await fixture.server.start();
    dave.connectTo(a);
    await world.run(
      () => {
        world.advance(500);
        return senders.every((d) => sentIds(d).size === d.eventsOf("sent").length && [...sent.keys()].filter((id) => sentIds(d).has(id)).length === 14) && opened(dave);
      },
      "every message to be acknowledged after the restart",
      30_000,
    );

    // Nothing acknowledged before the crash was lost; every message is in alice's log exactly once,
    // with the ids its ACK gave.
    const log = (await a.stores.log.read(alice, createSyncKey([]), 1000)).entries;
    expect(log.map((e) => untext(e.message.content)).sort()).toEqual([...sent.values()].sort());
    const acked = new Map(senders.flatMap((d) => d.eventsOf("sent")).map((e) => [e.clientMsgId, e.serverMsgId]));
    for (const entry of log) expect(acked.get(entry.message.clientMsgId)).toBe(entry.message.serverMsgId);
    for (const [id, serverMsgId] of ackedBeforeKill) expect(acked.get(id)).toBe(serverMsgId);

    // Both of alice's devices (one per node) get every message once: NOTIFY works again after the restart.
    await world.run(
      () => {
        world.advance(200);
        return [phone, laptop].every((d) => d.texts().length >= sent.size);
      },
      "alice's devices to sync everything",
      30_000,
    );
    for (const device of [phone, laptop]) expect([...device.texts()].sort()).toEqual([...sent.values()].sort());
    const late = senders[0]!.client.send({ conversationId: "after", recipientId: alice, content: text("after the restart") }, world.now);
    await world.run(() => [phone, laptop].every((d) => d.texts().includes("after the restart")), "a NOTIFY after the restart");
    expect(sentIds(senders[0]!).has(late)).toBe(true);
  });
});
