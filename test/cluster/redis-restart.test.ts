// Redis killed (SIGKILL) and restarted mid-traffic under two `syncwire serve --redis` processes, through
// real sockets: a redis-server this file starts with AOF on and appendfsync always. While it is down the
// nodes keep every link (no client loses its connection), ACK nothing sent meanwhile, and log the outage;
// when it is back (same port and directory, AOF replayed) they reconnect by themselves, the clients'
// retransmissions are answered and the traffic resumes: no acked message lost, none stored or delivered
// twice, every device's SyncKey equal to its user's head.
import { describe, expect, test } from "vitest";
import { syncKeyEquals } from "../../src/index.js";
import { REDIS } from "../redis/support.js";
import { RingTraffic, useDeployment, waitUntil, type DeviceClient, type ServeNode } from "./support.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!REDIS.canStart)(`Redis restarted mid-traffic under two serve processes (${REDIS.reason})`, () => {
  const context = useDeployment({ own: true, appendonly: true, appendfsync: "always" });

  test("SIGKILL Redis (AOF, appendfsync always), restart it: links stay up, nothing acked while down, no acked message lost, no duplicates, traffic resumes", async () => {
    const [a, b] = context.deployment.nodes as [ServeNode, ServeNode];
    const engine = { ackTimeoutMs: 400, maxRetries: 1_000, maxBackoffMs: 1_000, syncTimeoutMs: 1_000 };
    const users = ["alice", "bob", "carol", "dave"];
    const everyone = users.map((user, i) => context.deployment.client(user, `${user}-dev`, i % 2, engine)) as [DeviceClient, DeviceClient, DeviceClient, DeviceClient];
    const [alice, bob, carol, dave] = everyone;
    await waitUntil(() => everyone.every((c) => c.client.state === "open"), "four clients open");
    const traffic = new RingTraffic([
      [alice, bob],
      [bob, carol],
      [carol, dave],
      [dave, alice],
    ]);

    let round = 0;
    for (; round < 15; round++) {
      traffic.round(round);
      await sleep(15);
    }
    await context.fixture.server.stop("SIGKILL");
    const ackedAtKill = traffic.ackedCount;
    expect(ackedAtKill).toBeGreaterThan(0);
    const ackCountAtKill = everyone.map((c) => c.acks.length);

    // Down: more messages, and the clients retransmit — nothing is acked, no link is dropped.
    const sentDuringOutage = new Set<bigint>();
    for (; round < 25; round++) {
      const before = everyone.map((c) => new Set(traffic.sent.get(c)!.keys()));
      traffic.round(round);
      everyone.forEach((c, i) => [...traffic.sent.get(c)!.keys()].filter((id) => !before[i]!.has(id)).forEach((id) => sentDuringOutage.add(id)));
      await sleep(100);
    }
    await sleep(500);
    const ackedWhileDown = everyone.flatMap((c, i) => c.acks.slice(ackCountAtKill[i]).filter((ack) => sentDuringOutage.has(ack.clientMsgId)));
    expect(ackedWhileDown).toEqual([]);
    expect(everyone.filter((c) => c.events.includes("retry")).length).toBeGreaterThan(0); // unacked SENDs were retransmitted
    for (const c of everyone) {
      expect([c.device, c.client.state, c.closes]).toEqual([c.device, "open", []]);
    }
    expect([a.running, b.running]).toEqual([true, true]);
    for (const node of [a, b]) await node.waitFor(/^\S+Z redis redis:\/\/127\.0\.0\.1:\d+ connection lost: .*; reconnecting, links stay open$/m);

    // Back (same port and directory; Redis replays its AOF): the nodes reconnect, the traffic resumes.
    await context.fixture.server.start();
    for (const node of [a, b]) await node.waitFor(/^\S+Z redis redis:\/\/127\.0\.0\.1:\d+ reconnected$/m, 15_000);
    for (; round < 35; round++) {
      traffic.round(round);
      await sleep(15);
    }
    await waitUntil(() => traffic.done(), "every message acked and delivered after the restart", 30_000);
    await traffic.check(context.stores); // every ACK — before the crash too — is in the log once, with its ids
    for (const c of everyone) expect(c.closes).toEqual([]); // not one link was lost for it

    await waitUntil(async () => {
      for (const c of everyone) if (!syncKeyEquals(c.client.syncKey, await context.stores.log.head(c.user))) return false;
      return true;
    }, "final SyncKeys equal the heads", 10_000);
    for (const c of everyone) expect(new Set(c.messages.map((m) => `${m.conversationId}/${m.serverMsgId}`)).size).toBe(c.messages.length);
    const duplicates = everyone.reduce((n, c) => n + c.acks.filter((x) => x.duplicate).length, 0);
    console.log(`redis restart: ${traffic.sentCount} messages, ${ackedAtKill} acked before the kill, ${sentDuringOutage.size} sent while Redis was down; ${duplicates} acked DUPLICATE`);
  }, 90_000);
});
