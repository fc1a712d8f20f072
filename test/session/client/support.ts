// Test support for the client engine, h11-style: the engine's output is decoded with the real codec, and
// the answers are real frames built by the codec. `Harness` drives one engine with fake time; `reply`
// builds server frames by hand; `FakeServer` answers as docs/PROTOCOL.md §11 says (one user, one log),
// with hooks to drop or hold frames, for the tests that need a whole conversation.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  AckSchema,
  AckStatus,
  ChunkAckSchema,
  DisconnectSchema,
  HeartbeatAckSchema,
  MessagePacketSchema,
  NotifySchema,
  SyncKeySchema,
  SyncResultSchema,
  WelcomeSchema,
  createSyncKey,
  decodeFrames,
  decodeMessage,
  encodeBodyFrame,
  encodeFrame,
  isBodyOp,
  Op,
  splitBatch,
  syncKeyToMap,
  type BodyOp,
  type Chunk,
  type MessagePacket,
  type SyncKey,
} from "../../../src/index.js";
import { ClientEngine, type ClientEngineOptions, type ClientEvent } from "../../../src/session/index.js";
import { crc32 } from "../../../src/session/crc32.js";
import { concat } from "../../support/hex.js";

/** The fake clock's start: 2025-01-01, inside the client message id range. */
export const T0 = Date.UTC(2025, 0, 1);

/** A frame the engine transmitted, decoded. `message` is the decoded body for typed ops. */
export interface Sent {
  readonly op: number;
  readonly seq: number;
  readonly version: number;
  /** Index of the pollTransmit() result it came in, and whether that was a BATCH. */
  readonly transmit: number;
  readonly batched: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly message: any;
  readonly body: Uint8Array;
}

/** Decodes one pollTransmit() result into its frames (a BATCH split). */
export function decodeTransmit(bytes: Uint8Array, transmit: number): Sent[] {
  const { frames } = decodeFrames(bytes, { versions: "any" });
  if (frames.length !== 1) throw new Error(`a transmit must be exactly one frame, got ${frames.length}`);
  const outer = frames[0]!;
  const batched = outer.op === Op.BATCH;
  if (batched && outer.seq !== 0) throw new Error("a BATCH from the client must carry seq 0");
  const inner = batched ? splitBatch(outer, { versions: "any" }) : [outer];
  return inner.map((f) => ({
    op: f.op,
    seq: f.seq,
    version: f.version,
    transmit,
    batched,
    message: isBodyOp(f.op) ? decodeMessage(f.op as BodyOp, f.body) : undefined,
    body: f.body,
  }));
}

/** Server frames built by hand. */
export const reply = {
  welcome: (seq: number, init: MessageInitShape<typeof WelcomeSchema> = {}, headerVersion = init.version ?? 1) =>
    encodeBodyFrame(Op.WELCOME, create(WelcomeSchema, { version: 1, sessionId: "s-1", ...init }), { seq, version: headerVersion }),
  ack: (seq: number, init: MessageInitShape<typeof AckSchema> = {}, version = 1) => encodeBodyFrame(Op.ACK, create(AckSchema, init), { seq, version }),
  disconnect: (seq: number, init: MessageInitShape<typeof DisconnectSchema>) => encodeBodyFrame(Op.DISCONNECT, create(DisconnectSchema, init), { seq }),
  notify: (init: MessageInitShape<typeof NotifySchema> = {}) => encodeBodyFrame(Op.NOTIFY, create(NotifySchema, init), { seq: 0 }),
  syncResult: (seq: number, init: MessageInitShape<typeof SyncResultSchema> = {}) => encodeBodyFrame(Op.SYNC_RESULT, create(SyncResultSchema, init), { seq }),
  chunkAck: (seq: number, init: MessageInitShape<typeof ChunkAckSchema>) => encodeBodyFrame(Op.CHUNK_ACK, create(ChunkAckSchema, init), { seq }),
  heartbeatAck: (seq: number, init: MessageInitShape<typeof HeartbeatAckSchema> = {}) => encodeBodyFrame(Op.HEARTBEAT_ACK, create(HeartbeatAckSchema, init), { seq }),
  raw: (op: number, seq: number, body: Uint8Array = new Uint8Array(0), version = 1) => encodeFrame({ op, seq, body, version }),
};

/** A SyncKey `{1: version}`. */
export const key1 = (version: bigint | number): SyncKey => createSyncKey([[1, BigInt(version)]]);

/** A stored message as the server would hand it out. */
export function stored(conversationId: string, serverMsgId: bigint | number, text: string, init: MessageInitShape<typeof MessagePacketSchema> = {}): MessagePacket {
  return create(MessagePacketSchema, {
    conversationId,
    serverMsgId: BigInt(serverMsgId),
    senderId: "bob",
    recipientId: "alice",
    kind: 1,
    content: new TextEncoder().encode(text),
    clientMsgId: 1000n + BigInt(serverMsgId),
    ...init,
  });
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** One engine with a fake clock. Times are absolute (T0 + …). */
export class Harness {
  readonly engine: ClientEngine;
  now = T0;
  #transmits = 0;
  /** Every frame transmitted so far, in order. */
  readonly log: Sent[] = [];
  /** Every event polled so far, in order. */
  readonly eventLog: ClientEvent[] = [];

  constructor(options: Partial<ClientEngineOptions> = {}) {
    // No periodic sync unless a test asks for one (sync.test.ts does): the other tests check that nothing
    // else is scheduled once their exchange is over.
    this.engine = new ClientEngine({ clientId: "phone-1", token: "t0k3n", random: () => 0.5, syncIntervalMs: 0, ...options });
  }

  /** Polls everything the engine wants to transmit now, decoded (batches split). */
  flush(): Sent[] {
    const out: Sent[] = [];
    for (let bytes = this.engine.pollTransmit(this.now); bytes !== undefined; bytes = this.engine.pollTransmit(this.now)) {
      out.push(...decodeTransmit(bytes, this.#transmits++));
    }
    this.log.push(...out);
    return out;
  }

  /** Polls every event queued now. */
  events(): ClientEvent[] {
    const out: ClientEvent[] = [];
    for (let e = this.engine.pollEvent(); e !== undefined; e = this.engine.pollEvent()) out.push(e);
    this.eventLog.push(...out);
    return out;
  }

  /** Events of one type polled now (the others are polled too, and kept in eventLog). */
  eventsOf<T extends ClientEvent["type"]>(type: T): Extract<ClientEvent, { type: T }>[] {
    return this.events().filter((e): e is Extract<ClientEvent, { type: T }> => e.type === type);
  }

  /** Feeds server frames as one chunk of a byte stream. */
  deliver(...frames: Uint8Array[]): void {
    this.engine.receiveBytes(concat(frames), this.now);
  }

  /** Moves the clock to `at`, running handleTimeout at each deadline on the way (exactly at it). */
  advanceTo(at: number): void {
    for (let guard = 0; guard < 10_000; guard++) {
      const due = this.engine.pollTimeout();
      if (due === undefined || due > at) break;
      this.now = Math.max(this.now, due);
      this.engine.handleTimeout(this.now);
    }
    this.now = at;
  }

  advance(ms: number): void {
    this.advanceTo(this.now + ms);
  }

  /** connect(), the HELLO, then WELCOME with `welcome`; returns what the engine sent after WELCOME. */
  open(welcome: MessageInitShape<typeof WelcomeSchema> = {}): Sent[] {
    this.engine.connect(this.now);
    const [hello] = this.flush();
    if (hello?.op !== Op.HELLO) throw new Error("expected HELLO");
    this.deliver(reply.welcome(hello.seq, welcome));
    return this.flush();
  }
}

/** An open engine whose first SYNC is answered (nothing to sync) and whose events are drained. */
export function openQuiet(options: Partial<ClientEngineOptions> = {}, welcome: MessageInitShape<typeof WelcomeSchema> = {}): Harness {
  const h = new Harness(options);
  const [sync] = h.open(welcome);
  h.deliver(reply.syncResult(sync!.seq));
  h.flush();
  h.events();
  return h;
}

/** How the fake server treats one frame from the client: answer it, drop it, or keep it unanswered. */
export type Verdict = "answer" | "drop" | "ignore";

/**
 * A server for one user ("alice"), answering as §11 says: WELCOME, ACK with dedupe, a sync log with
 * SYNC_RESULT pages and commits, NOTIFY to the sender after a new message, CHUNK assembly with CRC
 * checks, HEARTBEAT_ACK. `verdict` decides per frame whether it arrives at all.
 */
export class FakeServer {
  readonly userId = "alice";
  welcome: MessageInitShape<typeof WelcomeSchema> = { heartbeatIntervalMs: 0, limits: { maxBatchFrames: 0, maxInFlight: 0 } };
  pageSize = 100;
  /** The user's log: entry i has version i + 1. */
  readonly log: MessagePacket[] = [];
  readonly dedupe = new Map<bigint, { serverMsgId: bigint; serverTimeMs: bigint }>();
  readonly stores: bigint[] = [];
  committed = 0n;
  readonly uploads = new Map<string, { parts: Map<number, Uint8Array>; partCount: number; totalSize: bigint; objectId?: string }>();
  readonly objects = new Map<string, Uint8Array>();
  verdict: (frame: Sent) => Verdict = () => "answer";
  /** Rejects a SEND (ACK REJECTED with this reason) when it returns a string. */
  rejectSend: (message: MessagePacket) => string | undefined = () => undefined;
  #nextId = new Map<string, bigint>();
  #objects = 0;
  /** Every frame that reached the server. */
  readonly received: Sent[] = [];

  /** The key at the head of the log. */
  head(): SyncKey {
    return key1(this.log.length);
  }

  /** Appends a message from someone else to alice's log. */
  push(message: MessagePacket): void {
    this.log.push(message);
    const last = this.#nextId.get(message.conversationId) ?? 0n;
    if (message.serverMsgId > last) this.#nextId.set(message.conversationId, message.serverMsgId);
  }

  /** Answers the frames that arrive; returns the reply frames in order. */
  answer(frames: readonly Sent[], now: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const frame of frames) {
      const verdict = this.verdict(frame);
      if (verdict === "drop") continue;
      this.received.push(frame);
      if (verdict === "ignore") continue;
      out.push(...this.#answer(frame, now));
    }
    return out;
  }

  #answer(frame: Sent, now: number): Uint8Array[] {
    const seq = frame.seq;
    switch (frame.op) {
      case Op.HELLO:
        return [reply.welcome(seq, this.welcome)];
      case Op.HEARTBEAT:
        return [reply.heartbeatAck(seq, { clientTimeMs: frame.message.clientTimeMs, serverTimeMs: BigInt(now) })];
      case Op.SEND: {
        const m = frame.message as MessagePacket;
        const reason = this.rejectSend(m);
        if (reason !== undefined) return [reply.ack(seq, { status: AckStatus.REJECTED, clientMsgId: m.clientMsgId, error: reason })];
        const seen = this.dedupe.get(m.clientMsgId);
        if (seen !== undefined) return [reply.ack(seq, { status: AckStatus.DUPLICATE, clientMsgId: m.clientMsgId, ...seen })];
        const serverMsgId = (this.#nextId.get(m.conversationId) ?? 0n) + 1n;
        this.#nextId.set(m.conversationId, serverMsgId);
        const record = { serverMsgId, serverTimeMs: BigInt(now) };
        this.dedupe.set(m.clientMsgId, record);
        this.stores.push(m.clientMsgId);
        this.log.push(create(MessagePacketSchema, { ...m, serverMsgId, senderId: this.userId }));
        return [reply.ack(seq, { status: AckStatus.OK, clientMsgId: m.clientMsgId, ...record }), reply.notify({ syncKey: this.head() })];
      }
      case Op.SYNC: {
        const from = Number(syncKeyToMap(frame.message.syncKey ?? create(SyncKeySchema)).get(1) ?? 0n);
        const limit = frame.message.limit > 0 ? Math.min(frame.message.limit, this.pageSize) : this.pageSize;
        const page = this.log.slice(from, from + limit);
        return [reply.syncResult(seq, { messages: page, syncKey: key1(from + page.length), hasMore: from + page.length < this.log.length })];
      }
      case Op.SYNC_COMMIT: {
        const v = syncKeyToMap(frame.message.syncKey).get(1) ?? 0n;
        if (v > this.committed) this.committed = v;
        return [reply.ack(seq)];
      }
      case Op.CHUNK:
        return [this.#chunk(seq, frame.message as Chunk)];
      default:
        return [];
    }
  }

  #chunk(seq: number, c: Chunk): Uint8Array {
    let upload = this.uploads.get(c.uploadId);
    if (upload === undefined) {
      upload = { parts: new Map(), partCount: c.partCount, totalSize: c.totalSize };
      this.uploads.set(c.uploadId, upload);
    }
    if (c.partCount !== upload.partCount || c.totalSize !== upload.totalSize) {
      return reply.ack(seq, { status: AckStatus.REJECTED, error: "part_count or total_size disagree" });
    }
    const ok = crc32(c.data) === c.crc32;
    if (ok && upload.objectId === undefined) upload.parts.set(c.partIndex, c.data.slice());
    const missing: number[] = [];
    for (let i = 0; i < upload.partCount && missing.length < 1024; i++) if (!upload.parts.has(i)) missing.push(i);
    if (missing.length === 0 && upload.objectId === undefined) {
      const bytes = new Uint8Array(Number(upload.totalSize));
      let at = 0;
      for (let i = 0; i < upload.partCount; i++) {
        bytes.set(upload.parts.get(i)!, at);
        at += upload.parts.get(i)!.byteLength;
      }
      upload.objectId = `obj-${++this.#objects}`;
      this.objects.set(upload.objectId, bytes);
    }
    return reply.chunkAck(seq, {
      uploadId: c.uploadId,
      received: ok ? [c.partIndex] : [],
      missing: upload.objectId === undefined ? missing : [],
      complete: upload.objectId !== undefined,
      objectId: upload.objectId ?? "",
    });
  }
}

/**
 * Runs engine ⇄ server until neither has anything to say (or `rounds` exchanges), without moving the
 * clock. Returns the frames the server answered.
 */
export function exchange(h: Harness, server: FakeServer, rounds = 100): void {
  for (let i = 0; i < rounds; i++) {
    const sent = h.flush();
    if (sent.length === 0) return;
    const replies = server.answer(sent, h.now);
    if (replies.length > 0) h.deliver(...replies);
  }
  throw new Error(`no quiet after ${rounds} rounds`);
}
