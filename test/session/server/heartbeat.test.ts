// §11.3: HEARTBEAT → HEARTBEAT_ACK, idle links closed with IDLE_TIMEOUT, interval 0.
import { describe, expect, test } from "vitest";
import { DisconnectCode, encodeFrame, Op } from "../../../src/index.js";
import { makeEngine, only, RawClient, T0 } from "./support.js";

describe("heartbeats and idle links", () => {
  test("HEARTBEAT → HEARTBEAT_ACK echoing seq and client time, with the server's time", async () => {
    const { engine } = makeEngine();
    const client = new RawClient(engine);
    await client.connect();
    client.now = T0 + 1234;
    const replies = await client.exchange(client.heartbeatFrame(987_654_321n));
    const ack = only(replies, Op.HEARTBEAT_ACK);
    expect(ack.seq).toBe(2);
    expect(ack.body.clientTimeMs).toBe(987_654_321n);
    expect(ack.body.serverTimeMs).toBe(BigInt(T0 + 1234));
  });

  test("an empty HEARTBEAT body is fine (client time 0 echoed)", async () => {
    const { engine } = makeEngine();
    const client = new RawClient(engine);
    await client.connect();
    const ack = only(await client.exchange(encodeFrame({ op: Op.HEARTBEAT, seq: 2 })), Op.HEARTBEAT_ACK);
    expect(ack.body.clientTimeMs).toBe(0n);
  });

  test("HEARTBEAT is answered at once, ahead of a request still waiting for the stores", async () => {
    const { engine, stores } = makeEngine();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const read = stores.log.read.bind(stores.log);
    stores.log.read = async (...args) => (await gate, read(...args));
    const client = new RawClient(engine);
    await client.connect();
    client.feed(client.syncFrame(), client.heartbeatFrame(5n));
    expect(client.drain().map((r) => r.op)).toEqual([Op.HEARTBEAT_ACK]);
    release();
    await client.settle();
    expect(client.drain().map((r) => r.op)).toEqual([Op.SYNC_RESULT]);
  });

  test("nothing for 3 × the interval → DISCONNECT IDLE_TIMEOUT; any frame pushes the deadline back", async () => {
    const { engine } = makeEngine({ heartbeatIntervalMs: 10_000 });
    const client = new RawClient(engine);
    await client.connect();
    expect(client.link.pollTimeout()).toBe(T0 + 30_000);
    client.now = T0 + 20_000;
    await client.exchange(client.syncFrame());
    expect(client.link.pollTimeout()).toBe(T0 + 50_000);
    client.link.handleTimeout(T0 + 49_999);
    expect(client.link.state).toBe("open");
    client.now = T0 + 50_000;
    client.link.handleTimeout(client.now);
    const replies = client.drain();
    expect(replies.map((r) => [r.op, r.seq, r.body.code])).toEqual([[Op.DISCONNECT, 0, DisconnectCode.IDLE_TIMEOUT]]);
    expect(client.link.state).toBe("closed");
    expect(client.events().at(-1)).toMatchObject({ type: "closed", code: DisconnectCode.IDLE_TIMEOUT, initiator: "server" });
  });

  test("idleTimeoutMs overrides the 3 × default", async () => {
    const { engine } = makeEngine({ heartbeatIntervalMs: 10_000, idleTimeoutMs: 12_000 });
    const client = new RawClient(engine);
    await client.connect();
    expect(client.link.pollTimeout()).toBe(T0 + 12_000);
  });

  test("interval 0: WELCOME says 0 and no link is closed for idleness", async () => {
    const { engine } = makeEngine({ heartbeatIntervalMs: 0 });
    const client = new RawClient(engine);
    const welcome = await client.connect();
    expect(welcome.body.heartbeatIntervalMs).toBe(0);
    expect(client.link.pollTimeout()).toBeUndefined();
    client.link.handleTimeout(T0 + 10 ** 9);
    expect(client.link.state).toBe("open");
  });

  test("a short link: WELCOME says 0, no idle timer, and HEARTBEAT is a protocol error", async () => {
    const { engine } = makeEngine();
    const client = new RawClient(engine, { short: true });
    const welcome = await client.connect();
    expect(welcome.body.heartbeatIntervalMs).toBe(0);
    expect(client.link.pollTimeout()).toBeUndefined();
    const replies = await client.exchange(client.heartbeatFrame());
    expect(replies.map((r) => [r.op, r.body.code])).toEqual([[Op.DISCONNECT, DisconnectCode.PROTOCOL_ERROR]]);
  });
});
