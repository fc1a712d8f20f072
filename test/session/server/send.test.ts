// §11.4: SEND → validate → dedupe → append exactly once → ACK (only after the writes) → NOTIFY.
import { describe, expect, test } from "vitest";
import { AckStatus, createSyncKey, DisconnectCode, encodeBodyFrame, MessageKind, Op, syncKeyToMap } from "../../../src/index.js";
import { createMemoryStores } from "../../../src/session/memory/index.js";
import type { ServerStores } from "../../../src/session/stores.js";
import { instrumented, makeEngine, memoryStores, only, packet, RawClient, T0, text, untext, type StoreMethod } from "./support.js";

async function logOf(stores: ServerStores, user: string): Promise<{ text: string; serverMsgId: bigint; senderId: string; version: bigint }[]> {
  const { entries } = await stores.log.read(user, createSyncKey([]), 1000);
  return entries.map((e) => ({ text: untext(e.message.content), serverMsgId: e.message.serverMsgId, senderId: e.message.senderId, version: e.version }));
}

async function connected(engine: ReturnType<typeof makeEngine>["engine"], user: string, clientId = "dev1", batching = false): Promise<RawClient> {
  const client = new RawClient(engine);
  await client.connect({ token: `tok:${user}`, clientId, capabilities: { batching } });
  return client;
}

describe("SEND", () => {
  test("a new message: ACK OK echoing seq with the ids, stored once in the recipient's and the sender's log", async () => {
    const { engine, stores } = makeEngine();
    const alice = await connected(engine, "alice");
    alice.now = T0 + 50;
    const replies = await alice.exchange(alice.sendFrame({ clientMsgId: 42n, content: text("hi bob") }));
    const ack = only(replies, Op.ACK);
    expect(ack.seq).toBe(2);
    expect(ack.body).toMatchObject({ status: AckStatus.OK, clientMsgId: 42n, serverMsgId: 1n, serverTimeMs: BigInt(T0 + 50), error: "" });
    expect(await logOf(stores, "bob")).toEqual([{ text: "hi bob", serverMsgId: 1n, senderId: "alice", version: 1n }]);
    expect(await logOf(stores, "alice")).toEqual([{ text: "hi bob", serverMsgId: 1n, senderId: "alice", version: 1n }]);
  });

  test("server ids increase within a conversation", async () => {
    const { engine } = makeEngine();
    const alice = await connected(engine, "alice");
    const acks = [];
    for (let i = 1n; i <= 3n; i++) acks.push(only(await alice.exchange(alice.sendFrame({ clientMsgId: i })), Op.ACK).body.serverMsgId);
    expect(acks).toEqual([1n, 2n, 3n]);
  });

  test("NOTIFY (seq 0, the new key) goes to every open long link of the recipient and of the sender", async () => {
    const { engine } = makeEngine();
    const alice = await connected(engine, "alice", "phone");
    const alice2 = await connected(engine, "alice", "laptop");
    const bob = await connected(engine, "bob", "phone");
    const bob2 = await connected(engine, "bob", "tablet");
    const carol = await connected(engine, "carol");
    const replies = await alice.exchange(alice.sendFrame({ clientMsgId: 1n }));
    expect(replies.map((r) => r.op)).toEqual([Op.ACK, Op.NOTIFY]);
    for (const link of [bob, bob2, alice2]) {
      await link.settle();
      expect(link.wakes).toBeGreaterThan(0);
      const [notify] = link.drain();
      expect(notify!.op).toBe(Op.NOTIFY);
      expect(notify!.seq).toBe(0);
      expect(syncKeyToMap(notify!.body.syncKey)).toEqual(new Map([[1, 1n]]));
    }
    expect(carol.drain()).toEqual([]);
  });

  test("a retransmission (same client_msg_id) gets DUPLICATE with the original ids, stores nothing, notifies nobody", async () => {
    const { engine, stores } = makeEngine();
    const alice = await connected(engine, "alice");
    const bob = await connected(engine, "bob");
    const first = only(await alice.exchange(alice.sendFrame({ clientMsgId: 7n, content: text("once") })), Op.ACK).body;
    bob.drain();
    alice.now = T0 + 9000;
    const again = only(await alice.exchange(alice.sendFrame({ clientMsgId: 7n, content: text("once") })), Op.ACK);
    expect(again.seq).toBe(3);
    expect(again.body).toMatchObject({ status: AckStatus.DUPLICATE, clientMsgId: 7n, serverMsgId: first.serverMsgId, serverTimeMs: first.serverTimeMs });
    expect(await logOf(stores, "bob")).toHaveLength(1);
    await bob.settle();
    expect(bob.drain()).toEqual([]);
  });

  test("a retransmission on another link of the same user is a DUPLICATE too", async () => {
    const { engine, stores } = makeEngine();
    const old = await connected(engine, "alice", "phone");
    const first = only(await old.exchange(old.sendFrame({ clientMsgId: 5n })), Op.ACK).body;
    const fresh = await connected(engine, "alice", "phone");
    const again = only(await fresh.exchange(fresh.sendFrame({ clientMsgId: 5n })), Op.ACK).body;
    expect(again.status).toBe(AckStatus.DUPLICATE);
    expect(again.serverMsgId).toBe(first.serverMsgId);
    expect(await logOf(stores, "bob")).toHaveLength(1);
  });

  test.each([
    ["sender_id of someone else", { senderId: "mallory" }, /sender_id/],
    ["client_msg_id 0", { clientMsgId: 0n }, /client_msg_id/],
    ["no recipient", { recipientId: "" }, /recipient_id/],
    ["no conversation", { conversationId: "" }, /conversation_id/],
  ])("%s → ACK REJECTED with a reason, nothing stored", async (_name, init, reason) => {
    const { engine, stores } = makeEngine();
    const alice = await connected(engine, "alice");
    const ack = only(await alice.exchange(alice.sendFrame({ clientMsgId: 3n, ...init })), Op.ACK).body;
    expect(ack.status).toBe(AckStatus.REJECTED);
    expect(ack.error).toMatch(reason);
    expect(ack.serverMsgId).toBe(0n);
    expect(await logOf(stores, "bob")).toEqual([]);
    expect(await logOf(stores, "alice")).toEqual([]);
    expect(await stores.dedupe.get("alice", 3n, T0)).toBeUndefined();
  });

  test("sender_id equal to the user is accepted (and an empty one is filled in)", async () => {
    const { engine, stores } = makeEngine();
    const alice = await connected(engine, "alice");
    expect(only(await alice.exchange(alice.sendFrame({ clientMsgId: 1n, senderId: "alice" })), Op.ACK).body.status).toBe(AckStatus.OK);
    expect(only(await alice.exchange(alice.sendFrame({ clientMsgId: 2n })), Op.ACK).body.status).toBe(AckStatus.OK);
    expect((await logOf(stores, "bob")).map((e) => e.senderId)).toEqual(["alice", "alice"]);
  });

  test("media must name a finished upload of the sender", async () => {
    const { engine, stores } = makeEngine({}, memoryStores());
    const own = await stores.objects.put("alice", "image/png", new Uint8Array(3));
    const bobs = await stores.objects.put("bob", "image/png", new Uint8Array(3));
    const alice = await connected(engine, "alice");
    const media = (objectId: string) => ({ objectId, contentType: "image/png", size: 3n });
    const status = async (objectId: string, id: bigint) => only(await alice.exchange(alice.sendFrame({ clientMsgId: id, kind: MessageKind.IMAGE, media: media(objectId) })), Op.ACK).body;
    expect((await status(own, 1n)).status).toBe(AckStatus.OK);
    const stolen = await status(bobs, 2n);
    expect(stolen.status).toBe(AckStatus.REJECTED);
    expect(stolen.error).toMatch(/object_id/);
    expect((await status("no-such-object", 3n)).status).toBe(AckStatus.REJECTED);
    expect(await logOf(stores, "bob")).toHaveLength(1);
  });

  test("a message to oneself is stored once in one's own log", async () => {
    const { engine, stores } = makeEngine();
    const alice = await connected(engine, "alice");
    expect(only(await alice.exchange(alice.sendFrame({ clientMsgId: 1n, recipientId: "alice", conversationId: "notes" })), Op.ACK).body.status).toBe(AckStatus.OK);
    expect(await logOf(stores, "alice")).toHaveLength(1);
  });

  test("the stored message owns its bytes: the receive buffer may be reused afterwards", async () => {
    const { engine, stores } = makeEngine();
    const alice = await connected(engine, "alice");
    const frame = alice.sendFrame({ clientMsgId: 1n, content: text("original") });
    alice.link.receiveBytes(frame, alice.now);
    await alice.settle();
    frame.fill(0x41);
    expect((await logOf(stores, "bob"))[0]!.text).toBe("original");
  });

  test.each<StoreMethod[]>([["dedupe.get"], ["ids.next"], ["dedupe.putIfAbsent"], ["log.append"]])(
    "a failing %s: no answer at all (never a false OK), the link stays open; the retry is stored exactly once",
    async (method) => {
      const wrapper = instrumented(createMemoryStores());
      const { engine } = makeEngine({}, wrapper.stores);
      const alice = await connected(engine, "alice");
      wrapper.failing.add(method);
      const replies = await alice.exchange(alice.sendFrame({ clientMsgId: 99n, content: text("important") }));
      expect(replies).toEqual([]);
      expect(alice.link.state).toBe("open");
      expect(alice.events().at(-1)).toMatchObject({ type: "error", source: "store", request: "SEND" });
      expect(alice.link.inFlight).toBe(0);
      wrapper.failing.clear();
      const ack = only(await alice.exchange(alice.sendFrame({ clientMsgId: 99n, content: text("important") })), Op.ACK).body;
      // After a failed append the dedupe record already stood: the retry finishes the writes and is a DUPLICATE.
      expect(ack.status).toBe(method === "log.append" ? AckStatus.DUPLICATE : AckStatus.OK);
      expect(await logOf(wrapper.stores, "bob")).toEqual([{ text: "important", serverMsgId: ack.serverMsgId, senderId: "alice", version: 1n }]);
      expect(await logOf(wrapper.stores, "alice")).toHaveLength(1);
    },
  );

  test("a failing NOTIFY publish does not undo the ACK (the message is stored); it is reported", async () => {
    const wrapper = instrumented(createMemoryStores());
    const { engine } = makeEngine({}, wrapper.stores);
    const alice = await connected(engine, "alice");
    wrapper.failing.add("presence.publish");
    const replies = await alice.exchange(alice.sendFrame({ clientMsgId: 1n }));
    expect(only(replies, Op.ACK).body.status).toBe(AckStatus.OK);
    expect(alice.events().filter((e) => e.type === "error")).toHaveLength(2);
  });

  test("a BATCH of SENDs is answered frame by frame; with batching the ACKs leave in one BATCH", async () => {
    const { engine, stores } = makeEngine();
    const alice = await connected(engine, "alice", "dev1", true);
    const sends = [1n, 2n, 3n].map((id) => ({ op: Op.SEND, seq: Number(id) + 10, body: encodeBodyFrame(Op.SEND, packet({ clientMsgId: id, conversationId: `conv${id}` })).subarray(16) }));
    alice.transmissions.length = 0;
    alice.feed(alice.batchFrame(sends));
    await alice.settle();
    const replies = alice.drain();
    const acks = replies.filter((r) => r.op === Op.ACK);
    expect(acks.map((r) => r.seq).sort()).toEqual([11, 12, 13]);
    expect(replies.every((r) => r.batched)).toBe(true);
    expect(alice.transmissions).toHaveLength(1);
    expect(await logOf(stores, "bob")).toHaveLength(3);
  });

  test("SENDs of different conversations are pipelined: their first store calls go out in the same tick", async () => {
    const wrapper = instrumented(createMemoryStores());
    const { engine } = makeEngine({}, wrapper.stores);
    const alice = await connected(engine, "alice");
    wrapper.calls.length = 0;
    alice.feed(...[1n, 2n, 3n, 4n].map((id) => alice.sendFrame({ clientMsgId: id, conversationId: `conv${id}` })));
    expect(wrapper.calls).toEqual(["dedupe.get", "dedupe.get", "dedupe.get", "dedupe.get"]);
    await alice.settle();
    expect(alice.drain().filter((r) => r.op === Op.ACK)).toHaveLength(4);
  });

  test("SENDs of one conversation are stored in the order sent, even when the stores answer out of order", async () => {
    const stores = createMemoryStores();
    const { engine } = makeEngine({}, stores);
    // The first call of each SEND waits longer than the next one's.
    let delay = 30;
    const get = stores.dedupe.get.bind(stores.dedupe);
    stores.dedupe.get = async (...args) => {
      const wait = (delay -= 10);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
      return get(...args);
    };
    const alice = await connected(engine, "alice");
    alice.feed(...["one", "two", "three"].map((t, i) => alice.sendFrame({ clientMsgId: BigInt(i + 1), content: text(t) })));
    await alice.settle();
    expect((await logOf(stores, "bob")).map((e) => [e.text, e.serverMsgId])).toEqual([
      ["one", 1n],
      ["two", 2n],
      ["three", 3n],
    ]);
  });

  test("more than max_in_flight unanswered requests → DISCONNECT RATE_LIMITED with retry_after_ms", async () => {
    const stores = createMemoryStores();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const get = stores.dedupe.get.bind(stores.dedupe);
    stores.dedupe.get = async (...args) => (await gate, get(...args));
    const { engine } = makeEngine({ limits: { maxInFlight: 2 }, retryAfterMs: 3000 }, stores);
    const alice = await connected(engine, "alice");
    alice.feed(alice.sendFrame({ clientMsgId: 1n }), alice.sendFrame({ clientMsgId: 2n }));
    expect(alice.link.inFlight).toBe(2);
    expect(alice.drain()).toEqual([]);
    alice.feed(alice.sendFrame({ clientMsgId: 3n }));
    expect(alice.drain().map((r) => [r.op, r.body.code, r.body.retryAfterMs])).toEqual([[Op.DISCONNECT, DisconnectCode.RATE_LIMITED, 3000]]);
    release();
    await alice.settle();
    expect(alice.drain()).toEqual([]);
  });

  test("a retransmission of a request still waiting counts with it, not again (the client cannot tell lost from slow)", async () => {
    // Found by the simulation: the reference client retransmits a SEND whose ACK is late with a new seq
    // while the first copy still waits for a slow store; a server counting frames closed the link.
    const stores = createMemoryStores();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const get = stores.dedupe.get.bind(stores.dedupe);
    stores.dedupe.get = async (...args) => (await gate, get(...args));
    const { engine } = makeEngine({ limits: { maxInFlight: 2 } }, stores);
    const alice = await connected(engine, "alice");
    const commitKey = createSyncKey([[1, 0n]]);
    // Two distinct SENDs, then each sent again twice, a SYNC twice, a commit twice: still two… plus two.
    alice.feed(alice.sendFrame({ clientMsgId: 1n }), alice.sendFrame({ clientMsgId: 2n }), alice.sendFrame({ clientMsgId: 1n }), alice.sendFrame({ clientMsgId: 2n }), alice.sendFrame({ clientMsgId: 1n }));
    expect(alice.link.inFlight).toBe(5);
    expect(alice.drain()).toEqual([]);
    expect(alice.link.state).toBe("open");
    release();
    await alice.settle();
    const acks = alice.drain().filter((r) => r.op === Op.ACK);
    expect(acks.map((r) => [r.body.clientMsgId, r.body.status])).toEqual([
      // One conversation: answered in arrival order.
      [1n, AckStatus.OK],
      [2n, AckStatus.OK],
      [1n, AckStatus.DUPLICATE],
      [2n, AckStatus.DUPLICATE],
      [1n, AckStatus.DUPLICATE],
    ]);
    expect(alice.link.inFlight).toBe(0);
    // A SYNC and its retransmission, a commit and its retransmission: one each.
    const gate2 = new Promise<void>((resolve) => (release = resolve));
    const read = stores.log.read.bind(stores.log);
    stores.log.read = async (...args) => (await gate2, read(...args));
    alice.feed(alice.syncFrame(), alice.syncFrame(), alice.commitFrame(commitKey), alice.commitFrame(commitKey));
    expect(alice.link.state).toBe("open");
    release();
    const replies = await alice.exchange();
    expect(replies.map((r) => r.op)).toEqual([Op.SYNC_RESULT, Op.SYNC_RESULT, Op.ACK, Op.ACK]);
  });

  test("copies are bounded too: more than 4 × max_in_flight frames waiting → RATE_LIMITED", async () => {
    const stores = createMemoryStores();
    const gate = new Promise<void>(() => undefined);
    stores.dedupe.get = async () => (await gate, undefined);
    const { engine } = makeEngine({ limits: { maxInFlight: 2 } }, stores);
    const alice = await connected(engine, "alice");
    for (let i = 0; i < 8; i++) alice.feed(alice.sendFrame({ clientMsgId: 1n + BigInt(i % 2) }));
    expect(alice.link.state).toBe("open");
    alice.feed(alice.sendFrame({ clientMsgId: 1n }));
    expect(alice.drain().map((r) => [r.op, r.body.code])).toEqual([[Op.DISCONNECT, DisconnectCode.RATE_LIMITED]]);
    expect(alice.events().find((e) => e.type === "protocol-error")).toMatchObject({ reason: "more than 8 frames unanswered (retransmissions included)" });
  });

  test("HEARTBEATs do not count as in flight", async () => {
    const { engine } = makeEngine({ limits: { maxInFlight: 1 } });
    const alice = await connected(engine, "alice");
    const replies = await alice.exchange(alice.heartbeatFrame(), alice.heartbeatFrame(), alice.heartbeatFrame(), alice.sendFrame({ clientMsgId: 1n }));
    expect(replies.map((r) => r.op)).toEqual([Op.HEARTBEAT_ACK, Op.HEARTBEAT_ACK, Op.HEARTBEAT_ACK, Op.ACK, Op.NOTIFY]);
  });

  test("NOTIFYs not yet transmitted coalesce into one carrying the newest key", async () => {
    const { engine } = makeEngine();
    const alice = await connected(engine, "alice");
    const bob = await connected(engine, "bob");
    await alice.exchange(...[1n, 2n, 3n].map((id) => alice.sendFrame({ clientMsgId: id })));
    await bob.settle();
    const notifies = bob.drain();
    expect(notifies).toHaveLength(1);
    expect(syncKeyToMap(notifies[0]!.body.syncKey)).toEqual(new Map([[1, 3n]]));
  });

  test("SEND on a short link is a protocol error", async () => {
    const { engine } = makeEngine();
    const short = new RawClient(engine, { short: true });
    await short.connect();
    const replies = await short.exchange(short.sendFrame({ clientMsgId: 1n }));
    expect(replies.map((r) => [r.op, r.body.code])).toEqual([[Op.DISCONNECT, DisconnectCode.PROTOCOL_ERROR]]);
  });
});
