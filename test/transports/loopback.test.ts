// The same session over TCP, TLS and WebSocket on loopback: real sockets, the real server, the real
// reconnecting client. What every long link must do: handshake, send → ACK, NOTIFY → SYNC → COMMIT,
// an upload, a graceful shutdown, and resuming after a reset and after a server restart with nothing
// lost and nothing shown twice.
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { describe, expect, test } from "vitest";
import WebSocket from "ws";
import { create } from "@bufbuild/protobuf";
import { decodeFrames, decodeMessage, DisconnectCode, encodeBodyFrame, FrameDecoder, HelloSchema, MessageKind, Op, syncKeyEquals, type Frame } from "../../src/index.js";
import { nodeTransport, type SyncwireServer, type SyncwireServerOptions } from "../../src/node/index.js";
import { ShortLinkClient, SyncwireClient, webSocketTransport, type WebSocketConstructor } from "../../src/web/index.js";
import { conversation, FAST_RECONNECT, keyMatchesServer, LOOPBACK, testCertificate, textMessage, textOf, useHarness, waitUntil } from "./support.js";

const harness = useHarness();

type Kind = "tcp" | "tls" | "ws";

/** Listener options for one transport on an ephemeral (or given) loopback port. */
function listenOn(kind: Kind, port = 0): Pick<SyncwireServerOptions, "tcp" | "tls" | "ws"> {
  const address = { host: LOOPBACK, port };
  if (kind === "tls") return { tls: { ...address, ...testCertificate() } };
  return { [kind]: address };
}

/** Client options for one transport: TLS trusts the throwaway certificate. */
function clientOptions(kind: Kind) {
  return kind === "tls" ? { tls: { ca: testCertificate().cert } } : {};
}

describe.each(["tcp", "tls", "ws"] as const)("over %s", (kind) => {
  async function setUp(options: Partial<SyncwireServerOptions> = {}) {
    const server = await harness.server({ ...listenOn(kind), ...options });
    const url = server.addresses[kind]!.url;
    return { server, url };
  }

  test("handshake, SEND → ACK, NOTIFY → SYNC → COMMIT: the recipient gets the message once and commits it", async () => {
    const { server, url } = await setUp();
    const alice = harness.client(url, "alice", clientOptions(kind));
    const bob = harness.client(url, "bob", clientOptions(kind));
    const [aliceOpen, bobOpen] = await Promise.all([alice.client.once("open"), bob.client.once("open")]);
    expect([aliceOpen.resumed, bobOpen.resumed, aliceOpen.version]).toEqual([false, false, 1]);
    expect(alice.client.state).toBe("open");

    const sent = alice.client.once("sent");
    const id = alice.client.send(textMessage("alice", "bob", "hello over " + kind));
    const ack = await sent;
    expect([ack.clientMsgId, ack.duplicate]).toEqual([id, false]);
    expect(ack.serverMsgId).toBeGreaterThan(0n);

    await waitUntil(() => bob.messages.length === 1 && alice.messages.length === 1, "the message synced to both users");
    expect(textOf(bob.messages[0]!)).toBe(`hello over ${kind}`);
    expect(bob.messages[0]!.senderId).toBe("alice");
    expect(alice.messages[0]!.clientMsgId).toBe(id); // the sender's own devices see it through sync too
    // Bob's device committed what it stored: the server's record of his device equals his key and the log's head.
    await waitUntil(async () => syncKeyEquals(await server.stores.log.committed("bob", "bob-device"), bob.client.syncKey), "bob's commit");
    expect(await keyMatchesServer(server, "bob", bob.client.syncKey)).toBe(true);
    expect(bob.events).toContain("synced");
  });

  test("an upload in parts, then a message that refers to it", async () => {
    const { server, url } = await setUp();
    const alice = harness.client(url, "alice", { ...clientOptions(kind), engine: { partSize: 16_384 } });
    const bob = harness.client(url, "bob", clientOptions(kind));
    await Promise.all([alice.client.once("open"), bob.client.once("open")]);
    const image = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) & 0xff);
    const progress: number[] = [];
    alice.client.on("upload-progress", (e) => progress.push(e.acked));
    const { done } = alice.client.upload(image, "image/png");
    const { objectId } = await done;
    expect(progress.at(-1)).toBe(7); // 100,000 bytes in 16 KiB parts
    // Byte for byte (Buffer.equals: a deep toEqual over 100,000 elements takes seconds).
    expect(Buffer.from((await server.stores.objects.read(objectId))!).equals(image)).toBe(true);

    alice.client.send({ conversationId: conversation("alice", "bob"), recipientId: "bob", kind: MessageKind.IMAGE, media: { objectId, contentType: "image/png", size: BigInt(image.byteLength) } });
    await waitUntil(() => bob.messages.length === 1, "the image message at bob");
    expect(bob.messages[0]!.media?.objectId).toBe(objectId);
  });

  test("graceful shutdown: DISCONNECT SERVER_SHUTDOWN with retry_after_ms, and the client resumes on the restarted server after it", async () => {
    const { server, url } = await setUp();
    const port = server.addresses[kind]!.port;
    const alice = harness.client(url, "alice", clientOptions(kind));
    await alice.client.once("open");
    const disconnected = alice.client.once("disconnected");
    const reconnecting = alice.client.once("reconnecting");
    const acked = new Set<bigint>();
    alice.client.on("sent", (e) => acked.add(e.clientMsgId));
    // Messages still in flight when the server stops: some stored and not acked, some not yet read.
    const early = Array.from({ length: 10 }, (_, i) => alice.client.send(textMessage("alice", "bob", `in flight ${i}`)));
    await server.close({ retryAfterMs: 300 });
    const event = await disconnected;
    expect([event.code, event.retryAfterMs, event.reconnect]).toEqual([DisconnectCode.SERVER_SHUTDOWN, 300, true]);
    expect((await reconnecting).delayMs).toBeGreaterThanOrEqual(300);
    expect(alice.client.state).toBe("waiting");
    expect(server.links).toEqual([]); // drained and closed: close() resolved after every link ended

    // A message sent meanwhile waits in the outbox and goes out after the next WELCOME.
    const id = alice.client.send(textMessage("alice", "bob", "sent while the server was away"));
    const restarted = await harness.server({ ...listenOn(kind, port), stores: server.stores });
    const reopened = await alice.client.once("open", () => true, 10_000);
    expect(reopened.resumed).toBe(true);
    await waitUntil(() => acked.size === 11, "every message acked after the restart");
    expect([...acked].sort()).toEqual([...early, id].sort());
    // Each stored once, in order: those in flight at the stop were resent with their ids and deduplicated.
    const log = await restarted.stores.log.read("bob", { $typeName: "syncwire.v1.SyncKey", entries: [] }, 100);
    expect(log.entries.map((e) => textOf(e.message))).toEqual([...Array.from({ length: 10 }, (_, i) => `in flight ${i}`), "sent while the server was away"]);
  });

  test("a reset mid-send, then a server restart without DISCONNECT: every message arrives once, in order, and the keys match the server's", async () => {
    const { server, url } = await setUp();
    const port = server.addresses[kind]!.port;
    const alice = harness.client(url, "alice", clientOptions(kind));
    const bob = harness.client(url, "bob", clientOptions(kind));
    await Promise.all([alice.client.once("open"), bob.client.once("open")]);
    const sent = new Set<bigint>();
    alice.client.on("sent", (e) => sent.add(e.clientMsgId));

    // 30 messages; after the 10th is acked, the server resets alice's link (no DISCONNECT).
    for (let i = 0; i < 30; i++) alice.client.send(textMessage("alice", "bob", `m${i}`));
    await waitUntil(() => sent.size >= 10, "10 acks");
    const aliceLink = server.links.find((l) => l.connection.user === "alice")!;
    aliceLink.abort();
    await alice.client.once("transport-closed");
    await waitUntil(() => sent.size === 30, "all 30 acked after the reset");

    // Then the whole server goes away without a word, and comes back over the same stores.
    for (const link of server.links) link.abort();
    await server.close({ graceMs: 0 });
    for (let i = 30; i < 40; i++) alice.client.send(textMessage("alice", "bob", `m${i}`));
    const restarted = await harness.server({ ...listenOn(kind, port), stores: server.stores });
    await waitUntil(() => sent.size === 40 && bob.messages.length === 40, "40 acked and delivered after the restart");

    expect(bob.messages.map(textOf)).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
    expect(new Set(bob.messages.map((m) => m.serverMsgId)).size).toBe(40);
    await waitUntil(async () => (await keyMatchesServer(restarted, "bob", bob.client.syncKey)) && (await keyMatchesServer(restarted, "alice", alice.client.syncKey)), "both keys equal the server's");
    expect(alice.events.filter((t) => t === "reconnecting").length).toBeGreaterThanOrEqual(2);
    // The server stored each message once: alice's log holds exactly her 40.
    const log = await restarted.stores.log.read("alice", { $typeName: "syncwire.v1.SyncKey", entries: [] }, 100);
    expect(log.entries.map((e) => textOf(e.message))).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
  });

  test("no reconnect after AUTH_FAILED: the client stops and says why", async () => {
    const { url } = await setUp();
    const mallory = harness.client(url, "", clientOptions(kind)); // an empty token is refused
    const stopped = await mallory.client.once("state", (e) => e.state === "stopped");
    expect(stopped.reason).toMatch(/^DISCONNECT AUTH_FAILED/);
    const refusal = mallory.events.indexOf("disconnected");
    expect(refusal).toBeGreaterThanOrEqual(0);
    expect(mallory.events).not.toContain("reconnecting");
  });

  test("heartbeats measure the round-trip time", async () => {
    const { url } = await setUp({ heartbeatIntervalMs: 50 });
    const alice = harness.client(url, "alice", clientOptions(kind));
    const beat = await alice.client.once("heartbeat");
    expect(beat.rttMs).toBeGreaterThanOrEqual(0);
    expect(alice.client.rttMs).toBe(beat.rttMs);
  });
});

test("one server on TCP, TLS, WebSocket and HTTP at once: clients on each reach each other, and a short link syncs it all", async () => {
  const address = { host: LOOPBACK, port: 0 };
  const server = await harness.server({ tcp: address, tls: { ...address, ...testCertificate() }, ws: address, http: address });
  const { tcp, tls, ws, http } = server.addresses;
  expect([tcp!.url, tls!.url, ws!.url, http!.url]).toEqual([
    expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/),
    expect.stringMatching(/^tls:\/\/127\.0\.0\.1:\d+$/),
    expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/$/),
    expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/),
  ]);
  const alice = harness.client(tcp!.url, "alice");
  const bob = harness.client(tls!.url, "bob", { tls: { ca: testCertificate().cert } });
  const carol = harness.client(ws!.url, "carol");
  await Promise.all([alice, bob, carol].map((c) => c.client.once("open")));
  alice.client.send(textMessage("alice", "bob", "tcp to tls"));
  bob.client.send(textMessage("bob", "carol", "tls to ws"));
  carol.client.send(textMessage("carol", "alice", "ws to tcp"));
  await waitUntil(() => [alice, bob, carol].every((c) => c.messages.length === 2), "each user has the message sent and the one received");
  expect(alice.messages.map(textOf).sort()).toEqual(["tcp to tls", "ws to tcp"]);
  expect(bob.messages.map(textOf).sort()).toEqual(["tcp to tls", "tls to ws"]);
  expect(carol.messages.map(textOf).sort()).toEqual(["tls to ws", "ws to tcp"]);
  // Bob's second device syncs over HTTP short links from the same stores.
  const phone = new ShortLinkClient({ url: http!.url, engine: { clientId: "bob-phone", token: "bob" }, reconnect: FAST_RECONNECT });
  try {
    expect((await phone.sync()).messages.map(textOf)).toEqual(bob.messages.map(textOf));
  } finally {
    phone.close();
  }
  expect(new Set(server.links.map((l) => l.description.split("#")[0]))).toEqual(new Set(["tcp", "tls", "ws"]));
});

test("two servers over one set of stores are two nodes: a message sent on one reaches a client of the other", async () => {
  const first = await harness.server({ tcp: { host: LOOPBACK, port: 0 } });
  const second = await harness.server({ ws: { host: LOOPBACK, port: 0 }, stores: first.stores });
  const alice = harness.client(first.addresses.tcp!.url, "alice");
  const bob = harness.client(second.addresses.ws!.url, "bob");
  await Promise.all([alice.client.once("open"), bob.client.once("open")]);
  const ack = alice.client.once("sent");
  alice.client.send(textMessage("alice", "bob", "across nodes"));
  expect((await ack).duplicate).toBe(false);
  await waitUntil(() => bob.messages.length === 1, "bob's NOTIFY from the other node, and his sync");
  expect(textOf(bob.messages[0]!)).toBe("across nodes");
});

test("IPv6 loopback: a server on ::1 and a client at tcp://[::1]:port and ws://[::1]:port", async () => {
  const server = await harness.server({ tcp: { host: "::1", port: 0 }, ws: { host: "::1", port: 0 } });
  expect(server.addresses.tcp!.url).toMatch(/^tcp:\/\/\[::1\]:\d+$/);
  const alice = harness.client(server.addresses.tcp!.url, "alice");
  const bob = harness.client(server.addresses.ws!.url, "bob");
  await Promise.all([alice.client.once("open"), bob.client.once("open")]);
  alice.client.send(textMessage("alice", "bob", "over IPv6"));
  await waitUntil(() => bob.messages.length === 1, "bob's message over ::1");
  expect(server.links.map((l) => l.description)).toEqual(expect.arrayContaining([expect.stringMatching(/^tcp#\d+ \[::1\]:\d+$/), expect.stringMatching(/^ws#\d+ \[::1\]:\d+$/)]));
});

test("over WebSocket, every binary message holds one frame or one BATCH, both ways", async () => {
  const server = await harness.server({ ws: { host: LOOPBACK, port: 0 } });
  const messages: { direction: "up" | "down"; bytes: Uint8Array }[] = [];
  // ws's WebSocket, recording what it sends and receives.
  class RecordingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener("message", (event) => void messages.push({ direction: "down", bytes: new Uint8Array(event.data as ArrayBuffer) }));
    }
    override send(data: Uint8Array): void {
      messages.push({ direction: "up", bytes: Uint8Array.from(data) });
      super.send(data);
    }
  }
  const alice = new SyncwireClient({ transport: webSocketTransport(server.addresses.ws!.url, { WebSocket: RecordingWebSocket as unknown as WebSocketConstructor }), engine: { clientId: "alice-ws", token: "alice", userId: "alice" } });
  const bob = harness.client(server.addresses.ws!.url, "bob");
  try {
    alice.start();
    await Promise.all([alice.once("open"), bob.client.once("open")]);
    const acked = new Set<bigint>();
    alice.on("sent", (e) => void acked.add(e.clientMsgId));
    for (let i = 0; i < 10; i++) alice.send(textMessage("alice", "bob", `m${i}`));
    bob.client.send(textMessage("bob", "alice", "back"));
    await waitUntil(() => acked.size === 10 && bob.messages.length === 11, "every message through");
    await alice.quiet();
  } finally {
    alice.close();
  }
  for (const { direction, bytes } of messages) {
    const { frames, trailer } = decodeFrames(bytes, { allowTrailer: true });
    expect([direction, frames.length, trailer.byteLength]).toEqual([direction, 1, 0]);
  }
  const ops = (direction: "up" | "down") => messages.filter((m) => m.direction === direction).map((m) => decodeFrames(m.bytes).frames[0]!.op);
  expect(ops("up")).toEqual(expect.arrayContaining([Op.HELLO, Op.SEND]));
  expect(ops("down")).toEqual(expect.arrayContaining([Op.WELCOME, Op.BATCH])); // the server batched replies of one tick
});

describe.each(["tcp", "ws"] as const)("the server's timers over %s run from the engine's deadlines", (kind) => {
  /** A raw peer: writes frames, collects the frames it is sent, knows when the server closed. */
  async function rawPeer(server: SyncwireServer) {
    const got: Frame[] = [];
    if (kind === "tcp") {
      const socket = connect(server.addresses.tcp!.port, LOOPBACK);
      const decoder = new FrameDecoder();
      socket.on("data", (chunk: Buffer) => void got.push(...decoder.push(chunk)));
      socket.on("error", () => undefined);
      await once(socket, "connect");
      const closed = once(socket, "close");
      return { got, closed, write: (frame: Uint8Array) => void socket.write(frame), destroy: () => socket.destroy() };
    }
    const ws = new WebSocket(server.addresses.ws!.url);
    ws.on("message", (data: Buffer) => void got.push(...decodeFrames(new Uint8Array(data)).frames));
    ws.on("error", () => undefined);
    await once(ws, "open");
    const closed = once(ws, "close");
    return { got, closed, write: (frame: Uint8Array) => ws.send(frame), destroy: () => ws.terminate() };
  }

  test("no HELLO within handshakeTimeoutMs: DISCONNECT IDLE_TIMEOUT, then the link closes", async () => {
    const server = await harness.server({ [kind]: { host: LOOPBACK, port: 0 }, handshakeTimeoutMs: 200 });
    const started = Date.now();
    const peer = await rawPeer(server);
    try {
      await peer.closed;
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(peer.got.map((f) => f.op)).toEqual([Op.DISCONNECT]);
      expect(decodeMessage(Op.DISCONNECT, peer.got[0]!.body).code).toBe(DisconnectCode.IDLE_TIMEOUT);
    } finally {
      peer.destroy();
    }
  });

  test("silence after WELCOME for 3 heartbeat intervals: DISCONNECT IDLE_TIMEOUT, then the link closes", async () => {
    const server = await harness.server({ [kind]: { host: LOOPBACK, port: 0 }, heartbeatIntervalMs: 60 });
    const peer = await rawPeer(server);
    try {
      peer.write(encodeBodyFrame(Op.HELLO, create(HelloSchema, { versions: [1], clientId: "quiet", token: "alice" }), { seq: 1 }));
      await peer.closed;
      expect(peer.got.map((f) => f.op)).toEqual([Op.WELCOME, Op.DISCONNECT]);
      expect(decodeMessage(Op.DISCONNECT, peer.got[1]!.body)).toMatchObject({ code: DisconnectCode.IDLE_TIMEOUT, reason: "nothing received for 180 ms" });
    } finally {
      peer.destroy();
    }
  });
});

describe("a TLS connection that never finishes its handshake", () => {
  async function silentPeer(port: number): Promise<Socket> {
    const socket = connect(port, LOOPBACK);
    socket.on("error", () => undefined);
    await once(socket, "connect");
    return socket;
  }

  test("is dropped after the engine's handshakeTimeoutMs (not Node's 120 s)", async () => {
    const server = await harness.server({ tls: { host: LOOPBACK, port: 0, ...testCertificate() }, handshakeTimeoutMs: 300 });
    const socket = await silentPeer(server.addresses.tls!.port);
    const started = Date.now();
    await once(socket, "close");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test("does not hold close() past its grace time, half-closed or silent", async () => {
    const server = await harness.server({ tls: { host: LOOPBACK, port: 0, ...testCertificate() } });
    const silent = await silentPeer(server.addresses.tls!.port);
    const halfClosed = await silentPeer(server.addresses.tls!.port);
    halfClosed.end();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const closed = Promise.all([once(silent, "close"), once(halfClosed, "close")]);
    await server.close({ graceMs: 200 });
    expect(Date.now() - started).toBeLessThan(3000); // the handshake timeout (10 s by default) is not waited for
    await closed;
  });
});

describe("nodeTransport", () => {
  test("picks the transport by scheme and refuses what it cannot reach", () => {
    expect(nodeTransport("tcp://127.0.0.1:9000").kind).toBe("tcp");
    expect(nodeTransport("tls://localhost:9003").kind).toBe("tls");
    expect(nodeTransport("ws://127.0.0.1:9001/").kind).toBe("ws");
    expect(nodeTransport("wss://chat.example/ws").kind).toBe("wss");
    expect(nodeTransport("http://127.0.0.1:9002/")).toMatchObject({ kind: "http", short: true });
    expect(() => nodeTransport("tcp://127.0.0.1")).toThrow(RangeError);
    expect(() => nodeTransport("mqtt://127.0.0.1:1883")).toThrow(/no syncwire transport for mqtt:/);
    expect(() => nodeTransport("not a url")).toThrow(TypeError);
  });
});
