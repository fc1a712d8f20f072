/**
 * ClientEngine: the client side of a syncwire session (docs/PROTOCOL.md §11), sans-I/O.
 *
 * Theory of operation. The engine owns the *link* — the handshake, request numbering, the frames
 * waiting to be written, batching, routing replies and the link's state — and hands each concern to a
 * part that owns it: the outbox (messages until their ACK), the sync cycle (SyncKey, NOTIFY → SYNC →
 * COMMIT), the uploads (CHUNK windows) and the heartbeat. Parts talk to the engine through a narrow port
 * (port.ts): "send this request", "stop routing that seq", "emit this event".
 *
 * Link states (`state`), as the adapter sees them:
 *
 *   idle ──connect()──▶ handshaking ──WELCOME──▶ open
 *     ▲                     │                     │  DISCONNECT in or out, protocol error,
 *     │                     └──────────┬──────────┘  link dead, handshake timeout
 *     │                                ▼
 *     └──────────linkClosed()───────  closed ◀──── close()/disconnect(): closed for good
 *   (connect()/reconnected() from any state but "closed for good" abandons the current link first)
 *
 * - **Handshake.** A link starts with HELLO (seq 1, header version 1) carrying the current SyncKey.
 *   Until WELCOME nothing else leaves; requests wait in their parts. Server frames that cannot be
 *   explained by a late or duplicated reply (a client-to-server or reserved op, an application frame
 *   before WELCOME, a WELCOME that does not answer HELLO) are protocol errors; replies that match no
 *   request — a duplicated WELCOME included — are ignored (§11.8). WELCOME's limits set the frame
 *   size, batch size and in-flight budget for the client's requests; then the parts are pumped, in
 *   this order: a waiting SYNC_COMMIT, the SYNC every WELCOME starts, the unacknowledged SENDs, the
 *   upload parts. So a reconnect replays everything that was not confirmed on the old link.
 * - **Seq and replies.** Each request takes the next seq (`nextSeq`); replies are routed by seq to the
 *   part that made the request (`#requests`), and a reply whose seq is routed nowhere is ignored (late,
 *   duplicated or stale). HEARTBEAT_ACK goes to the heartbeat, which keeps its own seqs.
 * - **Transmit and batching.** Frames are queued as they are made (one "tick" is everything queued
 *   before the next `pollTransmit()`). `pollTransmit` returns them one by one, or — when WELCOME allowed
 *   batches — as one BATCH of up to `max_batch_frames` frames within `max_frame_size`.
 * - **Errors.** Peer input never throws: a FrameError, a BodyError or a broken session rule ends the
 *   link with DISCONNECT PROTOCOL_ERROR, an `error` event and state "closed", and the rest of the input
 *   is ignored (sticky, as in h11). Caller misuse throws TypeError/RangeError/SessionError before
 *   anything changes.
 * - **Time** is only what the caller passes as `now` (ms, Unix time: it also stamps client message ids
 *   and `created_at_ms`); randomness is only the caller's `random`.
 */
import { create, isMessage } from "@bufbuild/protobuf";
import { AckStatus, MediaRefSchema, MessageKind, type MessagePacket, type MessagePacketSchema } from "../../gen/syncwire/v1/message_pb.js";
import { DisconnectCode, DisconnectSchema, HelloSchema } from "../../gen/syncwire/v1/session_pb.js";
import type { SyncKey } from "../../gen/syncwire/v1/sync_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { decodeMessage, encodeBody } from "../../bodies/codec.js";
import { BodyError } from "../../bodies/errors.js";
import { createClientMsgIdGenerator } from "../../bodies/msg-id.js";
import { FrameDecoder } from "../../stream/frame-decoder.js";
import { encodeBatch, splitBatch } from "../../wire/batch.js";
import { decodeFrames, type Frame } from "../../wire/decode.js";
import { encodeFrame, type FrameInit } from "../../wire/encode.js";
import { FrameError } from "../../wire/errors.js";
import { DEFAULT_MAX_FRAME_SIZE, HEADER_SIZE, PROTOCOL_VERSION, type DecodeOptions } from "../../wire/header.js";
import { isApplicationOp, Op, opName } from "../../wire/ops.js";
import { nextSeq } from "../../wire/seq.js";
import { backoffDelay } from "../backoff.js";
import { SessionError } from "../errors.js";
import type { LinkState, SansIoLink } from "../link.js";
import type { ClientEvent, ClientProtocolErrorCode } from "./events.js";
import { Heartbeat } from "./heartbeat.js";
import { checkToken, resolveClientOptions, type ClientEngineOptions, type ResolvedClientOptions } from "./options.js";
import { Outbox } from "./outbox.js";
import type { ClientPort, RequestOwner } from "./port.js";
import { SyncCycle } from "./sync-cycle.js";
import { Uploads, type UploadHandle } from "./uploads.js";

/** A message to send: any MessagePacket fields (`create(MessagePacketSchema, …)`'s input); `conversationId` is required. */
export type OutgoingMessageInit = MessageInitShape<typeof MessagePacketSchema>;

/**
 * What a `ClientEngine` holds now (`engine.footprint`), for monitoring memory: each count is bounded by
 * the option named beside it, so a long-lived client does not grow without end.
 */
export interface ClientFootprint {
  /** Messages queued or in flight (≤ `maxPendingSends`). */
  readonly pendingSends: number;
  /** Failed messages kept for `resend()` (≤ `maxFailedSends`). */
  readonly failedSends: number;
  /** (conversation, server id) pairs remembered to drop redelivered messages (≤ `processedIdCapacity`). */
  readonly processedIds: number;
  /** Client ids remembered to mark synced messages `own` (≤ `processedIdCapacity`). */
  readonly sentIds: number;
  /** Uploads open (≤ `maxUploads`). */
  readonly openUploads: number;
  /**
   * Seqs of this link whose replies are still routed: the requests in flight, earlier transmissions of
   * messages and parts still in flight or kept failed (a late reply still counts), and the commit.
   */
  readonly routedRequests: number;
  /** Frames queued for `pollTransmit()` (one tick's worth, plus application frames waiting for WELCOME). */
  readonly queuedFrames: number;
  /** Events queued for `pollEvent()`. */
  readonly queuedEvents: number;
}

/** The in-flight budget when WELCOME states none (`max_in_flight` 0), as the reference client (docs/PROTOCOL.md §11.2). */
export const DEFAULT_MAX_IN_FLIGHT = 64;

const MAX_U64 = 0xffff_ffff_ffff_ffffn;
const EMPTY_BYTES = new Uint8Array(0);
const MAX_U32 = 0xffff_ffff;

/** Server frames that are ignored before WELCOME (replies to nothing, and NOTIFY). */
const IGNORED_BEFORE_WELCOME: ReadonlySet<number> = new Set([Op.ACK, Op.HEARTBEAT_ACK, Op.SYNC_RESULT, Op.CHUNK_ACK, Op.NOTIFY]);

/** DISCONNECT codes after which reconnecting needs the application's say (§11.7). */
const NO_AUTOMATIC_RECONNECT: ReadonlySet<number> = new Set([DisconnectCode.AUTH_FAILED, DisconnectCode.REPLACED, DisconnectCode.UNSUPPORTED_VERSION]);

interface OutFrame {
  readonly op: number;
  readonly seq: number;
  readonly version: number;
  readonly body: Uint8Array;
}

function checkNow(now: number): void {
  if (typeof now !== "number" || !Number.isFinite(now)) throw new TypeError(`now must be a finite number of milliseconds, got ${String(now)}`);
}

function checkClientMsgId(id: unknown, what: string): bigint {
  if (typeof id !== "bigint") throw new TypeError(`${what} must be a bigint, got ${typeof id}`);
  if (id < 1n || id > MAX_U64) throw new RangeError(`${what} must be from 1 to 2^64 − 1, got ${id}`);
  return id;
}

/**
 * The client side of a syncwire session over any transport, without I/O: the adapter feeds it bytes
 * and time and writes what it polls (see `SansIoLink`). See the theory of operation at the top of this file.
 *
 * Beyond what each method lists, any method that may schedule a retransmission or make an id
 * (`send`, `resend`, `upload`, `receiveBytes`, `receiveMessage`, `handleTimeout`) throws RangeError if
 * the caller's `random()` returns a number outside [0, 1) — the caller's bug, not the peer's.
 */
export class ClientEngine implements SansIoLink<ClientEvent> {
  readonly #options: ResolvedClientOptions;
  readonly #userRandom: () => number;
  readonly #nextClientMsgId: () => bigint;
  readonly #decodeLimits: DecodeOptions;
  readonly #port: ClientPort;
  readonly #outbox: Outbox;
  readonly #sync: SyncCycle;
  readonly #uploads: Uploads;
  readonly #heartbeat: Heartbeat;
  #token: string;
  /** The last `now` given to any method: the clock of generated client message ids. */
  #now = 0;

  #state: LinkState = "idle";
  /** close() or disconnect() was called: state stays "closed", requests throw CLOSED. */
  #terminated = false;
  #everOpened = false;
  #decoder: FrameDecoder | undefined;
  #seq = 0;
  #helloSeq = 0;
  /** This link is a short link (connect's `short`): requests follow HELLO at once; no SEND, no heartbeat. */
  #short = false;
  /** WELCOME arrived on this link. */
  #welcomed = false;
  /** Header version of this link: 1 until WELCOME, then the chosen one. */
  #version = PROTOCOL_VERSION;
  #handshakeDeadline: number | undefined;
  #sessionId: string | undefined;
  /** The server's limits for this client's frames (WELCOME); the last link's are kept until the next. */
  #maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  #maxBatchFrames = 0;
  #maxInFlight = DEFAULT_MAX_IN_FLIGHT;
  readonly #requests = new Map<number, RequestOwner>();
  #out: OutFrame[] = [];
  #outHead = 0;
  /** Application frames waiting for WELCOME (copies). */
  #appQueue: { op: number; body: Uint8Array }[] = [];
  #events: ClientEvent[] = [];
  #eventHead = 0;

  /**
   * @throws TypeError if `clientId`, `token` or `random` is missing or of the wrong type (or another
   *   option has the wrong type).
   * @throws RangeError for a numeric option out of its range (see {@link ClientEngineOptions}).
   */
  constructor(options: ClientEngineOptions) {
    this.#options = resolveClientOptions(options);
    this.#userRandom = options.random;
    this.#token = options.token;
    this.#decodeLimits = { maxFrameSize: this.#options.maxFrameSize, versions: [...new Set([PROTOCOL_VERSION, ...this.#options.versions])] };
    const custom = options.clientMsgId;
    const generated =
      custom ??
      createClientMsgIdGenerator({
        now: () => this.#now,
        random23: () => Math.floor(this.#random() * 2 ** 23),
      });
    this.#nextClientMsgId = () => checkClientMsgId(generated(), "the generated client message id");
    const { factor, jitter, maxMs } = { factor: this.#options.backoffFactor, jitter: this.#options.backoffJitter, maxMs: this.#options.maxBackoffMs };
    const self = this;
    this.#port = {
      random: () => this.#random(),
      backoff: (attempt, initialMs) => backoffDelay(attempt, { initialMs, factor, jitter, maxMs: Math.max(maxMs, initialMs) }, this.#userRandom),
      canRequest: () => this.#state === "open" && this.#inFlight() < this.#maxInFlight,
      request: (op, body, owner) => this.#request(op, body, owner),
      forget: (seq) => void this.#requests.delete(seq),
      emit: (event) => void this.#events.push(event),
      get maxFrameSize() {
        return self.#maxFrameSize;
      },
    };
    this.#outbox = new Outbox(this.#port, this.#options);
    const userId = this.#options.userId;
    this.#sync = new SyncCycle(this.#port, this.#options, options.syncKey, (m) => this.#outbox.isOwn(m.clientMsgId) && (userId === undefined || m.senderId === userId));
    this.#uploads = new Uploads(this.#port, this.#options);
    this.#heartbeat = new Heartbeat(this.#port, this.#options.maxMissedHeartbeats);
  }

  // ── What a UI reads ──────────────────────────────────────────────────────────────────────────────

  /** Where the current link is (see the diagram at the top of this file). */
  get state(): LinkState {
    return this.#state;
  }

  /** Messages queued or in flight (not yet acknowledged, not failed). At `maxPendingSends`, `send()` throws. */
  get pendingSends(): number {
    return this.#outbox.pendingCount;
  }

  /**
   * Requests of this link waiting for their reply (SEND, SYNC, SYNC_COMMIT, CHUNK; not HELLO or
   * HEARTBEAT). With nothing left to poll, 0 means the link is quiet: a short-link adapter is done.
   */
  get requestsInFlight(): number {
    return this.#inFlight();
  }

  /** True while the current link is a short link (see `connect`). */
  get short(): boolean {
    return this.#short;
  }

  /** The last measured round-trip time in ms (from heartbeats), or undefined before the first. */
  get rttMs(): number | undefined {
    return this.#heartbeat.rttMs;
  }

  /** The SyncKey of everything handed over so far: persist it with the messages (do not modify it). */
  get syncKey(): SyncKey {
    return this.#sync.key;
  }

  /** What the engine holds now, for monitoring memory (see {@link ClientFootprint}). Never throws. */
  get footprint(): ClientFootprint {
    return {
      pendingSends: this.#outbox.pendingCount,
      failedSends: this.#outbox.failedCount,
      processedIds: this.#sync.processedCount,
      sentIds: this.#outbox.sentIdCount,
      openUploads: this.#uploads.size,
      routedRequests: this.#requests.size,
      queuedFrames: this.#out.length - this.#outHead + this.#appQueue.length,
      queuedEvents: this.#events.length - this.#eventHead,
    };
  }

  /** The session id of the current (or last) WELCOME, or undefined before the first. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  // ── The link (SansIoLink) ────────────────────────────────────────────────────────────────────────

  /**
   * A fresh transport is ready: sends HELLO with the current SyncKey (state "handshaking"). Any link
   * still in use is abandoned first, as if `linkClosed()` had been called.
   *
   * With `short: true` the link is a *short link* (docs/PROTOCOL.md §11.9, §11.10): one logical session
   * carried by HTTP requests, each of which starts with the HELLO polled first. The state is "open" at
   * once and requests (SYNC, SYNC_COMMIT, CHUNK, application frames) are polled right after HELLO, one
   * frame per `pollTransmit()`, under the limits of the last WELCOME (1 MiB before any); WELCOME's limits
   * apply once one arrives, and later WELCOMEs (one per request) are ignored. SENDs wait for a long link,
   * no heartbeat is sent, and the engine syncs only when asked (`sync()`), or to finish a cycle that the
   * end of the last link cut off.
   * @param options `token` replaces the credential (e.g. after DISCONNECT AUTH_FAILED); `short` makes
   *   the link a short link.
   * @throws SessionError CLOSED after `close()`/`disconnect()`.
   * @throws TypeError for a `now` that is not a finite number or a `token` that is not a string.
   */
  connect(now: number, options?: { token?: string; short?: boolean }): void {
    checkNow(now);
    if (this.#terminated) throw new SessionError("CLOSED", "the engine is closed");
    if (options?.token !== undefined) this.#token = checkToken(options.token);
    this.#now = now;
    if (this.#state !== "idle") this.linkClosed(now);
    this.#decoder = new FrameDecoder(this.#decodeLimits);
    this.#seq = 0;
    this.#version = PROTOCOL_VERSION;
    this.#short = options?.short === true;
    this.#welcomed = false;
    this.#state = "handshaking";
    this.#handshakeDeadline = now + this.#options.handshakeTimeoutMs;
    const key = this.#sync.key;
    const hello = create(HelloSchema, {
      versions: [...this.#options.versions],
      clientId: this.#options.clientId,
      token: this.#token,
      capabilities: { maxFrameSize: this.#options.maxFrameSize, batching: this.#options.batching },
      syncKey: key.entries.length > 0 ? key : undefined,
    });
    this.#helloSeq = this.#request(Op.HELLO, encodeBody(Op.HELLO, hello), undefined);
    if (this.#short) {
      // The server holds what follows HELLO until its WELCOME (§11.2), so requests go now; one frame
      // per transmit, so the adapter can spread them over concurrent requests.
      this.#state = "open";
      this.#handshakeDeadline = undefined;
      this.#maxBatchFrames = 0;
      if (this.#sync.running) this.#sync.start();
      this.#pump(now);
    }
  }

  /**
   * The same as {@link connect}, named for the adapter's reconnect path: a new link after the last one
   * was lost. After WELCOME the engine resends every unacknowledged message (same client ids), an
   * unacknowledged SYNC_COMMIT and the missing upload parts, and syncs.
   * @throws as {@link connect}.
   */
  reconnected(now: number, options?: { token?: string; short?: boolean }): void {
    this.connect(now, options);
  }

  /**
   * Starts a sync cycle now, as a NOTIFY without a key would (one more cycle if one is running). A long
   * link syncs by itself after every WELCOME and NOTIFY; a short link syncs only when asked.
   * @throws SessionError CLOSED after close()/disconnect(); TypeError for a `now` that is not finite.
   */
  sync(now: number): void {
    checkNow(now);
    if (this.#terminated) throw new SessionError("CLOSED", "the engine is closed");
    this.#now = now;
    this.#sync.onNotify(undefined);
    this.#pump(now);
  }

  /**
   * Bytes from a byte stream (TCP, TLS), cut anywhere. Ignored unless a link is handshaking or open.
   * @throws never on peer input: bad bytes end the link (DISCONNECT PROTOCOL_ERROR, `error` event).
   * @throws TypeError if `chunk` is not a Uint8Array or `now` not a finite number (caller errors).
   */
  receiveBytes(chunk: Uint8Array, now: number): void {
    checkNow(now);
    if (!(chunk instanceof Uint8Array)) throw new TypeError("chunk must be a Uint8Array");
    this.#now = now;
    if (!this.#active()) return;
    const frames: Frame[] = [];
    let failure: FrameError | undefined;
    try {
      this.#decoder!.push(chunk, frames);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      failure = error;
    }
    this.#receiveFrames(frames, failure, now);
  }

  /**
   * One message of a message transport (WebSocket, an HTTP body): whole frames end to end.
   * @throws never on peer input (as {@link receiveBytes}).
   * @throws TypeError as {@link receiveBytes}.
   */
  receiveMessage(message: Uint8Array, now: number): void {
    checkNow(now);
    if (!(message instanceof Uint8Array)) throw new TypeError("message must be a Uint8Array");
    this.#now = now;
    if (!this.#active()) return;
    let frames: readonly Frame[];
    let failure: FrameError | undefined;
    try {
      frames = decodeFrames(message, this.#decodeLimits).frames;
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      // The frames before the bad bytes count, as on a stream; then the error ends the link.
      frames = decodeFrames(message, { ...this.#decodeLimits, allowTrailer: true }).frames;
      failure = error;
    }
    this.#receiveFrames(frames, failure, now);
  }

  /**
   * The next whole frame to write: a single frame, or a BATCH of the frames queued since the last call
   * when WELCOME allowed batches. Undefined when there is nothing to write.
   * @returns a fresh array (never reused by the engine).
   * @throws TypeError for a `now` that is not a finite number.
   */
  pollTransmit(now: number): Uint8Array | undefined {
    checkNow(now);
    const out = this.#out;
    const first = out[this.#outHead];
    if (first === undefined) return undefined;
    let count = 1;
    if (this.#state === "open" && this.#maxBatchFrames > 1) {
      let size = HEADER_SIZE + HEADER_SIZE + first.body.byteLength;
      while (count < this.#maxBatchFrames && this.#outHead + count < out.length) {
        const next = HEADER_SIZE + out[this.#outHead + count]!.body.byteLength;
        if (size + next > this.#maxFrameSize) break;
        size += next;
        count++;
      }
    }
    let frame: Uint8Array;
    if (count === 1) {
      frame = encodeFrame(first as FrameInit);
    } else {
      frame = encodeBatch(out.slice(this.#outHead, this.#outHead + count) as FrameInit[], { version: this.#version });
    }
    this.#outHead += count;
    if (this.#outHead === out.length) {
      this.#out = [];
      this.#outHead = 0;
    }
    return frame;
  }

  /**
   * The next event for the application, or undefined. Never throws.
   * @returns the event object (the engine keeps no reference to it).
   */
  pollEvent(): ClientEvent | undefined {
    const event = this.#events[this.#eventHead];
    if (event === undefined) return undefined;
    this.#eventHead++;
    if (this.#eventHead === this.#events.length) {
      this.#events = [];
      this.#eventHead = 0;
    }
    return event;
  }

  /** The earliest time `handleTimeout` must run (ack, sync and part deadlines, heartbeats, the handshake), or undefined. Never throws. */
  pollTimeout(): number | undefined {
    if (this.#state === "handshaking") return this.#handshakeDeadline;
    if (this.#state !== "open") return undefined;
    let earliest = this.#heartbeat.nextDeadline();
    for (const deadline of [this.#outbox.nextDeadline(), this.#sync.nextDeadline(), this.#uploads.nextDeadline()]) {
      if (deadline !== undefined && (earliest === undefined || deadline < earliest)) earliest = deadline;
    }
    return earliest;
  }

  /**
   * Runs what is due at `now`: the handshake timeout, heartbeats (and the dead-link verdict),
   * retransmissions of SENDs, SYNCs, commits and parts. Harmless if nothing is due.
   * @throws TypeError for a `now` that is not a finite number.
   */
  handleTimeout(now: number): void {
    checkNow(now);
    this.#now = now;
    if (this.#state === "handshaking" && this.#handshakeDeadline !== undefined && now >= this.#handshakeDeadline) {
      this.#linkDead("handshake");
      return;
    }
    if (this.#state !== "open") return;
    if (!this.#heartbeat.handleTimeout(now)) {
      this.#linkDead("heartbeat");
      return;
    }
    this.#outbox.handleTimeout(now);
    this.#sync.handleTimeout(now);
    this.#uploads.handleTimeout(now);
    this.#pump(now);
  }

  /**
   * The transport is gone (reset, or closed by either side). Frames not yet polled are dropped; messages
   * and parts in flight wait for the next link. State "idle" (or stays "closed" after close()).
   * @throws TypeError for a `now` that is not a finite number.
   */
  linkClosed(now: number): void {
    checkNow(now);
    this.#now = now;
    if (this.#state !== "idle") this.#endLink();
    this.#dropOutput();
    this.#state = this.#terminated ? "closed" : "idle";
  }

  /**
   * Ends the session gracefully: DISCONNECT (default NORMAL) is the last frame to poll, then state
   * "closed" for good. Open uploads fail with CLOSED; pending messages are dropped (the application
   * still has them). Calling it again does nothing.
   * @throws RangeError if `code` is not a u32.
   * @throws TypeError for a `now` that is not a finite number.
   */
  disconnect(now: number, code: DisconnectCode = DisconnectCode.NORMAL, reason = ""): void {
    checkNow(now);
    if (!Number.isInteger(code) || code < 0 || code > MAX_U32) throw new RangeError(`code must be a u32, got ${code}`);
    if (this.#terminated) return;
    const active = this.#active();
    this.close();
    if (active) this.#queueDisconnect(code, reason);
  }

  /**
   * Closes for good without a DISCONNECT (the transport is already gone, or the app is exiting): open
   * uploads fail with CLOSED (`upload-failed` events), pending messages are dropped. Idempotent; never throws.
   */
  close(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    if (this.#state !== "idle") this.#endLink();
    this.#dropOutput();
    this.#state = "closed";
    this.#appQueue = [];
    this.#uploads.close();
    this.#outbox.clear();
  }

  // ── Requests from the application ────────────────────────────────────────────────────────────────

  /**
   * Queues a message; it goes out when the link is open, its conversation has nothing in flight and the
   * in-flight budget allows. Confirmed by a `sent` event, or reported `failed`.
   * @param message MessagePacket fields; `conversationId` is required. `clientMsgId` defaults to a new
   *   id, `createdAtMs` to `now`; `serverMsgId` and `senderId` are the server's and are cleared; unknown
   *   fields are not sent. The message is encoded now (a copy): later changes to `message` do not matter.
   * @returns the message's client id (the key of its `sent`/`failed` events and of `resend`).
   * @throws SessionError CLOSED after close()/disconnect(); SEND_QUEUE_FULL with `maxPendingSends`
   *   messages pending (nothing is queued).
   * @throws TypeError if `message` is not an object, `conversationId` not a string, or a field has the
   *   wrong type; RangeError for an empty `conversationId`, a `clientMsgId` out of u64 range or already
   *   pending, a `now` outside 2024…2093 when an id is generated, or a SEND larger than the server's
   *   `max_frame_size` (1 MiB before the first WELCOME).
   */
  send(message: OutgoingMessageInit, now: number): bigint {
    checkNow(now);
    if (this.#terminated) throw new SessionError("CLOSED", "the engine is closed");
    if (message === null || typeof message !== "object") throw new TypeError("message must be an object of MessagePacket fields");
    const conversationId = message.conversationId;
    if (typeof conversationId !== "string") throw new TypeError("message.conversationId must be a string");
    if (conversationId === "") throw new RangeError("message.conversationId must not be empty");
    let id = message.clientMsgId === undefined || message.clientMsgId === 0n ? undefined : checkClientMsgId(message.clientMsgId, "message.clientMsgId");
    if (id !== undefined && this.#outbox.stateOf(id) === "pending") throw new RangeError(`message ${id} is already pending`);
    if (this.#outbox.pendingCount >= this.#options.maxPendingSends) {
      throw new SessionError("SEND_QUEUE_FULL", `${this.#outbox.pendingCount} messages are pending (maxPendingSends)`);
    }
    this.#now = now;
    id ??= this.#nextClientMsgId();
    // A message literal, not create(): protobuf-es's create() costs more than the rest of send() together
    // (≈ 10 µs, measured), and the encoder checks every field's type anyway (TypeError).
    const media = message.media;
    const packet: MessagePacket = {
      $typeName: "syncwire.v1.MessagePacket",
      clientMsgId: id,
      serverMsgId: 0n,
      conversationId,
      senderId: "",
      recipientId: message.recipientId ?? "",
      kind: message.kind ?? MessageKind.UNSPECIFIED,
      content: message.content ?? EMPTY_BYTES,
      media: media === undefined ? undefined : isMessage(media, MediaRefSchema) ? media : create(MediaRefSchema, media),
      createdAtMs: message.createdAtMs !== undefined && message.createdAtMs !== 0n ? message.createdAtMs : BigInt(Math.max(0, Math.floor(now))),
    };
    const body = encodeBody(Op.SEND, packet);
    if (HEADER_SIZE + body.byteLength > this.#maxFrameSize) {
      throw new RangeError(`a ${HEADER_SIZE + body.byteLength}-byte SEND exceeds the server's max_frame_size (${this.#maxFrameSize})`);
    }
    this.#outbox.add(id, conversationId, body);
    this.#pump(now);
    return id;
  }

  /**
   * Sends a failed message again with the same client id (the server answers DUPLICATE if it had
   * stored it). Only messages failed by timeout are kept for this (`failed` event with `retryable`).
   * @throws SessionError NOT_FAILED if no kept failed message has this id; SEND_QUEUE_FULL at the
   *   bound; CLOSED after close()/disconnect().
   * @throws TypeError for a `clientMsgId` that is not a bigint or a `now` that is not a finite number.
   */
  resend(clientMsgId: bigint, now: number): void {
    checkNow(now);
    if (this.#terminated) throw new SessionError("CLOSED", "the engine is closed");
    if (typeof clientMsgId !== "bigint") throw new TypeError("clientMsgId must be a bigint");
    this.#now = now;
    this.#outbox.resend(clientMsgId);
    this.#pump(now);
  }

  /**
   * Forgets a failed message kept for `resend` (the user deleted it).
   * @returns true if one was kept.
   * @throws TypeError for a `clientMsgId` that is not a bigint.
   */
  discard(clientMsgId: bigint): boolean {
    if (typeof clientMsgId !== "bigint") throw new TypeError("clientMsgId must be a bigint");
    return this.#outbox.discard(clientMsgId);
  }

  /**
   * Uploads an object in parts (§11.6). Progress, completion and failure are events; `done` settles too.
   * The bytes are not copied: do not modify them until the upload ends.
   * @param options `uploadId`: the CHUNK upload_id (default: a fresh id from the client id generator).
   * @returns the upload id and a promise of the object id.
   * @throws SessionError CLOSED after close()/disconnect(); UPLOAD_QUEUE_FULL with `maxUploads` open.
   * @throws TypeError for `bytes` not a Uint8Array or `contentType`/`uploadId` not a string;
   *   RangeError for empty `bytes`, an empty or already open `uploadId`, or an id and content type too
   *   long to leave room for data in one frame.
   */
  upload(bytes: Uint8Array, contentType: string, now: number, options?: { uploadId?: string }): UploadHandle {
    checkNow(now);
    if (this.#terminated) throw new SessionError("CLOSED", "the engine is closed");
    if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes must be a Uint8Array");
    if (bytes.byteLength === 0) throw new RangeError("an upload needs at least one byte");
    if (typeof contentType !== "string") throw new TypeError("contentType must be a string");
    const given = options?.uploadId;
    if (given !== undefined && typeof given !== "string") throw new TypeError("uploadId must be a string");
    if (given === "") throw new RangeError("uploadId must not be empty");
    if (given !== undefined && this.#uploads.has(given)) throw new RangeError(`upload ${given} is already open`);
    if (this.#uploads.size >= this.#options.maxUploads) throw new SessionError("UPLOAD_QUEUE_FULL", `${this.#uploads.size} uploads are open (maxUploads)`);
    this.#now = now;
    const uploadId = given ?? `u${this.#nextClientMsgId().toString(36)}`;
    const handle = this.#uploads.start(uploadId, bytes, contentType, this.#maxFrameSize);
    this.#pump(now);
    return handle;
  }

  /**
   * Sends a frame with an application op (≥ 1000) and seq 0; syncwire never interprets it. Before
   * WELCOME it waits (bounded by `maxPendingSends`); it is not retransmitted, and one not yet polled
   * when its link ends is dropped.
   * @param body copied now.
   * @throws SessionError CLOSED after close()/disconnect(); SEND_QUEUE_FULL when the wait queue is full.
   * @throws RangeError for an op below 1000 or above 2^32 − 1, or a frame larger than the server's
   *   `max_frame_size`; TypeError for a `body` that is not a Uint8Array.
   */
  sendApplication(op: number, body: Uint8Array, now: number): void {
    checkNow(now);
    if (this.#terminated) throw new SessionError("CLOSED", "the engine is closed");
    if (!isApplicationOp(op)) throw new RangeError(`application ops are 1000 … 2^32 − 1, got ${op}`);
    if (!(body instanceof Uint8Array)) throw new TypeError("body must be a Uint8Array");
    if (HEADER_SIZE + body.byteLength > this.#maxFrameSize) {
      throw new RangeError(`a ${HEADER_SIZE + body.byteLength}-byte frame exceeds the server's max_frame_size (${this.#maxFrameSize})`);
    }
    this.#now = now;
    if (this.#state === "open") {
      this.#out.push({ op, seq: 0, version: this.#version, body: body.slice() });
    } else {
      if (this.#appQueue.length >= this.#options.maxPendingSends) throw new SessionError("SEND_QUEUE_FULL", "too many application frames wait for WELCOME");
      this.#appQueue.push({ op, body: body.slice() });
    }
  }

  // ── Inside ───────────────────────────────────────────────────────────────────────────────────────

  #active(): boolean {
    return this.#state === "handshaking" || this.#state === "open";
  }

  #random(): number {
    const r = this.#userRandom();
    if (!(r >= 0 && r < 1)) throw new RangeError(`random() must return a number in [0, 1), got ${r}`);
    return r;
  }

  #inFlight(): number {
    return this.#outbox.inFlightCount + this.#sync.inFlightCount + this.#uploads.inFlightCount;
  }

  #request(op: number, body: Uint8Array, owner: RequestOwner | undefined): number {
    const seq = nextSeq(this.#seq);
    this.#seq = seq;
    this.#out.push({ op, seq, version: this.#version, body });
    if (owner !== undefined) this.#requests.set(seq, owner);
    return seq;
  }

  #pump(now: number): void {
    if (this.#state !== "open") return;
    this.#sync.pump(now);
    if (!this.#short) this.#outbox.pump(now);
    this.#uploads.pump(now);
  }

  #receiveFrames(frames: readonly Frame[], failure: FrameError | undefined, now: number): void {
    for (const frame of frames) {
      if (!this.#active()) return;
      this.#dispatch(frame, now);
    }
    if (!this.#active()) return;
    if (failure !== undefined) this.#protocolError(failure.code, failure.message, failure);
    else this.#pump(now);
  }

  /** One frame from the server (or from inside its BATCH). Body errors become a protocol error. */
  #dispatch(frame: Frame, now: number): void {
    try {
      if (this.#welcomed && frame.version !== this.#version) {
        this.#protocolError("UNEXPECTED_VERSION", `${opName(frame.op)} with header version ${frame.version} on a version ${this.#version} link`);
        return;
      }
      switch (frame.op) {
        case Op.WELCOME:
          this.#onWelcome(frame, now);
          return;
        case Op.DISCONNECT:
          this.#onDisconnect(frame);
          return;
        case Op.BATCH:
          if (!this.#options.batching) {
            this.#protocolError("BATCH_REFUSED", "a BATCH, though HELLO said the client does not accept batches");
            return;
          }
          for (const inner of splitBatch(frame, this.#decodeLimits)) {
            if (!this.#active()) return;
            this.#dispatch(inner, now);
          }
          return;
      }
      if (this.#state !== "open") {
        // Before WELCOME no request but HELLO is out, so a reply answers nothing (§11.8: ignored, as a
        // late or duplicated one would be), and a NOTIFY is moot (every WELCOME starts a sync).
        if (IGNORED_BEFORE_WELCOME.has(frame.op)) return;
        this.#protocolError("UNEXPECTED_OP", `${opName(frame.op)} before WELCOME`);
        return;
      }
      switch (frame.op) {
        case Op.HEARTBEAT_ACK:
          this.#heartbeat.onAck(frame.seq, decodeMessage(Op.HEARTBEAT_ACK, frame.body, frame.headerLength), now);
          return;
        case Op.ACK:
          this.#onAck(frame);
          return;
        case Op.NOTIFY:
          this.#sync.onNotify(decodeMessage(Op.NOTIFY, frame.body, frame.headerLength).syncKey);
          return;
        case Op.SYNC_RESULT: {
          const result = decodeMessage(Op.SYNC_RESULT, frame.body, frame.headerLength);
          // Seq 0: an unsolicited result, a reason to sync; its content is not trusted (§11.1).
          if (frame.seq === 0) this.#sync.onNotify(undefined);
          else if (this.#requests.get(frame.seq)?.kind === "sync") this.#sync.onResult(frame.seq, result);
          return;
        }
        case Op.CHUNK_ACK: {
          const ack = decodeMessage(Op.CHUNK_ACK, frame.body, frame.headerLength);
          const owner = this.#requests.get(frame.seq);
          if (owner?.kind === "chunk") this.#uploads.onChunkAck(owner.upload, owner.part, owner.order, frame.seq, ack);
          return;
        }
      }
      if (isApplicationOp(frame.op)) {
        this.#events.push({ type: "application", op: frame.op, seq: frame.seq, body: frame.body });
        return;
      }
      this.#protocolError("UNEXPECTED_OP", `${opName(frame.op)} from the server`);
    } catch (error) {
      if (error instanceof BodyError || error instanceof FrameError) this.#protocolError(error.code, error.message, error);
      else throw error;
    }
  }

  #onWelcome(frame: Frame, now: number): void {
    // Once answered, HELLO is answered: another WELCOME answers nothing and is ignored (a duplicate,
    // §11.8; on a short link, every request's own WELCOME after the first).
    if (this.#welcomed) return;
    const welcome = decodeMessage(Op.WELCOME, frame.body, frame.headerLength);
    if (frame.seq !== this.#helloSeq) {
      this.#protocolError("BAD_WELCOME", `WELCOME echoes seq ${frame.seq}, HELLO was seq ${this.#helloSeq}`);
      return;
    }
    if (!this.#options.versions.includes(welcome.version)) {
      this.#protocolError("BAD_WELCOME", `WELCOME chose version ${welcome.version}, HELLO offered ${this.#options.versions.join(", ")}`, undefined, DisconnectCode.UNSUPPORTED_VERSION);
      return;
    }
    if (frame.version !== welcome.version) {
      this.#protocolError("UNEXPECTED_VERSION", `WELCOME chose version ${welcome.version} in a version ${frame.version} header`);
      return;
    }
    const limits = welcome.limits;
    this.#version = welcome.version;
    this.#maxFrameSize = Math.max(HEADER_SIZE, limits?.maxFrameSize || DEFAULT_MAX_FRAME_SIZE);
    this.#maxBatchFrames = this.#short ? 0 : (limits?.maxBatchFrames ?? 0);
    this.#maxInFlight = limits?.maxInFlight || DEFAULT_MAX_IN_FLIGHT;
    this.#sessionId = welcome.sessionId;
    this.#welcomed = true;
    this.#state = "open";
    this.#handshakeDeadline = undefined;
    this.#events.push({
      type: "open",
      sessionId: welcome.sessionId,
      version: welcome.version,
      resumed: this.#everOpened,
      heartbeatIntervalMs: welcome.heartbeatIntervalMs,
      serverTimeMs: welcome.serverTimeMs,
    });
    this.#everOpened = true;
    // A short link has no heartbeat (WELCOME says 0 there anyway) and syncs when asked.
    if (!this.#short) this.#heartbeat.start(welcome.heartbeatIntervalMs, now);
    this.#outbox.failOversized(this.#maxFrameSize);
    this.#uploads.checkFit(this.#maxFrameSize);
    for (const { op, body } of this.#appQueue) {
      if (HEADER_SIZE + body.byteLength <= this.#maxFrameSize) this.#out.push({ op, seq: 0, version: this.#version, body });
    }
    this.#appQueue = [];
    if (!this.#short) this.#sync.start();
  }

  #onDisconnect(frame: Frame): void {
    const disconnect = decodeMessage(Op.DISCONNECT, frame.body, frame.headerLength);
    const refused = !this.#welcomed && frame.seq === this.#helloSeq;
    this.#endLink();
    this.#dropOutput();
    this.#state = "closed";
    this.#events.push({
      type: "disconnected",
      code: disconnect.code,
      reason: disconnect.reason,
      retryAfterMs: disconnect.retryAfterMs,
      refused,
      reconnect: !NO_AUTOMATIC_RECONNECT.has(disconnect.code),
    });
  }

  #onAck(frame: Frame): void {
    const ack = decodeMessage(Op.ACK, frame.body, frame.headerLength);
    const owner = this.#requests.get(frame.seq);
    if (owner === undefined) return;
    switch (owner.kind) {
      case "send":
        this.#outbox.onAck(owner, ack);
        return;
      case "commit":
        this.#sync.onCommitAck(frame.seq);
        return;
      case "chunk":
        // CHUNK is answered by CHUNK_ACK; an ACK to it can only be the refusal of the upload (§11.6).
        if (ack.status === AckStatus.REJECTED) this.#uploads.onRejected(owner.upload, frame.seq, ack.error);
        return;
      case "sync":
        return; // SYNC is answered by SYNC_RESULT only
    }
  }

  #protocolError(code: ClientProtocolErrorCode, reason: string, cause?: FrameError | BodyError, disconnectCode = DisconnectCode.PROTOCOL_ERROR): void {
    this.#endLink();
    this.#dropOutput();
    this.#queueDisconnect(disconnectCode, reason);
    this.#state = "closed";
    this.#events.push(cause === undefined ? { type: "error", code, reason } : { type: "error", code, reason, cause });
  }

  #linkDead(reason: "heartbeat" | "handshake"): void {
    this.#endLink();
    this.#dropOutput();
    this.#state = "closed";
    this.#events.push({ type: "link-dead", reason });
  }

  #queueDisconnect(code: DisconnectCode, reason: string): void {
    // DISCONNECT needs a body: code 0 with no reason would encode to nothing.
    const text = reason === "" && code === DisconnectCode.UNSPECIFIED ? "disconnect" : reason.slice(0, 200);
    const body = encodeBody(Op.DISCONNECT, create(DisconnectSchema, { code, reason: text }));
    this.#out.push({ op: Op.DISCONNECT, seq: 0, version: this.#version, body });
  }

  /** The link's requests are over: parts take back what was in flight; replies can no longer come. */
  #endLink(): void {
    this.#decoder = undefined;
    this.#requests.clear();
    this.#handshakeDeadline = undefined;
    this.#heartbeat.stop();
    this.#outbox.linkLost();
    this.#sync.linkLost();
    this.#uploads.linkLost();
  }

  #dropOutput(): void {
    this.#out = [];
    this.#outHead = 0;
  }
}
