// Two `syncwire serve --redis` processes (the built CLI) sharing one redis-server, real Node clients
// (`createClient` from syncwire/node) spread over both: a user's devices on different nodes get each
// other's and their peers' messages (NOTIFY crosses processes through Redis pub/sub), sync and commit
// land in the shared log, and a retransmit of the same client_msg_id to the other node is acked DUPLICATE
// with the first server id and stored once. The test process reads Redis through its own stores.
import { describe, expect, test } from "vitest";
import { syncKeyEquals, type MessagePacket } from "../../src/index.js";
import { REDIS } from "../redis/support.js";
import { Deployment, logOf as logOfStores, textMessage, textOf, waitUntil, useDeployment, type ServeNode } from "./support.js";

describe.skipIf(!REDIS.available)(`two syncwire serve processes on one Redis (${REDIS.reason})`, () => {
  const context = useDeployment();
  const logOf = (user: string) => logOfStores(context.stores, user);

  test("alice's phone on node A, her laptop and bob on node B: messages, NOTIFY, sync and commit across the processes", async () => {
    const [a, b] = context.deployment.nodes as [ServeNode, ServeNode];
    const phone = context.deployment.client("alice", "alice-phone", 0);
    const laptop = context.deployment.client("alice", "alice-laptop", 1);
    const bob = context.deployment.client("bob", "bob-desk", 1);
    await waitUntil(() => [phone, laptop, bob].every((c) => c.client.state === "open"), "three clients open");
    expect([Deployment.logins(a, "alice-phone"), Deployment.logins(b, "alice-phone")]).toEqual([1, 0]);
    expect([Deployment.logins(a, "alice-laptop"), Deployment.logins(b, "alice-laptop")]).toEqual([0, 1]);
    expect([Deployment.logins(a, "bob-desk"), Deployment.logins(b, "bob-desk")]).toEqual([0, 1]);

    for (const text of ["p1", "p2", "p3"]) phone.client.send(textMessage("alice", "bob", text));
    for (const text of ["b1", "b2"]) bob.client.send(textMessage("bob", "alice", text));
    await waitUntil(() => bob.messages.length === 5 && phone.messages.length === 5 && laptop.messages.length === 5, "every device has the 5 messages", 15_000);

    // Bob (node B) got the phone's (node A) messages in order; the laptop (node B) got what the phone sent
    // and what bob sent; the phone (node A) got bob's (node B). Each exactly once (distinct server ids).
    const fromAlice = (ms: MessagePacket[]) => ms.filter((m) => m.senderId === "alice").map(textOf);
    const fromBob = (ms: MessagePacket[]) => ms.filter((m) => m.senderId === "bob").map(textOf);
    for (const device of [bob, laptop, phone]) {
      expect(fromAlice(device.messages)).toEqual(["p1", "p2", "p3"]);
      expect(fromBob(device.messages)).toEqual(["b1", "b2"]);
      expect(new Set(device.messages.map((m) => `${m.conversationId}/${m.serverMsgId}`)).size).toBe(5);
    }

    // Sync: each device's key is its user's head in Redis; commit: each device's committed key too.
    await waitUntil(async () => {
      for (const device of [phone, laptop, bob]) {
        const user = device.user;
        const id = device.device;
        if (!syncKeyEquals(device.client.syncKey, await context.stores.log.head(user))) return false;
        if (!syncKeyEquals(await context.stores.log.committed(user, id), device.client.syncKey)) return false;
      }
      return true;
    }, "every device synced and committed its head", 10_000);
    // Both logs hold the five once each (the two senders' messages interleave in any order).
    expect((await logOf("alice")).map(textOf).sort()).toEqual(["b1", "b2", "p1", "p2", "p3"]);
    expect((await logOf("bob")).map(textOf).sort()).toEqual(["b1", "b2", "p1", "p2", "p3"]);
  });

  test("a retransmit of the same client_msg_id to the other node is acked DUPLICATE with the same server id, and stored once", async () => {
    const clientMsgId = 0x5eed_0001n;
    const before = (await logOf("dave")).length;
    const first = context.deployment.client("carol", "carol-phone", 0);
    await waitUntil(() => first.client.state === "open", "carol on node A");
    first.client.send({ ...textMessage("carol", "dave", "only once"), clientMsgId });
    const acked = await first.client.once("sent", (e) => e.clientMsgId === clientMsgId);
    expect(acked.duplicate).toBe(false);
    first.client.close();

    // The same device, its ACK lost say, sends again — and this time its link lands on node B.
    const again = context.deployment.client("carol", "carol-phone", 1);
    await waitUntil(() => again.client.state === "open", "carol on node B");
    expect(Deployment.logins(context.deployment.nodes[1]!, "carol-phone")).toBe(1);
    again.client.send({ ...textMessage("carol", "dave", "only once"), clientMsgId });
    const duplicate = await again.client.once("sent", (e) => e.clientMsgId === clientMsgId);
    expect([duplicate.duplicate, duplicate.serverMsgId, duplicate.serverTimeMs]).toEqual([true, acked.serverMsgId, acked.serverTimeMs]);

    const stored = (await logOf("dave")).slice(before);
    expect(stored.map((m) => [textOf(m), m.serverMsgId])).toEqual([["only once", acked.serverMsgId]]);
    expect((await logOf("carol")).filter((m) => m.clientMsgId === clientMsgId)).toHaveLength(1);
  });
});
