// §11.2: HELLO → WELCOME, refusals with their codes and seq, frames out of place, REPLACED, timeouts.
import { create } from "@bufbuild/protobuf";
import { describe, expect, test } from "vitest";
import { DisconnectCode, encodeBodyFrame, encodeFrame, HelloSchema, Op, type Hello } from "../../../src/index.js";
import { createMemoryStores } from "../../../src/session/memory/index.js";
import type { ServerEvent } from "../../../src/session/server/index.js";
import { makeEngine, only, RawClient, T0 } from "./support.js";

function eventTypes(events: readonly ServerEvent[]): string[] {
  return events.map((e) => e.type);
}

describe("handshake", () => {
  test("HELLO → WELCOME echoing HELLO's seq: version, session, heartbeat interval, limits, server time", async () => {
    const { engine } = makeEngine({ heartbeatIntervalMs: 20_000, limits: { maxFrameSize: 65_536, maxBatchFrames: 32, maxInFlight: 16 } });
    const client = new RawClient(engine);
    expect(client.link.state).toBe("handshaking");
    const welcome = await client.connect();
    expect(welcome.seq).toBe(1);
    expect(welcome.version).toBe(1);
    expect(welcome.body.version).toBe(1);
    expect(welcome.body.sessionId).toMatch(/^[0-9a-f]{16}-1$/);
    expect(welcome.body.heartbeatIntervalMs).toBe(20_000);
    expect(welcome.body.limits).toMatchObject({ maxFrameSize: 65_536, maxBatchFrames: 32, maxInFlight: 16 });
    expect(welcome.body.serverTimeMs).toBe(BigInt(T0));
    expect(client.link.state).toBe("open");
    expect(client.link.user).toBe("alice");
    expect(client.events()).toEqual([{ type: "authenticated", user: "alice", clientId: "dev1", sessionId: welcome.body.sessionId, version: 1 }]);
  });

  test("WELCOME echoes whatever seq HELLO had", async () => {
    const { engine } = makeEngine();
    const client = new RawClient(engine);
    const replies = await client.exchange(client.helloFrame({}, 77));
    expect(only(replies, Op.WELCOME).seq).toBe(77);
  });

  test("an empty version list means [1]; [9, 1] picks 1", async () => {
    for (const versions of [[], [9, 1]]) {
      const { engine } = makeEngine();
      const welcome = await new RawClient(engine).connect({ versions });
      expect(welcome.body.version).toBe(1);
    }
  });

  test("no common version → DISCONNECT UNSUPPORTED_VERSION echoing HELLO's seq, then closed", async () => {
    const { engine } = makeEngine();
    const client = new RawClient(engine);
    const replies = await client.exchange(client.helloFrame({ versions: [2, 3] }));
    expect(replies).toHaveLength(1);
    expect(replies[0]!.op).toBe(Op.DISCONNECT);
    expect(replies[0]!.seq).toBe(1);
    expect(replies[0]!.body.code).toBe(DisconnectCode.UNSUPPORTED_VERSION);
    expect(client.link.state).toBe("closed");
    expect(eventTypes(client.events())).toEqual(["refused", "closed"]);
  });

  test("credentials refused → DISCONNECT AUTH_FAILED echoing HELLO's seq", async () => {
    const { engine } = makeEngine();
    const client = new RawClient(engine);
    const replies = await client.exchange(client.helloFrame({ token: "wrong" }, 5));
    expect(replies.map((r) => [r.op, r.seq, r.body.code, r.body.reason])).toEqual([[Op.DISCONNECT, 5, DisconnectCode.AUTH_FAILED, "bad token"]]);
    expect(client.link.state).toBe("closed");
    const [refused, closed] = client.events();
    expect(refused).toEqual({ type: "refused", code: DisconnectCode.AUTH_FAILED, reason: "bad token" });
    expect(closed).toEqual({ type: "closed", code: DisconnectCode.AUTH_FAILED, reason: "bad token", initiator: "server" });
  });

  test("authenticate gets HELLO and the link's facts; it may be async and advise retry_after_ms", async () => {
    const seen: unknown[] = [];
    const { engine } = makeEngine({
      authenticate: async (hello: Hello, info) => {
        seen.push({ token: hello.token, ...info });
        await new Promise((resolve) => setTimeout(resolve, 1));
        return { refuse: DisconnectCode.RATE_LIMITED, reason: "slow down", retryAfterMs: 4000 };
      },
    });
    const client = new RawClient(engine, { remote: "127.0.0.1:5000" });
    const replies = await client.exchange(client.helloFrame({ token: "t" }));
    expect(seen).toEqual([{ token: "t", sessionId: expect.any(String), short: false, remote: "127.0.0.1:5000", now: T0 }]);
    expect(replies[0]!.body).toMatchObject({ code: DisconnectCode.RATE_LIMITED, retryAfterMs: 4000 });
  });

  test.each([
    ["throws", () => {
      throw new Error("auth backend down");
    }],
    ["rejects", () => Promise.reject(new Error("auth backend down"))],
    ["returns nothing", () => undefined],
    ["returns an empty user", () => ({ user: "" })],
  ])("authenticate %s → SERVER_SHUTDOWN with retry advice and an error event (the server's fault, not the client's)", async (_name, authenticate) => {
    const { engine } = makeEngine({ authenticate: authenticate as never, retryAfterMs: 2500 });
    const client = new RawClient(engine);
    const replies = await client.exchange(client.helloFrame({}, 3));
    expect(replies.map((r) => [r.op, r.seq, r.body.code, r.body.retryAfterMs])).toEqual([[Op.DISCONNECT, 3, DisconnectCode.SERVER_SHUTDOWN, 2500]]);
    expect(eventTypes(client.events())).toEqual(["error", "refused", "closed"]);
    expect(client.events()[0]).toMatchObject({ type: "error", source: "authenticate", request: "HELLO" });
  });

  test("a presence store that fails to subscribe refuses with SERVER_SHUTDOWN", async () => {
    const stores = createMemoryStores();
    const { engine } = makeEngine({}, { ...stores, presence: { subscribe: () => Promise.reject(new Error("redis down")), publish: stores.presence.publish.bind(stores.presence) } });
    const client = new RawClient(engine);
    const replies = await client.exchange(client.helloFrame());
    expect(replies[0]!.body.code).toBe(DisconnectCode.SERVER_SHUTDOWN);
    expect(client.events()[0]).toMatchObject({ type: "error", source: "store", request: "HELLO" });
  });

  test("a malformed or empty HELLO body → DISCONNECT PROTOCOL_ERROR echoing HELLO's seq", async () => {
    for (const body of [new Uint8Array(0), new Uint8Array([0x0a, 0x05, 0x01])]) {
      const { engine } = makeEngine();
      const client = new RawClient(engine);
      const replies = await client.exchange(encodeFrame({ op: Op.HELLO, seq: 4, body }));
      expect(replies.map((r) => [r.op, r.seq, r.body.code])).toEqual([[Op.DISCONNECT, 4, DisconnectCode.PROTOCOL_ERROR]]);
      expect(replies[0]!.body.reason).toMatch(/bad HELLO body: (EMPTY_BODY|BAD_BODY) at byte \d+/);
      expect(eventTypes(client.events())).toEqual(["protocol-error", "refused", "closed"]);
    }
  });

  test.each([
    ["SYNC", (c: RawClient) => c.syncFrame()],
    ["HEARTBEAT", (c: RawClient) => c.heartbeatFrame()],
    ["an application op", () => encodeFrame({ op: 1000, seq: 1 })],
  ])("%s before HELLO → DISCONNECT PROTOCOL_ERROR with seq 0", async (_name, make) => {
    const { engine } = makeEngine();
    const client = new RawClient(engine);
    const replies = await client.exchange(make(client));
    expect(replies.map((r) => [r.op, r.seq, r.body.code])).toEqual([[Op.DISCONNECT, 0, DisconnectCode.PROTOCOL_ERROR]]);
    expect(replies[0]!.body.reason).toMatch(/before HELLO/);
    expect(client.link.state).toBe("closed");
  });

  test("a second HELLO → DISCONNECT PROTOCOL_ERROR", async () => {
    const { engine } = makeEngine();
    const client = new RawClient(engine);
    await client.connect();
    const replies = await client.exchange(client.helloFrame());
    expect(replies.map((r) => [r.op, r.body.code])).toEqual([[Op.DISCONNECT, DisconnectCode.PROTOCOL_ERROR]]);
  });

  test("frames that follow HELLO before WELCOME is out wait for it and are answered after it, in order", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { engine } = makeEngine({
      authenticate: async (hello: Hello) => {
        await gate;
        return { user: hello.token.slice(4) };
      },
    });
    const client = new RawClient(engine);
    client.feed(client.helloFrame(), client.heartbeatFrame(9n), client.syncFrame());
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(client.drain()).toEqual([]);
    release();
    await client.settle();
    expect(client.drain().map((r) => [r.op, r.seq])).toEqual([
      [Op.WELCOME, 1],
      [Op.HEARTBEAT_ACK, 2],
      [Op.SYNC_RESULT, 3],
    ]);
  });

  test("a header version other than 1 is a frame error → DISCONNECT PROTOCOL_ERROR", async () => {
    const { engine } = makeEngine();
    const client = new RawClient(engine);
    const hello = encodeBodyFrame(Op.HELLO, create(HelloSchema, { versions: [2], clientId: "d", token: "tok:alice" }), { seq: 1, version: 2 });
    const replies = await client.exchange(hello);
    expect(replies.map((r) => [r.op, r.body.code])).toEqual([[Op.DISCONNECT, DisconnectCode.PROTOCOL_ERROR]]);
    expect(replies[0]!.body.reason).toContain("UNSUPPORTED_VERSION at byte 6");
  });

  test("no HELLO within the handshake timeout → DISCONNECT IDLE_TIMEOUT", async () => {
    const { engine } = makeEngine({ handshakeTimeoutMs: 5000 });
    const client = new RawClient(engine);
    expect(client.link.pollTimeout()).toBe(T0 + 5000);
    client.link.handleTimeout(T0 + 4999);
    expect(client.drain()).toEqual([]);
    client.now = T0 + 5000;
    client.link.handleTimeout(client.now);
    expect(client.drain().map((r) => [r.op, r.body.code])).toEqual([[Op.DISCONNECT, DisconnectCode.IDLE_TIMEOUT]]);
    expect(client.link.pollTimeout()).toBeUndefined();
  });

  test("an authentication slower than the handshake timeout ends the same way; its late verdict is ignored", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { engine } = makeEngine({ handshakeTimeoutMs: 1000, authenticate: async () => (await gate, { user: "alice" }) });
    const client = new RawClient(engine);
    client.feed(client.helloFrame());
    client.link.handleTimeout(T0 + 1000);
    release();
    await client.settle();
    expect(client.drain().map((r) => [r.op, r.body.code])).toEqual([[Op.DISCONNECT, DisconnectCode.IDLE_TIMEOUT]]);
    expect(client.link.state).toBe("closed");
    expect(eventTypes(client.events())).toEqual(["closed"]);
  });

  test("a new link of the same user and client_id replaces the older one (DISCONNECT REPLACED, seq 0)", async () => {
    const { engine } = makeEngine();
    const old = new RawClient(engine);
    await old.connect({ clientId: "phone" });
    const other = new RawClient(engine);
    await other.connect({ clientId: "laptop" });
    const fresh = new RawClient(engine);
    await fresh.connect({ clientId: "phone" });
    await old.settle();
    expect(old.wakes).toBeGreaterThan(0);
    expect(old.drain().map((r) => [r.op, r.seq, r.body.code])).toEqual([[Op.DISCONNECT, 0, DisconnectCode.REPLACED]]);
    expect(old.link.state).toBe("closed");
    expect(other.link.state).toBe("open");
    expect(fresh.link.state).toBe("open");
    expect(engine.connectionCount).toBe(2);
  });

  test("another user's device with the same client_id is not replaced; neither is anything by a short link", async () => {
    const { engine } = makeEngine();
    const alice = new RawClient(engine);
    await alice.connect({ clientId: "same" });
    const bob = new RawClient(engine);
    await bob.connect({ clientId: "same", token: "tok:bob" });
    const short = new RawClient(engine, { short: true });
    await short.connect({ clientId: "same" });
    expect(alice.link.state).toBe("open");
    expect(bob.link.state).toBe("open");
  });
});
