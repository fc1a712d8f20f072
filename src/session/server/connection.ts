/**
 * ServerConnection: the server side of one link (docs/PROTOCOL.md §11), sans-I/O.
 *
 * Theory of operation. The adapter feeds bytes (`receiveBytes`, a stream) or whole messages
 * (`receiveMessage`) with the time, and drains `pollTransmit()` / `pollEvent()`; stores are async, so a
 * request's answer may appear later, from a promise continuation — then the connection calls the
 * adapter's `wake()` (from a microtask, never from inside its own code) and the adapter drains again.
 *
 * States (`LinkState`): "handshaking" from `accept` until WELCOME is queued, then "open", and "closed"
 * for good once a DISCONNECT was queued or received, the transport went away, or a short link answered
 * everything. Nothing leaves "closed": later input is ignored, later store results are dropped, and
 * `pollTransmit` only drains what was queued before (the DISCONNECT last).
 *
 * Input. Frames are decoded and their bodies validated the moment they arrive, in order, so a peer
 * error (FrameError, BodyError, a reserved or wrong-direction op, a frame before HELLO) closes the link
 * at once with DISCONNECT PROTOCOL_ERROR; inner frames of a BATCH are handled as if they had arrived
 * alone. The first frame must be HELLO. Requests become jobs in one queue, started in arrival order:
 *
 * - HELLO, SYNC and SYNC_COMMIT are *barriers*: each starts when everything before it has finished,
 *   and nothing after it starts until it has finished;
 * - SEND and CHUNK are *pipelined*: each starts at once (issuing its first store call in the same tick
 *   as its neighbours, which a Redis store pipelines), chained only behind the earlier SEND of the same
 *   conversation (stored in the order sent) or CHUNK of the same upload;
 * - until WELCOME, every other frame waits behind HELLO as a barrier too (a short link's requests
 *   follow HELLO at once); after it HEARTBEAT is answered and application frames are handed over on
 *   arrival, ahead of slower requests;
 * - on a short link every request is a barrier, so the replies leave in request order (§11.9).
 *
 * Requests (SEND, SYNC, SYNC_COMMIT, CHUNK, and anything held before WELCOME) count as in flight from
 * arrival until answered or dropped. A client cannot know whether a request it retransmits was lost or
 * is only slow, so a retransmission of a request still waiting here (a SEND with the same client id, a
 * CHUNK of the same part, a second SYNC or SYNC_COMMIT) counts with it, not again: more than
 * `maxInFlight` *distinct* requests waiting closes the link with RATE_LIMITED, and so do more than
 * `MAX_COPIES × maxInFlight` frames in all. That also bounds the frames (and the receive buffers they
 * are views of) held in the queue.
 *
 * Output is a queue of whole frames. NOTIFYs coalesce: while one is queued, later ones merge their key
 * into it. When the client accepts batches, `pollTransmit` packs what is queued into one BATCH up to the
 * client's frame size.
 *
 * Timers: a handshake deadline until WELCOME, then (long links, heartbeat interval > 0) an idle deadline
 * that every arriving frame pushes back.
 */
import { create } from "@bufbuild/protobuf";
import { BodyError } from "../../bodies/errors.js";
import { encodeBodyFrame } from "../../bodies/frames.js";
import { decodeBody } from "../../bodies/codec.js";
import type { Chunk } from "../../gen/syncwire/v1/chunk_pb.js";
import { AckStatus, type MessagePacket } from "../../gen/syncwire/v1/message_pb.js";
import {
  DisconnectCode,
  DisconnectSchema,
  HeartbeatAckSchema,
  WelcomeSchema,
  LimitsSchema,
  type Hello,
} from "../../gen/syncwire/v1/session_pb.js";
import type { SyncCommit, SyncKey, SyncRequest } from "../../gen/syncwire/v1/sync_pb.js";
import { FrameDecoder } from "../../stream/frame-decoder.js";
import { decodeFrames, type Frame } from "../../wire/decode.js";
import { encodeFrame, encodeHeader } from "../../wire/encode.js";
import { FrameError } from "../../wire/errors.js";
import { DEFAULT_MAX_FRAME_SIZE, HEADER_SIZE, PROTOCOL_VERSION } from "../../wire/header.js";
import { isApplicationOp, Op, opName } from "../../wire/ops.js";
import { splitBatch } from "../../wire/batch.js";
import { SessionError } from "../errors.js";
import type { LinkState, SansIoLink } from "../link.js";
import { checkNow, integerOption } from "../options.js";
import type { Unsubscribe } from "../stores.js";
import type { CloseInitiator, ServerErrorSource, ServerEvent } from "./events.js";
import type { AuthenticateResult, ResolvedServerOptions } from "./options.js";
import { notifyFrame } from "./notify.js";
import { acceptMessage, MESSAGES_KEY, serverTime } from "./send.js";
import { commitSync, syncPage, type SyncContext } from "./sync.js";
import { acceptChunk } from "./upload.js";

/** Protocol versions this server speaks, preferred first. */
export const SERVER_VERSIONS: readonly number[] = Object.freeze([PROTOCOL_VERSION]);

/** What a connection needs from its engine. Internal: `ServerEngine` implements it. */
export interface ConnectionHost {
  readonly options: ResolvedServerOptions;
  /** A fresh session id. */
  newSessionId(): string;
  /** The link is authenticated as (user, clientId): an older link of the same device is replaced. */
  register(link: ServerConnection, user: string, clientId: string): void;
  /** The link closed: forget it. */
  unregister(link: ServerConnection): void;
  /** Housekeeping that is due at `now` (upload expiry). */
  maintain(now: number): void;
}

/** Options of `ServerEngine.accept`. */
export interface AcceptOptions {
  /**
   * Called (from a microtask) when output or events appeared outside a call into the connection, e.g.
   * when a store answered: drain `pollTransmit()` and `pollEvent()` and re-arm the timer. Must not throw.
   */
  wake: () => void;
  /** A short link (one HTTP request, §11.9): no heartbeat, no idle timer, no NOTIFY, no SEND. */
  short?: boolean;
  /** The peer's address, for `authenticate` and logs. */
  remote?: string;
}

/** A queued NOTIFY whose key later NOTIFYs merge into (per stream key, the newest version) until it is transmitted. */
interface NotifySlot {
  readonly versions: Map<number, bigint>;
}

type Outgoing = Uint8Array | NotifySlot;

/** The last pipelined job of a chain, and its completion. */
interface ChainLink {
  readonly job: Job;
  readonly done: Promise<void>;
}

interface Job {
  /** Starts after everything before it finished; nothing after it starts before it finished. */
  readonly barrier: boolean;
  /** Pipelined jobs with the same key in the same chain map (SENDs by conversation, CHUNKs by upload) run one after the other. */
  readonly chain?: string;
  readonly chains?: Map<string, ChainLink>;
  /** Counted in `maxInFlight`. */
  readonly counted: boolean;
  /** The request it transmits (counted jobs): copies with the same key count once against `maxInFlight`. */
  readonly key?: string | bigint;
  readonly run: () => void | Promise<void>;
}

const MAX_REASON = 200;

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Frames a link may have waiting per unit of `maxInFlight`: a request and three retransmissions of it
 * (the reference client's retry limit), all still waiting behind a slow store.
 */
const MAX_COPIES = 4;

function describeError(error: FrameError | BodyError): string {
  return `${error.code} at byte ${error.offset}`;
}

/** One link's protocol state. Created by `ServerEngine.accept`; see the theory of operation above. */
export class ServerConnection implements SansIoLink<ServerEvent> {
  readonly #host: ConnectionHost;
  readonly #options: ResolvedServerOptions;
  readonly #wake: () => void;
  readonly #short: boolean;
  readonly #remote: string | undefined;
  readonly #acceptedAt: number;

  #state: LinkState = "handshaking";
  #decoder: FrameDecoder | undefined;
  #lastFrameAt: number;
  #helloSeen = false;
  #welcomed = false;
  #ended = false;

  #user: string | undefined;
  #clientId = "";
  #sessionId = "";
  #version = PROTOCOL_VERSION;
  #batching = false;
  #peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  #unsubscribe: Unsubscribe | undefined;

  #out: Outgoing[] = [];
  #notify: NotifySlot | undefined;
  #events: ServerEvent[] = [];

  #jobs: Job[] = [];
  /** Counted jobs waiting (every copy). */
  #inFlight = 0;
  /** Distinct requests waiting: keyed jobs once per key, unkeyed ones each. */
  #distinct = 0;
  /** Key → copies waiting. */
  readonly #copies = new Map<string | bigint, number>();
  #barrierRunning = false;
  #pipelined = 0;
  /**
   * Conversation → its last pipelined SEND, and upload id → its last CHUNK (two maps, so the chain key
   * is the id itself and no key string is built per request).
   */
  readonly #sendChains = new Map<string, ChainLink>();
  readonly #chunkChains = new Map<string, ChainLink>();
  /** User → newest version of their messages stream, to publish once this tick's SENDs are stored. */
  #grown: Map<string, bigint> | undefined;

  #pending = 0;
  #idleWaiters: (() => void)[] = [];
  #inCall = 0;
  #wakeScheduled = false;

  /** @internal Use `ServerEngine.accept`. */
  constructor(host: ConnectionHost, now: number, options: AcceptOptions) {
    this.#host = host;
    this.#options = host.options;
    this.#wake = options.wake;
    this.#short = options.short === true;
    this.#remote = options.remote;
    this.#acceptedAt = now;
    this.#lastFrameAt = now;
  }

  // ------------------------------------------------------------------------------------ inspection

  /** Where the link is: "handshaking", "open" or "closed" (a server link is never "idle"). */
  get state(): LinkState {
    return this.#state;
  }

  /** The authenticated user, once WELCOME was sent. */
  get user(): string | undefined {
    return this.#user;
  }

  /** HELLO's client_id (the device), once HELLO arrived. */
  get clientId(): string {
    return this.#clientId;
  }

  /** WELCOME's session id, once sent. */
  get sessionId(): string {
    return this.#sessionId;
  }

  /** True for a short link. */
  get short(): boolean {
    return this.#short;
  }

  /** The address given to `accept`. */
  get remote(): string | undefined {
    return this.#remote;
  }

  /** Requests received and not yet answered (or dropped). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Resolves when no store work of this link is pending (requests, NOTIFY publishes, unsubscribing).
   * For tests and for draining before shutdown; new input may start new work.
   * @returns a promise that never rejects.
   */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  // ----------------------------------------------------------------------------------------- input

  /**
   * Bytes of a byte stream, cut anywhere. Frames inside `chunk` are kept as views until handled: do not
   * reuse its memory. Ignored once the link is closed or after `endOfInput`.
   * @throws TypeError if `chunk` is not a Uint8Array; RangeError if `now` is not a finite number. Never
   *   on peer input: garbage becomes DISCONNECT PROTOCOL_ERROR and state "closed".
   */
  receiveBytes(chunk: Uint8Array, now: number): void {
    if (!(chunk instanceof Uint8Array)) throw new TypeError("receiveBytes needs a Uint8Array");
    checkNow(now);
    if (this.#isClosed() || this.#ended) return;
    this.#decoder ??= new FrameDecoder({ maxFrameSize: this.#options.maxFrameSize });
    const frames: Frame[] = [];
    let failure: FrameError | undefined;
    try {
      this.#decoder.push(chunk, frames);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      failure = error;
    }
    this.#call(now, () => {
      this.#onFrames(frames, now);
      if (failure !== undefined) this.#protocolError(`bad frame on the stream: ${describeError(failure)}`, failure);
    });
  }

  /**
   * One message of a message transport (WebSocket message, HTTP body): whole frames end to end. Frames
   * are kept as views of `message` until handled. Ignored once closed or after `endOfInput`.
   * @throws TypeError / RangeError as {@link receiveBytes}; never on peer input.
   */
  receiveMessage(message: Uint8Array, now: number): void {
    if (!(message instanceof Uint8Array)) throw new TypeError("receiveMessage needs a Uint8Array");
    checkNow(now);
    if (this.#isClosed() || this.#ended) return;
    this.#call(now, () => {
      let frames: Frame[];
      try {
        frames = decodeFrames(message, { maxFrameSize: this.#options.maxFrameSize }).frames;
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        this.#protocolError(`bad frame in a message: ${describeError(error)}`, error);
        return;
      }
      this.#onFrames(frames, now);
    });
  }

  /**
   * The client will send nothing more (the HTTP request body is complete, or a stream was half-closed):
   * once every request received is answered, the link becomes "closed" (a `closed` event with NORMAL; no
   * DISCONNECT is sent). A frame cut off by the end, or a link that never sent HELLO, is a protocol error.
   * @throws RangeError if `now` is not a finite number.
   */
  endOfInput(now: number): void {
    checkNow(now);
    if (this.#isClosed() || this.#ended) return;
    this.#call(now, () => {
      this.#ended = true;
      try {
        this.#decoder?.end();
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        this.#protocolError(`the input ended inside a frame: ${describeError(error)}`, error);
        return;
      }
      if (!this.#helloSeen) {
        this.#protocolError("the input ended before HELLO");
        return;
      }
      this.#finishIfDone();
    });
  }

  // ---------------------------------------------------------------------------------------- output

  /**
   * The next whole frame to write (one frame, or a BATCH of several when the client accepts batches), or
   * undefined when nothing is queued.
   * @returns a fresh array or a view of a pooled slab (its bytes are yours; never transfer `.buffer`).
   * @throws RangeError if `now` is not a finite number.
   */
  pollTransmit(now: number): Uint8Array | undefined {
    checkNow(now);
    const first = this.#out[0];
    if (first === undefined) return undefined;
    if (!this.#batching || this.#out.length === 1) {
      this.#out.shift();
      return this.#materialise(first);
    }
    const frames: Uint8Array[] = [];
    let size = HEADER_SIZE;
    while (this.#out.length > 0) {
      const frame = this.#materialise(this.#out[0]!);
      if (frames.length > 0 && size + frame.byteLength > this.#peerMaxFrameSize) {
        // Does not fit this batch: keep it (already encoded) for the next call.
        this.#out[0] = frame;
        break;
      }
      this.#out.shift();
      frames.push(frame);
      size += frame.byteLength;
    }
    if (frames.length === 1) return frames[0];
    const batch = new Uint8Array(size);
    batch.set(encodeHeader({ op: Op.BATCH, version: this.#version, bodyLength: size - HEADER_SIZE }), 0);
    let at = HEADER_SIZE;
    for (const frame of frames) {
      batch.set(frame, at);
      at += frame.byteLength;
    }
    return batch;
  }

  /** The next event for the application, or undefined. Never throws. */
  pollEvent(): ServerEvent | undefined {
    return this.#events.shift();
  }

  /** The time `handleTimeout` must next be called, or undefined if no timer is needed. Never throws. */
  pollTimeout(): number | undefined {
    if (this.#isClosed()) return undefined;
    if (!this.#welcomed) return this.#acceptedAt + this.#options.handshakeTimeoutMs;
    if (this.#short || this.#options.idleTimeoutMs === 0 || this.#options.heartbeatIntervalMs === 0) return undefined;
    return this.#lastFrameAt + this.#options.idleTimeoutMs;
  }

  /**
   * Runs what is due at `now`: the handshake deadline, the idle deadline (DISCONNECT IDLE_TIMEOUT), and
   * the engine's housekeeping. Harmless when nothing is due.
   * @throws RangeError if `now` is not a finite number.
   */
  handleTimeout(now: number): void {
    checkNow(now);
    this.#host.maintain(now);
    if (this.#isClosed()) return;
    const deadline = this.pollTimeout();
    if (deadline === undefined || now < deadline) return;
    this.#call(now, () => {
      if (!this.#welcomed) this.#disconnect(DisconnectCode.IDLE_TIMEOUT, `no completed handshake within ${this.#options.handshakeTimeoutMs} ms`);
      else this.#disconnect(DisconnectCode.IDLE_TIMEOUT, `nothing received for ${this.#options.idleTimeoutMs} ms`);
    });
  }

  /**
   * The transport is gone: state "closed", queued output dropped, a `closed` event (initiator
   * "transport", code UNSPECIFIED) unless the link was already closed. Store work already started runs
   * to its end; its answers are dropped.
   * @throws RangeError if `now` is not a finite number.
   */
  linkClosed(now: number): void {
    checkNow(now);
    this.#out = [];
    this.#notify = undefined;
    if (!this.#isClosed()) this.#close(DisconnectCode.UNSPECIFIED, "the transport closed", "transport");
  }

  /**
   * Queues an application frame (op ≥ 1000) to the client, e.g. from `onApplicationFrame`.
   * @param body copied into the frame.
   * @param seq the request it answers, or 0 (default) for a push.
   * @throws SessionError CLOSED if the link is closed; TypeError before WELCOME or if `body` is not a
   *   Uint8Array; RangeError for an op below 1000 or above 2^32 − 1, a seq outside u32, or a frame larger
   *   than the client accepts.
   */
  sendApplicationFrame(op: number, body: Uint8Array, seq = 0): void {
    if (this.#isClosed()) throw new SessionError("CLOSED", "the link is closed");
    if (!this.#welcomed) throw new TypeError("sendApplicationFrame before WELCOME");
    if (!isApplicationOp(op)) throw new RangeError(`application ops are 1000 … 2^32 − 1, got ${op}`);
    if (!(body instanceof Uint8Array)) throw new TypeError("body must be a Uint8Array");
    const frame = encodeFrame({ op, seq, version: this.#version, body });
    if (frame.byteLength > this.#peerMaxFrameSize) throw new RangeError(`frame of ${frame.byteLength} bytes exceeds the client's ${this.#peerMaxFrameSize}`);
    this.#push(frame);
  }

  /**
   * Ends the link from the server's side: queues DISCONNECT (seq 0) with `code`, `reason` and
   * `retryAfterMs`, and goes "closed" (a `closed` event follows; the adapter is woken to write it).
   * The engine uses it for SERVER_SHUTDOWN and REPLACED; an application may, e.g., to log a user out.
   * Harmless on a closed link.
   * @throws RangeError if `retryAfterMs` is not a u32 or `code` not a u32.
   */
  disconnect(code: DisconnectCode = DisconnectCode.NORMAL, reason = "", retryAfterMs = 0): void {
    integerOption("code", code, 0, 0, 0xffff_ffff);
    integerOption("retryAfterMs", retryAfterMs, 0, 0, 0xffff_ffff);
    this.#external(() => this.#disconnect(code, String(reason), 0, retryAfterMs));
  }

  // --------------------------------------------------------------------------------------- dispatch

  /**
   * Runs `body` as a call from the adapter: no wake for what it produces (the adapter drains next). An
   * unexpected exception (a bug) closes this link, never escapes, and never touches another link.
   */
  #call(now: number, body: () => void): void {
    this.#inCall++;
    try {
      body();
    } catch (error) {
      this.#internalError(error);
    } finally {
      this.#inCall--;
    }
    this.#host.maintain(now);
  }

  /** Runs `body` outside an adapter's call (engine, presence, continuations), waking the adapter if anything is queued. */
  #external(body: () => void): void {
    try {
      body();
    } catch (error) {
      this.#internalError(error);
    }
    this.#afterExternal();
  }

  /** After work outside an adapter's call: wake the adapter if anything is queued. */
  #afterExternal(): void {
    if (this.#out.length > 0 || this.#events.length > 0) this.#scheduleWake();
  }

  #internalError(error: unknown): void {
    this.#events.push({ type: "error", source: "internal", request: "link", error });
    this.#disconnect(DisconnectCode.UNSPECIFIED, "internal server error");
  }

  #onFrames(frames: readonly Frame[], now: number): void {
    for (const frame of frames) {
      if (this.#isClosed()) return;
      this.#lastFrameAt = now;
      if (frame.op !== Op.BATCH) {
        this.#onFrame(frame, now);
        continue;
      }
      if (this.#options.maxBatchFrames === 0) {
        this.#protocolError("BATCH is not accepted on this link (max_batch_frames is 0)");
        return;
      }
      let inner: Frame[];
      try {
        inner = splitBatch(frame, { maxFrameSize: this.#options.maxFrameSize });
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        this.#protocolError(`bad frame inside a BATCH: ${describeError(error)} of the BATCH`, error);
        return;
      }
      if (inner.length > this.#options.maxBatchFrames) {
        this.#protocolError(`a BATCH of ${inner.length} frames exceeds max_batch_frames ${this.#options.maxBatchFrames}`);
        return;
      }
      for (const f of inner) {
        if (this.#isClosed()) return;
        this.#onFrame(f, now);
      }
    }
  }

  /** Decodes a body now, turning a BodyError into a protocol error (undefined then). */
  #message<T>(frame: Frame): T | undefined {
    try {
      const body = decodeBody(frame);
      return body.opaque ? undefined : (body.message as T);
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      this.#protocolError(`bad ${opName(frame.op)} body: ${describeError(error)} of the frame`, error);
      return undefined;
    }
  }

  #onFrame(frame: Frame, now: number): void {
    const op = frame.op;
    if (!this.#helloSeen) {
      if (op !== Op.HELLO) {
        this.#protocolError(`${opName(op)} before HELLO: HELLO must be the first frame`);
        return;
      }
      this.#helloSeen = true;
      let hello: Hello;
      try {
        const body = decodeBody(frame);
        hello = (body as { message: Hello }).message;
      } catch (error) {
        if (!(error instanceof BodyError)) throw error;
        this.#events.push({ type: "protocol-error", reason: `bad HELLO body: ${describeError(error)}`, error });
        this.#refuse(frame.seq, DisconnectCode.PROTOCOL_ERROR, `bad HELLO body: ${describeError(error)}`);
        return;
      }
      this.#clientId = hello.clientId;
      this.#enqueue({ barrier: true, counted: false, run: () => this.#handshake(frame.seq, hello, now) });
      return;
    }
    switch (op) {
      case Op.HELLO:
        this.#protocolError("a second HELLO on the link");
        return;
      case Op.DISCONNECT: {
        let code = DisconnectCode.UNSPECIFIED;
        let reason = "";
        try {
          const body = decodeBody(frame) as { message: { code: DisconnectCode; reason: string } };
          ({ code, reason } = body.message);
        } catch (error) {
          if (!(error instanceof BodyError)) throw error;
          reason = `unreadable DISCONNECT: ${describeError(error)}`;
        }
        // The peer is gone: send nothing more (§11.7), drop what is queued.
        this.#out = [];
        this.#notify = undefined;
        this.#close(code, reason, "client");
        return;
      }
      case Op.HEARTBEAT: {
        if (this.#short) return this.#protocolError("HEARTBEAT on a short link");
        const heartbeat = this.#message<{ clientTimeMs: bigint }>(frame);
        if (heartbeat === undefined) return;
        const answer = () => this.#push(encodeBodyFrame(Op.HEARTBEAT_ACK, create(HeartbeatAckSchema, { clientTimeMs: heartbeat.clientTimeMs, serverTimeMs: serverTime(now) }), { seq: frame.seq, version: this.#version }));
        if (this.#welcomed) answer();
        else this.#enqueue({ barrier: true, counted: true, run: answer });
        return;
      }
      case Op.SEND: {
        if (this.#short) return this.#protocolError("SEND on a short link");
        const message = this.#message<MessagePacket>(frame);
        if (message === undefined) return;
        this.#enqueue({ barrier: !this.#welcomed, chain: message.conversationId, chains: this.#sendChains, counted: true, key: message.clientMsgId, run: () => this.#send(frame.seq, message, now) });
        return;
      }
      case Op.SYNC: {
        const request = this.#message<SyncRequest>(frame);
        if (request === undefined) return;
        this.#enqueue({ barrier: true, counted: true, key: "y", run: () => this.#sync(frame.seq, request) });
        return;
      }
      case Op.SYNC_COMMIT: {
        const commit = this.#message<SyncCommit>(frame);
        if (commit === undefined) return;
        this.#enqueue({ barrier: true, counted: true, key: "m", run: () => this.#commit(frame.seq, commit) });
        return;
      }
      case Op.CHUNK: {
        const chunk = this.#message<Chunk>(frame);
        if (chunk === undefined) return;
        // A short link answers in request order (§11.9): nothing is pipelined there.
        this.#enqueue({ barrier: !this.#welcomed || this.#short, chain: chunk.uploadId, chains: this.#chunkChains, counted: true, key: `c${chunk.partIndex}:${chunk.uploadId}`, run: () => this.#chunk(frame.seq, chunk, now) });
        return;
      }
      default:
        if (isApplicationOp(op)) {
          if (this.#welcomed && !this.#short) this.#application(frame, now);
          else this.#enqueue({ barrier: true, counted: true, run: () => this.#application(frame, now) });
          return;
        }
        this.#protocolError(
          op === Op.ACK || op === Op.WELCOME || op === Op.NOTIFY || op === Op.SYNC_RESULT || op === Op.HEARTBEAT_ACK || op === Op.CHUNK_ACK
            ? `${opName(op)} is a server-to-client op`
            : `reserved op ${op}`,
        );
    }
  }

  #application(frame: Frame, now: number): void {
    this.#events.push({ type: "application", frame });
    const hook = this.#options.onApplicationFrame;
    if (hook === undefined) return;
    try {
      hook(frame, this, now);
    } catch (error) {
      this.#events.push({ type: "error", source: "onApplicationFrame", request: opName(frame.op), error });
    }
  }

  // ------------------------------------------------------------------------------------------ jobs

  #enqueue(job: Job): void {
    if (job.counted) {
      this.#inFlight++;
      const key = job.key;
      const copies = key === undefined ? 0 : (this.#copies.get(key) ?? 0);
      if (key !== undefined) this.#copies.set(key, copies + 1);
      if (copies === 0) this.#distinct++;
      const max = this.#options.maxInFlight;
      if (this.#distinct > max || this.#inFlight > MAX_COPIES * max) {
        const reason = this.#distinct > max ? `more than max_in_flight ${max} requests unanswered` : `more than ${MAX_COPIES * max} frames unanswered (retransmissions included)`;
        this.#events.push({ type: "protocol-error", reason });
        this.#disconnect(DisconnectCode.RATE_LIMITED, `more than ${this.#options.maxInFlight} requests in flight`, 0, this.#options.retryAfterMs);
        return;
      }
    }
    this.#jobs.push(job);
    this.#pump();
  }

  /** Starts every job the ordering rules allow (see the theory of operation). */
  #pump(): void {
    while (!this.#isClosed() && !this.#barrierRunning) {
      const job = this.#jobs[0];
      if (job === undefined) break;
      if (job.barrier && this.#pipelined > 0) break;
      this.#jobs.shift();
      this.#start(job);
    }
    this.#finishIfDone();
  }

  #start(job: Job): void {
    if (job.barrier) this.#barrierRunning = true;
    else this.#pipelined++;
    const chains = job.barrier ? undefined : job.chains;
    const previous = chains?.get(job.chain!)?.done;
    this.#pending++;
    const done = this.#run(job, previous);
    if (chains !== undefined) chains.set(job.chain!, { job, done });
  }

  /**
   * Runs one job after the job it is chained behind, then frees its place and starts what it held back.
   * One async function per job (not a chain of `then`s): each promise and reaction is on the hot path.
   * @returns a promise that never rejects.
   */
  async #run(job: Job, previous: Promise<void> | undefined): Promise<void> {
    try {
      if (previous !== undefined) await previous;
      if (!this.#isClosed()) await job.run();
    } catch (error) {
      this.#events.push({ type: "error", source: "internal", request: "request", error });
    }
    if (job.barrier) this.#barrierRunning = false;
    else this.#pipelined--;
    if (job.counted) this.#release(job.key);
    const chains = job.chains;
    if (chains !== undefined && chains.get(job.chain!)?.job === job) chains.delete(job.chain!);
    try {
      this.#pump();
    } catch (error) {
      this.#internalError(error);
    }
    this.#afterExternal();
    this.#settled();
  }

  /** A counted job is answered (or dropped): it no longer waits. */
  #release(key: string | bigint | undefined): void {
    this.#inFlight--;
    if (key === undefined) {
      this.#distinct--;
      return;
    }
    const copies = this.#copies.get(key)! - 1;
    if (copies > 0) {
      this.#copies.set(key, copies);
    } else {
      this.#copies.delete(key);
      this.#distinct--;
    }
  }

  /** Counts `work` as pending for `idle()`. */
  #track(work: Promise<unknown>): void {
    this.#pending++;
    void work.then(
      () => this.#settled(),
      () => this.#settled(),
    );
  }

  #settled(): void {
    if (--this.#pending > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** A short (or half-closed) link whose input ended and whose requests are all answered is done. */
  #finishIfDone(): void {
    if (!this.#ended || this.#isClosed() || !this.#welcomed) return;
    if (this.#jobs.length > 0 || this.#barrierRunning || this.#pipelined > 0) return;
    this.#close(DisconnectCode.NORMAL, "every request was answered", "server");
  }

  // -------------------------------------------------------------------------------------- requests

  async #handshake(seq: number, hello: Hello, now: number): Promise<void> {
    const offered = hello.versions.length === 0 ? [PROTOCOL_VERSION] : hello.versions;
    const version = offered.find((v) => SERVER_VERSIONS.includes(v));
    if (version === undefined) {
      this.#refuse(seq, DisconnectCode.UNSUPPORTED_VERSION, `no common version: the client offers [${offered.join(", ")}], the server speaks [${SERVER_VERSIONS.join(", ")}]`);
      return;
    }
    this.#sessionId = this.#host.newSessionId();
    let verdict: AuthenticateResult;
    try {
      verdict = await this.#options.authenticate(hello, { sessionId: this.#sessionId, short: this.#short, remote: this.#remote, now });
      if (verdict === null || typeof verdict !== "object") throw new TypeError(`authenticate returned ${String(verdict)}`);
      if (!("refuse" in verdict) && (typeof verdict.user !== "string" || verdict.user === "")) throw new TypeError("authenticate returned no user");
    } catch (error) {
      this.#unavailable("authenticate", error, seq, "authentication is unavailable");
      return;
    }
    if (this.#isClosed()) return;
    if ("refuse" in verdict) {
      this.#refuse(seq, verdict.refuse, String(verdict.reason ?? "refused"), verdict.retryAfterMs ?? 0);
      return;
    }
    const user = verdict.user;
    if (!this.#short) {
      let unsubscribe: Unsubscribe;
      try {
        unsubscribe = await this.#options.stores.presence.subscribe(user, (head) => this.#onNotify(head));
      } catch (error) {
        this.#unavailable("store", error, seq, "presence is unavailable");
        return;
      }
      if (this.#isClosed()) {
        this.#track(startUnsubscribe(unsubscribe));
        return;
      }
      this.#unsubscribe = unsubscribe;
    }
    this.#user = user;
    this.#version = version;
    const capabilities = hello.capabilities;
    this.#batching = capabilities?.batching === true;
    const peerMax = capabilities?.maxFrameSize ?? 0;
    this.#peerMaxFrameSize = peerMax === 0 ? DEFAULT_MAX_FRAME_SIZE : Math.max(HEADER_SIZE, peerMax);
    const welcome = create(WelcomeSchema, {
      version,
      sessionId: this.#sessionId,
      heartbeatIntervalMs: this.#short ? 0 : this.#options.heartbeatIntervalMs,
      limits: create(LimitsSchema, { maxFrameSize: this.#options.maxFrameSize, maxBatchFrames: this.#options.maxBatchFrames, maxInFlight: this.#options.maxInFlight }),
      serverTimeMs: serverTime(now),
    });
    this.#push(encodeBodyFrame(Op.WELCOME, welcome, { seq, version }));
    this.#welcomed = true;
    this.#state = "open";
    if (!this.#short) this.#host.register(this, user, hello.clientId);
    this.#events.push({ type: "authenticated", user, clientId: hello.clientId, sessionId: this.#sessionId, version });
  }

  async #send(seq: number, message: MessagePacket, now: number): Promise<void> {
    let outcome;
    try {
      outcome = await acceptMessage({ stores: this.#options.stores, user: this.#user!, now, dedupeTtlMs: this.#options.dedupeTtlMs }, message);
    } catch (error) {
      // Never a false OK: no answer at all, the client retries with the same client_msg_id.
      this.#events.push({ type: "error", source: "store", request: "SEND", error });
      return;
    }
    if (this.#isClosed()) return this.#publish(outcome.grew);
    this.#push(encodeBodyFrame(Op.ACK, outcome.ack, { seq, version: this.#version }));
    this.#publish(outcome.grew);
  }

  /**
   * Tells every link of each user whose log grew (on every node) to sync. SENDs stored in the same tick
   * (a BATCH of them, pipelined) are published together, once per user with the newest version: the
   * NOTIFYs they cause would merge anyway, and a publish is a store call (a Redis PUBLISH).
   */
  #publish(grew: readonly (readonly [string, bigint])[]): void {
    if (grew.length === 0) return;
    let grown = this.#grown;
    if (grown === undefined) {
      grown = this.#grown = new Map();
      this.#pending++;
      void RESOLVED.then(() => this.#flushPublish());
    }
    for (const [user, version] of grew) {
      if (version > (grown.get(user) ?? 0n)) grown.set(user, version);
    }
  }

  #flushPublish(): void {
    const grown = this.#grown!;
    this.#grown = undefined;
    for (const [user, version] of grown) {
      const head: SyncKey = { $typeName: "syncwire.v1.SyncKey", entries: [{ $typeName: "syncwire.v1.SyncKeyEntry", key: MESSAGES_KEY, version }] };
      this.#track(
        this.#options.stores.presence.publish(user, head).catch((error: unknown) => {
          this.#external(() => this.#events.push({ type: "error", source: "store", request: "NOTIFY", error }));
        }),
      );
    }
    this.#settled();
  }

  #syncContext(): SyncContext {
    return {
      stores: this.#options.stores,
      user: this.#user!,
      device: this.#clientId,
      pageLimit: this.#options.syncPageLimit,
      peerMaxFrameSize: this.#peerMaxFrameSize,
      version: this.#version,
    };
  }

  async #sync(seq: number, request: SyncRequest): Promise<void> {
    let frame: Uint8Array;
    try {
      frame = await syncPage(this.#syncContext(), seq, request);
    } catch (error) {
      this.#events.push({ type: "error", source: "store", request: "SYNC", error });
      return;
    }
    if (!this.#isClosed()) this.#push(frame);
  }

  async #commit(seq: number, commit: SyncCommit): Promise<void> {
    try {
      await commitSync(this.#syncContext(), commit);
    } catch (error) {
      this.#events.push({ type: "error", source: "store", request: "SYNC_COMMIT", error });
      return;
    }
    if (!this.#isClosed()) this.#push(encodeBodyFrame(Op.ACK, { $typeName: "syncwire.v1.Ack", status: AckStatus.OK, clientMsgId: 0n, serverMsgId: 0n, serverTimeMs: 0n, error: "" }, { seq, version: this.#version }));
  }

  async #chunk(seq: number, chunk: Chunk, now: number): Promise<void> {
    this.#host.maintain(now);
    let outcome;
    try {
      outcome = await acceptChunk({ stores: this.#options.stores, user: this.#user!, now, limits: this.#options.uploads }, chunk);
    } catch (error) {
      this.#events.push({ type: "error", source: "store", request: "CHUNK", error });
      return;
    }
    if (this.#isClosed()) return;
    if ("refused" in outcome) {
      const ack = { $typeName: "syncwire.v1.Ack", status: AckStatus.REJECTED, clientMsgId: 0n, serverMsgId: 0n, serverTimeMs: 0n, error: outcome.refused } as const;
      this.#push(encodeBodyFrame(Op.ACK, ack, { seq, version: this.#version }));
    } else {
      this.#push(encodeBodyFrame(Op.CHUNK_ACK, outcome.ack, { seq, version: this.#version }));
    }
  }

  #onNotify(head: SyncKey): void {
    // Before WELCOME there is nothing to poke: the client syncs after every WELCOME anyway.
    if (this.#state !== "open" || this.#short) return;
    this.#external(() => {
      let slot = this.#notify;
      if (slot === undefined) {
        slot = this.#notify = { versions: new Map() };
        this.#push(slot);
      }
      for (const { key, version } of head.entries) {
        if (version > (slot.versions.get(key) ?? 0n)) slot.versions.set(key, version);
      }
    });
  }

  // ----------------------------------------------------------------------------------- output/close

  /** A method, not a field test, so TypeScript does not narrow the state across awaits. */
  #isClosed(): boolean {
    return this.#state === "closed";
  }

  #push(frame: Outgoing): void {
    if (this.#isClosed()) return;
    this.#out.push(frame);
  }

  #materialise(item: Outgoing): Uint8Array {
    if (item instanceof Uint8Array) return item;
    if (this.#notify === item) this.#notify = undefined;
    return notifyFrame(item.versions, this.#version);
  }

  #scheduleWake(): void {
    if (this.#inCall > 0 || this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    // A promise reaction, not queueMicrotask: Node wraps every queueMicrotask in an async resource.
    void RESOLVED.then(() => {
      this.#wakeScheduled = false;
      try {
        this.#wake();
      } catch {
        // wake must not throw (AcceptOptions.wake); there is no caller to hand the error to.
      }
    });
  }

  #protocolError(reason: string, error?: FrameError | BodyError): void {
    if (this.#isClosed()) return;
    this.#events.push(error === undefined ? { type: "protocol-error", reason } : { type: "protocol-error", reason, error });
    this.#disconnect(DisconnectCode.PROTOCOL_ERROR, reason);
  }

  /** Refuses the handshake: DISCONNECT echoing HELLO's seq, then closed. */
  #refuse(seq: number, code: DisconnectCode, reason: string, retryAfterMs = 0): void {
    if (this.#isClosed()) return;
    this.#events.push({ type: "refused", code, reason });
    this.#disconnect(code, reason, seq, retryAfterMs);
  }

  /** The server cannot serve the handshake now (a hook or store failed): SERVER_SHUTDOWN with retry advice. */
  #unavailable(source: ServerErrorSource, error: unknown, seq: number, reason: string): void {
    this.#events.push({ type: "error", source, request: "HELLO", error });
    this.#refuse(seq, DisconnectCode.SERVER_SHUTDOWN, reason, this.#options.retryAfterMs);
  }

  #disconnect(code: DisconnectCode, reason: string, seq = 0, retryAfterMs = 0): void {
    if (this.#isClosed()) return;
    const text = reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason;
    this.#out.push(encodeBodyFrame(Op.DISCONNECT, create(DisconnectSchema, { code, reason: text, retryAfterMs }), { seq, version: this.#version }));
    this.#close(code, text, "server");
  }

  #close(code: DisconnectCode, reason: string, initiator: CloseInitiator): void {
    if (this.#isClosed()) return;
    this.#state = "closed";
    this.#jobs = [];
    this.#events.push({ type: "closed", code, reason, initiator });
    this.#host.unregister(this);
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    if (unsubscribe !== undefined) this.#track(startUnsubscribe(unsubscribe));
  }
}

/**
 * Calls `unsubscribe` now, not in a later microtask: the stores drop the listener in the synchronous
 * part of the call, so once a link is closed its listener is gone (never more presence listeners than
 * open links, which the simulation checks). A store that throws synchronously or rejects is ignored:
 * the link is closed either way. Never throws.
 */
function startUnsubscribe(unsubscribe: Unsubscribe): Promise<void> {
  try {
    return Promise.resolve(unsubscribe()).catch(() => undefined);
  } catch {
    return Promise.resolve();
  }
}
