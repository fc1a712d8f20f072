// The sync cycle (§11.5): SYNC after WELCOME and on NOTIFY, one outstanding, a NOTIFY during a cycle →
// exactly one more, paging while has_more with a commit per page, stale and duplicate results ignored,
// redelivered messages dropped by a bounded record, timeouts, and a key that never moves on an error.
import { describe, expect, test } from "vitest";
import { createSyncKey, formatSyncKey, Op, syncKeyEquals } from "../../../src/index.js";
import { exchange, FakeServer, Harness, key1, reply, stored, T0, text, type Sent } from "./support.js";

const ops = (frames: Sent[]) => frames.map((f) => f.op);
const texts = (h: Harness) => h.eventsOf("message").map((e) => new TextDecoder().decode(e.message.content));

describe("sync cycle", () => {
  test("every WELCOME starts a cycle: SYNC with the stored key and the limit", () => {
    const h = new Harness({ syncKey: key1(7), syncLimit: 50 });
    const [sync] = h.open();
    expect(sync!.op).toBe(Op.SYNC);
    expect(syncKeyEquals(sync!.message.syncKey, key1(7))).toBe(true);
    expect(sync!.message.limit).toBe(50);
  });

  test("pages while has_more: messages in order, a SYNC_COMMIT per page, the key merged, synced per page", () => {
    const h = new Harness();
    const server = new FakeServer();
    server.pageSize = 100;
    for (let i = 1; i <= 250; i++) server.push(stored("c1", i, `m${i}`));
    h.engine.connect(h.now);
    exchange(h, server);
    expect(texts(h)).toEqual(Array.from({ length: 250 }, (_, i) => `m${i + 1}`));
    const synced = h.eventLog.filter((e) => e.type === "synced");
    expect(synced.map((e) => [e.count, e.hasMore, formatSyncKey(e.syncKey)])).toEqual([
      [100, true, "1_100"],
      [100, true, "1_200"],
      [50, false, "1_250"],
    ]);
    expect(formatSyncKey(h.engine.syncKey)).toBe("1_250");
    expect(h.log.filter((f) => f.op === Op.SYNC_COMMIT).map((f) => formatSyncKey(f.message.syncKey))).toEqual(["1_100", "1_200", "1_250"]);
    expect(server.committed).toBe(250n);
    expect(h.log.filter((f) => f.op === Op.SYNC)).toHaveLength(3);
  });

  test("the key advances only by merging: keys the server does not mention are kept", () => {
    const h = new Harness({ syncKey: createSyncKey([[2, 9n]]) });
    const [sync] = h.open();
    h.deliver(reply.syncResult(sync!.seq, { messages: [stored("c", 1, "x")], syncKey: key1(1) }));
    expect(formatSyncKey(h.engine.syncKey)).toBe("1_1|2_9");
  });

  test("a NOTIFY during a cycle runs exactly one more cycle, however many arrive", () => {
    const h = new Harness();
    const [sync] = h.open();
    h.deliver(reply.notify({ syncKey: key1(5) }), reply.notify({ syncKey: key1(6) }), reply.notify());
    expect(h.flush()).toEqual([]); // one SYNC outstanding at most
    h.deliver(reply.syncResult(sync!.seq, { messages: [stored("c", 1, "a"), stored("c", 2, "b")], syncKey: key1(2) }));
    const next = h.flush();
    expect(ops(next)).toEqual([Op.SYNC_COMMIT, Op.SYNC]);
    expect(formatSyncKey(next[1]!.message.syncKey)).toBe("1_2");
    h.deliver(reply.ack(next[0]!.seq), reply.syncResult(next[1]!.seq, { syncKey: key1(2) }));
    expect(h.flush()).toEqual([]); // the cycle is over
    expect(h.engine.pollTimeout()).toBeUndefined();
  });

  test("a NOTIFY whose key is not newer is ignored; one without a key always syncs", () => {
    const h = new Harness({ syncKey: key1(10) });
    const [sync] = h.open();
    h.deliver(reply.syncResult(sync!.seq, { syncKey: key1(10) }));
    h.flush();
    h.deliver(reply.notify({ syncKey: key1(10) }), reply.notify({ syncKey: key1(3) }));
    expect(h.flush()).toEqual([]);
    h.deliver(reply.notify({ syncKey: key1(11) }));
    expect(ops(h.flush())).toEqual([Op.SYNC]);
    const quiet = new Harness();
    const [s] = quiet.open();
    quiet.deliver(reply.syncResult(s!.seq));
    quiet.flush();
    quiet.deliver(reply.notify());
    expect(ops(quiet.flush())).toEqual([Op.SYNC]);
  });

  test("a stale SYNC_RESULT (wrong seq) and a duplicated one are ignored", () => {
    const h = new Harness();
    const [sync] = h.open();
    h.events();
    h.deliver(reply.syncResult(sync!.seq + 40, { messages: [stored("c", 1, "stale")], syncKey: key1(1) }));
    expect(h.events()).toEqual([]);
    expect(formatSyncKey(h.engine.syncKey)).toBe("");
    const result = reply.syncResult(sync!.seq, { messages: [stored("c", 1, "real")], syncKey: key1(1) });
    h.deliver(result);
    h.deliver(result);
    expect(texts(h)).toEqual(["real"]);
    expect(ops(h.flush())).toEqual([Op.SYNC_COMMIT]);
  });

  test("a pushed SYNC_RESULT (seq 0) is only a reason to sync: its content is not handed over", () => {
    const h = new Harness();
    const [sync] = h.open();
    h.deliver(reply.syncResult(sync!.seq));
    h.flush();
    h.events();
    h.deliver(reply.syncResult(0, { messages: [stored("c", 1, "pushed")], syncKey: key1(1) }));
    expect(h.events()).toEqual([]);
    expect(ops(h.flush())).toEqual([Op.SYNC]);
  });

  test("messages already handed over are dropped (within a page, across pages, after a lost commit)", () => {
    const h = new Harness();
    const [sync] = h.open();
    h.deliver(reply.syncResult(sync!.seq, { messages: [stored("c", 1, "one"), stored("c", 1, "one again"), stored("d", 1, "other conv")], syncKey: key1(2), hasMore: true }));
    const [, next] = h.flush();
    // The server redelivers (its log was not trimmed) plus a new one.
    h.deliver(reply.syncResult(next!.seq, { messages: [stored("d", 1, "dup"), stored("c", 1, "dup"), stored("c", 2, "two")], syncKey: key1(3) }));
    expect(texts(h)).toEqual(["one", "other conv", "two"]);
    const synced = h.eventLog.filter((e) => e.type === "synced");
    expect(synced.map((e) => e.count)).toEqual([2, 1]);
  });

  test("the processed-id record is bounded: the oldest pair is forgotten", () => {
    const h = new Harness({ processedIdCapacity: 3 });
    const [sync] = h.open();
    h.deliver(reply.syncResult(sync!.seq, { messages: [1, 2, 3, 4].map((i) => stored("c", i, `m${i}`)), syncKey: key1(4), hasMore: true }));
    const [, next] = h.flush();
    h.deliver(reply.syncResult(next!.seq, { messages: [stored("c", 1, "m1 again"), stored("c", 4, "m4 again")], syncKey: key1(4) }));
    expect(texts(h)).toEqual(["m1", "m2", "m3", "m4", "m1 again"]);
  });

  test("a SYNC without a result is sent again with a new seq and the same key, on backoff", () => {
    const h = new Harness({ syncKey: key1(3), syncTimeoutMs: 2000 });
    const [first] = h.open();
    expect(h.engine.pollTimeout()).toBe(T0 + 2000);
    h.advanceTo(T0 + 2000);
    const [second] = h.flush();
    expect(second!.op).toBe(Op.SYNC);
    expect(second!.seq).not.toBe(first!.seq);
    expect(syncKeyEquals(second!.message.syncKey, key1(3))).toBe(true);
    expect(h.engine.pollTimeout()).toBe(T0 + 6000);
    // The answer to the superseded SYNC is stale now.
    h.deliver(reply.syncResult(first!.seq, { messages: [stored("c", 4, "late")], syncKey: key1(4) }));
    expect(texts(h)).toEqual([]);
    h.deliver(reply.syncResult(second!.seq, { messages: [stored("c", 4, "fresh")], syncKey: key1(4) }));
    expect(texts(h)).toEqual(["fresh"]);
  });

  test("a SYNC_RESULT that fails to decode: DISCONNECT PROTOCOL_ERROR, nothing handed over, the key unchanged", () => {
    const h = new Harness({ syncKey: key1(3) });
    const [sync] = h.open();
    h.events();
    // A valid message followed by a field whose length runs past the end.
    const good = reply.syncResult(sync!.seq, { messages: [stored("c", 4, "ok")], syncKey: key1(4) });
    const body = new Uint8Array([...good.subarray(16), 0x0a, 0x7f]);
    h.deliver(reply.raw(Op.SYNC_RESULT, sync!.seq, body));
    expect(h.events().map((e) => e.type)).toEqual(["error"]);
    expect(h.eventLog.find((e) => e.type === "error")).toMatchObject({ code: "BAD_BODY" });
    expect(formatSyncKey(h.engine.syncKey)).toBe("1_3");
    expect(ops(h.flush())).toEqual([Op.DISCONNECT]);
  });

  test("has_more with a key that does not move ends the cycle instead of asking forever", () => {
    const h = new Harness({ syncKey: key1(3) });
    const [sync] = h.open();
    h.deliver(reply.syncResult(sync!.seq, { syncKey: key1(3), hasMore: true }));
    expect(h.flush()).toEqual([]);
  });

  test("commits: one in flight, the newest key waits (replacing older ones), resent on timeout", () => {
    const h = new Harness({ syncTimeoutMs: 1000 });
    const [sync] = h.open();
    h.deliver(reply.syncResult(sync!.seq, { messages: [stored("c", 1, "a")], syncKey: key1(1), hasMore: true }));
    const [commit1, sync2] = h.flush();
    expect(formatSyncKey(commit1!.message.syncKey)).toBe("1_1");
    h.deliver(reply.syncResult(sync2!.seq, { messages: [stored("c", 2, "b")], syncKey: key1(2), hasMore: true }));
    const [sync3] = h.flush();
    expect(sync3!.op).toBe(Op.SYNC); // the commit of 1_2 waits for the one in flight
    h.deliver(reply.syncResult(sync3!.seq, { messages: [stored("c", 3, "c")], syncKey: key1(3) }));
    expect(h.flush()).toEqual([]);
    // commit1 is lost; on its timeout the newest key goes.
    h.advanceTo(T0 + 1000);
    const [commit2] = h.flush();
    expect([commit2!.op, formatSyncKey(commit2!.message.syncKey)]).toEqual([Op.SYNC_COMMIT, "1_3"]);
    h.deliver(reply.ack(commit2!.seq));
    expect(h.flush()).toEqual([]);
    expect(h.engine.pollTimeout()).toBeUndefined();
  });

  test("messages this device sent come back marked own (by client id and, when known, sender)", () => {
    const h = new Harness({ userId: "alice" });
    const server = new FakeServer();
    server.push(stored("c", 1, "from bob"));
    h.engine.connect(h.now);
    exchange(h, server);
    h.events();
    const mine = h.engine.send({ conversationId: "c", content: text("from me") }, h.now);
    exchange(h, server);
    const messages = h.eventsOf("message");
    expect(messages.map((e) => [new TextDecoder().decode(e.message.content), e.own])).toEqual([["from me", true]]);
    expect(messages[0]!.message.clientMsgId).toBe(mine);
    // Another user's message that happens to carry one of our client ids is not ours.
    const other = new Harness({ userId: "alice" });
    const id = other.engine.send({ conversationId: "c" }, other.now);
    const [sync] = other.open();
    other.deliver(reply.syncResult(sync!.seq, { messages: [stored("c", 9, "bob's", { clientMsgId: id, senderId: "bob" })], syncKey: key1(1) }));
    expect(other.eventsOf("message")[0]!.own).toBe(false);
  });

  describe("the periodic sync (a NOTIFY lost on a link that stays up)", () => {
    test("a NOTIFY that never arrives: the message comes with the sync syncIntervalMs after the last SYNC", () => {
      const h = new Harness({ syncIntervalMs: 60_000 });
      const server = new FakeServer();
      h.engine.connect(h.now);
      exchange(h, server);
      const lastSync = h.now;
      expect(h.engine.pollTimeout()).toBe(lastSync + 60_000);
      // Bob writes; the NOTIFY is lost on the way (the link itself survives).
      server.push(stored("c", 1, "hello?"));
      h.advanceTo(lastSync + 59_999);
      expect(h.flush()).toEqual([]);
      h.advanceTo(lastSync + 60_000);
      const [sync] = h.flush();
      expect(sync!.op).toBe(Op.SYNC);
      const replies = server.answer([sync!], h.now);
      h.deliver(...replies);
      exchange(h, server);
      expect(texts(h)).toEqual(["hello?"]);
      expect(formatSyncKey(h.engine.syncKey)).toBe("1_1");
      expect(server.committed).toBe(1n);
      // The next periodic sync counts from this one.
      expect(h.engine.pollTimeout()).toBe(lastSync + 120_000);
    });

    test("it counts from the last SYNC of any cycle, and never runs during one", () => {
      const h = new Harness({ syncIntervalMs: 60_000 });
      const [first] = h.open();
      // The first cycle is still waiting for its result: its retry timer, not the periodic sync.
      expect(h.engine.pollTimeout()).toBe(T0 + 5000);
      h.deliver(reply.syncResult(first!.seq));
      expect(h.engine.pollTimeout()).toBe(T0 + 60_000);
      h.advance(30_000);
      h.deliver(reply.notify());
      const [second] = h.flush();
      expect(second!.op).toBe(Op.SYNC);
      h.deliver(reply.syncResult(second!.seq));
      expect(h.engine.pollTimeout()).toBe(T0 + 90_000);
      h.advanceTo(T0 + 90_000);
      expect(ops(h.flush())).toEqual([Op.SYNC]);
    });

    test("default: every 5 minutes; 0 turns it off; only on an open link", () => {
      const h = new Harness({ syncIntervalMs: undefined });
      const [sync] = h.open();
      h.deliver(reply.syncResult(sync!.seq));
      expect(h.engine.pollTimeout()).toBe(T0 + 300_000);
      h.engine.linkClosed(h.now);
      expect(h.engine.pollTimeout()).toBeUndefined();
      const off = new Harness({ syncIntervalMs: 0 });
      const [s2] = off.open();
      off.deliver(reply.syncResult(s2!.seq));
      expect(off.engine.pollTimeout()).toBeUndefined();
      expect(() => new Harness({ syncIntervalMs: -1 })).toThrow(RangeError);
    });
  });
});
