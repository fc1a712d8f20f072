// Backpressure both ways. The server: a peer that sends requests and never reads the answers fills the
// kernel's buffers, then the link's bounded output; from then on the server stops reading it, so the peer
// cannot make it buffer without bound. When the peer reads again, every request is answered. The client
// (at the end): its TCP and WebSocket transports against a server that never reads.
import { once } from "node:events";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { create } from "@bufbuild/protobuf";
import { describe, expect, test } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { encodeBodyFrame, encodeFrame, FrameDecoder, HelloSchema, MessageKind, MessagePacketSchema, Op, splitBatch, SyncRequestSchema } from "../../src/index.js";
import { tcpTransport, type SyncwireServer } from "../../src/node/index.js";
import { webSocketTransport, type TransportHandlers, type TransportLink, type WebSocketConstructor } from "../../src/web/index.js";
import { LOOPBACK, useHarness, waitUntil } from "./support.js";

const harness = useHarness();

const MAX_BUFFERED = 64 * 1024;
const PAGE_MESSAGES = 100;
const MESSAGE_BYTES = 1000;
/** One SYNC's answer is about this big: a page of 100 messages of 1 kB. */
const PAGE_BYTES = PAGE_MESSAGES * MESSAGE_BYTES;

/** Bob's log holds 100 messages of 1 kB, so every SYNC from the start is answered with ~100 kB. */
async function fillLog(server: SyncwireServer): Promise<void> {
  for (let i = 1; i <= PAGE_MESSAGES; i++) {
    const message = create(MessagePacketSchema, { clientMsgId: BigInt(i), serverMsgId: BigInt(i), conversationId: "c2c:alice:bob", senderId: "alice", recipientId: "bob", kind: MessageKind.TEXT, content: new Uint8Array(MESSAGE_BYTES).fill(97) });
    await server.stores.log.append("bob", 1, message, `m${i}`);
  }
}

/** A peer that writes frames and reads nothing until told to. */
interface Peer {
  write(frame: Uint8Array): void;
  /** Starts reading: resolves with the number of SYNC_RESULTs once `expected` have arrived. */
  readAll(expected: number): Promise<number>;
  close(): void;
}

async function tcpPeer(server: SyncwireServer): Promise<Peer> {
  const socket: Socket = connect(server.addresses.tcp!.port, LOOPBACK);
  await once(socket, "connect");
  socket.pause(); // never read until readAll
  return {
    write: (frame) => void socket.write(frame),
    readAll: (expected) => countResults((on) => socket.on("data", on), () => socket.resume(), expected),
    close: () => socket.destroy(),
  };
}

async function wsPeer(server: SyncwireServer): Promise<Peer> {
  const ws = new WebSocket(server.addresses.ws!.url);
  await once(ws, "open");
  ws.pause();
  return {
    write: (frame) => ws.send(frame),
    readAll: (expected) => countResults((on) => ws.on("message", (data: Buffer) => on(data)), () => ws.resume(), expected, true),
    close: () => ws.terminate(),
  };
}

function countResults(listen: (on: (chunk: Uint8Array) => void) => void, resume: () => void, expected: number, messages = false): Promise<number> {
  return new Promise((resolve) => {
    const decoder = new FrameDecoder();
    let results = 0;
    listen((chunk) => {
      const frames = messages ? new FrameDecoder().push(chunk) : decoder.push(chunk);
      for (const frame of frames) for (const f of frame.op === Op.BATCH ? splitBatch(frame) : [frame]) if (f.op === Op.SYNC_RESULT) results++;
      if (results >= expected) resolve(results);
    });
    resume();
  });
}

const syncFrame = (seq: number) => encodeBodyFrame(Op.SYNC, create(SyncRequestSchema, { limit: PAGE_MESSAGES }), { seq });

describe.each([
  ["tcp", tcpPeer],
  ["ws", wsPeer],
] as const)("over %s, a peer that never reads", (kind, makePeer) => {
  test("stops being read once the link's output is full; its answers all arrive when it reads again", { timeout: 60_000 }, async () => {
    const server = await harness.server({ [kind]: { host: LOOPBACK, port: 0 }, maxBufferedBytes: MAX_BUFFERED });
    await fillLog(server);
    const peer = await makePeer(server);
    try {
      let seq = 1;
      peer.write(encodeBodyFrame(Op.HELLO, create(HelloSchema, { versions: [1], clientId: "greedy", token: "bob" }), { seq }));
      await waitUntil(() => server.links.some((l) => l.connection.state === "open"), "WELCOME sent");
      const link = server.links[0]!;

      // Waves of 10 SYNCs (~1 MB of answers each) until the server stops reading; the kernel's buffers
      // on loopback hold a few MB, so this takes some waves.
      let sent = 0;
      const wave = () => {
        for (let i = 0; i < 10; i++, sent++) peer.write(syncFrame(++seq));
      };
      for (let waves = 0; !link.paused; waves++) {
        if (waves === 200) throw new Error("the server never paused");
        wave();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const received = link.bytesReceived;

      // More waves: the server reads none of them while its output is full.
      for (let i = 0; i < 10; i++) {
        wave();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(link.paused).toBe(true);
      expect(link.bytesReceived).toBe(received);
      // What the transport held unwritten never exceeded the bound by more than one frame (a page, or a
      // BATCH of answers within the client's 1 MiB frame size).
      expect(link.maxBufferedBytes).toBeLessThanOrEqual(MAX_BUFFERED + (1 << 20));
      expect(link.maxBufferedBytes).toBeGreaterThanOrEqual(MAX_BUFFERED);

      // The peer reads at last: every SYNC is answered, those held back included.
      expect(await peer.readAll(sent)).toBe(sent);
      await waitUntil(() => !link.paused, "reading resumed");
      expect(link.bytesReceived).toBeGreaterThan(received);
      expect(sent * PAGE_BYTES).toBeGreaterThan(10 * MAX_BUFFERED); // the test did push far past the bound
    } finally {
      peer.close();
    }
  });
});

// The other way: the client's own transports against a server that never reads. `send` says "full" once
// the link holds more than its bound unwritten, and no `writable()` comes while the server still does
// not read; a TCP/TLS link also stops reading meanwhile (the server's bytes wait in the kernel). When the
// server reads, `writable()` comes and reading resumes.
describe("the client's transport, to a server that never reads", () => {
  const FRAME = encodeFrame({ op: 1000, seq: 1, body: new Uint8Array(32 * 1024 - 16).fill(7) });

  /** A recording of what the transport reported. */
  function recorder() {
    const seen = { open: false, bytes: 0, messages: 0, writable: 0, closed: undefined as string | undefined };
    const handlers: TransportHandlers = {
      open: () => void (seen.open = true),
      bytes: (chunk) => void (seen.bytes += chunk.byteLength),
      message: (message) => void (seen.messages += message.byteLength),
      writable: () => void seen.writable++,
      closed: (reason) => void (seen.closed = reason),
    };
    return { seen, handlers };
  }

  /** Sends frames, and again after each `writable()`, until the link stays full for 300 ms. @returns bytes handed to `send`. */
  async function fill(link: TransportLink, seen: { writable: number }): Promise<number> {
    let handed = 0;
    for (let rounds = 0; ; rounds++) {
      if (rounds === 2000) throw new Error("the link never stayed full");
      while (link.send(FRAME)) {
        handed += FRAME.byteLength;
        if (handed > 512 * 1024 * 1024) throw new Error("send never said full");
      }
      handed += FRAME.byteLength;
      const before = seen.writable;
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (seen.writable === before) return handed;
    }
  }

  test("tcp: send returns false, no writable() and no reading while the server does not read; both come back when it does", { timeout: 60_000 }, async () => {
    let peer: Socket | undefined;
    let received = 0;
    const server = createServer((socket) => {
      peer = socket;
      socket.pause();
      socket.on("data", (chunk) => void (received += chunk.byteLength));
      socket.on("error", () => undefined);
    });
    server.listen(0, LOOPBACK);
    await once(server, "listening");
    const { seen, handlers } = recorder();
    const link = tcpTransport({ host: LOOPBACK, port: (server.address() as AddressInfo).port, maxBufferedBytes: 64 * 1024 }).connect(handlers);
    try {
      await waitUntil(() => seen.open && peer !== undefined, "the link open");
      const handed = await fill(link, seen);
      // The server writes meanwhile: the client does not read it while its own output is full.
      peer!.write(new Uint8Array(1000).fill(1));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(seen.bytes).toBe(0);
      expect(received).toBe(0);

      peer!.resume();
      await waitUntil(() => received === handed, `the server read all ${handed} bytes (has ${received})`, 30_000);
      await waitUntil(() => seen.writable > 0 && seen.bytes === 1000, "writable() and the server's bytes at the client");
      expect(link.send(FRAME)).toBe(true);
    } finally {
      link.abort();
      peer?.destroy();
      server.close();
    }
  });

  test("ws: send returns false while bufferedAmount is over the bound, and writable() comes once the server reads", { timeout: 60_000 }, async () => {
    const wss = new WebSocketServer({ host: LOOPBACK, port: 0 });
    await once(wss, "listening");
    let peer: WebSocket | undefined;
    let received = 0;
    wss.on("connection", (socket) => {
      peer = socket;
      socket.pause();
      socket.on("message", (data: Buffer) => void (received += data.byteLength));
    });
    const { seen, handlers } = recorder();
    const link = webSocketTransport(`ws://${LOOPBACK}:${(wss.address() as AddressInfo).port}/`, { WebSocket: WebSocket as unknown as WebSocketConstructor, maxBufferedBytes: 64 * 1024, drainPollMs: 10 }).connect(handlers);
    try {
      await waitUntil(() => seen.open && peer !== undefined, "the link open");
      const handed = await fill(link, seen);
      expect(received).toBe(0);
      peer!.resume();
      await waitUntil(() => received === handed, `the server read all ${handed} bytes (has ${received})`, 30_000);
      await waitUntil(() => seen.writable > 0, "writable()");
      expect(link.send(FRAME)).toBe(true);
    } finally {
      link.abort();
      peer?.terminate();
      wss.close();
    }
  });
});
