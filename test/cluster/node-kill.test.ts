// A node killed with SIGKILL mid-traffic: two `syncwire serve --redis` processes on one redis-server,
// four users' clients spread over both (each given both nodes' URLs) sending to each other in a ring.
// When node A dies, its clients' links are reset; their reconnect loop finds A refusing and moves to B
// (failoverTransport), sends HELLO, resends what was unacked with the same client ids and syncs. Nothing
// lost, nothing delivered twice, every device's SyncKey ends equal to its user's head in Redis.
import { describe, expect, test } from "vitest";
import { syncKeyEquals } from "../../src/index.js";
import { REDIS } from "../redis/support.js";
import { Deployment, RingTraffic, useDeployment, waitUntil, type DeviceClient, type ServeNode } from "./support.js";

const ROUNDS = 60;

describe.skipIf(!REDIS.available)(`a node killed mid-traffic (${REDIS.reason})`, () => {
  const context = useDeployment();

  test("SIGKILL node A: its clients move to node B and resume; nothing lost, nothing twice, final SyncKeys equal", async () => {
    const [a, b] = context.deployment.nodes as [ServeNode, ServeNode];
    // alice and carol start on A, bob and dave on B; ack timeouts short so retransmissions happen too.
    const engine = { ackTimeoutMs: 500, syncTimeoutMs: 1_000 };
    const [alice, bob, carol, dave] = (["alice", "bob", "carol", "dave"] as const).map((user, i) => context.deployment.client(user, `${user}-dev`, i % 2, engine)) as [DeviceClient, DeviceClient, DeviceClient, DeviceClient];
    const everyone = [alice, bob, carol, dave];
    await waitUntil(() => everyone.every((c) => c.client.state === "open"), "four clients open");
    expect(everyone.map((c) => Deployment.logins(a, c.device))).toEqual([1, 0, 1, 0]);

    const traffic = new RingTraffic([
      [alice, bob],
      [bob, carol],
      [carol, dave],
      [dave, alice],
    ]);
    let killedAt = -1;
    let pendingAtKill = 0;
    for (let round = 0; round < ROUNDS; round++) {
      traffic.round(round);
      await new Promise((resolve) => setTimeout(resolve, 10));
      // A third of the way in, once messages are being acked: traffic is flowing through both nodes.
      if (killedAt < 0 && round >= ROUNDS / 3 && traffic.ackedCount >= traffic.pairs.length * 2) {
        pendingAtKill = alice.client.engine.pendingSends + carol.client.engine.pendingSends;
        killedAt = round;
        expect(await a.kill("SIGKILL")).toEqual({ code: null, signal: "SIGKILL" });
      }
    }
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(ROUNDS - 10); // traffic went on after the kill

    await waitUntil(() => traffic.done(), "every message acked and delivered", 30_000);
    // A's clients now live on B: each logged in there after the kill (B's log says so).
    expect([alice, carol].map((c) => Deployment.logins(b, c.device))).toEqual([1, 1]);
    expect(alice.closes.length).toBeGreaterThanOrEqual(1);
    expect(bob.closes).toEqual([]); // B's clients never lost their links
    await traffic.check(context.stores);

    // Every device synced to its user's head (and delivered nothing twice: distinct server ids).
    await waitUntil(async () => {
      for (const c of everyone) if (!syncKeyEquals(c.client.syncKey, await context.stores.log.head(c.user))) return false;
      return true;
    }, "final SyncKeys equal the heads", 10_000);
    for (const c of everyone) expect(new Set(c.messages.map((m) => `${m.conversationId}/${m.serverMsgId}`)).size).toBe(c.messages.length);
    const duplicates = everyone.reduce((n, c) => n + c.acks.filter((x) => x.duplicate).length, 0);
    console.log(`node kill: ${traffic.sentCount} messages, node A killed after round ${killedAt} with ${pendingAtKill} of its clients' messages unacked; ${duplicates} acked DUPLICATE after the move`);
  }, 60_000);
});
