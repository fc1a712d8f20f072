// §11.7 and the adapter-facing API: DISCONNECT from the client, transport loss, shutdown, sticky closed
// state, wake(), application frames, and what callers get for misuse.
import { describe, expect, test } from "vitest";
import { create } from "@bufbuild/protobuf";
import { DisconnectCode, DisconnectSchema, encodeBodyFrame, encodeFrame, Op, SessionError } from "../../../src/index.js";
import { ServerEngine } from "../../../src/session/server/index.js";
import { createMemoryStores } from "../../../src/session/memory/index.js";
import { makeEngine, only, RawClient, T0, testAuthenticate, text } from "./support.js";

type Engine = ReturnType<typeof makeEngine>["engine"];

async function connected(engine: Engine, user = "alice", clientId = "dev1"): Promise<RawClient> {
  const client = new RawClient(engine);
  await client.connect({ token: `tok:${user}`, clientId });
  return client;
}

describe("closing", () => {
  test("DISCONNECT from the client: closed (initiator client, its code and reason), nothing more is sent", async () => {
    const { engine } = makeEngine();
    const client = await connected(engine);
    client.feed(client.heartbeatFrame(), encodeBodyFrame(Op.DISCONNECT, create(DisconnectSchema, { code: DisconnectCode.NORMAL, reason: "bye" })));
    await client.settle();
    expect(client.drain()).toEqual([]);
    expect(client.link.state).toBe("closed");
    expect(client.events().at(-1)).toEqual({ type: "closed", code: DisconnectCode.NORMAL, reason: "bye", initiator: "client" });
    expect(engine.connectionCount).toBe(0);
  });

  test("an unreadable DISCONNECT still closes", async () => {
    const { engine } = makeEngine();
    const client = await connected(engine);
    client.feed(encodeFrame({ op: Op.DISCONNECT, body: Uint8Array.of(0xff) }));
    expect(client.link.state).toBe("closed");
    expect(client.events().at(-1)).toMatchObject({ type: "closed", code: DisconnectCode.UNSPECIFIED, reason: expect.stringMatching(/unreadable DISCONNECT/) });
  });

  test("closed is sticky: later input is ignored, no timer, handleTimeout does nothing", async () => {
    const { engine } = makeEngine();
    const client = await connected(engine);
    await client.exchange(encodeFrame({ op: 0 }));
    expect(client.link.state).toBe("closed");
    const eventsBefore = client.events().length;
    client.feed(client.heartbeatFrame(), client.sendFrame({ clientMsgId: 1n }));
    client.link.receiveMessage(client.heartbeatFrame(), client.now);
    client.link.endOfInput(client.now);
    client.link.handleTimeout(T0 + 10 ** 9);
    await client.settle();
    expect(client.drain()).toEqual([]);
    expect(client.link.pollTimeout()).toBeUndefined();
    expect(client.events()).toHaveLength(eventsBefore);
  });

  test("linkClosed: queued output dropped, answers of store work in progress dropped, the message still stored", async () => {
    const { engine, stores } = makeEngine();
    const client = await connected(engine);
    const bob = await connected(engine, "bob");
    client.feed(client.sendFrame({ clientMsgId: 1n }));
    client.link.linkClosed(client.now);
    await client.settle();
    expect(client.link.pollTransmit(client.now)).toBeUndefined();
    expect(client.events().at(-1)).toEqual({ type: "closed", code: DisconnectCode.UNSPECIFIED, reason: "the transport closed", initiator: "transport" });
    expect((await stores.log.read("bob", { $typeName: "syncwire.v1.SyncKey", entries: [] }, 10)).entries).toHaveLength(1);
    await bob.settle();
    expect(bob.drain().map((r) => r.op)).toEqual([Op.NOTIFY]);
  });

  test("a closed long link unsubscribes from presence", async () => {
    const stores = createMemoryStores();
    const { engine } = makeEngine({}, stores);
    const client = await connected(engine);
    expect(stores.presence.listenerCount("alice")).toBe(1);
    client.link.linkClosed(client.now);
    // At once, not a microtask later: a closed link never holds a listener (the simulation's bound).
    expect(stores.presence.listenerCount("alice")).toBe(0);
    await client.settle();
    expect(stores.presence.listenerCount("alice")).toBe(0);
  });

  test("an unsubscribe that throws or rejects does not stop the link from closing", async () => {
    for (const failure of ["throws", "rejects"] as const) {
      const stores = createMemoryStores();
      const subscribe = stores.presence.subscribe.bind(stores.presence);
      let calls = 0;
      stores.presence.subscribe = async (user, listener) => {
        await subscribe(user, listener);
        return () => {
          calls++;
          if (failure === "throws") throw new Error("unsubscribe failed");
          return Promise.reject(new Error("unsubscribe failed"));
        };
      };
      const { engine } = makeEngine({}, stores);
      const client = await connected(engine);
      client.link.linkClosed(client.now);
      expect(calls).toBe(1);
      expect(client.link.state).toBe("closed");
      await client.settle();
      expect(engine.connectionCount).toBe(0);
    }
  });

  test("shutdown: every link gets DISCONNECT SERVER_SHUTDOWN with retry_after_ms (adapters are woken); later accepts start closed", async () => {
    const { engine } = makeEngine();
    const a = await connected(engine, "alice");
    const b = await connected(engine, "bob");
    const pending = new RawClient(engine);
    engine.shutdown(T0, 5000);
    await Promise.resolve();
    for (const client of [a, b, pending]) {
      expect(client.link.state).toBe("closed");
      expect(client.wakes).toBeGreaterThan(0);
      expect(client.drain().map((r) => [r.op, r.seq, r.body.code, r.body.retryAfterMs])).toEqual([[Op.DISCONNECT, 0, DisconnectCode.SERVER_SHUTDOWN, 5000]]);
    }
    const late = new RawClient(engine);
    expect(late.link.state).toBe("closed");
    expect(late.drain().map((r) => r.body.code)).toEqual([DisconnectCode.SERVER_SHUTDOWN]);
    expect(engine.connectionCount).toBe(0);
  });
});

describe("wake", () => {
  test("output produced by a store continuation wakes the adapter from a microtask, once per burst", async () => {
    const { engine } = makeEngine();
    const client = await connected(engine);
    const before = client.wakes;
    client.feed(...[1n, 2n, 3n].map((id) => client.sendFrame({ clientMsgId: id, conversationId: `c${id}` })));
    expect(client.wakes).toBe(before);
    await client.settle();
    expect(client.wakes).toBeGreaterThan(before);
    expect(client.wakes - before).toBeLessThanOrEqual(3);
    expect(client.drain().filter((r) => r.op === Op.ACK)).toHaveLength(3);
  });

  test("output produced during a call does not wake (the adapter drains after its call)", async () => {
    const { engine } = makeEngine();
    const client = await connected(engine);
    const before = client.wakes;
    client.feed(client.heartbeatFrame());
    await Promise.resolve();
    await Promise.resolve();
    expect(client.wakes).toBe(before);
    expect(client.drain().map((r) => r.op)).toEqual([Op.HEARTBEAT_ACK]);
  });

  test("a wake that throws does not break the link", async () => {
    const { engine } = makeEngine();
    const link = engine.accept(T0, {
      wake: () => {
        throw new Error("adapter bug");
      },
    });
    const client = new RawClient(engine);
    link.receiveBytes(client.helloFrame(), T0);
    await link.idle();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(link.state).toBe("open");
    expect(link.pollTransmit(T0)).toBeDefined();
  });
});

describe("application frames", () => {
  test("ops ≥ 1000 go to the hook (and an event) untouched; the hook may answer with sendApplicationFrame", async () => {
    const seen: [number, number, string, number][] = [];
    const { engine } = makeEngine({
      onApplicationFrame: (frame, link, now) => {
        seen.push([frame.op, frame.seq, new TextDecoder().decode(frame.body), now]);
        link.sendApplicationFrame(frame.op + 1, text("pong"), frame.seq);
      },
    });
    const client = await connected(engine);
    const replies = await client.exchange(encodeFrame({ op: 4000, seq: 8, body: text("ping") }));
    expect(seen).toEqual([[4000, 8, "ping", T0]]);
    expect(replies.map((r) => [r.op, r.seq, new TextDecoder().decode(r.frame.body)])).toEqual([[4001, 8, "pong"]]);
    expect(client.events().at(-1)).toMatchObject({ type: "application", frame: { op: 4000, seq: 8 } });
  });

  test("application frames before WELCOME wait for it", async () => {
    const seen: number[] = [];
    const { engine } = makeEngine({ onApplicationFrame: (frame) => seen.push(frame.op) });
    const client = new RawClient(engine);
    client.feed(client.helloFrame(), encodeFrame({ op: 1000 }));
    expect(seen).toEqual([]);
    await client.settle();
    expect(seen).toEqual([1000]);
  });

  test("a hook that throws becomes an error event; the link stays open", async () => {
    const { engine } = makeEngine({
      onApplicationFrame: () => {
        throw new Error("app bug");
      },
    });
    const client = await connected(engine);
    await client.exchange(encodeFrame({ op: 1000 }));
    expect(client.link.state).toBe("open");
    expect(client.events().at(-1)).toMatchObject({ type: "error", source: "onApplicationFrame" });
  });

  test("sendApplicationFrame misuse", async () => {
    const { engine } = makeEngine();
    const fresh = new RawClient(engine);
    expect(() => fresh.link.sendApplicationFrame(1000, text("x"))).toThrow(TypeError);
    const client = new RawClient(engine);
    await client.connect({ capabilities: { maxFrameSize: 100 } });
    expect(() => client.link.sendApplicationFrame(999, text("x"))).toThrow(RangeError);
    expect(() => client.link.sendApplicationFrame(1000, "x" as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => client.link.sendApplicationFrame(1000, new Uint8Array(100))).toThrow(RangeError);
    client.link.linkClosed(client.now);
    const error = (() => {
      try {
        client.link.sendApplicationFrame(1000, text("x"));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SessionError);
    expect((error as SessionError).code).toBe("CLOSED");
  });
});

describe("caller misuse", () => {
  test("bad arguments are TypeError / RangeError, never a FrameError", () => {
    const { engine } = makeEngine();
    const link = engine.accept(T0, { wake: () => {} });
    expect(() => link.receiveBytes("x" as unknown as Uint8Array, T0)).toThrow(TypeError);
    expect(() => link.receiveMessage(null as unknown as Uint8Array, T0)).toThrow(TypeError);
    expect(() => link.receiveBytes(new Uint8Array(1), Number.NaN)).toThrow(RangeError);
    expect(() => link.pollTransmit(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => engine.accept(T0, {} as never)).toThrow(TypeError);
    expect(() => engine.shutdown(T0, -1)).toThrow(RangeError);
  });

  test("options are checked when the engine is built", () => {
    const stores = createMemoryStores();
    const base = { stores, authenticate: testAuthenticate };
    expect(() => new ServerEngine({ ...base, stores: { ...stores, log: undefined } as never })).toThrow(TypeError);
    expect(() => new ServerEngine({ ...base, authenticate: undefined as never })).toThrow(TypeError);
    expect(() => new ServerEngine({ ...base, heartbeatIntervalMs: -1 })).toThrow(RangeError);
    expect(() => new ServerEngine({ ...base, limits: { maxFrameSize: 15 } })).toThrow(RangeError);
    expect(() => new ServerEngine({ ...base, limits: { maxInFlight: 0 } })).toThrow(RangeError);
    expect(() => new ServerEngine({ ...base, syncPageLimit: 0 })).toThrow(RangeError);
    expect(() => new ServerEngine({ ...base, uploads: { idleMs: 0 } })).toThrow(RangeError);
    const engine = new ServerEngine(base);
    expect(engine.options).toMatchObject({ heartbeatIntervalMs: 30_000, idleTimeoutMs: 90_000, handshakeTimeoutMs: 10_000, maxFrameSize: 1_048_576, syncPageLimit: 100, dedupeTtlMs: 86_400_000 });
  });

  test("the link exposes who it is", async () => {
    const { engine } = makeEngine();
    const client = new RawClient(engine, { remote: "10.0.0.1" });
    const welcome = await client.connect({ clientId: "phone" });
    expect([client.link.user, client.link.clientId, client.link.sessionId, client.link.short, client.link.remote]).toEqual(["alice", "phone", welcome.body.sessionId, false, "10.0.0.1"]);
    expect(only(await client.exchange(client.heartbeatFrame()), Op.HEARTBEAT_ACK)).toBeDefined();
  });
});

describe("disconnect", () => {
  test("the application may end a link: DISCONNECT with its code, reason and retry advice", async () => {
    const { engine } = makeEngine();
    const client = await connected(engine);
    client.link.disconnect(DisconnectCode.AUTH_FAILED, "logged out elsewhere", 10);
    client.link.disconnect(DisconnectCode.NORMAL);
    await client.settle();
    expect(client.drain().map((r) => [r.op, r.seq, r.body.code, r.body.reason, r.body.retryAfterMs])).toEqual([[Op.DISCONNECT, 0, DisconnectCode.AUTH_FAILED, "logged out elsewhere", 10]]);
    expect(client.events().at(-1)).toEqual({ type: "closed", code: DisconnectCode.AUTH_FAILED, reason: "logged out elsewhere", initiator: "server" });
    expect(() => client.link.disconnect(DisconnectCode.NORMAL, "", -1)).toThrow(RangeError);
  });
});

describe("clock", () => {
  test("a clock before the Unix epoch (or fractional) still yields valid server times", async () => {
    const { engine } = makeEngine();
    const client = new RawClient(engine, { now: -5.5 });
    const welcome = await client.connect();
    expect(welcome.body.serverTimeMs).toBe(0n);
    client.now = 12.9;
    expect(only(await client.exchange(client.sendFrame({ clientMsgId: 1n })), Op.ACK).body.serverTimeMs).toBe(12n);
  });
});
