// The README's adapter loop on real loopback sockets: a node:net server driving ServerConnections with
// Date.now(), a raw client on the other end reading frames with FrameDecoder.
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { AckStatus, DisconnectCode, FrameDecoder, Op } from "../../../src/index.js";
import { createMemoryStores } from "../../../src/session/memory/index.js";
import { ServerEngine } from "../../../src/session/server/index.js";
import { RawClient, receivedFrames, testAuthenticate, type Received } from "./support.js";

/** The README's adapter, as a function. */
function serve(engine: ServerEngine, socket: Socket): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const link = engine.accept(Date.now(), { wake: () => drain(), remote: socket.remoteAddress });
  function drain(): void {
    const now = Date.now();
    for (let frame = link.pollTransmit(now); frame !== undefined; frame = link.pollTransmit(now)) socket.write(frame);
    for (let event = link.pollEvent(); event !== undefined; event = link.pollEvent()) void event;
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

/** A socket client that collects decoded frames and can wait for one. */
class SocketClient {
  readonly frames: Received[] = [];
  readonly socket: Socket;
  readonly ended: Promise<void>;
  readonly #decoder = new FrameDecoder();
  #waiters: (() => void)[] = [];
  #error: Error | undefined;

  constructor(port: number) {
    this.socket = createConnection({ host: "127.0.0.1", port });
    this.socket.on("data", (chunk) => {
      for (const frame of this.#decoder.push(chunk)) this.frames.push(...receivedFrames(frame));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.ended = new Promise((resolve) => this.socket.on("end", () => resolve()));
    // A socket error (a reset) fails the waiting test with its cause instead of an uncaught exception.
    this.socket.on("error", (error) => {
      this.#error = error;
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  async waitFor(op: number, count = 1): Promise<Received[]> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const found = this.frames.filter((f) => f.op === op);
      if (found.length >= count) return found;
      if (this.#error !== undefined) throw new Error(`the socket failed waiting for op ${op}: ${this.#error.message}`);
      if (Date.now() > deadline) throw new Error(`no op ${op} within 5 s; got ${this.frames.map((f) => f.op).join(",")}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}

let server: Server | undefined;
const clients: SocketClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.destroy();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

describe("over loopback TCP", () => {
  test("HELLO → WELCOME, SEND → ACK and NOTIFY to both users, then shutdown → DISCONNECT and the socket ends", async () => {
    const engine = new ServerEngine({ stores: createMemoryStores(), authenticate: testAuthenticate });
    server = createServer({ allowHalfOpen: true }, (socket) => serve(engine, socket));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    // RawClient only builds frames here; the bytes go over the sockets.
    const builder = new RawClient(new ServerEngine({ stores: createMemoryStores(), authenticate: testAuthenticate }));

    const alice = new SocketClient(port);
    const bob = new SocketClient(port);
    clients.push(alice, bob);
    alice.socket.write(builder.helloFrame({ token: "tok:alice", clientId: "a" }, 1));
    bob.socket.write(builder.helloFrame({ token: "tok:bob", clientId: "b" }, 1));
    await alice.waitFor(Op.WELCOME);
    await bob.waitFor(Op.WELCOME);

    // Sent one byte at a time: TCP may cut anywhere.
    const send = builder.sendFrame({ clientMsgId: 5n }, 2);
    for (const byte of send) alice.socket.write(Uint8Array.of(byte));
    const [ack] = await alice.waitFor(Op.ACK);
    expect(ack!.seq).toBe(2);
    expect(ack!.body.status).toBe(AckStatus.OK);
    await alice.waitFor(Op.NOTIFY);
    await bob.waitFor(Op.NOTIFY);

    engine.shutdown(Date.now(), 2000);
    for (const client of [alice, bob]) {
      const [disconnect] = await client.waitFor(Op.DISCONNECT);
      expect([disconnect!.body.code, disconnect!.body.retryAfterMs]).toEqual([DisconnectCode.SERVER_SHUTDOWN, 2000]);
      await client.ended;
    }
  });
});

describe("over loopback TCP, half-closed", () => {
  test("a client that sends its requests and half-closes still gets every answer, then the socket ends", async () => {
    const engine = new ServerEngine({ stores: createMemoryStores(), authenticate: testAuthenticate });
    server = createServer({ allowHalfOpen: true }, (socket) => serve(engine, socket));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const builder = new RawClient(new ServerEngine({ stores: createMemoryStores(), authenticate: testAuthenticate }));
    const client = new SocketClient(port);
    clients.push(client);
    client.socket.end(Buffer.concat([builder.helloFrame({ token: "tok:alice" }, 1), builder.sendFrame({ clientMsgId: 1n }, 2), builder.syncFrame(undefined, 0, 3)]));
    await client.ended;
    expect(client.frames.map((f) => [f.op, f.seq])).toEqual([
      [Op.WELCOME, 1],
      [Op.ACK, 2],
      [Op.NOTIFY, 0],
      [Op.SYNC_RESULT, 3],
    ]);
  });
});
