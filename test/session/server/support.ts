/**
 * A scripted "raw client" for the server engine tests (h11-style): it builds frames with the codec, feeds
 * them to a ServerConnection (as stream bytes or as one message), drains what the link transmits and
 * decodes it (BATCHes split, bodies decoded). Time is a number the test moves.
 */
import { create } from "@bufbuild/protobuf";
import {
  ChunkSchema,
  createSyncKey,
  decodeBody,
  decodeFrames,
  encodeBatch,
  encodeBodyFrame,
  HeartbeatSchema,
  HelloSchema,
  MessageKind,
  MessagePacketSchema,
  Op,
  splitBatch,
  SyncCommitSchema,
  SyncRequestSchema,
  type Frame,
  type FrameInit,
} from "../../../src/index.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createMemoryStores, type MemoryStores } from "../../../src/session/memory/index.js";
import { crc32 } from "../../../src/session/crc32.js";
import { DisconnectCode } from "../../../src/gen/syncwire/v1/session_pb.js";
import type { SyncKey } from "../../../src/gen/syncwire/v1/sync_pb.js";
import type { ServerStores } from "../../../src/session/stores.js";
import { seededRandom } from "../../support/random.js";
import { ServerEngine, type ServerConnection, type ServerEngineOptions, type ServerEvent } from "../../../src/session/server/index.js";

export { DisconnectCode };

/** Start of the fake clock: a plausible Unix time in ms. */
export const T0 = 1_700_000_000_000;

/** A decoded frame the link transmitted. */
export interface Received {
  readonly op: number;
  readonly seq: number;
  readonly version: number;
  /** True if it arrived inside a BATCH. */
  readonly batched: boolean;
  /** The decoded body for typed ops (undefined for application ops). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the test reads the fields its op carries
  readonly body: any;
  readonly frame: Frame;
}

export { seededRandom };

/** Tokens the test authenticator understands: "tok:<user>" is that user, anything else is refused. */
export function testAuthenticate(hello: { token: string }) {
  if (hello.token.startsWith("tok:")) return { user: hello.token.slice(4) };
  return { refuse: DisconnectCode.AUTH_FAILED, reason: "bad token" };
}

/** An engine over fresh memory stores (or the given stores), test authenticator, seeded ids. */
export function makeEngine(options: Partial<ServerEngineOptions> = {}, stores: ServerStores = createMemoryStores()): { engine: ServerEngine; stores: ServerStores } {
  const engine = new ServerEngine({ authenticate: testAuthenticate, random: seededRandom(1), ...options, stores });
  return { engine, stores };
}

/** Memory stores, typed concretely, with object ids from a seeded source. */
export function memoryStores(seed = 7): MemoryStores {
  const random = seededRandom(seed);
  return createMemoryStores({ objects: { randomBytes: (t) => t.set(Array.from({ length: t.length }, () => Math.floor(random() * 256))) } });
}

export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function untext(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

/** A SEND body with sensible defaults. */
export function packet(init: MessageInitShape<typeof MessagePacketSchema>) {
  return create(MessagePacketSchema, { kind: MessageKind.TEXT, conversationId: "c2c:alice:bob", recipientId: "bob", ...init });
}

/** Decodes transmitted bytes: frames, BATCHes split, typed bodies decoded. */
export function decodeTransmitted(bytes: Uint8Array): Received[] {
  return decodeFrames(bytes).frames.flatMap(receivedFrames);
}

/** One decoded frame as Received records (a BATCH split into its inner frames). */
export function receivedFrames(frame: Frame): Received[] {
  return frame.op === Op.BATCH ? splitBatch(frame).map((inner) => received(inner, true)) : [received(frame, false)];
}

function received(frame: Frame, batched: boolean): Received {
  const body = decodeBody(frame);
  return { op: frame.op, seq: frame.seq, version: frame.version, batched, body: body.opaque ? undefined : body.message, frame };
}

/** Drives one ServerConnection like a client would, with raw frames. */
export class RawClient {
  now: number;
  readonly link: ServerConnection;
  /** How many times the link called wake(). */
  wakes = 0;
  /** Every transmission, as the raw arrays pollTransmit returned. */
  readonly transmissions: Uint8Array[] = [];
  readonly #mode: "bytes" | "message";
  #seq = 0;
  #events: ServerEvent[] = [];

  constructor(engine: ServerEngine, options: { short?: boolean; now?: number; mode?: "bytes" | "message"; remote?: string } = {}) {
    this.now = options.now ?? T0;
    this.#mode = options.mode ?? "bytes";
    this.link = engine.accept(this.now, { wake: () => this.wakes++, short: options.short, remote: options.remote });
  }

  nextSeq(): number {
    return ++this.#seq;
  }

  /** Feeds encoded frames: back to back as stream bytes, or as one message. */
  feed(...frames: Uint8Array[]): void {
    const total = frames.reduce((n, f) => n + f.byteLength, 0);
    const all = new Uint8Array(total);
    let at = 0;
    for (const f of frames) {
      all.set(f, at);
      at += f.byteLength;
    }
    if (this.#mode === "bytes") this.link.receiveBytes(all, this.now);
    else this.link.receiveMessage(all, this.now);
  }

  helloFrame(init: MessageInitShape<typeof HelloSchema> = {}, seq = this.nextSeq()): Uint8Array {
    return encodeBodyFrame(Op.HELLO, create(HelloSchema, { versions: [1], clientId: "dev1", token: "tok:alice", ...init }), { seq });
  }

  sendFrame(init: MessageInitShape<typeof MessagePacketSchema>, seq = this.nextSeq()): Uint8Array {
    return encodeBodyFrame(Op.SEND, packet(init), { seq });
  }

  syncFrame(key: SyncKey = createSyncKey([]), limit = 0, seq = this.nextSeq()): Uint8Array {
    return encodeBodyFrame(Op.SYNC, create(SyncRequestSchema, { syncKey: key, limit }), { seq });
  }

  commitFrame(key: SyncKey, seq = this.nextSeq()): Uint8Array {
    return encodeBodyFrame(Op.SYNC_COMMIT, create(SyncCommitSchema, { syncKey: key }), { seq });
  }

  heartbeatFrame(clientTimeMs = 0n, seq = this.nextSeq()): Uint8Array {
    return encodeBodyFrame(Op.HEARTBEAT, create(HeartbeatSchema, { clientTimeMs }), { seq });
  }

  /** A CHUNK with a correct CRC-32 unless `crc` is given. */
  chunkFrame(init: { uploadId: string; partIndex: number; partCount: number; totalSize: number; data: Uint8Array; contentType?: string; crc?: number }, seq = this.nextSeq()): Uint8Array {
    return encodeBodyFrame(
      Op.CHUNK,
      create(ChunkSchema, {
        uploadId: init.uploadId,
        partIndex: init.partIndex,
        partCount: init.partCount,
        totalSize: BigInt(init.totalSize),
        contentType: init.contentType ?? "",
        crc32: init.crc ?? crc32(init.data),
        data: init.data,
      }),
      { seq },
    );
  }

  batchFrame(frames: FrameInit[]): Uint8Array {
    return encodeBatch(frames);
  }

  /** Waits until the link has no store work pending. */
  async settle(): Promise<void> {
    await this.link.idle();
    // Continuations queued by the last settled promise (wake microtasks) run before we look.
    await new Promise((resolve) => setTimeout(resolve, 0));
    await this.link.idle();
  }

  /** Everything the link has to transmit now, decoded. */
  drain(): Received[] {
    const out: Received[] = [];
    for (let bytes = this.link.pollTransmit(this.now); bytes !== undefined; bytes = this.link.pollTransmit(this.now)) {
      this.transmissions.push(bytes);
      out.push(...decodeTransmitted(bytes));
    }
    return out;
  }

  /** Events polled so far plus the new ones. */
  events(): ServerEvent[] {
    for (let e = this.link.pollEvent(); e !== undefined; e = this.link.pollEvent()) this.#events.push(e);
    return this.#events;
  }

  /** Feeds frames, waits for the stores, returns what was transmitted. */
  async exchange(...frames: Uint8Array[]): Promise<Received[]> {
    this.feed(...frames);
    await this.settle();
    return this.drain();
  }

  /** HELLO → WELCOME; returns the WELCOME. */
  async connect(init: MessageInitShape<typeof HelloSchema> = {}): Promise<Received> {
    const replies = await this.exchange(this.helloFrame(init));
    const welcome = replies.find((r) => r.op === Op.WELCOME);
    if (welcome === undefined) throw new Error(`no WELCOME: got ${replies.map((r) => r.op).join(",")} (${JSON.stringify(this.events())})`);
    return welcome;
  }
}

/** The single frame of `replies` with `op`, failing if there is not exactly one. */
export function only(replies: readonly Received[], op: number): Received {
  const matching = replies.filter((r) => r.op === op);
  if (matching.length !== 1) throw new Error(`expected one op ${op}, got ops [${replies.map((r) => r.op).join(", ")}]`);
  return matching[0]!;
}

/** A store method name, e.g. "log.append". */
export type StoreMethod = `${keyof ServerStores}.${string}`;

/**
 * A copy of `stores` whose every method goes through `around(id, call)`, where `call` runs the real
 * method with the original arguments (methods found on the objects and their prototypes).
 */
export function wrapStores(stores: ServerStores, around: (id: StoreMethod, call: () => Promise<unknown>) => Promise<unknown>): ServerStores {
  const wrapped: Record<string, Record<string, unknown>> = {};
  for (const [name, store] of Object.entries(stores) as [keyof ServerStores, Record<string, unknown>][]) {
    const proxy: Record<string, unknown> = {};
    for (let proto: object | null = store; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const method of Object.getOwnPropertyNames(proto)) {
        const fn = store[method];
        if (method === "constructor" || typeof fn !== "function" || method in proxy) continue;
        proxy[method] = (...args: unknown[]) => around(`${name}.${method}`, () => Promise.resolve().then(() => (fn as (...a: unknown[]) => unknown).apply(store, args)));
      }
    }
    wrapped[name] = proxy;
  }
  return wrapped as unknown as ServerStores;
}

/**
 * Wraps every method of `stores`: records each call ("log.append"), and rejects the ones named in
 * `failing` (a set the test edits) with an Error, without calling the real store.
 */
export function instrumented(stores: ServerStores): { stores: ServerStores; calls: StoreMethod[]; failing: Set<StoreMethod> } {
  const calls: StoreMethod[] = [];
  const failing = new Set<StoreMethod>();
  const wrapped = wrapStores(stores, (id, call) => {
    calls.push(id);
    return failing.has(id) ? Promise.reject(new Error(`${id} failed (test)`)) : call();
  });
  return { stores: wrapped, calls, failing };
}
