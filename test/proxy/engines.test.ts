// The session engines through the fault proxy: a ServerEngine on node:net (the README's adapter), two
// ClientEngines connecting through the proxy with 1-byte writes both ways, and the sender's link killed
// in the middle of its SENDs. The client reconnects (`reconnected()`), resends what was not acked, and
// in the end every message is stored once and reaches the recipient exactly once, in order, and each
// client's SyncKey is the server's.
import { createServer, createConnection, type Socket } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { ClientEngine, createMemoryStores, createSyncKey, formatSyncKey, MessageKind, ServerEngine, type ClientEvent } from "../../src/index.js";
import { DisconnectCode } from "../../src/gen/syncwire/v1/session_pb.js";
import { createFaultProxy } from "../../src/node/index.js";
import { seededRandom } from "../../src/node/seeded-random.js";
import { closeAll, sleep, track, until } from "./support.js";

afterEach(closeAll);

/** The README's server adapter: one ServerConnection per socket, driven with Date.now(). */
function serve(engine: ServerEngine, socket: Socket): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const link = engine.accept(Date.now(), { wake: () => drain(), remote: socket.remoteAddress });
  function drain(): void {
    const now = Date.now();
    for (let frame = link.pollTransmit(now); frame !== undefined; frame = link.pollTransmit(now)) socket.write(frame);
    while (link.pollEvent() !== undefined);
    clearTimeout(timer);
    const at = link.pollTimeout();
    if (at !== undefined) timer = setTimeout(() => (link.handleTimeout(Date.now()), drain()), Math.max(0, at - now));
    if (link.state === "closed") socket.end();
  }
  socket.on("data", (chunk) => (link.receiveBytes(chunk, Date.now()), drain()));
  socket.on("end", () => (link.endOfInput(Date.now()), drain()));
  socket.on("close", () => (clearTimeout(timer), link.linkClosed(Date.now())));
  socket.on("error", () => socket.destroy());
}

/** A ClientEngine on node:net that reconnects 20 ms after its link is lost. */
class Client {
  readonly engine: ClientEngine;
  readonly events: ClientEvent[] = [];
  links = 0;
  #socket: Socket | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(
    readonly port: number,
    user: string,
    seed: number,
  ) {
    this.engine = new ClientEngine({ clientId: `${user}-device`, token: `tok:${user}`, userId: user, random: seededRandom(seed) });
    track(this, (c) => c.stop());
    this.#connect();
  }

  send(to: string, text: string): bigint {
    const id = this.engine.send({ conversationId: "c2c:alice:bob", recipientId: to, kind: MessageKind.TEXT, content: new TextEncoder().encode(text) }, Date.now());
    this.#pump();
    return id;
  }

  of<T extends ClientEvent["type"]>(type: T): Extract<ClientEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<ClientEvent, { type: T }> => e.type === type);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#socket?.destroy();
  }

  #connect(): void {
    const socket = createConnection({ host: "127.0.0.1", port: this.port });
    this.#socket = socket;
    socket.on("connect", () => {
      if (this.links++ === 0) this.engine.connect(Date.now());
      else this.engine.reconnected(Date.now());
      this.#pump();
    });
    socket.on("data", (chunk) => (this.engine.receiveBytes(chunk, Date.now()), this.#pump()));
    socket.on("error", () => {});
    socket.on("close", () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.engine.linkClosed(Date.now());
      this.#pump();
      if (!this.#stopped && this.engine.state === "idle") setTimeout(() => this.#stopped || this.#connect(), 20);
    });
  }

  #pump(): void {
    for (let event = this.engine.pollEvent(); event !== undefined; event = this.engine.pollEvent()) this.events.push(event);
    const now = Date.now();
    for (let frame = this.engine.pollTransmit(now); frame !== undefined; frame = this.engine.pollTransmit(now)) this.#socket?.write(frame);
    clearTimeout(this.#timer);
    const due = this.engine.pollTimeout();
    if (due !== undefined && !this.#stopped) this.#timer = setTimeout(() => (this.engine.handleTimeout(Date.now()), this.#pump()), Math.max(0, due - now));
  }
}

describe("the session engines through the fault proxy", () => {
  test("1-byte writes both ways and the sender's link killed mid-send: every message stored once and delivered exactly once", async () => {
    const stores = createMemoryStores();
    const engine = new ServerEngine({
      stores,
      random: seededRandom(5),
      authenticate: (hello) => (hello.token.startsWith("tok:") ? { user: hello.token.slice(4) } : { refuse: DisconnectCode.AUTH_FAILED, reason: "bad token" }),
    });
    const server = createServer({ allowHalfOpen: true }, (socket) => serve(engine, socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    track(server, (s) => new Promise<void>((resolve) => s.close(() => resolve())));
    track(engine, (e) => e.shutdown(Date.now()));

    let killedAt: number | undefined;
    let ackedAtKill = -1;
    let alice: Client | undefined;
    const proxy = await createFaultProxy({
      upstream: { port: (server.address() as { port: number }).port },
      faults: { split: 1 },
      onEvent: (event) => {
        if (event.type !== "kill") return;
        killedAt = event.time;
        ackedAtKill = new Set(alice!.of("sent").map((e) => e.clientMsgId)).size;
      },
    });
    track(proxy, (p) => (p.killAll(), p.close()));

    alice = new Client(proxy.address.port, "alice", 1);
    const bob = new Client(proxy.address.port, "bob", 2);
    await until("both clients open", () => alice.of("open").length === 1 && bob.of("open").length === 1);

    // From now on, the client → server direction dies after 1,000 more bytes: inside the SENDs below.
    proxy.setFaults({ split: 1, up: { killAfterBytes: 1000 } });
    const count = 30;
    const ids = [...Array(count).keys()].map((i) => alice.send("bob", `message ${i + 1}`));
    await until("a link killed", () => killedAt !== undefined, 10_000);
    proxy.setFaults({ split: 1 }); // the new links live

    await until(
      `every message acked (${new Set(alice.of("sent").map((e) => e.clientMsgId)).size}) and delivered (${bob.of("message").length})`,
      () => new Set(alice.of("sent").map((e) => e.clientMsgId)).size === count && bob.of("message").length >= count,
      30_000,
    );
    await sleep(100); // anything late would show now

    expect(ackedAtKill).toBeGreaterThanOrEqual(0);
    expect(ackedAtKill).toBeLessThan(count); // the kill left messages unacknowledged: they were resent
    expect(alice.links).toBeGreaterThanOrEqual(2);
    expect(alice.of("open").at(-1)!.resumed).toBe(true);
    expect(alice.of("failed")).toStrictEqual([]);
    // Delivered exactly once, in the order sent.
    const delivered = bob.of("message").map((e) => e.message);
    expect(delivered.map((m) => m.clientMsgId)).toStrictEqual(ids);
    expect(delivered.map((m) => new TextDecoder().decode(m.content))).toStrictEqual(ids.map((_, i) => `message ${i + 1}`));
    // Stored once: the recipient's log holds each message once.
    const log = await stores.log.read("bob", createSyncKey([]), 1000);
    expect(log.entries.map((e) => e.message.clientMsgId)).toStrictEqual(ids);
    // Each client's key is the server's head of its log.
    for (const [user, client] of [
      ["alice", alice],
      ["bob", bob],
    ] as const) {
      const head = formatSyncKey(await stores.log.head(user));
      await until(`${user}'s key at the head ${head}`, () => formatSyncKey(client.engine.syncKey) === head);
    }
  }, 60_000);
});
