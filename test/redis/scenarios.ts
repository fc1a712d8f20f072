/**
 * Multi-node scenarios shared by the single-Redis and the Cluster runs: each takes a maker of two nodes
 * (two ServerEngines over two Redis store instances of one deployment) and plays one story through
 * client engines (test/redis/world.ts).
 */
import { expect } from "vitest";
import { AckStatus, createSyncKey, Op, syncKeyToMap } from "../../src/index.js";
import { freshName } from "../session/stores/contract.js";
import { RawClient, text, untext } from "../session/server/support.js";
import { World, type Device, type Node } from "./world.js";

/** Makes two nodes of one fresh deployment. */
export type MakeNodes = () => Promise<[Node, Node]>;

export const opened = (d: Device) => d.eventsOf("open").length > 0 && d.client.state === "open";

/** The cast: alice's phone on node A and laptop on node B, bob's phone on node A, all open. */
export async function aliceAndBob(twoNodes: MakeNodes) {
  const [a, b] = await twoNodes();
  const world = new World([a, b]);
  const [alice, bob] = [freshName("alice"), freshName("bob")];
  const phone = world.device(alice, "phone", a);
  const laptop = world.device(alice, "laptop", b);
  const bobby = world.device(bob, "bob-phone", a);
  await world.run(() => [phone, laptop, bobby].every(opened), "every device to open");
  return { a, b, world, alice, bob, phone, laptop, bobby };
}

/** A user's devices on different nodes: messages, NOTIFY across nodes, sync and commit. */
export async function crossNodeMessaging(twoNodes: MakeNodes): Promise<void> {
  const { a, b, world, alice, bob, phone, laptop, bobby } = await aliceAndBob(twoNodes);

  // bob (node A) → alice: her laptop on node B hears of it through Redis pub/sub.
  const conversation = `c2c:${alice}:${bob}`;
  const first = bobby.client.send({ conversationId: conversation, recipientId: alice, content: text("hello from A") }, world.now);
  await world.run(() => laptop.texts().includes("hello from A") && phone.texts().includes("hello from A") && bobby.eventsOf("sent").length === 1, "delivery to both of alice's devices");
  const sent = bobby.eventsOf("sent")[0]!;
  expect(sent).toMatchObject({ clientMsgId: first, duplicate: false });
  for (const device of [phone, laptop]) {
    const [message] = device.eventsOf("message");
    expect(message!.message.serverMsgId).toBe(sent.serverMsgId);
    expect(message!.message.senderId).toBe(bob);
    expect(message!.own).toBe(false);
  }

  // alice answers from the laptop (node B): bob on node A gets it, and so does her phone (her own log).
  laptop.client.send({ conversationId: conversation, recipientId: bob, content: text("hi from B") }, world.now);
  await world.run(() => bobby.texts().includes("hi from B") && phone.texts().includes("hi from B") && laptop.texts().includes("hi from B"), "the answer everywhere");
  expect(laptop.eventsOf("message").find((e) => untext(e.message.content) === "hi from B")!.own).toBe(true);
  expect(phone.eventsOf("message").find((e) => untext(e.message.content) === "hi from B")!.own).toBe(false);

  // Each device committed what it synced, under its own client id, in the shared log.
  const head = await a.stores.log.head(alice);
  expect(syncKeyToMap(head).get(1)).toBe(2n);
  await world.run(() => true);
  for (const device of ["phone", "laptop"]) {
    await expect.poll(async () => syncKeyToMap(await b.stores.log.committed(alice, device)).get(1)).toBe(2n);
  }
  expect(phone.client.syncKey).toEqual(head);
  expect(laptop.client.syncKey).toEqual(head);
  // Nothing was delivered twice.
  for (const device of [phone, laptop, bobby]) expect(new Set(device.texts()).size).toBe(device.texts().length);
}

/** A retransmit that lands on the other node is acked DUPLICATE with the same ids and stored once. */
export async function retransmitToOtherNode(twoNodes: MakeNodes): Promise<void> {
  const [a, b] = await twoNodes();
  const world = new World([a, b]);
  const [alice, bob] = [freshName("alice"), freshName("bob")];
  const bobby = world.device(bob, "bob-phone", a);
  await world.run(() => opened(bobby), "bob to open");

  // The SEND reaches node A, which stores it; the ACK is lost with the link.
  const id = bobby.client.send({ conversationId: `c2c:${alice}:${bob}`, recipientId: alice, content: text("once") }, world.now);
  bobby.up();
  await a.engine.idle();
  bobby.discardDown();
  expect(bobby.eventsOf("sent")).toEqual([]);
  const stored = (await a.stores.log.read(alice, createSyncKey([]), 10)).entries;
  expect(stored).toHaveLength(1);

  // bob reconnects to node B; the client resends the unacknowledged message after WELCOME.
  bobby.connectTo(b);
  await world.run(() => bobby.eventsOf("sent").length === 1, "the ACK from node B");
  expect(bobby.eventsOf("sent")[0]).toMatchObject({ clientMsgId: id, duplicate: true, serverMsgId: stored[0]!.message.serverMsgId });
  const after = (await b.stores.log.read(alice, createSyncKey([]), 10)).entries;
  expect(after.map((e) => e.message.serverMsgId)).toEqual([stored[0]!.message.serverMsgId]);
  expect((await b.stores.log.read(bob, createSyncKey([]), 10)).entries).toHaveLength(1);
}

/** The same SEND on both nodes at once: one OK, one DUPLICATE, the same ids, stored once. */
export async function sameSendOnBothNodes(twoNodes: MakeNodes): Promise<void> {
  const [a, b] = await twoNodes();
  const [alice, bob] = [freshName("alice"), freshName("bob")];
  for (let round = 0; round < 20; round++) {
    const links = [new RawClient(a.engine), new RawClient(b.engine)];
    await Promise.all(links.map((l, i) => l.connect({ token: `tok:${bob}`, clientId: `dev${i}` })));
    const frames = links.map((l) => l.sendFrame({ clientMsgId: BigInt(1000 + round), conversationId: `c2c:${alice}:${bob}`, recipientId: alice, content: text(`m${round}`) }));
    links.forEach((l, i) => l.feed(frames[i]!));
    const replies = await Promise.all(links.map(async (l) => {
      await l.settle();
      return l.drain().filter((r) => r.op === Op.ACK).map((r) => r.body);
    }));
    const acks = replies.flat();
    expect(acks).toHaveLength(2);
    expect(acks.map((x) => x.status).sort()).toEqual([AckStatus.OK, AckStatus.DUPLICATE].sort());
    expect(acks[0].serverMsgId).toBe(acks[1].serverMsgId);
    expect(acks[0].serverTimeMs).toBe(acks[1].serverTimeMs);
    for (const l of links) l.link.linkClosed(l.now);
  }
  const log = (await a.stores.log.read(alice, createSyncKey([]), 100)).entries;
  expect(log.map((e) => untext(e.message.content))).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
}
