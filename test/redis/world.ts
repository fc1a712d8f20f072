/**
 * Several server nodes in one process, for the engine-level multi-node tests: each node is a
 * `ServerEngine` over its own Redis stores (its own node-redis clients, as a separate process would
 * have), all sharing one redis-server; devices are `ClientEngine`s, each linked to one node's
 * `ServerConnection` by a lossless in-memory pipe that the test pumps (sans-I/O on both sides).
 *
 * Time: one fake clock for the engines (`world.now`, moved by `advance`), starting at T0; Redis keeps
 * its own. Pub/sub deliveries between nodes are asynchronous, so `run(until)` pumps in a loop, yielding
 * to the event loop between rounds, until the condition holds (or fails after a real-time deadline).
 */
import { ClientEngine, type ClientEngineOptions, type ClientEvent } from "../../src/session/client/index.js";
import type { RedisStores } from "../../src/redis/index.js";
import { ServerEngine, type ServerConnection, type ServerEngineOptions, type ServerEvent } from "../../src/session/server/index.js";
import { seededRandom, testAuthenticate } from "../session/server/support.js";

/** 2025-01-01: inside the client message id range. */
export const T0 = Date.UTC(2025, 0, 1);

/** One server node: an engine over its own stores. */
export class Node {
  readonly engine: ServerEngine;
  constructor(
    readonly name: string,
    readonly stores: RedisStores,
    options: Partial<ServerEngineOptions> = {},
  ) {
    this.engine = new ServerEngine({ authenticate: testAuthenticate, random: seededRandom(name.length), ...options, stores });
  }
}

/** A device: a client engine and its current link to a node. */
export class Device {
  readonly client: ClientEngine;
  link: ServerConnection | undefined;
  node: Node | undefined;
  /** Every client event, in order. */
  readonly events: ClientEvent[] = [];
  /** Every event of the server side of this device's links. */
  readonly serverEvents: ServerEvent[] = [];

  constructor(
    readonly world: World,
    readonly user: string,
    readonly clientId: string,
    options: Partial<ClientEngineOptions> = {},
  ) {
    this.client = new ClientEngine({ clientId, token: `tok:${user}`, userId: user, random: seededRandom(clientId.length * 31 + user.length), ...options });
  }

  /** Opens a link to `node` (a reconnect if the device had one). */
  connectTo(node: Node): void {
    this.dropLink();
    this.node = node;
    this.link = node.engine.accept(this.world.now, { wake: () => undefined, remote: this.clientId });
    this.client.reconnected(this.world.now);
  }

  /** The transport dies: both sides see it; whatever was not yet delivered is lost. */
  dropLink(): void {
    if (this.link === undefined) return;
    this.link.linkClosed(this.world.now);
    this.#drainServerEvents();
    this.link = undefined;
    this.client.linkClosed(this.world.now);
  }

  /** Client → server: everything the client has to send now. @returns whether anything moved. */
  up(): boolean {
    let moved = false;
    for (let bytes = this.client.pollTransmit(this.world.now); bytes !== undefined; bytes = this.client.pollTransmit(this.world.now)) {
      if (this.link !== undefined) this.link.receiveBytes(bytes.slice(), this.world.now);
      moved = true;
    }
    return moved;
  }

  /** Server → client. @returns whether anything moved. */
  down(): boolean {
    let moved = false;
    if (this.link !== undefined) {
      for (let bytes = this.link.pollTransmit(this.world.now); bytes !== undefined; bytes = this.link.pollTransmit(this.world.now)) {
        this.client.receiveBytes(bytes.slice(), this.world.now);
        moved = true;
      }
      this.#drainServerEvents();
    }
    for (let event = this.client.pollEvent(); event !== undefined; event = this.client.pollEvent()) this.events.push(event);
    return moved;
  }

  /** Server output is dropped (a lost ACK): what the link queued is polled and thrown away. */
  discardDown(): void {
    if (this.link === undefined) return;
    while (this.link.pollTransmit(this.world.now) !== undefined);
    this.#drainServerEvents();
  }

  #drainServerEvents(): void {
    if (this.link === undefined) return;
    for (let event = this.link.pollEvent(); event !== undefined; event = this.link.pollEvent()) this.serverEvents.push(event);
  }

  /** Events of one type so far. */
  eventsOf<T extends ClientEvent["type"]>(type: T): Extract<ClientEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<ClientEvent, { type: T }> => e.type === type);
  }

  /** The text of every message event so far, in order. */
  texts(): string[] {
    return this.eventsOf("message").map((e) => new TextDecoder().decode(e.message.content));
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Nodes and devices on one fake clock. */
export class World {
  now = T0;
  readonly devices: Device[] = [];

  constructor(readonly nodes: Node[]) {}

  device(user: string, clientId: string, node: Node, options: Partial<ClientEngineOptions> = {}): Device {
    const device = new Device(this, user, clientId, options);
    this.devices.push(device);
    device.connectTo(node);
    return device;
  }

  /** One round: every device's output up, then down. @returns whether anything moved. */
  step(): boolean {
    let moved = false;
    for (const d of this.devices) moved = d.up() || moved;
    for (const d of this.devices) moved = d.down() || moved;
    return moved;
  }

  /** Moves the clock on by `ms`, running every due timer of the clients and links. */
  advance(ms: number): void {
    this.now += ms;
    for (const d of this.devices) {
      const due = d.client.pollTimeout();
      if (due !== undefined && due <= this.now) d.client.handleTimeout(this.now);
      if (d.link !== undefined) d.link.handleTimeout(this.now);
    }
  }

  /**
   * Pumps (and lets Redis answer) until `until()` holds.
   * @throws Error naming `what` if it does not hold within `timeoutMs` of real time.
   */
  async run(until: () => boolean, what = "the condition", timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.step());
      if (until()) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await Promise.all(this.nodes.map((n) => n.engine.idle()));
      await sleep(2);
    }
  }

  /** Pumps for `ms` of real time (to show that something does NOT happen). */
  async idle(ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      while (this.step());
      await sleep(5);
    }
  }
}
