/**
 * Helpers for the fault proxy's tests: loopback servers and clients that record every read, frames to
 * send, waiting with a deadline, and one place that closes whatever a test opened.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { encodeFrame, type FrameInit } from "../../src/index.js";
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
