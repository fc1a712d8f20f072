// The client engine on a short link (connect with `short`, docs/PROTOCOL.md §11.9, §11.10): requests
// follow HELLO at once, one frame per transmit, numbered across the link; WELCOMEs after the first are
// duplicates; no SEND, no heartbeat; sync only when asked, or to finish a cycle a lost link cut off.
import { describe, expect, test } from "vitest";
import { Op } from "../../../src/index.js";
import { Harness, key1, reply, stored, T0 } from "./support.js";

function shortLink(options: ConstructorParameters<typeof Harness>[0] = {}): Harness {
  const h = new Harness(options);
  h.engine.connect(h.now, { short: true });
  return h;
}

describe("a short link", () => {
  test("is open at once: HELLO, then the requests, one frame per transmit even when WELCOME allows batches", () => {
    const h = shortLink();
    expect(h.engine.state).toBe("open");
    expect(h.engine.short).toBe(true);
    h.engine.sync(h.now);
    h.engine.upload(new Uint8Array(10), "a/b", h.now);
    expect(h.flush().map((s) => [s.op, s.seq, s.transmit, s.batched])).toEqual([
      [Op.HELLO, 1, 0, false],
      [Op.SYNC, 2, 1, false],
      [Op.CHUNK, 3, 2, false],
    ]);
    expect(h.engine.requestsInFlight).toBe(2);
    // Each POST's answer starts with a WELCOME: the first counts, the rest are duplicates.
    h.engine.receiveMessage(reply.welcome(1, { limits: { maxBatchFrames: 64, maxFrameSize: 1 << 20, maxInFlight: 8 }, heartbeatIntervalMs: 0 }), h.now);
    h.engine.receiveMessage(reply.welcome(1, {}), h.now);
    expect(h.eventsOf("open")).toHaveLength(1);
    h.engine.sync(h.now);
    h.engine.upload(new Uint8Array(10), "a/b", h.now);
    expect(h.flush().map((s) => s.batched)).toEqual([false]); // the new upload's CHUNK (a SYNC is outstanding)
  });

  test("does not send SEND (it waits for a long link) nor HEARTBEAT, and does not sync on its own", () => {
    const h = shortLink();
    h.engine.send({ conversationId: "c", recipientId: "bob" }, h.now);
    h.flush();
    h.engine.receiveMessage(reply.welcome(1, { heartbeatIntervalMs: 1000 }), h.now);
    h.advance(10_000);
    expect(h.log.map((s) => s.op)).toEqual([Op.HELLO]);
    expect(h.engine.pendingSends).toBe(1);
    // The same engine on a long link sends it (after the SYNC every long-link WELCOME starts).
    h.engine.connect(h.now);
    h.flush();
    h.engine.receiveBytes(reply.welcome(1), h.now);
    expect(h.flush().map((s) => s.op)).toEqual([Op.SYNC, Op.SEND]);
  });

  test("a sync cycle cut off by the end of a link starts again on the next short link, and its pages are committed", () => {
    const h = shortLink();
    h.engine.sync(h.now);
    const [, sync] = h.flush();
    h.engine.linkClosed(h.now); // the POST failed
    expect(h.engine.state).toBe("idle");
    h.engine.connect(h.now, { short: true });
    const again = h.flush();
    expect(again.map((s) => [s.op, s.seq])).toEqual([
      [Op.HELLO, 1],
      [Op.SYNC, 2],
    ]);
    expect(sync!.seq).toBe(2);
    h.engine.receiveMessage(Uint8Array.from([...reply.welcome(1), ...reply.syncResult(2, { messages: [stored("c", 1, "hi")], syncKey: key1(1) })]), h.now);
    expect(h.eventsOf("message")).toHaveLength(1);
    expect(h.flush().map((s) => s.op)).toEqual([Op.SYNC_COMMIT]);
    expect(h.engine.requestsInFlight).toBe(1);
    h.engine.receiveMessage(Uint8Array.from([...reply.welcome(1), ...reply.ack(3)]), h.now);
    expect(h.engine.requestsInFlight).toBe(0);
    expect(T0).toBeLessThanOrEqual(h.now);
  });

  test("a refused HELLO is reported as refused, though the link was already open", () => {
    const h = shortLink();
    h.flush();
    h.engine.receiveMessage(reply.disconnect(1, { code: 2, reason: "bad token" }), h.now);
    expect(h.eventsOf("disconnected")).toMatchObject([{ refused: true, reconnect: false }]);
    expect(h.engine.state).toBe("closed");
  });
});
