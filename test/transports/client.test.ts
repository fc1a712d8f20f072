// SyncwireClient, the reconnect driver, against a scripted transport and fake timers: exact backoff
// delays, retry_after_ms, when it must not reconnect, link generations, backpressure, the connect
// timeout and a graceful disconnect. (The loopback tests run it over real sockets.)
import { create } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { decodeFrames, DisconnectCode, DisconnectSchema, encodeBodyFrame, Op, WelcomeSchema, AckSchema, AckStatus, type Frame } from "../../src/index.js";
import { SyncwireClient, type ClientTransport, type SyncwireClientEvent, type TransportHandlers } from "../../src/web/index.js";

/** One link the scripted transport opened. */
interface FakeLink {
  readonly handlers: TransportHandlers;
  readonly sent: Frame[];
  /** What `send` returns. */
  full: boolean;
  closed: boolean;
  aborted: boolean;
}

function scriptedTransport(options: { short?: boolean } = {}) {
  const links: FakeLink[] = [];
  const transport: ClientTransport = {
    kind: "fake",
    ...(options.short === true ? { short: true } : {}),
    connect(handlers) {
      const link: FakeLink = { handlers, sent: [], full: false, closed: false, aborted: false };
      links.push(link);
      return {
        send(frame) {
          link.sent.push(...decodeFrames(frame).frames);
          return !link.full;
        },
        close() {
          link.closed = true;
        },
        abort() {
          link.aborted = true;
        },
      };
    },
  };
  return { transport, links };
}

const welcome = (maxBatchFrames = 0) =>
  encodeBodyFrame(Op.WELCOME, create(WelcomeSchema, { version: 1, sessionId: "s1", heartbeatIntervalMs: 0, limits: { maxFrameSize: 1 << 20, maxBatchFrames, maxInFlight: 128 } }), { seq: 1 });
const disconnect = (code: DisconnectCode, retryAfterMs = 0, seq = 0) => encodeBodyFrame(Op.DISCONNECT, create(DisconnectSchema, { code, reason: "test", retryAfterMs }), { seq });

const POLICY = { initialMs: 100, factor: 2, jitter: 0, maxMs: 1000 };

function makeClient(transport: ClientTransport, extra: Partial<ConstructorParameters<typeof SyncwireClient>[0]> = {}) {
  const client = new SyncwireClient({ transport, engine: { clientId: "c1", token: "alice", random: () => 0.5 }, reconnect: POLICY, random: () => 0.5, ...extra });
  const events: SyncwireClientEvent[] = [];
  client.on("*", (e) => events.push(e));
  return { client, events };
}

/** A started client whose first link is open and welcomed (WELCOME without batches). */
async function openClient(extra: Partial<ConstructorParameters<typeof SyncwireClient>[0]> = {}) {
  const { transport, links } = scriptedTransport();
  const made = makeClient(transport, extra);
  made.client.start();
  await settle();
  const link = links[0]!;
  link.handlers.open();
  link.handlers.bytes(welcome());
  return { ...made, link, links };
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2025, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Lets queued microtasks and due timers run. */
async function settle(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe("reconnecting", () => {
  test("links that fail before WELCOME wait backoffDelay: 100, 200, 400, 800, then the 1,000 ms cap", async () => {
    const { transport, links } = scriptedTransport();
    const { client, events } = makeClient(transport);
    client.start();
    for (let i = 0; i < 6; i++) {
      await settle();
      links.at(-1)!.handlers.closed("refused");
      await settle();
      const delay = (events.filter((e) => e.type === "reconnecting").at(-1) as { delayMs: number }).delayMs;
      await settle(delay);
    }
    expect(events.filter((e) => e.type === "reconnecting").map((e) => [e.attempt, e.delayMs])).toEqual([
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 800],
      [5, 1000],
      [6, 1000],
    ]);
    expect(links.length).toBe(7);
    client.close();
  });

  test.each([
    [0, [50, 100, 200]],
    [0.999, [150, 300, 600]],
  ])("jitter comes from the client's random(): %s gives %j", async (r, expected) => {
    const { transport, links } = scriptedTransport();
    const { client, events } = makeClient(transport, { reconnect: { initialMs: 100, factor: 2, jitter: 0.5, maxMs: 10_000 }, random: () => r });
    client.start();
    for (let i = 0; i < 3; i++) {
      await settle();
      links.at(-1)!.handlers.closed("refused");
      await settle();
      await settle((events.filter((e) => e.type === "reconnecting").at(-1) as { delayMs: number }).delayMs);
    }
    expect(events.filter((e) => e.type === "reconnecting").map((e) => (e as { delayMs: number }).delayMs)).toEqual(expected);
    client.close();
  });

  test("WELCOME resets the count; a DISCONNECT's retry_after_ms is waited out when longer than the backoff", async () => {
    const { transport, links } = scriptedTransport();
    const { client, events } = makeClient(transport);
    client.start();
    await settle();
    links[0]!.handlers.closed("refused");
    await settle(100);
    links[1]!.handlers.open();
    links[1]!.handlers.bytes(welcome());
    expect(client.state).toBe("open");
    expect(client.failures).toBe(0);
    links[1]!.handlers.bytes(disconnect(DisconnectCode.SERVER_SHUTDOWN, 5000));
    expect(links[1]!.closed).toBe(true); // the engine closed the link: the driver closes the transport
    links[1]!.handlers.closed("server closed");
    await settle();
    const last = events.filter((e) => e.type === "reconnecting").at(-1)!;
    expect(last).toMatchObject({ attempt: 1, delayMs: 5000 });
    await settle(4999);
    expect(links.length).toBe(2);
    await settle(1);
    expect(links.length).toBe(3);
    client.close();
  });

  test.each([
    [DisconnectCode.AUTH_FAILED, "AUTH_FAILED"],
    [DisconnectCode.REPLACED, "REPLACED"],
    [DisconnectCode.UNSUPPORTED_VERSION, "UNSUPPORTED_VERSION"],
  ])("no reconnect after DISCONNECT %s (%s); start() with a new token begins again", async (code, name) => {
    const { transport, links } = scriptedTransport();
    const { client, events } = makeClient(transport);
    client.start();
    await settle();
    links[0]!.handlers.open();
    links[0]!.handlers.bytes(disconnect(code, 0, 1));
    links[0]!.handlers.closed("server closed");
    await settle(60_000);
    expect(links.length).toBe(1);
    expect(client.state).toBe("stopped");
    expect(events.find((e) => e.type === "state" && e.state === "stopped")).toMatchObject({ reason: `DISCONNECT ${name}: test` });
    expect(events.some((e) => e.type === "reconnecting")).toBe(false);

    client.start({ token: "new-token" });
    await settle();
    links[1]!.handlers.open();
    expect(links[1]!.sent[0]!.op).toBe(Op.HELLO);
    client.close();
  });

  test("callbacks of an abandoned link are ignored: a late message cannot reach the new link", async () => {
    const { transport, links } = scriptedTransport();
    const { client, events } = makeClient(transport);
    client.start();
    await settle();
    links[0]!.handlers.open();
    links[0]!.handlers.closed("reset");
    await settle(100);
    links[1]!.handlers.open();
    // The old link speaks again: a WELCOME and a close. Neither may touch the engine's current link.
    links[0]!.handlers.bytes(welcome());
    links[0]!.handlers.closed("late");
    expect(client.state).toBe("handshaking");
    expect(events.filter((e) => e.type === "transport-closed").length).toBe(1);
    links[1]!.handlers.bytes(welcome());
    expect(client.state).toBe("open");
    client.close();
  });

  test("a link not open within connectTimeoutMs is dropped and retried", async () => {
    const { transport, links } = scriptedTransport();
    const { client, events } = makeClient(transport, { connectTimeoutMs: 3000 });
    client.start();
    await settle(2999);
    expect(links[0]!.aborted).toBe(false);
    await settle(1);
    expect(links[0]!.aborted).toBe(true);
    expect(events.find((e) => e.type === "transport-closed")).toMatchObject({ reason: "not connected within 3000 ms" });
    await settle(100);
    expect(links.length).toBe(2);
    client.close();
  });
});

describe("the adapter loop", () => {
  test("a full transport stops the polling until writable(); nothing is lost or reordered", async () => {
    const { client, link } = await openClient();
    link.full = true;
    for (let i = 0; i < 5; i++) client.send({ conversationId: `c${i}`, recipientId: "bob" });
    // The first SEND went out and the transport said "full": nothing more until writable().
    expect(link.sent.map((f) => f.op)).toEqual([Op.HELLO, Op.SYNC, Op.SEND]);
    await settle(1000);
    expect(link.sent.length).toBe(3);
    link.full = false;
    link.handlers.writable();
    expect(link.sent.map((f) => f.op)).toEqual([Op.HELLO, Op.SYNC, Op.SEND, Op.SEND, Op.SEND, Op.SEND, Op.SEND]);
    expect(link.sent.filter((f) => f.op === Op.SEND).map((f) => f.seq)).toEqual([3, 4, 5, 6, 7]);
    client.close();
  });

  test("quiet() resolves once every request is answered", async () => {
    const { client, link } = await openClient();
    let quiet = false;
    void client.quiet().then(() => (quiet = true));
    client.send({ conversationId: "c", recipientId: "bob" });
    await settle();
    expect(quiet).toBe(false);
    const send = link.sent.find((f) => f.op === Op.SEND)!;
    const sync = link.sent.find((f) => f.op === Op.SYNC)!;
    link.handlers.bytes(encodeBodyFrame(Op.SYNC_RESULT, { $typeName: "syncwire.v1.SyncResult", messages: [], hasMore: false }, { seq: sync.seq }));
    await settle();
    expect(quiet).toBe(false);
    link.handlers.bytes(encodeBodyFrame(Op.ACK, create(AckSchema, { status: AckStatus.OK, serverMsgId: 1n }), { seq: send.seq }));
    await settle();
    expect(quiet).toBe(true);
    client.close();
  });

  test("quiet() rejects with CLOSED once the client has stopped, and at once when it already has", async () => {
    const { client } = await openClient();
    client.send({ conversationId: "c", recipientId: "bob" });
    const waiting = client.quiet();
    client.close();
    await expect(waiting).rejects.toMatchObject({ code: "CLOSED" });
    await expect(client.quiet()).rejects.toMatchObject({ code: "CLOSED" });
  });

  test("disconnect(): DISCONNECT NORMAL is the last frame, then the link closes and nothing reconnects", async () => {
    const { client, link, links } = await openClient();
    const done = client.disconnect();
    expect(link.sent.at(-1)!.op).toBe(Op.DISCONNECT);
    expect(link.closed).toBe(true);
    link.handlers.closed("closed");
    await done;
    await settle(10_000);
    expect([client.state, links.length]).toEqual(["stopped", 1]);
    expect(() => client.start()).toThrow(/closed/);
  });

  test("a listener that throws does not break the loop (its error surfaces asynchronously)", async () => {
    const { transport, links } = scriptedTransport();
    const { client } = makeClient(transport);
    client.on("open", () => {
      throw new Error("listener bug");
    });
    client.start();
    await settle();
    links[0]!.handlers.open();
    links[0]!.handlers.bytes(welcome());
    expect(client.state).toBe("open");
    expect(links[0]!.sent.map((f) => f.op)).toEqual([Op.HELLO, Op.SYNC]);
    await expect(vi.advanceTimersByTimeAsync(1)).rejects.toThrow("listener bug");
    client.close();
  });
});

describe("short links (the engine's short mode)", () => {
  test("HELLO, then requests at once; a later WELCOME sets the limits; SEND waits for a long link", async () => {
    const { transport, links } = scriptedTransport({ short: true });
    const { client } = makeClient(transport);
    client.start();
    await settle();
    links[0]!.handlers.open();
    expect(client.state).toBe("open");
    client.send({ conversationId: "c", recipientId: "bob" });
    client.sync();
    client.upload(new Uint8Array(10), "x/y");
    const ops = links[0]!.sent.map((f) => [f.op, f.seq]);
    expect(ops).toEqual([
      [Op.HELLO, 1],
      [Op.SYNC, 2],
      [Op.CHUNK, 3],
    ]);
    expect(client.engine.requestsInFlight).toBe(2);
    expect(client.engine.pendingSends).toBe(1);
    client.close();
  });
});
