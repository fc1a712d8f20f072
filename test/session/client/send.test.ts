// Sending (§11.4): sent only on ACK, retransmission with the same client id and a new seq on exact
// backoff deadlines, failed after the limit, resend → DUPLICATE, REJECTED, the queue bound, the
// per-conversation window, max_in_flight, and several frames of one tick leaving as one BATCH.
import { describe, expect, test } from "vitest";
import { AckStatus, Op } from "../../../src/index.js";
import { SessionError } from "../../../src/session/index.js";
import { concat } from "../../support/hex.js";
import { thrownBy } from "../../support/thrown.js";
import { exchange, FakeServer, Harness, openQuiet, reply, T0, text, type Sent } from "./support.js";


const sends = (frames: Sent[]) => frames.filter((f) => f.op === Op.SEND);

describe("ack and retransmission", () => {
  test("a message is sent only when its ACK arrives, with the server's ids", () => {
    const h = openQuiet();
    const id = h.engine.send({ conversationId: "c1", recipientId: "bob", kind: 1, content: text("hello") }, h.now);
    const [frame] = h.flush();
    expect(frame!.op).toBe(Op.SEND);
    expect(frame!.message).toMatchObject({ clientMsgId: id, conversationId: "c1", recipientId: "bob", serverMsgId: 0n, senderId: "", createdAtMs: BigInt(T0) });
    expect(h.events()).toEqual([]);
    expect(h.engine.pendingSends).toBe(1);
    h.deliver(reply.ack(frame!.seq, { status: AckStatus.OK, clientMsgId: id, serverMsgId: 41n, serverTimeMs: 123n }));
    expect(h.events()).toEqual([{ type: "sent", clientMsgId: id, serverMsgId: 41n, serverTimeMs: 123n, duplicate: false }]);
    expect(h.engine.pendingSends).toBe(0);
    expect(h.engine.pollTimeout()).toBeUndefined();
  });

  test("client ids come from the generator on the engine's clock; a caller's id is kept", () => {
    const h = openQuiet();
    const a = h.engine.send({ conversationId: "c1" }, h.now);
    const b = h.engine.send({ conversationId: "c2" }, h.now);
    expect(b).toBe(a + 1n); // same millisecond: +1
    expect(a >> 23n).toBe(BigInt(T0 - Date.UTC(2024, 0, 1)));
    expect(h.engine.send({ conversationId: "c3", clientMsgId: 99n }, h.now)).toBe(99n);
    const custom = openQuiet({ clientMsgId: () => 5n });
    expect(custom.engine.send({ conversationId: "c" }, custom.now)).toBe(5n);
  });

  test("no ACK: retransmits with the same body and a new seq at 3 s, 6 s, 12 s, 24 s (random 0.5), then fails", () => {
    const h = openQuiet();
    const id = h.engine.send({ conversationId: "c1", content: text("hi") }, h.now);
    const first = h.flush();
    const deadlines = [3000, 9000, 21000, 45000].map((d) => T0 + d);
    const seqs = [first[0]!.seq];
    for (const [i, deadline] of deadlines.entries()) {
      expect(h.engine.pollTimeout()).toBe(deadline);
      h.advanceTo(deadline - 1);
      expect(h.flush()).toEqual([]);
      h.advanceTo(deadline);
      const again = h.flush();
      if (i < 3) {
        expect(again).toHaveLength(1);
        expect(again[0]!.message.clientMsgId).toBe(id);
        expect(again[0]!.body).toEqual(first[0]!.body);
        seqs.push(again[0]!.seq);
        expect(h.events()).toEqual([{ type: "retry", clientMsgId: id, attempt: i + 1 }]);
      } else {
        expect(again).toEqual([]);
        expect(h.events()).toEqual([{ type: "failed", clientMsgId: id, reason: "timeout", retryable: true }]);
      }
    }
    expect(new Set(seqs).size).toBe(4);
    expect(h.engine.pendingSends).toBe(0);
    expect(h.engine.pollTimeout()).toBeUndefined();
  });

  test("jitter comes from random(): 0 gives −20 %, and maxRetries/ackTimeoutMs/backoffFactor are options", () => {
    const h = openQuiet({ random: () => 0, ackTimeoutMs: 1000, maxRetries: 1, backoffFactor: 3 });
    h.engine.send({ conversationId: "c1" }, h.now);
    h.flush();
    expect(h.engine.pollTimeout()).toBe(T0 + 800);
    h.advanceTo(T0 + 800);
    expect(h.flush()).toHaveLength(1);
    expect(h.engine.pollTimeout()).toBe(T0 + 800 + 2400);
    h.advanceTo(T0 + 3200);
    expect(h.eventsOf("failed")).toHaveLength(1);
  });

  test("a late ACK of an earlier transmission confirms the message; the later ACK is then ignored", () => {
    const h = openQuiet();
    const id = h.engine.send({ conversationId: "c1" }, h.now);
    const [first] = h.flush();
    h.advanceTo(T0 + 3000);
    const [second] = h.flush();
    h.events();
    h.deliver(reply.ack(first!.seq, { clientMsgId: id, serverMsgId: 7n }));
    expect(h.events()).toEqual([{ type: "sent", clientMsgId: id, serverMsgId: 7n, serverTimeMs: 0n, duplicate: false }]);
    h.deliver(reply.ack(second!.seq, { status: AckStatus.DUPLICATE, clientMsgId: id, serverMsgId: 7n }));
    expect(h.events()).toEqual([]);
    h.advance(60_000);
    expect(h.flush()).toEqual([]);
  });

  test("an ACK naming another client id does not confirm the message", () => {
    const h = openQuiet();
    const id = h.engine.send({ conversationId: "c1" }, h.now);
    const [frame] = h.flush();
    h.deliver(reply.ack(frame!.seq, { clientMsgId: id + 1n, serverMsgId: 7n }));
    expect(h.events()).toEqual([]);
    expect(h.engine.pendingSends).toBe(1);
    // An ACK with client id 0 (a bare ack) answers by seq alone.
    h.deliver(reply.ack(frame!.seq));
    expect(h.eventsOf("sent")).toHaveLength(1);
  });

  test("a late ACK after the message failed (same link) turns it into sent", () => {
    const h = openQuiet({ maxRetries: 0 });
    const id = h.engine.send({ conversationId: "c1" }, h.now);
    const [frame] = h.flush();
    h.advanceTo(T0 + 3000);
    expect(h.eventsOf("failed")).toHaveLength(1);
    h.deliver(reply.ack(frame!.seq, { clientMsgId: id, serverMsgId: 3n }));
    expect(h.events()).toEqual([{ type: "sent", clientMsgId: id, serverMsgId: 3n, serverTimeMs: 0n, duplicate: false }]);
    expect(thrownBy(SessionError, () => h.engine.resend(id, h.now)).code).toBe("NOT_FAILED");
  });

  test("resend() of a failed message reuses its id; a server that stored it answers DUPLICATE with the original ids", () => {
    const h = new Harness({ maxRetries: 1 });
    const server = new FakeServer();
    h.engine.connect(h.now);
    exchange(h, server);
    h.events();
    // The server stores the message, but its ACKs never come back.
    const id = h.engine.send({ conversationId: "c1", content: text("lost ack") }, h.now);
    server.answer(h.flush(), h.now);
    h.advanceTo(T0 + 3000);
    server.answer(h.flush(), h.now);
    h.advanceTo(T0 + 9000);
    expect(h.eventsOf("failed")).toEqual([{ type: "failed", clientMsgId: id, reason: "timeout", retryable: true }]);
    expect(server.stores).toEqual([id]);

    h.engine.resend(id, h.now);
    expect(h.engine.pendingSends).toBe(1);
    exchange(h, server);
    const sent = h.eventsOf("sent");
    expect(sent).toEqual([{ type: "sent", clientMsgId: id, serverMsgId: 1n, serverTimeMs: BigInt(T0), duplicate: true }]);
    expect(server.stores).toEqual([id]);
    expect(h.log.filter((f) => f.op === Op.SEND).every((f) => f.message.clientMsgId === id)).toBe(true);
  });

  test("ACK REJECTED fails the message at once, not retryable, not kept", () => {
    const h = openQuiet();
    const id = h.engine.send({ conversationId: "c1" }, h.now);
    const [frame] = h.flush();
    h.deliver(reply.ack(frame!.seq, { status: AckStatus.REJECTED, clientMsgId: id, error: "recipient blocked you" }));
    expect(h.events()).toEqual([{ type: "failed", clientMsgId: id, reason: "recipient blocked you", retryable: false }]);
    expect(h.engine.pollTimeout()).toBeUndefined();
    expect(thrownBy(SessionError, () => h.engine.resend(id, h.now)).code).toBe("NOT_FAILED");
  });

  test("an ACK with an unknown status is not an answer: the timer keeps running", () => {
    const h = openQuiet();
    const id = h.engine.send({ conversationId: "c1" }, h.now);
    const [frame] = h.flush();
    h.deliver(reply.ack(frame!.seq, { status: 9 as AckStatus, clientMsgId: id }));
    expect(h.events()).toEqual([]);
    expect(h.engine.pollTimeout()).toBe(T0 + 3000);
  });

  test("failed messages are kept up to maxFailedSends (oldest forgotten); discard() forgets one", () => {
    const h = openQuiet({ maxRetries: 0, maxFailedSends: 2 });
    const ids = ["a", "b", "c"].map((c) => h.engine.send({ conversationId: c }, h.now));
    h.flush();
    h.advanceTo(T0 + 3000);
    expect(h.eventsOf("failed").map((e) => e.clientMsgId)).toEqual(ids);
    expect(thrownBy(SessionError, () => h.engine.resend(ids[0]!, h.now)).code).toBe("NOT_FAILED");
    expect(h.engine.discard(ids[1]!)).toBe(true);
    expect(h.engine.discard(ids[1]!)).toBe(false);
    h.engine.resend(ids[2]!, h.now);
    expect(sends(h.flush()).map((f) => f.message.clientMsgId)).toEqual([ids[2]]);
  });

  test("send() with the id of a failed message replaces it", () => {
    const h = openQuiet({ maxRetries: 0 });
    const id = h.engine.send({ conversationId: "c1", content: text("v1") }, h.now);
    h.flush();
    h.advanceTo(T0 + 3000);
    h.events();
    h.engine.send({ conversationId: "c1", clientMsgId: id, content: text("v2") }, h.now);
    const [frame] = h.flush();
    expect(new TextDecoder().decode(frame!.message.content)).toBe("v2");
    expect(thrownBy(SessionError, () => h.engine.resend(id, h.now)).code).toBe("NOT_FAILED");
  });
});

describe("bounds and windows", () => {
  test("at maxPendingSends, send() throws SEND_QUEUE_FULL and queues nothing; an ACK makes room", () => {
    const h = new Harness({ maxPendingSends: 3 });
    for (const c of ["a", "b", "c"]) h.engine.send({ conversationId: c }, h.now);
    const full = thrownBy(SessionError, () => h.engine.send({ conversationId: "d" }, h.now));
    expect(full.code).toBe("SEND_QUEUE_FULL");
    expect(h.engine.pendingSends).toBe(3);
    const [sync, ...sent] = h.open();
    h.deliver(reply.syncResult(sync!.seq));
    expect(sent).toHaveLength(3);
    expect(thrownBy(SessionError, () => h.engine.send({ conversationId: "d" }, h.now)).code).toBe("SEND_QUEUE_FULL");
    h.deliver(reply.ack(sent[0]!.seq));
    h.engine.send({ conversationId: "d" }, h.now);
    expect(h.engine.pendingSends).toBe(3);
  });

  test("one message per conversation in flight; conversations go side by side; order kept through a retransmission", () => {
    const h = openQuiet();
    const a1 = h.engine.send({ conversationId: "A" }, h.now);
    const a2 = h.engine.send({ conversationId: "A" }, h.now);
    const b1 = h.engine.send({ conversationId: "B" }, h.now);
    const a3 = h.engine.send({ conversationId: "A" }, h.now);
    expect(sends(h.flush()).map((f) => f.message.clientMsgId)).toEqual([a1, b1]);
    // A1's ACK is lost: A1 goes again before A2.
    h.advanceTo(T0 + 3000);
    const retried = sends(h.flush());
    expect(retried.map((f) => f.message.clientMsgId)).toEqual([a1, b1]);
    h.deliver(reply.ack(retried[0]!.seq, { clientMsgId: a1 }));
    const next = sends(h.flush());
    expect(next.map((f) => f.message.clientMsgId)).toEqual([a2]);
    h.deliver(reply.ack(next[0]!.seq, { clientMsgId: a2 }));
    expect(sends(h.flush()).map((f) => f.message.clientMsgId)).toEqual([a3]);
  });

  test("max_in_flight counts every request (SYNC, SEND); 0 means the reference 64", () => {
    const h = new Harness();
    const ids = ["a", "b", "c"].map((c) => h.engine.send({ conversationId: c }, h.now));
    const afterWelcome = h.open({ limits: { maxInFlight: 2 } });
    expect(afterWelcome.map((f) => f.op)).toEqual([Op.SYNC, Op.SEND]);
    h.deliver(reply.syncResult(afterWelcome[0]!.seq));
    const second = h.flush();
    expect(second.map((f) => f.message.clientMsgId)).toEqual([ids[1]]);
    h.deliver(reply.ack(afterWelcome[1]!.seq));
    expect(h.flush().map((f) => f.message.clientMsgId)).toEqual([ids[2]]);

    const wide = new Harness();
    for (let i = 0; i < 100; i++) wide.engine.send({ conversationId: `c${i}` }, wide.now);
    expect(sends(wide.open({ limits: { maxInFlight: 0 } }))).toHaveLength(63); // 64 − the SYNC
  });

  test("queued messages that exceed the max_frame_size WELCOME announces fail, not retryable", () => {
    const h = new Harness();
    const big = h.engine.send({ conversationId: "c1", content: new Uint8Array(2000) }, h.now);
    const small = h.engine.send({ conversationId: "c1", content: new Uint8Array(10) }, h.now);
    const sent = h.open({ limits: { maxFrameSize: 1000 } });
    expect(sends(sent).map((f) => f.message.clientMsgId)).toEqual([small]);
    const [failed] = h.eventsOf("failed");
    expect(failed).toMatchObject({ clientMsgId: big, retryable: false });
    expect(failed!.reason).toMatch(/max_frame_size \(1000\)/);
  });
});

describe("batching", () => {
  test("frames ready in one tick leave as one BATCH (seq 0) when WELCOME allows batches", () => {
    const h = new Harness();
    for (const c of ["a", "b", "c"]) h.engine.send({ conversationId: c, content: text("x") }, h.now);
    const sent = h.open({ limits: { maxBatchFrames: 8 } });
    expect(sent.map((f) => [f.op, f.transmit, f.batched])).toEqual([
      [Op.SYNC, 1, true],
      [Op.SEND, 1, true],
      [Op.SEND, 1, true],
      [Op.SEND, 1, true],
    ]);
    expect(sent.map((f) => f.seq)).toEqual([2, 3, 4, 5]);
  });

  test("a BATCH holds at most max_batch_frames frames and max_frame_size bytes", () => {
    const h = new Harness();
    for (let i = 0; i < 5; i++) h.engine.send({ conversationId: `c${i}`, content: new Uint8Array(100) }, h.now);
    h.engine.connect(h.now);
    h.flush();
    h.deliver(reply.welcome(1, { limits: { maxBatchFrames: 2 } }));
    const transmits: Uint8Array[] = [];
    for (let t = h.engine.pollTransmit(h.now); t !== undefined; t = h.engine.pollTransmit(h.now)) transmits.push(t);
    expect(transmits).toHaveLength(3); // SYNC+SEND, SEND+SEND, SEND+SEND

    const bySize = new Harness();
    for (let i = 0; i < 5; i++) bySize.engine.send({ conversationId: `c${i}`, content: new Uint8Array(100) }, bySize.now);
    bySize.engine.connect(bySize.now);
    bySize.flush();
    bySize.deliver(reply.welcome(1, { limits: { maxBatchFrames: 100, maxFrameSize: 300 } }));
    const sized: Uint8Array[] = [];
    for (let t = bySize.engine.pollTransmit(bySize.now); t !== undefined; t = bySize.engine.pollTransmit(bySize.now)) sized.push(t);
    expect(sized.every((t) => t.byteLength <= 300)).toBe(true);
    expect(sized.length).toBeGreaterThan(1);
    expect(sized.length).toBeLessThan(6);
  });

  test("no batches without max_batch_frames, and one frame per tick is never wrapped", () => {
    const h = new Harness();
    for (const c of ["a", "b"]) h.engine.send({ conversationId: c }, h.now);
    const sent = h.open({ limits: { maxBatchFrames: 0 } });
    expect(sent.map((f) => [f.transmit, f.batched])).toEqual([
      [1, false],
      [2, false],
      [3, false],
    ]);
    const b = openQuiet({}, { limits: { maxBatchFrames: 8 } });
    b.engine.send({ conversationId: "a" }, b.now);
    expect(b.flush().map((f) => f.batched)).toEqual([false]);
    b.engine.send({ conversationId: "b" }, b.now);
    b.engine.send({ conversationId: "c" }, b.now);
    expect(b.flush().map((f) => f.batched)).toEqual([true, true]);
  });

  test("the server's BATCH is processed frame by frame, in order", () => {
    const h = openQuiet();
    const a = h.engine.send({ conversationId: "a" }, h.now);
    const b = h.engine.send({ conversationId: "b" }, h.now);
    const [fa, fb] = h.flush();
    h.deliver(reply.raw(Op.BATCH, 0, concat([reply.ack(fb!.seq, { clientMsgId: b }), reply.ack(fa!.seq, { clientMsgId: a })])));
    expect(h.eventsOf("sent").map((e) => e.clientMsgId)).toEqual([b, a]);
  });
});
