// Resume (§11.1, §11.5, issue 9): after a lost link, reconnected() replays HELLO with the current key;
// after WELCOME the unacknowledged commit, a SYNC, every unacked SEND with its original client id and
// the missing upload parts go out. Nothing is lost, nothing is shown twice.
import { describe, expect, test } from "vitest";
import { formatSyncKey, Op, syncKeyEquals } from "../../../src/index.js";
import { exchange, FakeServer, Harness, reply, stored, text } from "./support.js";

function object(size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 31 + 7) & 0xff);
}

describe("resume after reconnected()", () => {
  test("unacked SENDs (same ids), the lost commit and missing upload parts are replayed; delivery is exactly once", async () => {
    const h = new Harness({ partSize: 100, userId: "alice" });
    const server = new FakeServer();
    for (let i = 1; i <= 3; i++) server.push(stored("bob-chat", i, `bob ${i}`));
    h.engine.connect(h.now);
    exchange(h, server);
    expect(server.committed).toBe(3n);

    // The link goes bad. a1 and b1 reach the server (stored), but their ACKs never come back; a2 waits
    // behind a1 in conversation A.
    const a1 = h.engine.send({ conversationId: "A", content: text("a1") }, h.now);
    const a2 = h.engine.send({ conversationId: "A", content: text("a2") }, h.now);
    const b1 = h.engine.send({ conversationId: "B", content: text("b1") }, h.now);
    const upload = h.engine.upload(object(500), "image/jpeg", h.now, { uploadId: "pic" });
    const first = h.flush();
    expect(first.filter((f) => f.op === Op.SEND).map((f) => f.message.clientMsgId)).toEqual([a1, b1]);
    const parts = first.filter((f) => f.op === Op.CHUNK);
    expect(parts.map((f) => f.message.partIndex)).toEqual([0, 1, 2, 3]);
    server.answer(first.filter((f) => f.op === Op.SEND), h.now); // stored, answers lost
    // Parts 0 and 1 get through and are acknowledged; 2 and 3 are lost.
    h.deliver(...server.answer(parts.slice(0, 2), h.now));
    expect(h.flush().filter((f) => f.op === Op.CHUNK).map((f) => f.message.partIndex)).toEqual([4]); // lost too

    // Bob writes; the page arrives, but the commit is lost.
    server.push(stored("bob-chat", 4, "bob 4"));
    h.deliver(reply.notify({ syncKey: server.head() }));
    const [sync] = h.flush();
    expect(sync!.op).toBe(Op.SYNC);
    h.deliver(...server.answer([sync!], h.now));
    const [commit] = h.flush();
    expect(commit!.op).toBe(Op.SYNC_COMMIT);
    const keyBefore = h.engine.syncKey;

    // The link resets.
    h.engine.linkClosed(h.now);
    expect(h.engine.pendingSends).toBe(3);
    h.engine.reconnected(h.now);
    const [hello] = h.flush();
    expect(hello!.op).toBe(Op.HELLO);
    expect(syncKeyEquals(hello!.message.syncKey, keyBefore)).toBe(true);
    h.deliver(...server.answer([hello!], h.now));
    const replay = h.flush();
    expect(replay.map((f) => f.op)).toEqual([Op.SYNC_COMMIT, Op.SYNC, Op.SEND, Op.SEND, Op.CHUNK, Op.CHUNK, Op.CHUNK]);
    expect(formatSyncKey(replay[0]!.message.syncKey)).toBe(formatSyncKey(commit!.message.syncKey));
    expect(replay.filter((f) => f.op === Op.SEND).map((f) => f.message.clientMsgId)).toEqual([a1, b1]);
    expect(replay.filter((f) => f.op === Op.CHUNK).map((f) => f.message.partIndex)).toEqual([2, 3, 4]);
    expect(h.eventsOf("open").at(-1)).toMatchObject({ resumed: true });

    h.deliver(...server.answer(replay, h.now));
    exchange(h, server);
    h.events();

    // Every message acknowledged exactly once; a1 and b1 as duplicates of what the server had stored.
    const sent = h.eventLog.filter((e) => e.type === "sent");
    expect(sent.map((e) => [e.clientMsgId, e.duplicate])).toEqual([
      [a1, true],
      [b1, true],
      [a2, false],
    ]);
    expect(server.stores).toEqual([a1, b1, a2]);
    // The server stored conversation A in the order it was sent.
    expect(server.log.filter((m) => m.conversationId === "A").map((m) => m.clientMsgId)).toEqual([a1, a2]);
    // Every log entry handed over exactly once, own ones marked.
    const delivered = h.eventLog.filter((e) => e.type === "message");
    const keys = delivered.map((e) => `${e.message.conversationId}/${e.message.serverMsgId}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(server.log.map((m) => `${m.conversationId}/${m.serverMsgId}`).sort());
    expect(delivered.filter((e) => e.own).map((e) => e.message.clientMsgId).sort()).toEqual([a1, a2, b1].sort());
    // Sync converged and everything is committed.
    expect(formatSyncKey(h.engine.syncKey)).toBe(`1_${server.log.length}`);
    expect(server.committed).toBe(BigInt(server.log.length));
    // The upload finished with the same bytes.
    const { objectId } = await upload.done;
    expect(server.objects.get(objectId)).toEqual(object(500));
    expect(h.engine.pendingSends).toBe(0);
    expect(h.engine.pollTimeout()).toBeUndefined();
  });

  test("a link lost mid-retry does not count as a timeout: the message waits, then goes with its attempt count", () => {
    const h = new Harness({ maxRetries: 1 });
    const server = new FakeServer();
    h.engine.connect(h.now);
    exchange(h, server);
    const id = h.engine.send({ conversationId: "A" }, h.now);
    h.flush();
    h.advance(3000); // one retransmission
    h.flush();
    h.engine.linkClosed(h.now);
    h.advance(10 * 60_000); // a long outage: no timer runs
    expect(h.events().filter((e) => e.type === "failed")).toEqual([]);
    h.engine.reconnected(h.now);
    exchange(h, server);
    expect(h.eventsOf("sent").map((e) => e.clientMsgId)).toEqual([id]);
  });
});
