// §11.5 and §11.9: SYNC → page + key + has_more, nothing consumed before SYNC_COMMIT, short links.
import { describe, expect, test } from "vitest";
import { AckStatus, createSyncKey, DisconnectCode, encodeFrame, Op, syncKeyToMap, type SyncKey } from "../../../src/index.js";
import { createMemoryStores } from "../../../src/session/memory/index.js";
import { instrumented, makeEngine, only, RawClient, text, untext, type Received } from "./support.js";

type Engine = ReturnType<typeof makeEngine>["engine"];

async function connected(engine: Engine, user: string, clientId = "dev1", capabilities = {}): Promise<RawClient> {
  const client = new RawClient(engine);
  await client.connect({ token: `tok:${user}`, clientId, capabilities });
  return client;
}

/** alice sends bob `count` messages m1 … mN. */
async function seed(engine: Engine, count: number, content = (i: number) => `m${i}`): Promise<void> {
  const alice = await connected(engine, "alice", "seeder");
  for (let i = 1; i <= count; i++) await alice.exchange(alice.sendFrame({ clientMsgId: BigInt(i), content: text(content(i)) }));
}

function texts(result: Received): string[] {
  return result.body.messages.map((m: { content: Uint8Array }) => untext(m.content));
}

function key(result: Received): [number, bigint][] {
  return [...syncKeyToMap(result.body.syncKey as SyncKey)];
}

describe("SYNC and SYNC_COMMIT", () => {
  test("SYNC → SYNC_RESULT echoing seq: the user's entries oldest first, the key after them, has_more", async () => {
    const { engine } = makeEngine();
    await seed(engine, 3);
    const bob = await connected(engine, "bob");
    const result = only(await bob.exchange(bob.syncFrame()), Op.SYNC_RESULT);
    expect(result.seq).toBe(2);
    expect(texts(result)).toEqual(["m1", "m2", "m3"]);
    expect(result.body.messages.map((m: { serverMsgId: bigint; senderId: string }) => [m.serverMsgId, m.senderId])).toEqual([
      [1n, "alice"],
      [2n, "alice"],
      [3n, "alice"],
    ]);
    expect(key(result)).toEqual([[1, 3n]]);
    expect(result.body.hasMore).toBe(false);
  });

  test("pages: limit, has_more, and the next SYNC with the new key continues", async () => {
    const { engine } = makeEngine();
    await seed(engine, 5);
    const bob = await connected(engine, "bob");
    const first = only(await bob.exchange(bob.syncFrame(createSyncKey([]), 2)), Op.SYNC_RESULT);
    expect([texts(first), key(first), first.body.hasMore]).toEqual([["m1", "m2"], [[1, 2n]], true]);
    const second = only(await bob.exchange(bob.syncFrame(first.body.syncKey, 2)), Op.SYNC_RESULT);
    expect([texts(second), key(second), second.body.hasMore]).toEqual([["m3", "m4"], [[1, 4n]], true]);
    const third = only(await bob.exchange(bob.syncFrame(second.body.syncKey, 2)), Op.SYNC_RESULT);
    expect([texts(third), key(third), third.body.hasMore]).toEqual([["m5"], [[1, 5n]], false]);
  });

  test("limit 0 is the server's page limit, and larger limits are capped to it", async () => {
    const { engine } = makeEngine({ syncPageLimit: 3 });
    await seed(engine, 5);
    const bob = await connected(engine, "bob");
    for (const limit of [0, 10]) {
      const result = only(await bob.exchange(bob.syncFrame(createSyncKey([]), limit)), Op.SYNC_RESULT);
      expect(texts(result)).toEqual(["m1", "m2", "m3"]);
      expect(result.body.hasMore).toBe(true);
    }
  });

  test("an empty log (and an empty SYNC body) → an empty result carrying the request's key", async () => {
    const { engine } = makeEngine();
    const bob = await connected(engine, "bob");
    const empty = only(await bob.exchange(encodeFrame({ op: Op.SYNC, seq: 2 })), Op.SYNC_RESULT);
    expect([texts(empty), key(empty), empty.body.hasMore]).toEqual([[], [], false]);
    const keyed = only(await bob.exchange(bob.syncFrame(createSyncKey([[1, 7n], [2, 3n]]))), Op.SYNC_RESULT);
    expect(key(keyed)).toEqual([
      [1, 7n],
      [2, 3n],
    ]);
  });

  test("a user syncs only their own log", async () => {
    const { engine } = makeEngine();
    await seed(engine, 2);
    const carol = await connected(engine, "carol");
    expect(texts(only(await carol.exchange(carol.syncFrame()), Op.SYNC_RESULT))).toEqual([]);
    const alice = await connected(engine, "alice", "other-device");
    expect(texts(only(await alice.exchange(alice.syncFrame()), Op.SYNC_RESULT))).toEqual(["m1", "m2"]);
  });

  test("entries are consumed only after SYNC_COMMIT: an unconfirmed page comes back on any link", async () => {
    const { engine, stores } = makeEngine();
    await seed(engine, 2);
    const phone = await connected(engine, "bob", "phone");
    expect(texts(only(await phone.exchange(phone.syncFrame()), Op.SYNC_RESULT))).toEqual(["m1", "m2"]);
    phone.link.linkClosed(phone.now);
    const again = await connected(engine, "bob", "phone");
    const result = only(await again.exchange(again.syncFrame()), Op.SYNC_RESULT);
    expect(texts(result)).toEqual(["m1", "m2"]);
    const ack = only(await again.exchange(again.commitFrame(result.body.syncKey)), Op.ACK);
    expect(ack.seq).toBe(3);
    expect(ack.body).toMatchObject({ status: AckStatus.OK, clientMsgId: 0n, serverMsgId: 0n });
    expect([...syncKeyToMap(await stores.log.committed("bob", "phone"))]).toEqual([[1, 2n]]);
    expect([...syncKeyToMap(await stores.log.committed("bob", "tablet"))]).toEqual([]);
  });

  test("SYNC_COMMIT needs a body (EMPTY_BODY → PROTOCOL_ERROR)", async () => {
    const { engine } = makeEngine();
    const bob = await connected(engine, "bob");
    const replies = await bob.exchange(encodeFrame({ op: Op.SYNC_COMMIT, seq: 2 }));
    expect(replies.map((r) => [r.op, r.body.code])).toEqual([[Op.DISCONNECT, DisconnectCode.PROTOCOL_ERROR]]);
    expect(replies[0]!.body.reason).toMatch(/EMPTY_BODY/);
  });

  test("a SYNC after a SEND in the same BATCH sees the message (SYNC waits for earlier requests)", async () => {
    const { engine } = makeEngine();
    const alice = await connected(engine, "alice");
    const replies = await alice.exchange(alice.sendFrame({ clientMsgId: 1n, content: text("mine") }), alice.syncFrame());
    expect(texts(only(replies, Op.SYNC_RESULT))).toEqual(["mine"]);
  });

  test("a page is cut to fit the client's max_frame_size; has_more brings the rest, nothing is lost", async () => {
    const { engine } = makeEngine();
    await seed(engine, 9, (i) => `message ${i} `.padEnd(120, "x"));
    const bob = await connected(engine, "bob", "dev1", { maxFrameSize: 600 });
    const seen: string[] = [];
    let syncKey = createSyncKey([]);
    for (let round = 0; round < 20; round++) {
      const result = only(await bob.exchange(bob.syncFrame(syncKey)), Op.SYNC_RESULT);
      expect(result.frame.packetLength).toBeLessThanOrEqual(600);
      expect(texts(result).length).toBeGreaterThan(0);
      seen.push(...texts(result));
      syncKey = result.body.syncKey;
      if (!result.body.hasMore) break;
    }
    expect(seen.map((s) => s.split(" ")[1])).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
  });

  test("a failing log read: no SYNC_RESULT, an error event, the link stays open", async () => {
    const wrapper = instrumented(createMemoryStores());
    const { engine } = makeEngine({}, wrapper.stores);
    const bob = await connected(engine, "bob");
    wrapper.failing.add("log.read");
    wrapper.failing.add("log.commit");
    expect(await bob.exchange(bob.syncFrame(), bob.commitFrame(createSyncKey([[1, 1n]])))).toEqual([]);
    expect(bob.events().filter((e) => e.type === "error").map((e) => (e as { request: string }).request)).toEqual(["SYNC", "SYNC_COMMIT"]);
    expect(bob.link.state).toBe("open");
    expect(bob.link.inFlight).toBe(0);
  });
});

describe("short links", () => {
  test("one message HELLO + SYNC + SYNC_COMMIT → WELCOME, SYNC_RESULT, ACK in request order, then closed", async () => {
    const { engine, stores } = makeEngine();
    await seed(engine, 2);
    const short = new RawClient(engine, { short: true, mode: "message" });
    short.feed(short.helloFrame({ token: "tok:bob" }), short.syncFrame(), short.commitFrame(createSyncKey([[1, 2n]])));
    short.link.endOfInput(short.now);
    await short.settle();
    const replies = short.drain();
    expect(replies.map((r) => [r.op, r.seq])).toEqual([
      [Op.WELCOME, 1],
      [Op.SYNC_RESULT, 2],
      [Op.ACK, 3],
    ]);
    expect(texts(replies[1]!)).toEqual(["m1", "m2"]);
    expect(short.link.state).toBe("closed");
    expect(short.events().at(-1)).toEqual({ type: "closed", code: DisconnectCode.NORMAL, reason: "every request was answered", initiator: "server" });
    expect((stores as ReturnType<typeof createMemoryStores>).presence.listenerCount("bob")).toBe(0);
    expect([...syncKeyToMap(await stores.log.committed("bob", "dev1"))]).toEqual([[1, 2n]]);
  });

  test("HELLO and requests inside one BATCH work the same", async () => {
    const { engine } = makeEngine();
    const short = new RawClient(engine, { short: true, mode: "message" });
    const strip = (frame: Uint8Array) => frame.subarray(16);
    short.feed(
      short.batchFrame([
        { op: Op.HELLO, seq: 1, body: strip(short.helloFrame({ token: "tok:bob" }, 1)) },
        { op: Op.SYNC, seq: 2, body: strip(short.syncFrame(createSyncKey([]), 0, 2)) },
      ]),
    );
    short.link.endOfInput(short.now);
    await short.settle();
    expect(short.drain().map((r) => r.op)).toEqual([Op.WELCOME, Op.SYNC_RESULT]);
    expect(short.link.state).toBe("closed");
  });

  test("a short link gets no NOTIFY", async () => {
    const { engine } = makeEngine();
    const short = new RawClient(engine, { short: true });
    await short.connect({ token: "tok:bob" });
    await seed(engine, 1);
    await short.settle();
    expect(short.drain()).toEqual([]);
  });

  test("the input ends without HELLO, or inside a frame → DISCONNECT PROTOCOL_ERROR", async () => {
    const { engine } = makeEngine();
    const empty = new RawClient(engine, { short: true });
    empty.link.endOfInput(empty.now);
    expect(empty.drain().map((r) => [r.op, r.body.code])).toEqual([[Op.DISCONNECT, DisconnectCode.PROTOCOL_ERROR]]);
    const cut = new RawClient(engine, { short: true });
    cut.link.receiveBytes(cut.helloFrame().subarray(0, 10), cut.now);
    cut.link.endOfInput(cut.now);
    const replies = cut.drain();
    expect(replies.map((r) => [r.op, r.body.code])).toEqual([[Op.DISCONNECT, DisconnectCode.PROTOCOL_ERROR]]);
    expect(replies[0]!.body.reason).toMatch(/TRUNCATED at byte 0/);
  });

  test("replies leave in request order even when an earlier request is slower (nothing is pipelined)", async () => {
    const stores = createMemoryStores();
    const putPart = stores.uploads.putPart.bind(stores.uploads);
    stores.uploads.putPart = async (...args) => {
      if (args[1] === "slow") await new Promise((resolve) => setTimeout(resolve, 20));
      return putPart(...args);
    };
    const seen: number[] = [];
    const { engine } = makeEngine({ onApplicationFrame: (frame, link) => (seen.push(frame.op), link.sendApplicationFrame(2000, new Uint8Array(0), frame.seq)) }, stores);
    const short = new RawClient(engine, { short: true });
    const chunk = (uploadId: string) => short.chunkFrame({ uploadId, partIndex: 0, partCount: 2, totalSize: 2, data: text("x") });
    short.feed(short.helloFrame({ token: "tok:bob" }), chunk("slow"), encodeFrame({ op: 1500, seq: short.nextSeq() }), chunk("fast"));
    short.link.endOfInput(short.now);
    await short.settle();
    expect(short.drain().map((r) => [r.op, r.seq])).toEqual([
      [Op.WELCOME, 1],
      [Op.CHUNK_ACK, 2],
      [2000, 3],
      [Op.CHUNK_ACK, 4],
    ]);
    expect(seen).toEqual([1500]);
  });

  test("the link closes only once every request is answered", async () => {
    const stores = createMemoryStores();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const read = stores.log.read.bind(stores.log);
    stores.log.read = async (...args) => (await gate, read(...args));
    const { engine } = makeEngine({}, stores);
    const short = new RawClient(engine, { short: true });
    short.feed(short.helloFrame({ token: "tok:bob" }), short.syncFrame());
    short.link.endOfInput(short.now);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(short.link.state).toBe("open");
    release();
    await short.settle();
    expect(short.link.state).toBe("closed");
    expect(short.drain().map((r) => r.op)).toEqual([Op.WELCOME, Op.SYNC_RESULT]);
  });
});
