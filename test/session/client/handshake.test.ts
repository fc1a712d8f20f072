// Handshake (§11.2), closing (§11.7) and caller errors: HELLO first and alone, requests queued until
// WELCOME, refusals and DISCONNECTs as events, the handshake timeout, disconnect()/close(), and misuse
// as TypeError/RangeError/SessionError — never a FrameError.
import { describe, expect, test } from "vitest";
import { DisconnectCode, FrameError, Op, syncKeyEquals } from "../../../src/index.js";
import { ClientEngine, SessionError } from "../../../src/session/index.js";
import { thrownBy } from "../../support/thrown.js";
import { Harness, key1, reply, T0, text } from "./support.js";

describe("handshake", () => {
  test("HELLO is seq 1, header version 1, with the client's id, token, capabilities and no key on first login", () => {
    const h = new Harness({ versions: [1], maxFrameSize: 65_536, batching: false });
    expect(h.engine.state).toBe("idle");
    h.engine.connect(h.now);
    expect(h.engine.state).toBe("handshaking");
    const sent = h.flush();
    expect(sent).toHaveLength(1);
    const hello = sent[0]!;
    expect([hello.op, hello.seq, hello.version, hello.batched]).toEqual([Op.HELLO, 1, 1, false]);
    expect(hello.message.versions).toEqual([1]);
    expect(hello.message.clientId).toBe("phone-1");
    expect(hello.message.token).toBe("t0k3n");
    expect(hello.message.capabilities).toMatchObject({ maxFrameSize: 65_536, batching: false });
    expect(hello.message.syncKey).toBeUndefined();
  });

  test("HELLO carries the SyncKey to resume from", () => {
    const h = new Harness({ syncKey: key1(42) });
    h.engine.connect(h.now);
    const [hello] = h.flush();
    expect(syncKeyEquals(hello!.message.syncKey, key1(42))).toBe(true);
  });

  test("requests made before WELCOME wait: nothing but HELLO leaves until WELCOME, then they go out", () => {
    const h = new Harness();
    const early = h.engine.send({ conversationId: "c1", content: text("before connect") }, h.now);
    h.engine.connect(h.now);
    const late = h.engine.send({ conversationId: "c2", content: text("during handshake") }, h.now);
    h.engine.sendApplication(4242, text("app"), h.now);
    expect(h.flush().map((f) => f.op)).toEqual([Op.HELLO]);
    h.advance(1000);
    expect(h.flush()).toEqual([]);
    expect(h.engine.pendingSends).toBe(2);

    h.deliver(reply.welcome(1, { sessionId: "sess-9", heartbeatIntervalMs: 0 }));
    expect(h.engine.state).toBe("open");
    expect(h.engine.sessionId).toBe("sess-9");
    const after = h.flush();
    expect(after.map((f) => f.op)).toEqual([4242, Op.SYNC, Op.SEND, Op.SEND]);
    expect(after.filter((f) => f.op === Op.SEND).map((f) => f.message.clientMsgId)).toEqual([early, late]);
    expect(after.map((f) => f.seq)).toEqual([0, 2, 3, 4]);
    expect(h.events()).toEqual([{ type: "open", sessionId: "sess-9", version: 1, resumed: false, heartbeatIntervalMs: 0, serverTimeMs: 0n }]);
  });

  test("a refused HELLO (DISCONNECT echoing its seq) is a 'disconnected' event with refused: true; nothing more is sent", () => {
    const h = new Harness();
    h.engine.connect(h.now);
    h.flush();
    h.deliver(reply.disconnect(1, { code: DisconnectCode.AUTH_FAILED, reason: "token expired" }));
    expect(h.engine.state).toBe("closed");
    expect(h.events()).toEqual([
      { type: "disconnected", code: DisconnectCode.AUTH_FAILED, reason: "token expired", retryAfterMs: 0, refused: true, reconnect: false },
    ]);
    expect(h.flush()).toEqual([]);
    expect(h.engine.pollTimeout()).toBeUndefined();
    // New credentials on the next link.
    h.engine.linkClosed(h.now);
    expect(h.engine.state).toBe("idle");
    h.engine.connect(h.now, { token: "fresh" });
    expect(h.flush()[0]!.message.token).toBe("fresh");
  });

  test.each([
    [DisconnectCode.AUTH_FAILED, false],
    [DisconnectCode.REPLACED, false],
    [DisconnectCode.UNSUPPORTED_VERSION, false],
    [DisconnectCode.PROTOCOL_ERROR, true],
    [DisconnectCode.IDLE_TIMEOUT, true],
    [DisconnectCode.RATE_LIMITED, true],
    [DisconnectCode.SERVER_SHUTDOWN, true],
    [DisconnectCode.NORMAL, true],
  ])("DISCONNECT code %i while open: reconnect advice %s, retry_after_ms passed on", (code, reconnect) => {
    const h = new Harness();
    h.open();
    h.events();
    h.deliver(reply.disconnect(0, { code, reason: "bye", retryAfterMs: 5000 }));
    expect(h.engine.state).toBe("closed");
    expect(h.events()).toEqual([{ type: "disconnected", code, reason: "bye", retryAfterMs: 5000, refused: false, reconnect }]);
    expect(h.flush()).toEqual([]);
  });

  test("a DISCONNECT with seq 0 during the handshake is not a refusal of HELLO", () => {
    const h = new Harness();
    h.engine.connect(h.now);
    h.flush();
    h.deliver(reply.disconnect(0, { code: DisconnectCode.SERVER_SHUTDOWN, retryAfterMs: 100 }));
    expect(h.eventsOf("disconnected")[0]).toMatchObject({ refused: false, reconnect: true, retryAfterMs: 100 });
  });

  test("no WELCOME within handshakeTimeoutMs: link-dead (reason handshake), nothing sent", () => {
    const h = new Harness({ handshakeTimeoutMs: 8000 });
    h.engine.connect(h.now);
    h.flush();
    expect(h.engine.pollTimeout()).toBe(T0 + 8000);
    h.advanceTo(T0 + 7999);
    expect(h.engine.state).toBe("handshaking");
    h.advanceTo(T0 + 8000);
    expect(h.engine.state).toBe("closed");
    expect(h.events()).toEqual([{ type: "link-dead", reason: "handshake" }]);
    expect(h.flush()).toEqual([]);
  });

  test("a version chosen from several offered: WELCOME's header and every later header carry it", () => {
    const h = new Harness({ versions: [2, 1] });
    h.engine.connect(h.now);
    const [hello] = h.flush();
    expect(hello!.version).toBe(1);
    expect(hello!.message.versions).toEqual([2, 1]);
    h.deliver(reply.welcome(1, { version: 2 }));
    expect(h.eventsOf("open")[0]!.version).toBe(2);
    const [sync] = h.flush();
    expect([sync!.op, sync!.version]).toEqual([Op.SYNC, 2]);
    // A version-1 frame on a version-2 link breaks the rule.
    h.deliver(reply.ack(99, {}, 1));
    expect(h.eventsOf("error")[0]).toMatchObject({ code: "UNEXPECTED_VERSION" });
    const [bye] = h.flush();
    expect([bye!.op, bye!.version, bye!.message.code]).toEqual([Op.DISCONNECT, 2, DisconnectCode.PROTOCOL_ERROR]);
  });
});

describe("the server breaking the handshake", () => {
  function expectProtocolError(h: Harness, code: string, disconnectCode = DisconnectCode.PROTOCOL_ERROR): void {
    expect(h.engine.state).toBe("closed");
    const errors = h.eventsOf("error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe(code);
    const sent = h.flush();
    expect(sent.map((f) => [f.op, f.seq])).toEqual([[Op.DISCONNECT, 0]]);
    expect(sent[0]!.message.code).toBe(disconnectCode);
  }

  test("an application frame before WELCOME", () => {
    const h = new Harness();
    h.engine.connect(h.now);
    h.flush();
    h.deliver(reply.raw(1000, 0, text("too early")));
    expectProtocolError(h, "UNEXPECTED_OP");
  });

  test("replies and NOTIFY before WELCOME answer nothing: ignored (§11.8), the handshake goes on", () => {
    const h = new Harness();
    h.engine.connect(h.now);
    h.flush();
    h.deliver(reply.notify(), reply.ack(1), reply.syncResult(1, { messages: [] }), reply.chunkAck(1, { uploadId: "u" }), reply.heartbeatAck(1));
    expect(h.engine.state).toBe("handshaking");
    expect(h.events()).toEqual([]);
    expect(h.flush()).toEqual([]);
    h.deliver(reply.welcome(1));
    expect(h.engine.state).toBe("open");
  });

  test("WELCOME echoing another seq than HELLO's", () => {
    const h = new Harness();
    h.engine.connect(h.now);
    h.flush();
    h.deliver(reply.welcome(7));
    expectProtocolError(h, "BAD_WELCOME");
  });

  test("WELCOME choosing a version HELLO did not offer: DISCONNECT UNSUPPORTED_VERSION", () => {
    const h = new Harness();
    h.engine.connect(h.now);
    h.flush();
    h.deliver(reply.welcome(1, { version: 3 }, 1));
    expectProtocolError(h, "BAD_WELCOME", DisconnectCode.UNSUPPORTED_VERSION);
  });

  test("a header version the client did not offer is a FrameError from the decoder", () => {
    const h = new Harness();
    h.engine.connect(h.now);
    h.flush();
    h.deliver(reply.raw(Op.WELCOME, 1, new Uint8Array([8, 2]), 2));
    expectProtocolError(h, "UNSUPPORTED_VERSION");
    expect(h.eventLog.find((e) => e.type === "error")).toMatchObject({ cause: expect.any(FrameError) });
  });

  test("a second WELCOME (a duplicate) is ignored", () => {
    const h = new Harness();
    h.open();
    h.events();
    h.deliver(reply.welcome(1), reply.welcome(1, { sessionId: "other" }));
    expect(h.engine.state).toBe("open");
    expect(h.events()).toEqual([]);
    expect(h.engine.sessionId).toBe("s-1");
  });

  test("a client-to-server op or a reserved op from the server", () => {
    for (const op of [Op.SEND, Op.HELLO, Op.HEARTBEAT, Op.SYNC, Op.SYNC_COMMIT, Op.CHUNK, 0, 1, 16, 999]) {
      const h = new Harness();
      h.open();
      h.events();
      h.deliver(reply.raw(op, 0, new Uint8Array([0x08, 0x01])));
      expectProtocolError(h, "UNEXPECTED_OP");
    }
  });

  test("a BATCH when HELLO said batching: false", () => {
    const h = new Harness({ batching: false });
    h.open();
    h.events();
    h.deliver(reply.raw(Op.BATCH, 0, reply.notify()));
    expectProtocolError(h, "BATCH_REFUSED");
  });

  test("after the error the link ignores input and sends nothing more", () => {
    const h = new Harness();
    h.open();
    h.deliver(reply.raw(0, 0));
    h.flush();
    h.events();
    h.deliver(reply.notify(), reply.welcome(1));
    expect(h.events()).toEqual([]);
    expect(h.flush()).toEqual([]);
  });
});

describe("closing", () => {
  test("disconnect(): DISCONNECT NORMAL is the only frame left to poll, frames not yet polled are dropped, closed for good", () => {
    const h = new Harness();
    h.open();
    h.engine.send({ conversationId: "c1", content: text("unpolled") }, h.now);
    h.engine.disconnect(h.now);
    expect(h.engine.state).toBe("closed");
    const sent = h.flush();
    expect(sent.map((f) => [f.op, f.seq, f.message?.code])).toEqual([[Op.DISCONNECT, 0, DisconnectCode.NORMAL]]);
    expect(h.engine.pendingSends).toBe(0);
    h.engine.linkClosed(h.now);
    expect(h.engine.state).toBe("closed");
    expect(thrownBy(SessionError, () => h.engine.send({ conversationId: "c1" }, h.now)).code).toBe("CLOSED");
    expect(thrownBy(SessionError, () => h.engine.connect(h.now)).code).toBe("CLOSED");
    h.engine.disconnect(h.now); // idempotent
    expect(h.flush()).toEqual([]);
  });

  test("disconnect() with another code and a reason", () => {
    const h = new Harness();
    h.open();
    h.engine.disconnect(h.now, DisconnectCode.UNSPECIFIED);
    const [bye] = h.flush();
    expect(bye!.message.code).toBe(DisconnectCode.UNSPECIFIED);
    expect(bye!.message.reason).toBe("disconnect"); // a DISCONNECT body may not be empty
  });

  test("disconnect() without a link sends nothing; close() sends nothing", () => {
    const idle = new Harness();
    idle.engine.disconnect(idle.now);
    expect(idle.flush()).toEqual([]);
    const open = new Harness();
    open.open();
    open.engine.close();
    expect(open.engine.state).toBe("closed");
    expect(open.flush()).toEqual([]);
    expect(open.engine.pollTimeout()).toBeUndefined();
    expect(thrownBy(SessionError, () => open.engine.resend(1n, open.now)).code).toBe("CLOSED");
    expect(thrownBy(SessionError, () => open.engine.upload(text("x"), "text/plain", open.now)).code).toBe("CLOSED");
    expect(thrownBy(SessionError, () => open.engine.sendApplication(1000, text("x"), open.now)).code).toBe("CLOSED");
  });

  test("linkClosed() drops unpolled frames and returns to idle; connect() from any state abandons the old link", () => {
    const h = new Harness();
    h.open();
    h.engine.send({ conversationId: "c1" }, h.now);
    h.engine.linkClosed(h.now);
    expect(h.engine.state).toBe("idle");
    expect(h.flush()).toEqual([]);
    expect(h.engine.pendingSends).toBe(1);
    h.engine.connect(h.now);
    h.engine.reconnected(h.now); // again, mid-handshake
    const sent = h.flush();
    expect(sent.map((f) => [f.op, f.seq])).toEqual([[Op.HELLO, 1]]);
  });
});

describe("caller errors", () => {
  test("bad options: TypeError for types, RangeError for ranges", () => {
    const ok = { clientId: "c", token: "t", random: () => 0.5 };
    thrownBy(TypeError, () => new ClientEngine(undefined as never));
    thrownBy(TypeError, () => new ClientEngine({ ...ok, clientId: 1 as never }));
    thrownBy(TypeError, () => new ClientEngine({ ...ok, token: undefined as never }));
    thrownBy(TypeError, () => new ClientEngine({ ...ok, random: undefined as never }));
    thrownBy(RangeError, () => new ClientEngine({ ...ok, ackTimeoutMs: 0 }));
    thrownBy(RangeError, () => new ClientEngine({ ...ok, maxRetries: -1 }));
    thrownBy(RangeError, () => new ClientEngine({ ...ok, versions: [] }));
    thrownBy(RangeError, () => new ClientEngine({ ...ok, versions: [70_000] }));
    thrownBy(RangeError, () => new ClientEngine({ ...ok, backoffJitter: 1.5 }));
    thrownBy(RangeError, () => new ClientEngine({ ...ok, maxFrameSize: 8 }));
  });

  test("bad arguments to send(): TypeError or RangeError, nothing queued, never a FrameError", () => {
    const h = new Harness();
    const send = (m: unknown, now = h.now) => () => h.engine.send(m as never, now);
    thrownBy(TypeError, send(null));
    thrownBy(TypeError, send({}));
    thrownBy(RangeError, send({ conversationId: "" }));
    thrownBy(TypeError, send({ conversationId: "c", clientMsgId: 5 }));
    thrownBy(RangeError, send({ conversationId: "c", clientMsgId: -1n }));
    thrownBy(RangeError, send({ conversationId: "c", clientMsgId: 2n ** 64n }));
    thrownBy(TypeError, send({ conversationId: "c", content: "not bytes" }));
    thrownBy(TypeError, send({ conversationId: "c" }, Number.NaN));
    thrownBy(RangeError, send({ conversationId: "c" }, 0)); // 1970: outside the client message id range
    const huge = thrownBy(RangeError, send({ conversationId: "c", content: new Uint8Array(1_048_576) }));
    expect(huge.message).toMatch(/max_frame_size/);
    expect(h.engine.pendingSends).toBe(0);
    h.engine.send({ conversationId: "c", clientMsgId: 77n }, h.now);
    thrownBy(RangeError, send({ conversationId: "c", clientMsgId: 77n }));
    expect(h.engine.pendingSends).toBe(1);
  });

  test("after WELCOME the server's max_frame_size is the limit", () => {
    const h = new Harness();
    h.open({ limits: { maxFrameSize: 1000 } });
    thrownBy(RangeError, () => h.engine.send({ conversationId: "c", content: new Uint8Array(1000) }, h.now));
    h.engine.send({ conversationId: "c", content: new Uint8Array(900) }, h.now);
    thrownBy(RangeError, () => h.engine.sendApplication(1000, new Uint8Array(985), h.now));
  });

  test("bad arguments elsewhere", () => {
    const h = new Harness();
    thrownBy(TypeError, () => h.engine.receiveBytes("bytes" as never, h.now));
    thrownBy(TypeError, () => h.engine.receiveMessage(new Uint8Array(1), Number.POSITIVE_INFINITY));
    thrownBy(TypeError, () => h.engine.pollTransmit(undefined as never));
    thrownBy(TypeError, () => h.engine.handleTimeout(Number.NaN));
    thrownBy(TypeError, () => h.engine.connect(h.now, { token: 5 as never }));
    thrownBy(RangeError, () => h.engine.sendApplication(999, new Uint8Array(0), h.now));
    thrownBy(TypeError, () => h.engine.sendApplication(1000, [1] as never, h.now));
    thrownBy(TypeError, () => h.engine.resend(1 as never, h.now));
    thrownBy(RangeError, () => h.engine.disconnect(h.now, -1 as never));
    expect(thrownBy(SessionError, () => h.engine.resend(1n, h.now)).code).toBe("NOT_FAILED");
  });

  test("a random() outside [0, 1) is the caller's bug: RangeError", () => {
    const h = new Harness({ random: () => 1 });
    thrownBy(RangeError, () => h.engine.send({ conversationId: "c" }, h.now));
  });
});

describe("application frames", () => {
  test("ops ≥ 1000 pass both ways untouched", () => {
    const h = new Harness();
    h.open();
    h.flush();
    h.events();
    h.engine.sendApplication(5000, text("ping"), h.now);
    const [frame] = h.flush();
    expect([frame!.op, frame!.seq, new TextDecoder().decode(frame!.body)]).toEqual([5000, 0, "ping"]);
    h.deliver(reply.raw(7000, 3, text("pong")));
    const [event] = h.events();
    expect(event).toMatchObject({ type: "application", op: 7000, seq: 3 });
    expect(new TextDecoder().decode((event as { body: Uint8Array }).body)).toBe("pong");
    expect(h.engine.state).toBe("open");
  });

  test("the wait queue before WELCOME is bounded", () => {
    const h = new Harness({ maxPendingSends: 2 });
    h.engine.sendApplication(1000, text("a"), h.now);
    h.engine.sendApplication(1000, text("b"), h.now);
    expect(thrownBy(SessionError, () => h.engine.sendApplication(1000, text("c"), h.now)).code).toBe("SEND_QUEUE_FULL");
  });
});
