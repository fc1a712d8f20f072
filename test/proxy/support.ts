/**
 * Helpers for the fault proxy's tests: loopback servers and clients that record every read, frames to
 * send, waiting with a deadline, and one place that closes whatever a test opened.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { ClientEngine, encodeFrame, MessageKind, type ClientEvent, type FrameInit, type ServerEngine } from "../../src/index.js";
import { seededRandom } from "../../src/node/seeded-random.js";
import { concat } from "../support/hex.js";

/** Things a test opened, closed by {@link closeAll} (call it from `afterEach`). */
const opened: (() => Promise<void> | void)[] = [];

/** Registers a closer; returns its argument. */
export function track<T>(thing: T, close: (thing: T) => Promise<void> | void): T {
  opened.push(() => close(thing));
  return thing;
}

/** Closes everything the test opened, newest first. */
export async function closeAll(): Promise<void> {
  for (const close of opened.splice(0).reverse()) await close();
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every few ms; rejects with `what` if it is not true within `ms`. */
export async function until(what: string, condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** A socket whose reads are all recorded. */
export class Peer {
  readonly reads: Uint8Array[] = [];
  readonly ended: Promise<void>;
  readonly closed: Promise<void>;
  /** The other side is gone: its stream ended (FIN) or the socket closed (a reset). */
  readonly gone: Promise<void>;
  #ended = false;
  #closed = false;

  constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.reads.push(chunk));
    socket.on("error", () => {}); // a reset shows as "close"
    this.ended = new Promise((resolve) => socket.once("end", () => ((this.#ended = true), resolve())));
    this.closed = new Promise((resolve) => socket.once("close", () => ((this.#closed = true), resolve())));
    this.gone = Promise.race([this.ended, this.closed]);
  }

  /** Everything read so far, joined. */
  get bytes(): Uint8Array {
    return concat(this.reads);
  }

  get byteCount(): number {
    return this.reads.reduce((n, r) => n + r.byteLength, 0);
  }

  get isEnded(): boolean {
    return this.#ended;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Waits until `n` bytes have been read. */
  received(n: number, ms?: number): Promise<void> {
    return until(`${n} bytes (have ${this.byteCount})`, () => this.byteCount >= n, ms);
  }
}

/** A loopback server that records each connection as a {@link Peer}; closed by {@link closeAll}. */
export interface Upstream {
  readonly port: number;
  readonly server: Server;
  readonly peers: Peer[];
  /** Resolves with the `index`th connection once it is accepted. */
  peer(index?: number): Promise<Peer>;
}

/**
 * Starts an upstream on 127.0.0.1 (half-open allowed: a client's end does not end our side).
 * @param onPeer runs for each connection (echo, scripted answers…).
 */
export async function startUpstream(onPeer: (peer: Peer) => void = () => {}): Promise<Upstream> {
  const peers: Peer[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const peer = new Peer(socket);
    peers.push(peer);
    onPeer(peer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  track(server, (s) => {
    for (const p of peers) p.socket.destroy();
    return new Promise<void>((resolve) => s.close(() => resolve()));
  });
  return {
    port: (server.address() as { port: number }).port,
    server,
    peers,
    async peer(index = 0) {
      await until(`upstream connection ${index}`, () => peers.length > index);
      return peers[index]!;
    },
  };
}

/** An upstream that writes back whatever it reads. */
export function echo(peer: Peer): void {
  peer.socket.on("data", (chunk: Buffer) => peer.socket.write(chunk));
  peer.socket.on("end", () => peer.socket.end());
}

/** Connects to 127.0.0.1:`port` (half-open allowed); destroyed by {@link closeAll}. */
export async function connect(port: number): Promise<Peer> {
  const socket = createConnection({ host: "127.0.0.1", port, allowHalfOpen: true });
  const peer = track(new Peer(socket), (p) => void p.socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return peer;
}

/** `count` frames with seq 1… and bodies of 0…`maxBody` pseudo-random bytes, encoded one by one. */
export function someFrames(count: number, seed = 1, maxBody = 300): Uint8Array[] {
  const random = seededRandom(seed, 0x7e57);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const body = new Uint8Array(Math.floor(random() * (maxBody + 1)));
    for (let j = 0; j < body.length; j++) body[j] = Math.floor(random() * 256);
    const frame: FrameInit = { op: 1000 + (i % 7), seq: i + 1, body };
    frames.push(encodeFrame(frame));
  }
  return frames;
}

export { concat };

/**
 * The README's server adapter: one ServerConnection per socket, driven with `clock` (Date.now, or a
 * fixed time for a transcript that must come out the same every run).
 */
export function serve(engine: ServerEngine, socket: Socket, clock: () => number): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const link = engine.accept(clock(), { wake: () => drain(), remote: socket.remoteAddress });
  function drain(): void {
    const now = clock();
    for (let frame = link.pollTransmit(now); frame !== undefined; frame = link.pollTransmit(now)) socket.write(frame);
    while (link.pollEvent() !== undefined);
    clearTimeout(timer);
    const at = link.pollTimeout();
    if (at !== undefined) timer = setTimeout(() => (link.handleTimeout(clock()), drain()), Math.max(0, at - now));
    if (link.state === "closed") socket.end();
  }
  socket.on("data", (chunk) => (link.receiveBytes(chunk, clock()), drain()));
  socket.on("end", () => (link.endOfInput(clock()), drain()));
  socket.on("close", () => (clearTimeout(timer), link.linkClosed(clock())));
  socket.on("error", () => socket.destroy());
}

/**
 * A ClientEngine on node:net that reconnects 20 ms after its link is lost, driven with `clock`; stopped
 * by {@link closeAll}.
 */
export class NetClient {
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
    readonly clock: () => number = Date.now,
  ) {
    this.engine = new ClientEngine({ clientId: `${user}-device`, token: `tok:${user}`, userId: user, random: seededRandom(seed) });
    track(this, (c) => c.stop());
    this.#connect();
  }

  send(to: string, text: string): bigint {
    const id = this.engine.send({ conversationId: "c2c:alice:bob", recipientId: to, kind: MessageKind.TEXT, content: new TextEncoder().encode(text) }, this.clock());
    this.#pump();
    return id;
  }

  of<T extends ClientEvent["type"]>(type: T): Extract<ClientEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<ClientEvent, { type: T }> => e.type === type);
  }

  /** Ends the session: DISCONNECT NORMAL, then the socket is ended. */
  disconnect(): void {
    this.engine.disconnect(this.clock());
    this.#pump();
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
      if (this.links++ === 0) this.engine.connect(this.clock());
      else this.engine.reconnected(this.clock());
      this.#pump();
    });
    socket.on("data", (chunk) => (this.engine.receiveBytes(chunk, this.clock()), this.#pump()));
    socket.on("error", () => {});
    socket.on("close", () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.engine.linkClosed(this.clock());
      this.#pump();
      if (!this.#stopped && this.engine.state === "idle") setTimeout(() => this.#stopped || this.#connect(), 20);
    });
  }

  #pump(): void {
    for (let event = this.engine.pollEvent(); event !== undefined; event = this.engine.pollEvent()) this.events.push(event);
    const now = this.clock();
    for (let frame = this.engine.pollTransmit(now); frame !== undefined; frame = this.engine.pollTransmit(now)) this.#socket?.write(frame);
    clearTimeout(this.#timer);
    const due = this.engine.pollTimeout();
    if (due !== undefined && !this.#stopped) this.#timer = setTimeout(() => (this.engine.handleTimeout(this.clock()), this.#pump()), Math.max(0, due - now));
    if (this.engine.state === "closed") this.#socket?.end();
  }
}
