// The client over a bad network, against the scripted server: frames are lost, duplicated, delayed and
// reordered both ways, links reset; then the network heals. Whatever happened, every message ends
// acknowledged or failed, the server stores each at most once and in the sender's order per
// conversation, every log entry reaches the client exactly once, sync converges and the upload ends.
// (The full simulation with the real server engine is a separate test; this one pins the client.)
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { formatSyncKey } from "../../../src/index.js";
import { decodeTransmit, FakeServer, Harness, reply, stored, T0, text } from "./support.js";
import { seededRandom } from "../../support/random.js";


interface InFlight {
  at: number;
  link: number;
  bytes: Uint8Array;
}

interface Weather {
  loss: number;
  dup: number;
  resets: number;
}

function simulate(seed: number, weather: Weather) {
  const rand = seededRandom(seed);
  const h = new Harness({ random: seededRandom(seed ^ 0x5eed), partSize: 200, userId: "alice", maxPendingSends: 64 });
  const server = new FakeServer();
  server.welcome = { heartbeatIntervalMs: 2000, limits: { maxBatchFrames: 4, maxInFlight: 16 } };
  for (let i = 1; i <= 5; i++) server.push(stored("bob-chat", i, `bob ${i}`));
  let link = 0;
  let up: InFlight[] = [];
  let down: InFlight[] = [];
  let reconnectAt: number | undefined = h.now;
  const conversations = ["A", "B", "C"];
  const sentOrder: bigint[] = [];
  const convOf = new Map<bigint, string>();
  const object = Uint8Array.from({ length: 1500 }, (_, i) => (i * 7 + seed) & 0xff);
  let upload: { done: Promise<{ objectId: string }> } | undefined;
  const uploadResult: { objectId?: string; failed?: boolean } = {};
  const send = (w: Weather, from: Uint8Array[], to: InFlight[]) => {
    for (const bytes of from) {
      if (rand() < w.loss) continue;
      const copies = rand() < w.dup ? 2 : 1;
      for (let c = 0; c < copies; c++) to.push({ at: h.now + 1 + Math.floor(rand() * 200), link, bytes });
    }
  };

  const step = (w: Weather, quiet = false) => {
    // The application (and Bob), until the final quiet stretch.
    if (!quiet && sentOrder.length < 30 && rand() < 0.3 && h.engine.pendingSends < 60) {
      const c = conversations[Math.floor(rand() * conversations.length)]!;
      const id = h.engine.send({ conversationId: c, recipientId: "bob", content: text(`msg ${sentOrder.length}`) }, h.now);
      sentOrder.push(id);
      convOf.set(id, c);
    }
    if (!quiet && upload === undefined && rand() < 0.05) {
      upload = h.engine.upload(object, "image/png", h.now);
      upload.done.then(
        ({ objectId }) => void (uploadResult.objectId = objectId),
        () => void (uploadResult.failed = true),
      );
    }
    if (!quiet && rand() < 0.01) {
      server.push(stored("bob-chat", server.log.length + 100, "bob again"));
      send(w, [reply.notify({ syncKey: server.head() })], down);
    }
    // The adapter: connect, write, read, time.
    if (reconnectAt !== undefined && h.now >= reconnectAt) {
      reconnectAt = undefined;
      link++;
      h.engine.reconnected(h.now);
    }
    if (h.engine.state !== "idle") {
      const out: Uint8Array[] = [];
      for (let t = h.engine.pollTransmit(h.now); t !== undefined; t = h.engine.pollTransmit(h.now)) out.push(t);
      send(w, out, up);
    }
    const arrivedUp = up.filter((f) => f.at <= h.now && f.link === link);
    up = up.filter((f) => f.at > h.now && f.link === link);
    for (const f of arrivedUp) send(w, server.answer(decodeTransmit(f.bytes, 0), h.now), down);
    const arrivedDown = down.filter((f) => f.at <= h.now && f.link === link);
    down = down.filter((f) => f.at > h.now && f.link === link);
    for (const f of arrivedDown) h.engine.receiveMessage(f.bytes, h.now);
    h.events();
    if (h.engine.state === "closed" || (w.resets > 0 && rand() < w.resets && h.engine.state === "open")) {
      h.engine.linkClosed(h.now);
      up = [];
      down = [];
      reconnectAt = h.now + 500 + Math.floor(rand() * 2000);
    }
    h.advance(10 + Math.floor(rand() * 90));
  };

  for (let i = 0; i < 3000; i++) step(weather);
  const calm = { loss: 0, dup: 0, resets: 0 };
  // Healed: retries and syncs finish; failed messages are the app's to resend (here: all of them).
  for (let i = 0; i < 6000; i++) {
    step(calm);
    if (i % 1000 === 999) for (const e of h.eventLog) if (e.type === "failed" && e.retryable && !isSent(e.clientMsgId)) tryResend(e.clientMsgId);
  }
  function isSent(id: bigint): boolean {
    return h.eventLog.some((e) => e.type === "sent" && e.clientMsgId === id);
  }
  function tryResend(id: bigint): void {
    try {
      h.engine.resend(id, h.now);
    } catch {
      // already resent, or confirmed late
    }
  }
  // One last quiet stretch so the last resends and their syncs settle.
  for (let i = 0; i < 3000; i++) step(calm, true);
  return { h, server, sentOrder, convOf, object, upload, uploadResult };
}

describe("the client over a lossy network (scripted server)", () => {
  test.prop([fc.integer({ min: 1, max: 2 ** 31 - 1 })], { numRuns: 12, examples: [[1728534573], [1988716821]] })("30 % loss, 10 % duplication, reordering, resets: exactly once, in order, converged", async (seed) => {
    const { h, server, sentOrder, convOf, object, upload, uploadResult } = simulate(seed, { loss: 0.3, dup: 0.1, resets: 0.002 });
    await Promise.resolve();
    const events = h.eventLog;
    // No protocol error against a correct server, whatever the network did.
    expect(events.filter((e) => e.type === "error")).toEqual([]);
    // Every message was acknowledged in the end (after the app resent the failed ones); stored once.
    for (const id of sentOrder) expect(events.some((e) => e.type === "sent" && e.clientMsgId === id)).toBe(true);
    expect(new Set(server.stores).size).toBe(server.stores.length);
    expect(server.stores.length).toBe(sentOrder.length);
    // Per conversation, the server stored them in the order they were sent — except a message that
    // failed and was resent later by the app: its resend is a new place in the order.
    const failed = new Set(events.filter((e) => e.type === "failed").map((e) => e.clientMsgId));
    for (const c of ["A", "B", "C"]) {
      const storedOrder = server.log.filter((m) => m.conversationId === c && !failed.has(m.clientMsgId)).map((m) => m.clientMsgId);
      expect(storedOrder).toEqual(sentOrder.filter((id) => convOf.get(id) === c && !failed.has(id)));
    }
    // Every log entry reached the client exactly once, own ones marked.
    const delivered = events.filter((e) => e.type === "message");
    const keys = delivered.map((e) => `${e.message.conversationId}/${e.message.serverMsgId}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBe(server.log.length);
    expect(delivered.filter((e) => e.own).length).toBe(sentOrder.length);
    // Sync converged and everything is committed; nothing is pending.
    expect(formatSyncKey(h.engine.syncKey)).toBe(`1_${server.log.length}`);
    expect(server.committed).toBe(BigInt(server.log.length));
    expect(h.engine.pendingSends).toBe(0);
    // The upload (if started) ended: byte-identical, or failed with a reason.
    if (upload !== undefined) {
      expect(uploadResult.objectId !== undefined || uploadResult.failed === true).toBe(true);
      if (uploadResult.objectId !== undefined) expect(server.objects.get(uploadResult.objectId)).toEqual(object);
      else expect(events.some((e) => e.type === "upload-failed")).toBe(true);
    }
    // The weather did bite: links were lost and rebuilt.
    expect(events.filter((e) => e.type === "open" && e.resumed).length).toBeGreaterThan(0);
    expect(h.now).toBeGreaterThan(T0);
  });
});
