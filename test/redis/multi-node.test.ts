// Two server nodes sharing one Redis (phase 1: two ServerEngines in one process, each over its own Redis
// stores and node-redis clients, as two processes would have), with client engines spread over both:
// messages, NOTIFY across nodes, sync and commit; a retransmit that lands on the other node is
// deduplicated; a node is subscribed only to the users whose links it holds.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { RedisStores } from "../../src/redis/index.js";
import { freshName } from "../session/stores/contract.js";
import { REDIS, RedisFixture } from "./support.js";
import { aliceAndBob, crossNodeMessaging, retransmitToOtherNode, sameSendOnBothNodes } from "./scenarios.js";
import { Node } from "./world.js";

const fixture = new RedisFixture();

/** Two nodes over one fresh key prefix (a deployment of its own). */
async function twoNodes(): Promise<[Node, Node]> {
  const prefix = `${freshName("deploy")}:`;
  const blobDirectory = fixture.directory();
  const a = await fixture.stores({ prefix, blobDirectory });
  const b = await fixture.stores({ prefix, blobDirectory });
  return [new Node("node-a", a), new Node("node-b", b)];
}

/** Subscribers of each channel, as Redis counts them (sharded channels). */
async function subscribers(stores: RedisStores, ...users: string[]): Promise<number[]> {
  const client = await fixture.client();
  const reply = (await client.sendCommand(["PUBSUB", "SHARDNUMSUB", ...users.map((u) => stores.keys.notify(u))])) as unknown[];
  return users.map((_, i) => Number(reply[2 * i + 1]));
}

describe.skipIf(!REDIS.available)(`two nodes on one Redis (${REDIS.reason})`, () => {
  beforeAll(() => fixture.start());
  afterAll(() => fixture.stop());

  test("a user's devices on different nodes: messages, NOTIFY across nodes, sync and commit", () => crossNodeMessaging(twoNodes));

  test("a node subscribes only to the users whose links it holds, and unsubscribes with the last one", async () => {
    const { a, b, alice, bob, phone, laptop, bobby } = await aliceAndBob(twoNodes);
    expect(await subscribers(a.stores, alice, bob)).toEqual([2, 1]);
    expect(a.stores.presence.userCount).toBe(2);
    expect(b.stores.presence.userCount).toBe(1);

    laptop.dropLink();
    await expect.poll(() => subscribers(a.stores, alice, bob)).toEqual([1, 1]);
    expect(b.stores.presence.userCount).toBe(0);
    phone.dropLink();
    bobby.dropLink();
    await expect.poll(() => subscribers(a.stores, alice, bob)).toEqual([0, 0]);
  });

  test("a retransmit that lands on the other node is acked DUPLICATE with the same ids and stored once", () => retransmitToOtherNode(twoNodes));

  test("the same SEND on both nodes at once: one OK, one DUPLICATE, the same ids, stored once", () => sameSendOnBothNodes(twoNodes));
});
