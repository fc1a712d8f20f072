// Heartbeats (§11.3): at WELCOME's interval with the client's clock, RTT from the echo, the link dead
// after maxMissedHeartbeats consecutive misses whatever other traffic there is, nothing at interval 0.
import { describe, expect, test } from "vitest";
import { Op } from "../../../src/index.js";
import { openQuiet, reply, T0, type Harness } from "./support.js";

function openWithHeartbeat(intervalMs: number, options: ConstructorParameters<typeof Harness>[0] = {}): Harness {
  return openQuiet(options, { heartbeatIntervalMs: intervalMs });
}

const heartbeats = (h: Harness) => h.flush().filter((f) => f.op === Op.HEARTBEAT);

describe("heartbeats", () => {
  test("one every interval from WELCOME, carrying client_time_ms; the RTT comes from the echo", () => {
    const h = openWithHeartbeat(30_000);
    expect(h.engine.pollTimeout()).toBe(T0 + 30_000);
    expect(h.engine.rttMs).toBeUndefined();
    h.advanceTo(T0 + 29_999);
    expect(heartbeats(h)).toEqual([]);
    h.advanceTo(T0 + 30_000);
    const [hb] = heartbeats(h);
    expect(hb!.message.clientTimeMs).toBe(BigInt(T0 + 30_000));
    h.advanceTo(T0 + 30_120);
    h.deliver(reply.heartbeatAck(hb!.seq, { clientTimeMs: hb!.message.clientTimeMs, serverTimeMs: 1n }));
    expect(h.events()).toEqual([{ type: "heartbeat", rttMs: 120 }]);
    expect(h.engine.rttMs).toBe(120);
    expect(h.engine.pollTimeout()).toBe(T0 + 60_000);
  });

  test("an echo of 0 (an empty HEARTBEAT_ACK) falls back to the send time", () => {
    const h = openWithHeartbeat(1000);
    h.advanceTo(T0 + 1000);
    const [hb] = heartbeats(h);
    h.advanceTo(T0 + 1045);
    h.deliver(reply.heartbeatAck(hb!.seq));
    expect(h.engine.rttMs).toBe(45);
  });

  test("two consecutive misses: the link is dead at the third due time; nothing is sent then", () => {
    const h = openWithHeartbeat(30_000);
    h.advanceTo(T0 + 30_000);
    expect(heartbeats(h)).toHaveLength(1);
    h.advanceTo(T0 + 60_000); // the first is missed: the second goes
    expect(heartbeats(h)).toHaveLength(1);
    expect(h.engine.state).toBe("open");
    h.advanceTo(T0 + 89_999);
    expect(h.engine.state).toBe("open");
    h.advanceTo(T0 + 90_000);
    expect(h.engine.state).toBe("closed");
    expect(h.events()).toEqual([{ type: "link-dead", reason: "heartbeat" }]);
    expect(h.flush()).toEqual([]);
    expect(h.engine.pollTimeout()).toBeUndefined();
  });

  test("other traffic does not count as an answer to a heartbeat", () => {
    const h = openWithHeartbeat(30_000);
    const id = h.engine.send({ conversationId: "c" }, h.now);
    const [send] = h.flush();
    h.advanceTo(T0 + 30_000);
    heartbeats(h);
    h.advanceTo(T0 + 45_000);
    h.deliver(reply.ack(send!.seq, { clientMsgId: id }), reply.notify());
    h.advanceTo(T0 + 90_000);
    expect(h.engine.state).toBe("closed");
    expect(h.eventsOf("link-dead")).toHaveLength(1);
  });

  test("a late HEARTBEAT_ACK resets the count: the link lives on", () => {
    const h = openWithHeartbeat(30_000);
    h.advanceTo(T0 + 30_000);
    const [first] = heartbeats(h);
    h.advanceTo(T0 + 60_000); // miss 1
    heartbeats(h);
    h.advanceTo(T0 + 61_000);
    h.deliver(reply.heartbeatAck(first!.seq, { clientTimeMs: first!.message.clientTimeMs }));
    expect(h.engine.rttMs).toBe(31_000);
    h.advanceTo(T0 + 90_000); // the second is unanswered: miss 1 again, not 2
    expect(h.engine.state).toBe("open");
    expect(heartbeats(h)).toHaveLength(1);
  });

  test("maxMissedHeartbeats is an option", () => {
    const h = openWithHeartbeat(1000, { maxMissedHeartbeats: 1 });
    h.advanceTo(T0 + 1000);
    h.advanceTo(T0 + 2000);
    expect(h.engine.state).toBe("closed");
  });

  test("a HEARTBEAT_ACK for a seq that was no heartbeat is ignored", () => {
    const h = openWithHeartbeat(1000);
    h.deliver(reply.heartbeatAck(77, { clientTimeMs: 5n }));
    expect(h.events()).toEqual([]);
    expect(h.engine.rttMs).toBeUndefined();
  });

  test("interval 0: no heartbeats and no timer", () => {
    const h = openWithHeartbeat(0);
    expect(h.engine.pollTimeout()).toBeUndefined();
    h.advance(10 * 60_000);
    expect(h.flush()).toEqual([]);
    expect(h.engine.state).toBe("open");
  });

  test("heartbeats restart on each link; the RTT is kept", () => {
    const h = openWithHeartbeat(1000);
    h.advanceTo(T0 + 1000);
    const [hb] = heartbeats(h);
    h.deliver(reply.heartbeatAck(hb!.seq, { clientTimeMs: hb!.message.clientTimeMs }));
    h.engine.linkClosed(h.now);
    expect(h.engine.pollTimeout()).toBeUndefined();
    h.engine.reconnected(h.now);
    h.flush();
    h.deliver(reply.welcome(1, { heartbeatIntervalMs: 5000 }));
    expect(h.engine.rttMs).toBe(0);
    const [sync] = h.flush();
    h.deliver(reply.syncResult(sync!.seq));
    expect(h.engine.pollTimeout()).toBe(h.now + 5000);
  });
});
