// The session simulator: real ClientEngines and a real ServerEngine over memory stores, joined by a
// deterministic, seeded network that drops, duplicates, reorders and delays frames and resets links,
// driven by a simulated clock. Plain JavaScript, so the same code runs under vitest (with the engines from
// src/, test/session/sim/simulation.test.ts) and from `npm run soak` (with the engines from dist/,
// scripts/soak.js): the caller passes the library in. docs/TESTING.md describes the model and the
// properties; this file is their only implementation.
//
// Theory of operation.
//
// - **Time** is one number, `now` (Unix ms from 2025-01-01). The loop jumps from one due thing to the next:
//   a frame arriving, a client's or a server link's `pollTimeout()`, an application action, a reconnect,
//   a check. No real timer is used; the server's store calls are promises on memory stores, which settle
//   within microtasks, so after each step the loop awaits `server.idle()` before it drains the links.
//   Everything random comes from seeded generators, so a seed replays a run exactly.
// - **Links.** Each device (a `ClientEngine`) has at most one link at a time: a `ServerConnection` from
//   `server.accept()` and two directions of frames. Every `pollTransmit()` result (a frame or a BATCH)
//   is one unit on the network: dropped (`loss`), sent twice (`dup`), held back so later units overtake
//   it (`reorder`), otherwise delivered in order after the link's latency. After any unit the link may be
//   reset (`resets`), and each link is reset 0.5–1.5 × `resetEveryMs` after it opened: units in flight are lost both ways, the client gets `linkClosed` at once and
//   reconnects after a backoff (`reconnected()`), the server side gets `linkClosed` at once or, half the
//   time, much later (a half-open socket: its output goes nowhere until then, or until the device's next
//   link replaces it). A link delivers units either as whole messages (`receiveMessage`) or as stream
//   bytes cut in pieces (`receiveBytes`). When either side closes a link (DISCONNECT, dead link, idle
//   timeout), its last frames are delivered and then the transport closes.
// - **The application** on each device sends its share of the messages to one-to-one conversations
//   with the other users (several conversations per pair, and some notes to self), at random times,
//   respecting `maxPendingSends` (and checking that one more send is refused with SEND_QUEUE_FULL);
//   starts uploads and, once one completes, sends a message whose media names the object; resends some
//   failed messages. Then the network heals: no loss, no resets, until every device has converged.
// - **Ground truth.** The sync log store is wrapped to record every entry appended, per user, by
//   version. Every `message` event a device gets must be the next entry of its user's log (exactly once,
//   in log order, with the content that was sent); every ACK must name the stored server id; the log
//   must keep each sender's acknowledged messages in send order per conversation.
// - **Checks** run as the simulation goes (events, bounds every step) and at the end; each failure is a
//   line in `violations`. The report's counts feed the soak summary.

/** Start of the simulated clock: 2025-01-01T00:00:00Z (client message ids need 2024…2093). */
export const T0 = Date.UTC(2025, 0, 1);

/** The weather the CI property runs in: 30 % loss, 10 % duplication, 10 % reordering, periodic resets. */
export const CI_WEATHER = Object.freeze({ loss: 0.3, dup: 0.1, reorder: 0.1, resets: 0.005, resetEveryMs: 10_000 });

/** A calm network. */
export const CALM = Object.freeze({ loss: 0, dup: 0, reorder: 0, resets: 0, resetEveryMs: 0 });

/**
 * mulberry32: a small seeded generator of numbers in [0, 1).
 * @param {number} seed
 * @returns {() => number}
 */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The scenario a seed stands for (CI sizes): 2–4 users, one or two devices each (at least one user with
 * two), 30–70 messages, up to 3 uploads. `SIM_SEED` replays exactly this scenario.
 * @param {number} seed
 */
export function scenarioFromSeed(seed) {
  const r = prng(seed ^ 0x5ce7a210);
  const users = 2 + Math.floor(r() * 3);
  const devices = Array.from({ length: users }, () => (r() < 0.6 ? 2 : 1));
  devices[Math.floor(r() * users)] = 2;
  return { seed, devices, messages: 30 + Math.floor(r() * 41), uploads: Math.floor(r() * 4) };
}

/** Options with their defaults: the CI scale. See the .d.ts for each field. */
const DEFAULTS = {
  devices: [2, 2, 1],
  messages: 40,
  uploads: 2,
  topics: 2,
  selfShare: 0.1,
  resendShare: 0.5,
  weather: CI_WEATHER,
  latencyMs: [5, 40],
  sendGapMs: 2000,
  maxSimMs: 3_600_000,
  healMs: 600_000,
  client: {
    ackTimeoutMs: 1000,
    maxRetries: 3,
    syncTimeoutMs: 1500,
    syncIntervalMs: 20_000,
    partTimeoutMs: 1500,
    maxBackoffMs: 8000,
    handshakeTimeoutMs: 4000,
    maxPendingSends: 8,
    maxFailedSends: 16,
    processedIdCapacity: 64,
    partSize: 512,
    uploadWindow: 3,
    maxUploads: 2,
    maxPartRetries: 3,
  },
  server: {
    heartbeatIntervalMs: 4000,
    handshakeTimeoutMs: 6000,
    limits: { maxBatchFrames: 8, maxInFlight: 32 },
    syncPageLimit: 10,
    uploads: { maxObjectSize: 64 * 1024, maxOpenUploads: 2, idleMs: 20_000 },
    dedupeTtlMs: 3_600_000,
  },
  stores: { dedupe: { capacity: 2000 }, log: { retention: 40, maxEntries: 4000, maxDevices: 8, trimmedKeys: 4000 } },
};

/** Most violations kept in the report (the count goes on). */
const MAX_VIOLATIONS = 50;

/** Server protocol errors a correct client can cause on a network that duplicates and reorders frames. */
const EXPLAINED_PROTOCOL_ERROR = /^(a second HELLO on the link|\w+ before HELLO: HELLO must be the first frame)$/;

const OP_NAMES = { 2: "HEARTBEAT", 3: "HEARTBEAT_ACK", 4: "SEND", 5: "ACK", 6: "DISCONNECT", 7: "HELLO", 8: "WELCOME", 10: "NOTIFY", 11: "SYNC", 12: "SYNC_RESULT", 13: "SYNC_COMMIT", 14: "CHUNK", 15: "CHUNK_ACK" };

/** "OP seq" for each frame of a unit (BATCH opened), for traces. */
function describeUnit(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames = [];
  const walk = (from, to) => {
    for (let at = from; at + 16 <= to; ) {
      const length = view.getUint32(at);
      const op = view.getUint32(at + 8);
      if (op === 9) walk(at + 16, at + length);
      else frames.push(`${OP_NAMES[op] ?? op} ${view.getUint32(at + 12)}`);
      if (length < 16) break;
      at += length;
    }
  };
  walk(0, bytes.byteLength);
  return frames.join(", ");
}

/** A min-heap of scheduled things, by time, then by insertion (so equal times keep their order). */
class Schedule {
  /** @type {{ at: number, n: number, run: () => void }[]} */
  #items = [];
  #n = 0;

  get size() {
    return this.#items.length;
  }

  /** @param {number} at @param {() => void} run */
  push(at, run) {
    const items = this.#items;
    const item = { at, n: this.#n++, run };
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!Schedule.#before(item, items[parent])) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = item;
  }

  /** @returns {number | undefined} */
  peekAt() {
    return this.#items[0]?.at;
  }

  pop() {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let best = last;
        if (l < items.length && Schedule.#before(items[l], best)) (m = l), (best = items[l]);
        if (r < items.length && Schedule.#before(items[r], best)) (m = r), (best = items[r]);
        if (m === i) break;
        items[i] = items[m];
        i = m;
      }
      items[i] = last;
    }
    return top;
  }

  static #before(a, b) {
    return a.at < b.at || (a.at === b.at && a.n < b.n);
  }
}

/**
 * Runs one simulation.
 * @param {object} lib the syncwire exports (src/ under test, dist/ from the soak script)
 * @param {object} options see simulator.d.ts
 * @returns {Promise<object>} the report (see simulator.d.ts)
 */
export async function simulate(lib, options) {
  return new Simulation(lib, options).run();
}

class Simulation {
  constructor(lib, options) {
    this.lib = lib;
    const o = { ...DEFAULTS, ...options };
    o.client = { ...DEFAULTS.client, ...options.client };
    o.server = { ...DEFAULTS.server, ...options.server };
    o.stores = { ...DEFAULTS.stores, ...options.stores };
    this.o = o;
    this.seed = o.seed >>> 0;
    this.rand = prng(this.seed);
    this.appRand = prng(this.seed ^ 0x0a99);
    this.weather = o.weather;
    /** The network healed: the applications stop acting. */
    this.healing = false;
    this.now = T0;
    this.stuck = 0;
    this.schedule = new Schedule();
    this.started = performance.now();
    this.violations = [];
    this.violationCount = 0;
    this.stats = {
      frames: 0,
      dropped: 0,
      duplicated: 0,
      reordered: 0,
      resets: 0,
      halfOpen: 0,
      links: 0,
      opens: 0,
      linkDead: 0,
      disconnects: {},
      retries: 0,
      queueFull: 0,
      resends: 0,
      explainedProtocolErrors: 0,
      replaced: 0,
      steps: 0,
      maxConnections: 0,
    };

    const objectRandom = prng(this.seed ^ 0x0b1ec7);
    this.memory = lib.createMemoryStores({
      dedupe: o.stores.dedupe,
      log: o.stores.log,
      objects: { randomBytes: (target) => target.forEach((_, i) => (target[i] = Math.floor(objectRandom() * 256))) },
    });
    /** user → array of appended entries by version − 1: { key, sender } (the ground truth). */
    this.userLogs = new Map();
    /** user → Map entry key → index, for classifying a wrong delivery. */
    this.userIndex = new Map();
    const log = this.memory.log;
    const record = (user, version, message) => {
      let entries = this.userLogs.get(user);
      if (entries === undefined) {
        this.userLogs.set(user, (entries = []));
        this.userIndex.set(user, new Map());
      }
      const key = `${message.conversationId}#${message.serverMsgId}`;
      const index = Number(version) - 1;
      if (entries[index] !== undefined) this.violate(`the log of ${user} got two entries with version ${version}`);
      entries[index] = { key, sender: `${message.senderId}:${message.clientMsgId}` };
      this.userIndex.get(user).set(key, index);
    };
    const stores = {
      ...this.memory,
      log: {
        append: async (user, key, message, idempotencyKey) => {
          const result = await log.append(user, key, message, idempotencyKey);
          if (result.appended) record(user, result.version, message);
          return result;
        },
        read: (user, after, limit) => log.read(user, after, limit),
        head: (user) => log.head(user),
        commit: (user, device, key) => log.commit(user, device, key),
        committed: (user, device) => log.committed(user, device),
      },
    };
    this.stores = o.wrapStores === undefined ? stores : o.wrapStores(stores);

    this.server = new lib.ServerEngine({
      ...o.server,
      stores: this.stores,
      random: prng(this.seed ^ 0x5e7e),
      authenticate: (hello) => (hello.token.startsWith("tok:") ? { user: hello.token.slice(4) } : { refuse: lib.DisconnectCode.AUTH_FAILED, reason: "bad token" }),
    });

    this.users = o.devices.map((_, i) => `u${i}`);
    this.devices = [];
    o.devices.forEach((count, u) => {
      for (let d = 0; d < count; d++) {
        const user = this.users[u];
        const clientId = `${user}-d${d}`;
        const engine = new lib.ClientEngine({
          ...o.client,
          clientId,
          token: `tok:${user}`,
          userId: user,
          random: prng(this.seed ^ (0xc11e << 4) ^ (this.devices.length * 7919)),
        });
        this.devices.push({
          id: clientId,
          user,
          engine,
          link: undefined,
          reconnectAt: undefined,
          everConnected: false,
          attempts: 0,
          sentCount: 0,
          retryAfterMs: 0,
          cursor: 0,
          toSend: 0,
          toUpload: 0,
          nextActionAt: this.now + this.appRand() * o.sendGapMs,
          /** conversation → the record keys of its messages in send order */
          order: new Map(),
          uploads: new Map(),
          resendQueue: [],
        });
      }
    });
    // Share the messages and uploads among the devices.
    for (let i = 0; i < o.messages; i++) this.devices[Math.floor(this.appRand() * this.devices.length)].toSend++;
    for (let i = 0; i < o.uploads; i++) this.devices[Math.floor(this.appRand() * this.devices.length)].toUpload++;

    /** record key `${user}:${clientMsgId}` → what the application sent. */
    this.messages = new Map();
    this.uploads = [];
    /** open links */
    this.links = new Set();
    this.linkCounter = 0;
  }

  // ── reporting ────────────────────────────────────────────────────────────────────────────────────

  /** Calls the `trace` option, if any, with one line. */
  trace(line) {
    if (this.o.trace !== undefined) this.o.trace(`t+${this.now - T0} ${line}`);
  }

  violate(text) {
    this.violationCount++;
    if (this.violations.length < MAX_VIOLATIONS) this.violations.push(`t+${this.now - T0} ms: ${text}`);
  }

  progress(phase) {
    const onProgress = this.o.onProgress;
    if (onProgress === undefined) return;
    let acked = 0;
    for (const m of this.messages.values()) if (m.acked) acked++;
    onProgress({ phase, sent: this.messages.size, acked, simMs: this.now - T0, wallMs: performance.now() - this.started });
  }

  // ── the run ──────────────────────────────────────────────────────────────────────────────────────

  async run() {
    const { lib, o } = this;
    // The devices have used this account before: the log knows them (a device that never committed
    // does not hold back trimming, §11.5), so a small retention cannot trim entries under a slow device.
    for (const device of this.devices) await this.memory.log.commit(device.user, device.id, lib.createSyncKey([]));
    for (const device of this.devices) device.reconnectAt = this.now + Math.floor(this.rand() * 300);
    this.scheduleCheck();

    // Weather: the applications do their work.
    const deadline = T0 + o.maxSimMs;
    while (this.now < deadline && !this.appDone()) await this.step();
    if (!this.appDone()) this.violate(`the applications did not finish within ${o.maxSimMs} ms of simulated time`);
    // Heal: calm network until every device converged (or the limit).
    this.weather = CALM;
    this.healing = true;
    this.progress("heal");
    const healDeadline = this.now + o.healMs;
    let converged = false;
    let nextCheck = this.now;
    while (this.now < healDeadline) {
      await this.step();
      if (this.now >= nextCheck) {
        nextCheck = this.now + 1000;
        if (await this.converged()) {
          converged = true;
          break;
        }
      }
    }
    if (!converged) this.violate(`no convergence within ${o.healMs} ms of a healed network: ${await this.convergenceReport()}`);
    // Quiet time: open uploads left on the server expire (idle > idleMs) while heartbeats flow.
    // (The engine's housekeeping runs at most every idleMs / 4, from its links' calls.)
    const quietUntil = this.now + Math.ceil(o.server.uploads.idleMs * 1.25) + 2 * (o.server.heartbeatIntervalMs || 1000) + 1000;
    while (this.now < quietUntil) await this.step();
    return this.finish(converged);
  }

  appDone() {
    for (const d of this.devices) {
      if (d.toSend > 0 || d.toUpload > 0 || d.resendQueue.length > 0) return false;
      for (const u of d.uploads.values()) if (u.state === "open" || (u.state === "complete" && !u.mediaSent)) return false;
    }
    return true;
  }

  scheduleCheck() {
    this.schedule.push(this.now + 1000, () => {
      this.checkBounds();
      this.progress(this.healing ? "heal" : "weather");
      this.scheduleCheck();
    });
  }

  /** One step: advance the clock to the next due thing, run everything due, settle the stores, drain. */
  async step() {
    this.stats.steps++;
    let next = this.schedule.peekAt() ?? Infinity;
    for (const d of this.devices) {
      const t = d.engine.pollTimeout();
      if (t !== undefined && t < next) next = t;
      if (d.reconnectAt !== undefined && d.reconnectAt < next) next = d.reconnectAt;
      if (!this.healing && d.nextActionAt < next && this.wantsAction(d)) next = d.nextActionAt;
    }
    for (const link of this.links) {
      const t = link.conn.pollTimeout();
      if (t !== undefined && t < next) next = t;
    }
    if (next > this.now) {
      this.now = Math.ceil(next);
      this.stuck = 0;
    } else if (++this.stuck > 10_000) {
      // Something keeps asking for a timeout that handling it does not move: an engine bug.
      this.violate("the clock is stuck: a pollTimeout() stays due after handleTimeout()");
      this.now++;
      this.stuck = 0;
    }
    const now = this.now;
    while ((this.schedule.peekAt() ?? Infinity) <= now) this.schedule.pop().run();
    for (const d of this.devices) {
      if (d.reconnectAt !== undefined && d.reconnectAt <= now) this.reconnect(d);
      if (!this.healing && d.nextActionAt <= now && this.wantsAction(d)) this.act(d);
      const t = d.engine.pollTimeout();
      if (t !== undefined && t <= now) d.engine.handleTimeout(now);
    }
    for (const link of this.links) {
      const t = link.conn.pollTimeout();
      if (t !== undefined && t <= now) link.conn.handleTimeout(now);
    }
    await this.server.idle();
    this.drain();
  }

  /** Everything the engines have to say: events to the application, frames to the network. */
  drain() {
    const now = this.now;
    for (const d of this.devices) {
      const engine = d.engine;
      for (let e = engine.pollEvent(); e !== undefined; e = engine.pollEvent()) this.onClientEvent(d, e);
      for (let f = engine.pollTransmit(now); f !== undefined; f = engine.pollTransmit(now)) {
        if (d.link !== undefined) this.transmit(d.link, "up", f);
      }
      if (engine.state === "closed" && d.link !== undefined) {
        // The client ended the link (DISCONNECT either way, dead link): its socket closes after its last frame.
        const link = d.link;
        engine.linkClosed(now);
        d.link = undefined;
        link.clientGone = true;
        this.schedule.push(now + link.latency * 2 + 1, () => this.closeServerSide(link));
        this.planReconnect(d);
      }
    }
    for (const link of this.links) {
      const conn = link.conn;
      for (let f = conn.pollTransmit(now); f !== undefined; f = conn.pollTransmit(now)) {
        if (!link.reset && !link.clientGone) this.transmit(link, "down", f);
      }
      for (let e = conn.pollEvent(); e !== undefined; e = conn.pollEvent()) this.onServerEvent(link, e);
      if (conn.state === "closed" && !link.serverDone) {
        // The server ended the link: its last frames go out, then the transport closes.
        link.serverDone = true;
        this.links.delete(link);
        this.schedule.push(now + link.latency * 2 + 1, () => this.closeClientSide(link));
      }
    }
  }

  // ── links ───────────────────────────────────────────────────────────────────────────────────────

  planReconnect(d) {
    const wait = this.lib.backoffDelay(Math.min(d.attempts++, 4), { initialMs: 300, maxMs: 5000 }, this.rand);
    d.reconnectAt = this.now + Math.max(d.retryAfterMs, Math.round(wait));
    d.retryAfterMs = 0;
  }

  reconnect(d) {
    d.reconnectAt = undefined;
    const [lo, hi] = this.o.latencyMs;
    const link = {
      id: ++this.linkCounter,
      device: d,
      conn: undefined,
      stream: this.rand() < 0.5,
      latency: lo + Math.floor(this.rand() * (hi - lo + 1)),
      lastAt: { up: 0, down: 0 },
      reset: false,
      clientGone: false,
      serverDone: false,
    };
    this.trace(`connect #${link.id} ${d.id}${link.stream ? " (stream)" : ""}`);
    link.conn = this.server.accept(this.now, { wake: () => undefined, remote: `${d.id}#${link.id}` });
    this.links.add(link);
    this.stats.links++;
    if (this.server.connectionCount > this.stats.maxConnections) this.stats.maxConnections = this.server.connectionCount;
    d.link = link;
    const every = this.weather.resetEveryMs ?? 0;
    if (every > 0) {
      this.schedule.push(this.now + Math.round(every * (0.5 + this.rand())), () => {
        if ((this.weather.resetEveryMs ?? 0) > 0) this.resetLink(link);
      });
    }
    if (!d.everConnected) d.engine.connect(this.now);
    else d.engine.reconnected(this.now);
    d.everConnected = true;
  }

  /** One unit on the wire, through the weather. */
  transmit(link, direction, bytes) {
    const w = this.weather;
    const rand = this.rand;
    this.stats.frames++;
    if (w.resets > 0 && rand() < w.resets) this.schedule.push(this.now + Math.floor(rand() * link.latency), () => this.resetLink(link));
    if (w.loss > 0 && rand() < w.loss) {
      this.stats.dropped++;
      return;
    }
    const copies = w.dup > 0 && rand() < w.dup ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let c = 0; c < copies; c++) {
      let at;
      if (w.reorder > 0 && rand() < w.reorder) {
        this.stats.reordered++;
        at = this.now + link.latency + 20 + Math.floor(rand() * 300);
      } else {
        at = Math.max(this.now + link.latency + Math.floor(rand() * 3), link.lastAt[direction]);
        link.lastAt[direction] = at;
      }
      this.schedule.push(at, () => this.deliver(link, direction, bytes));
    }
  }

  deliver(link, direction, bytes) {
    if (this.o.trace !== undefined) this.trace(`${direction === "up" ? "→" : "←"} #${link.id} ${link.device.id}${link.reset || (direction === "down" && link.device.link !== link) ? " (gone)" : ""} ${describeUnit(bytes)}`);
    if (link.reset) return;
    const now = this.now;
    if (direction === "up") {
      if (link.serverDone) return;
      if (!link.stream) link.conn.receiveMessage(bytes, now);
      else for (const piece of this.pieces(bytes)) link.conn.receiveBytes(piece, now);
    } else {
      const d = link.device;
      if (d.link !== link) return;
      if (!link.stream) d.engine.receiveMessage(bytes, now);
      else for (const piece of this.pieces(bytes)) d.engine.receiveBytes(piece, now);
    }
  }

  /** A unit as a stream delivers it: in one to three pieces (views). */
  pieces(bytes) {
    const cuts = [];
    for (let n = Math.floor(this.rand() * 3); n > 0; n--) cuts.push(Math.floor(this.rand() * bytes.byteLength));
    cuts.sort((a, b) => a - b);
    const out = [];
    let at = 0;
    for (const cut of [...cuts, bytes.byteLength]) {
      if (cut > at) out.push(bytes.subarray(at, cut));
      at = Math.max(at, cut);
    }
    return out;
  }

  /** A reset: what is in flight is lost; the client knows at once, the server now or (half-open) later. */
  resetLink(link) {
    if (link.reset) return;
    this.trace(`reset #${link.id} ${link.device.id}`);
    link.reset = true;
    this.stats.resets++;
    const d = link.device;
    if (d.link === link) {
      d.engine.linkClosed(this.now);
      d.link = undefined;
      this.planReconnect(d);
    }
    if (link.serverDone) return;
    if (this.rand() < 0.5) {
      this.closeServerSide(link);
    } else {
      this.stats.halfOpen++;
      this.schedule.push(this.now + 1000 + Math.floor(this.rand() * 15_000), () => this.closeServerSide(link));
    }
  }

  closeServerSide(link) {
    link.reset = true;
    if (link.serverDone) return;
    link.conn.linkClosed(this.now);
    // drain() reports its closed event and forgets it.
    for (let e = link.conn.pollEvent(); e !== undefined; e = link.conn.pollEvent()) this.onServerEvent(link, e);
    link.serverDone = true;
    this.links.delete(link);
  }

  closeClientSide(link) {
    link.reset = true;
    const d = link.device;
    if (!link.serverDone) this.closeServerSide(link);
    else link.conn.linkClosed(this.now);
    if (d.link !== link) return;
    d.engine.linkClosed(this.now);
    for (let e = d.engine.pollEvent(); e !== undefined; e = d.engine.pollEvent()) this.onClientEvent(d, e);
    d.link = undefined;
    this.planReconnect(d);
  }

  // ── the application ─────────────────────────────────────────────────────────────────────────────

  wantsAction(d) {
    return d.toSend > 0 || d.toUpload > 0 || d.resendQueue.length > 0 || [...d.uploads.values()].some((u) => u.state === "complete" && !u.mediaSent);
  }

  act(d) {
    const r = this.appRand;
    const now = this.now;
    const cfg = this.o.client;
    d.nextActionAt = now + 1 + Math.floor(r() * this.o.sendGapMs * 2);
    // A resend the user asked for.
    if (d.resendQueue.length > 0 && d.resendQueue[0].at <= now) {
      const { rec } = d.resendQueue[0];
      if (d.engine.pendingSends < cfg.maxPendingSends) {
        d.resendQueue.shift();
        try {
          d.engine.resend(rec.clientMsgId, now);
          rec.resent++;
          this.stats.resends++;
          rec.pending = true;
          rec.failedNow = false;
        } catch (error) {
          if (!(error instanceof this.lib.SessionError) || error.code !== "NOT_FAILED") throw error;
          // Confirmed late meanwhile (or forgotten): nothing to resend.
        }
      }
      return;
    }
    // A media message for a finished upload.
    for (const u of d.uploads.values()) {
      if (u.state !== "complete" || u.mediaSent) continue;
      if (d.engine.pendingSends >= cfg.maxPendingSends) break;
      u.mediaSent = true;
      this.sendMessage(d, { kind: this.lib.MessageKind.IMAGE, media: { objectId: u.objectId, contentType: "image/png", size: BigInt(u.bytes.byteLength) } });
      return;
    }
    if (d.toUpload > 0 && (d.toSend === 0 || r() < 0.1) && d.engine.footprint.openUploads < cfg.maxUploads) {
      d.toUpload--;
      const size = 1 + Math.floor(r() * 4000);
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = Math.floor(r() * 256);
      const handle = d.engine.upload(bytes, "image/png", now);
      const upload = { id: handle.uploadId, device: d, bytes, state: "open", objectId: undefined, reason: undefined, mediaSent: false, promise: undefined };
      upload.promise = handle.done.then(
        ({ objectId }) => ({ objectId }),
        (error) => ({ error }),
      );
      d.uploads.set(handle.uploadId, upload);
      this.uploads.push(upload);
      return;
    }
    if (d.toSend === 0) return;
    if (d.engine.pendingSends >= cfg.maxPendingSends) {
      // The bound: one more send is refused and nothing is queued.
      const before = d.engine.pendingSends;
      try {
        d.engine.send({ conversationId: "overflow", recipientId: d.user, content: new Uint8Array(1) }, now);
        this.violate(`${d.id}: a send beyond maxPendingSends (${cfg.maxPendingSends}) was accepted`);
      } catch (error) {
        if (!(error instanceof this.lib.SessionError) || error.code !== "SEND_QUEUE_FULL") throw error;
        this.stats.queueFull++;
      }
      if (d.engine.pendingSends !== before) this.violate(`${d.id}: a refused send changed pendingSends`);
      return;
    }
    d.toSend--;
    this.sendMessage(d, {});
  }

  sendMessage(d, extra) {
    const r = this.appRand;
    const others = this.users.filter((u) => u !== d.user);
    const peer = others.length === 0 || r() < this.o.selfShare ? d.user : others[Math.floor(r() * others.length)];
    const [a, b] = d.user < peer ? [d.user, peer] : [peer, d.user];
    const conversationId = `c:${a}:${b}:${Math.floor(r() * this.o.topics)}`;
    let order = d.order.get(conversationId);
    if (order === undefined) d.order.set(conversationId, (order = []));
    const text = `${d.id}/${conversationId}/${order.length}`;
    const content = new TextEncoder().encode(text);
    const clientMsgId = d.engine.send({ conversationId, recipientId: peer, kind: this.lib.MessageKind.TEXT, content, ...extra }, this.now);
    const key = `${d.user}:${clientMsgId}`;
    if (this.messages.has(key)) this.violate(`${d.id}: client message id ${clientMsgId} used twice`);
    const rec = { key, device: d, clientMsgId, conversationId, recipient: peer, text, index: order.length, sentCount: d.sentCount++, acked: false, serverMsgId: undefined, failed: 0, failedNow: false, resent: 0, pending: true };
    order.push(key);
    this.messages.set(key, rec);
  }

  onClientEvent(d, e) {
    if (this.o.trace !== undefined && e.type !== "message") this.trace(`${d.id} ${e.type} ${e.clientMsgId ?? e.code ?? e.reason ?? ""}`);
    switch (e.type) {
      case "open":
        this.stats.opens++;
        d.attempts = 0;
        return;
      case "sent": {
        const rec = this.messages.get(`${d.user}:${e.clientMsgId}`);
        if (rec === undefined || rec.device !== d) return this.violate(`${d.id}: sent for a message it did not send (${e.clientMsgId})`);
        if (rec.acked) return this.violate(`${d.id}: message ${rec.text} reported sent twice`);
        rec.acked = true;
        rec.pending = false;
        rec.failedNow = false;
        rec.serverMsgId = e.serverMsgId;
        return;
      }
      case "failed": {
        const rec = this.messages.get(`${d.user}:${e.clientMsgId}`);
        if (rec === undefined || rec.device !== d) return this.violate(`${d.id}: failed for a message it did not send (${e.clientMsgId})`);
        if (!e.retryable || e.reason !== "timeout") this.violate(`${d.id}: message ${rec.text} failed for "${e.reason}" (retryable ${e.retryable})`);
        rec.failed++;
        rec.failedNow = true;
        rec.pending = false;
        if (!this.healing && this.appRand() < this.o.resendShare) d.resendQueue.push({ at: this.now + 500 + Math.floor(this.appRand() * 4000), rec });
        return;
      }
      case "retry":
        this.stats.retries++;
        return;
      case "message":
        return this.onDelivered(d, e.message, e.own);
      case "synced":
      case "heartbeat":
        return;
      case "upload-progress":
        if (!(e.acked >= 0 && e.acked <= e.total)) this.violate(`${d.id}: upload progress ${e.acked}/${e.total}`);
        return;
      case "upload-complete": {
        const u = d.uploads.get(e.uploadId);
        if (u === undefined || u.state !== "open") return this.violate(`${d.id}: upload-complete for ${e.uploadId} in state ${u?.state}`);
        u.state = "complete";
        u.objectId = e.objectId;
        return;
      }
      case "upload-failed": {
        const u = d.uploads.get(e.uploadId);
        if (u === undefined || u.state !== "open") return this.violate(`${d.id}: upload-failed for ${e.uploadId} in state ${u?.state}`);
        if (typeof e.reason !== "string" || e.reason === "") this.violate(`${d.id}: upload ${e.uploadId} failed without a reason`);
        u.state = "failed";
        u.reason = e.reason;
        return;
      }
      case "link-dead":
        this.stats.linkDead++;
        return;
      case "disconnected":
        this.stats.disconnects[e.code] = (this.stats.disconnects[e.code] ?? 0) + 1;
        if (!e.reconnect) this.violate(`${d.id}: DISCONNECT ${e.code} (${e.reason}) on its current link, no automatic reconnect`);
        d.retryAfterMs = e.retryAfterMs;
        return;
      default:
        this.violate(`${d.id}: unexpected client event ${e.type}: ${e.code ?? ""} ${e.reason ?? ""}`);
    }
  }

  onDelivered(d, message, own) {
    const log = this.userLogs.get(d.user);
    const key = `${message.conversationId}#${message.serverMsgId}`;
    const expected = log?.[d.cursor];
    if (expected === undefined || expected.key !== key) {
      const index = this.userIndex.get(d.user)?.get(key);
      if (index === undefined) this.violate(`${d.id}: delivered ${key}, which is not in the log of ${d.user}`);
      else if (index < d.cursor) {
        d.duplicates = (d.duplicates ?? 0) + 1;
        this.violate(`${d.id}: delivered ${key} twice`);
      } else {
        this.violate(`${d.id}: delivered ${key} (entry ${index + 1}) before entries ${d.cursor + 1}…${index}`);
        d.skipped = (d.skipped ?? 0) + index - d.cursor;
        d.cursor = index + 1;
      }
      return;
    }
    d.cursor++;
    const rec = this.messages.get(expected.sender);
    if (rec === undefined) return this.violate(`${d.id}: delivered ${key} from ${expected.sender}, which nobody sent`);
    if (new TextDecoder().decode(message.content) !== rec.text) this.violate(`${d.id}: ${key} arrived with content other than "${rec.text}"`);
    // `own` needs the client id among the device's last processedIdCapacity sends (§11.10).
    const remembered = d.sentCount - rec.sentCount <= this.o.client.processedIdCapacity;
    if (own ? rec.device !== d : rec.device === d && remembered) this.violate(`${d.id}: ${key} marked own=${own}`);
  }

  onServerEvent(link, e) {
    this.trace(`server #${link.id} ${e.type} ${e.reason ?? ""}`);
    switch (e.type) {
      case "authenticated":
      case "closed":
        if (e.type === "closed" && e.code === this.lib.DisconnectCode.REPLACED) this.stats.replaced++;
        return;
      case "protocol-error":
        if (EXPLAINED_PROTOCOL_ERROR.test(e.reason)) this.stats.explainedProtocolErrors++;
        else this.violate(`server link of ${link.device.id}: protocol error: ${e.reason}`);
        return;
      default:
        this.violate(`server link of ${link.device.id}: ${e.type} ${e.source ?? ""} ${e.request ?? ""} ${e.reason ?? ""} ${e.error ?? ""}`);
    }
  }

  // ── checks ──────────────────────────────────────────────────────────────────────────────────────

  /** Every bound the configuration promises, now. */
  checkBounds() {
    const c = this.o.client;
    for (const d of this.devices) {
      const f = d.engine.footprint;
      if (f.pendingSends > c.maxPendingSends) this.violate(`${d.id}: ${f.pendingSends} pending sends > maxPendingSends ${c.maxPendingSends}`);
      if (f.failedSends > c.maxFailedSends) this.violate(`${d.id}: ${f.failedSends} failed kept > maxFailedSends ${c.maxFailedSends}`);
      if (f.processedIds > c.processedIdCapacity) this.violate(`${d.id}: ${f.processedIds} processed ids > ${c.processedIdCapacity}`);
      if (f.sentIds > c.processedIdCapacity) this.violate(`${d.id}: ${f.sentIds} sent ids > ${c.processedIdCapacity}`);
      if (f.openUploads > c.maxUploads) this.violate(`${d.id}: ${f.openUploads} open uploads > maxUploads ${c.maxUploads}`);
      let parts = 0;
      for (const u of d.uploads.values()) if (u.state === "open") parts += Math.ceil(u.bytes.byteLength / c.partSize);
      const routedBound = (c.maxPendingSends + c.maxFailedSends) * (c.maxRetries + 1) + parts * (c.maxPartRetries + 1) + 2;
      if (f.routedRequests > routedBound) this.violate(`${d.id}: ${f.routedRequests} routed requests > ${routedBound}`);
    }
    const s = this.o.stores;
    const m = this.memory;
    if (m.dedupe.size > s.dedupe.capacity) this.violate(`dedupe holds ${m.dedupe.size} records > capacity ${s.dedupe.capacity}`);
    if (m.log.trimmedKeyCount > s.log.trimmedKeys) this.violate(`the log remembers ${m.log.trimmedKeyCount} trimmed keys > ${s.log.trimmedKeys}`);
    for (const user of this.users) {
      if (m.log.entryCount(user) > s.log.maxEntries) this.violate(`the log of ${user} holds ${m.log.entryCount(user)} entries > maxEntries ${s.log.maxEntries}`);
      if (m.log.deviceCount(user) > s.log.maxDevices) this.violate(`the log of ${user} remembers ${m.log.deviceCount(user)} devices > ${s.log.maxDevices}`);
    }
    const up = this.o.server.uploads;
    const bytesBound = this.users.length * up.maxOpenUploads * up.maxObjectSize;
    if (m.uploads.bytesHeld > bytesBound) this.violate(`the upload store holds ${m.uploads.bytesHeld} bytes > ${bytesBound}`);
    if (m.presence.listenerCount() > this.server.connectionCount) this.violate(`${m.presence.listenerCount()} presence listeners > ${this.server.connectionCount} connections`);
  }

  async converged() {
    if (this.appDoneMessages() > 0) return false;
    for (const d of this.devices) {
      if (d.engine.state !== "open" || d.engine.pendingSends > 0 || d.engine.footprint.openUploads > 0) return false;
      if (d.cursor !== (this.userLogs.get(d.user)?.length ?? 0)) return false;
      const head = await this.stores.log.head(d.user);
      if (!this.lib.syncKeyEquals(d.engine.syncKey, head)) return false;
      if (!this.lib.syncKeyEquals(await this.stores.log.committed(d.user, d.id), head)) return false;
    }
    return this.server.connectionCount === this.devices.length;
  }

  appDoneMessages() {
    let pending = 0;
    for (const rec of this.messages.values()) if (rec.pending) pending++;
    return pending;
  }

  async convergenceReport() {
    const parts = [];
    for (const d of this.devices) {
      const head = this.lib.formatSyncKey(await this.stores.log.head(d.user));
      parts.push(`${d.id} ${d.engine.state} pending ${d.engine.pendingSends} uploads ${d.engine.footprint.openUploads} delivered ${d.cursor}/${this.userLogs.get(d.user)?.length ?? 0} key ${this.lib.formatSyncKey(d.engine.syncKey)} head ${head}`);
    }
    parts.push(`connections ${this.server.connectionCount}`);
    return parts.join("; ");
  }

  async finish(converged) {
    const lib = this.lib;
    this.checkBounds();
    // Uploads: byte-identical objects, or failures with a reason; the promise agrees with the events.
    const uploads = { started: this.uploads.length, completed: 0, failed: 0 };
    for (const u of this.uploads) {
      const settled = await Promise.race([u.promise, Promise.resolve("pending")]);
      if (u.state === "complete") {
        uploads.completed++;
        const stored = await this.stores.objects.read(u.objectId);
        if (stored === undefined || stored.byteLength !== u.bytes.byteLength || !stored.every((b, i) => b === u.bytes[i])) this.violate(`upload ${u.id}: the stored object differs from the bytes uploaded`);
        if (settled === "pending" || settled.objectId !== u.objectId) this.violate(`upload ${u.id}: done did not resolve with ${u.objectId}`);
      } else if (u.state === "failed") {
        uploads.failed++;
        if (settled === "pending" || !(settled.error instanceof lib.SessionError) || settled.error.code !== "UPLOAD_FAILED") this.violate(`upload ${u.id}: done did not reject with UPLOAD_FAILED`);
      } else {
        this.violate(`upload ${u.id} of ${u.device.id} never ended`);
      }
    }
    // The engine expires idle uploads from its links' calls; with heartbeats off an idle server gets none,
    // and its adapter runs the housekeeping itself (ServerEngine.expireUploads).
    if (!(this.o.server.heartbeatIntervalMs > 0)) await this.server.expireUploads(this.now);
    if (this.memory.uploads.bytesHeld !== 0 || this.memory.uploads.size !== 0) {
      this.violate(`the upload store still holds ${this.memory.uploads.size} uploads (${this.memory.uploads.bytesHeld} bytes) after the idle time`);
    }
    // Messages: classify, and check what the log says against what the senders were told.
    let acked = 0;
    let failed = 0;
    let pending = 0;
    let storedFailed = 0;
    let delivered = 0;
    let lost = 0;
    let duplicates = 0;
    /** sender key → the users whose logs hold it */
    const holders = new Map();
    for (const [user, entries] of this.userLogs) {
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i];
        if (entry === undefined) {
          this.violate(`the log of ${user} has no entry with version ${i + 1}`);
          continue;
        }
        let held = holders.get(entry.sender);
        if (held === undefined) holders.set(entry.sender, (held = { users: [], key: entry.key }));
        if (held.users.includes(user)) {
          duplicates++;
          this.violate(`the log of ${user} holds ${entry.sender} twice`);
        }
        if (held.key !== entry.key) this.violate(`${entry.sender} is ${held.key} in one log and ${entry.key} in another`);
        held.users.push(user);
      }
    }
    const devicesOf = (user) => this.devices.filter((d) => d.user === user);
    for (const rec of this.messages.values()) {
      const users = rec.device.user === rec.recipient ? [rec.recipient] : [rec.recipient, rec.device.user];
      const entry = holders.get(rec.key);
      const held = entry?.users ?? [];
      const stored = entry !== undefined;
      if (rec.acked) acked++;
      else if (rec.failedNow) failed++;
      else pending++;
      if (!rec.acked && rec.failedNow && stored) storedFailed++;
      if (rec.pending) {
        lost++;
        this.violate(`${rec.text}: neither acknowledged nor failed`);
        continue;
      }
      if (rec.acked && !stored) {
        lost++;
        this.violate(`${rec.text}: acknowledged but not stored`);
        continue;
      }
      if (!stored) continue;
      if (held.length !== users.length || users.some((u) => !held.includes(u))) this.violate(`${rec.text}: stored in the logs of [${held}], expected [${users}]`);
      if (rec.acked && `${rec.conversationId}#${rec.serverMsgId}` !== entry.key) this.violate(`${rec.text}: acked as ${rec.serverMsgId}, stored as ${entry.key}`);
      // Delivered to every device of both users (each device's cursor passed it exactly once).
      let everywhere = true;
      for (const user of users) {
        const index = this.userIndex.get(user)?.get(entry.key);
        for (const d of devicesOf(user)) if (index === undefined || d.cursor <= index) everywhere = false;
      }
      if (everywhere) delivered++;
      else {
        lost++;
        this.violate(`${rec.text}: stored but not delivered to every device`);
      }
    }
    for (const d of this.devices) {
      duplicates += d.duplicates ?? 0;
      lost += d.skipped ?? 0;
    }
    // Order: in every user's log, each sender's messages of one conversation that never failed appear in send order.
    for (const [user, entries] of this.userLogs) {
      /** `${device}|${conversation}` → last send index seen */
      const last = new Map();
      for (const entry of entries) {
        const rec = entry === undefined ? undefined : this.messages.get(entry.sender);
        if (rec === undefined || rec.failed > 0) continue;
        const k = `${rec.device.id}|${rec.conversationId}`;
        const before = last.get(k) ?? -1;
        if (rec.index < before) this.violate(`the log of ${user} holds ${rec.text} after message ${before} of the same sender and conversation`);
        last.set(k, Math.max(before, rec.index));
      }
    }
    // Server message ids grow with the log within a conversation.
    for (const [user, entries] of this.userLogs) {
      const last = new Map();
      for (const entry of entries) {
        if (entry === undefined) continue;
        const [conversation, id] = entry.key.split("#");
        const n = BigInt(id);
        if (last.has(conversation) && n <= last.get(conversation)) this.violate(`the log of ${user}: ${entry.key} after id ${last.get(conversation)}`);
        last.set(conversation, n);
      }
    }
    if (converged) {
      for (const user of this.users) {
        const kept = this.memory.log.entryCount(user);
        const retention = this.o.stores.log.retention;
        if (kept > retention) this.violate(`the log of ${user} keeps ${kept} entries after every device committed (retention ${retention})`);
      }
    }
    let deliveries = 0;
    for (const d of this.devices) deliveries += d.cursor;
    return {
      seed: this.seed,
      devices: this.devices.length,
      users: this.users.length,
      sent: this.messages.size,
      acked,
      failed,
      pending,
      storedFailed,
      delivered,
      deliveries,
      duplicates,
      lost,
      uploads,
      converged,
      simMs: this.now - T0,
      ms: Math.round(performance.now() - this.started),
      stats: this.stats,
      violationCount: this.violationCount,
      violations: this.violations,
    };
  }
}
