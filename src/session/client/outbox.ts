/**
 * The outbox: messages the application sent, until the server acknowledges them (docs/PROTOCOL.md §11.4).
 *
 * Theory of operation. Every message is in one of three states:
 *
 *   queued ──pump──▶ in flight ──ACK OK/DUPLICATE──▶ (gone; "sent")
 *     ▲                │  │  └──ACK REJECTED──────────▶ (gone; "failed", not retryable)
 *     │   link lost    │  └──timeout, attempt ≤ maxRetries──▶ in flight again (new seq; "retry")
 *     └────────────────┘     timeout, attempt > maxRetries──▶ failed ("failed", retryable)
 *   failed ──resend()──▶ queued          failed ──late ACK on the same link──▶ (gone; "sent")
 *
 * - **Per-conversation window of 1.** Each conversation has a FIFO queue and at most one message in
 *   flight, so the server stores a conversation's messages in the order they were sent even when a
 *   frame is lost. `#ready` holds, in the order they became ready, the conversations that have a
 *   queued message and nothing in flight; `pump()` takes from it while the engine's in-flight budget
 *   (`max_in_flight`) allows. Different conversations go out side by side.
 * - **Retransmission** is a new request with the same body (so the same `client_msg_id`) and the next
 *   seq; earlier seqs stay routed to the message, so a late ACK of any transmission on this link still
 *   confirms it (§11.1). Waits follow `backoffDelay` from `ackTimeoutMs`.
 * - **A lost link** puts in-flight messages back at the head of their conversation's queue without
 *   counting a timeout: an ack timer runs only while its message is on an open link, so a message
 *   waits out an outage instead of failing because of it. After the next WELCOME they go out first.
 * - **Failed** messages are kept (up to `maxFailedSends`, oldest forgotten first) so `resend()` can
 *   send them again with the same id; a rejected message is not kept.
 * - **Own ids.** Every client id this engine queued is remembered (bounded) so a message coming back
 *   through sync can be marked as this device's own.
 */
import { AckStatus, type Ack } from "../../gen/syncwire/v1/message_pb.js";
import { HEADER_SIZE } from "../../wire/header.js";
import { Op } from "../../wire/ops.js";
import { SessionError } from "../errors.js";
import { BoundedSet } from "./bounded-set.js";
import type { ResolvedClientOptions } from "./options.js";
import type { ClientPort } from "./port.js";

/** A message in the outbox; it is also the reply route of its transmissions (`kind: "send"`). Internal. */
export interface OutgoingMessage {
  readonly kind: "send";
  readonly clientMsgId: bigint;
  readonly conversationId: string;
  /** The encoded MessagePacket: every transmission sends these same bytes. */
  readonly body: Uint8Array;
  state: "queued" | "in-flight" | "failed";
  /** Timeouts so far; the wait after the next transmission is backoff(attempt). */
  attempt: number;
  /** When the current transmission times out (in flight only). */
  deadline: number;
  /** Seqs of its transmissions on the current link, still routed to it. */
  seqs: number[];
}

interface Conversation {
  readonly id: string;
  readonly queue: OutgoingMessage[];
  inFlight: OutgoingMessage | undefined;
}

/**
 * Messages from `send()` until their ACK. See the theory of operation above. Internal: methods throw
 * only where they say so, and RangeError from a caller's `random()` that breaks its contract.
 */
export class Outbox {
  readonly #port: ClientPort;
  readonly #options: ResolvedClientOptions;
  /** Queued and in-flight messages. */
  readonly #pending = new Map<bigint, OutgoingMessage>();
  /** Failed, retryable messages kept for resend(), oldest first. */
  readonly #failed = new Map<bigint, OutgoingMessage>();
  readonly #conversations = new Map<string, Conversation>();
  /** Conversations with a queued message and none in flight, in the order they became ready. */
  readonly #ready = new Set<Conversation>();
  readonly #inFlight = new Set<OutgoingMessage>();
  readonly #sentIds: BoundedSet<bigint>;

  constructor(port: ClientPort, options: ResolvedClientOptions) {
    this.#port = port;
    this.#options = options;
    this.#sentIds = new BoundedSet(options.processedIdCapacity);
  }

  /** Messages queued or in flight. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Failed messages kept for `resend()` (at most `maxFailedSends`). */
  get failedCount(): number {
    return this.#failed.size;
  }

  /** Client ids remembered to mark synced messages `own` (at most `processedIdCapacity`). */
  get sentIdCount(): number {
    return this.#sentIds.size;
  }

  /** Messages in flight on the current link (they count against `max_in_flight`). */
  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  /** Where the message with this id is: `"pending"` (queued or in flight), `"failed"`, or undefined. */
  stateOf(clientMsgId: bigint): "pending" | "failed" | undefined {
    if (this.#pending.has(clientMsgId)) return "pending";
    return this.#failed.has(clientMsgId) ? "failed" : undefined;
  }

  /** True if this engine sent a message with this id (among the last `processedIdCapacity`). */
  isOwn(clientMsgId: bigint): boolean {
    return this.#sentIds.has(clientMsgId);
  }

  /**
   * Queues a new message (the engine has checked the bound and that the id is not pending). A failed
   * message with the same id is replaced.
   */
  add(clientMsgId: bigint, conversationId: string, body: Uint8Array): void {
    if (this.#failed.size > 0) this.discard(clientMsgId);
    const message: OutgoingMessage = { kind: "send", clientMsgId, conversationId, body, state: "queued", attempt: 0, deadline: 0, seqs: [] };
    this.#sentIds.add(clientMsgId);
    this.#enqueue(message);
  }

  /**
   * Queues a failed message again with the same id (§11.4: the server answers DUPLICATE if it stored it).
   * @throws SessionError NOT_FAILED if no failed message has this id; SEND_QUEUE_FULL at the bound.
   */
  resend(clientMsgId: bigint): void {
    const message = this.#failed.get(clientMsgId);
    if (message === undefined) throw new SessionError("NOT_FAILED", `message ${clientMsgId} is not a failed message kept for resend`);
    if (this.#pending.size >= this.#options.maxPendingSends) {
      throw new SessionError("SEND_QUEUE_FULL", `${this.#pending.size} messages are pending (maxPendingSends)`);
    }
    this.#failed.delete(clientMsgId);
    this.#forgetSeqs(message);
    message.state = "queued";
    message.attempt = 0;
    this.#enqueue(message);
  }

  /**
   * Forgets a failed message (the user deleted it).
   * @returns true if a failed message with this id was kept.
   */
  discard(clientMsgId: bigint): boolean {
    const message = this.#failed.get(clientMsgId);
    if (message === undefined) return false;
    this.#failed.delete(clientMsgId);
    this.#forgetSeqs(message);
    return true;
  }

  /** Sends queued messages whose conversation is free, while the in-flight budget allows. */
  pump(now: number): void {
    // Deleting the current element while iterating a Set is safe; the loop moves on to the next.
    for (const conversation of this.#ready) {
      if (!this.#port.canRequest()) return;
      this.#ready.delete(conversation);
      const message = conversation.queue.shift()!;
      message.state = "in-flight";
      conversation.inFlight = message;
      this.#inFlight.add(message);
      this.#transmit(message, now);
    }
  }

  /** An ACK answered one of `message`'s transmissions. */
  onAck(message: OutgoingMessage, ack: Ack): void {
    // An ACK that names another message does not answer this one (§11.1: matched by seq and id).
    if (ack.clientMsgId !== 0n && ack.clientMsgId !== message.clientMsgId) return;
    const status = ack.status;
    if (status !== AckStatus.OK && status !== AckStatus.DUPLICATE && status !== AckStatus.REJECTED) return; // unknown: keep waiting
    this.#remove(message);
    if (status === AckStatus.REJECTED) {
      this.#port.emit({ type: "failed", clientMsgId: message.clientMsgId, reason: ack.error === "" ? "rejected" : ack.error, retryable: false });
    } else {
      this.#port.emit({
        type: "sent",
        clientMsgId: message.clientMsgId,
        serverMsgId: ack.serverMsgId,
        serverTimeMs: ack.serverTimeMs,
        duplicate: status === AckStatus.DUPLICATE,
      });
    }
  }

  /** Retransmits or fails the messages whose ACK is overdue. */
  handleTimeout(now: number): void {
    for (const message of this.#inFlight) {
      if (message.deadline > now) continue;
      message.attempt++;
      if (message.attempt > this.#options.maxRetries) {
        this.#fail(message, "timeout", true);
      } else {
        this.#port.emit({ type: "retry", clientMsgId: message.clientMsgId, attempt: message.attempt });
        this.#transmit(message, now);
      }
    }
  }

  /** The earliest ACK deadline, or undefined if nothing is in flight. */
  nextDeadline(): number | undefined {
    let earliest: number | undefined;
    for (const message of this.#inFlight) if (earliest === undefined || message.deadline < earliest) earliest = message.deadline;
    return earliest;
  }

  /** The link is gone: in-flight messages go back to the head of their queues (no timeout counted). */
  linkLost(): void {
    for (const message of this.#inFlight) {
      const conversation = this.#conversations.get(message.conversationId)!;
      conversation.queue.unshift(message);
      conversation.inFlight = undefined;
      message.state = "queued";
      message.seqs = [];
      this.#ready.add(conversation);
    }
    this.#inFlight.clear();
    // Seqs belong to a link: a new link's replies can never answer them.
    for (const message of this.#failed.values()) message.seqs = [];
  }

  /** Fails queued messages that no longer fit the server's frame limit (learnt from WELCOME). */
  failOversized(maxFrameSize: number): void {
    for (const conversation of this.#conversations.values()) {
      const queue = conversation.queue;
      let kept = 0;
      for (const message of queue) {
        const size = HEADER_SIZE + message.body.byteLength;
        if (size <= maxFrameSize) {
          queue[kept++] = message;
          continue;
        }
        this.#pending.delete(message.clientMsgId);
        this.#port.emit({
          type: "failed",
          clientMsgId: message.clientMsgId,
          reason: `a ${size}-byte SEND exceeds the server's max_frame_size (${maxFrameSize})`,
          retryable: false,
        });
      }
      queue.length = kept;
      if (kept === 0 && conversation.inFlight === undefined) {
        this.#ready.delete(conversation);
        this.#conversations.delete(conversation.id);
      }
    }
  }

  /** Drops everything (the engine is closed). */
  clear(): void {
    this.#pending.clear();
    this.#failed.clear();
    this.#conversations.clear();
    this.#ready.clear();
    this.#inFlight.clear();
  }

  #enqueue(message: OutgoingMessage): void {
    let conversation = this.#conversations.get(message.conversationId);
    if (conversation === undefined) {
      conversation = { id: message.conversationId, queue: [], inFlight: undefined };
      this.#conversations.set(message.conversationId, conversation);
    }
    conversation.queue.push(message);
    this.#pending.set(message.clientMsgId, message);
    if (conversation.inFlight === undefined) this.#ready.add(conversation);
  }

  #transmit(message: OutgoingMessage, now: number): void {
    message.seqs.push(this.#port.request(Op.SEND, message.body, message));
    message.deadline = now + this.#port.backoff(message.attempt, this.#options.ackTimeoutMs);
  }

  /** Takes an in-flight message off its conversation, freeing the window. */
  #release(message: OutgoingMessage): void {
    this.#inFlight.delete(message);
    this.#pending.delete(message.clientMsgId);
    const conversation = this.#conversations.get(message.conversationId)!;
    conversation.inFlight = undefined;
    if (conversation.queue.length > 0) this.#ready.add(conversation);
    else this.#conversations.delete(conversation.id);
  }

  /** An answered message leaves the outbox for good. */
  #remove(message: OutgoingMessage): void {
    if (message.state === "in-flight") this.#release(message);
    else if (message.state === "failed") this.#failed.delete(message.clientMsgId);
    this.#forgetSeqs(message);
  }

  #fail(message: OutgoingMessage, reason: string, retryable: boolean): void {
    this.#release(message);
    message.state = "failed";
    if (retryable && this.#options.maxFailedSends > 0) {
      // Its seqs stay routed: a late ACK on this link still confirms it (§11.4, "failed" means "not confirmed").
      this.#failed.set(message.clientMsgId, message);
      if (this.#failed.size > this.#options.maxFailedSends) {
        const oldest = this.#failed.values().next().value!;
        this.#failed.delete(oldest.clientMsgId);
        this.#forgetSeqs(oldest);
      }
    } else {
      this.#forgetSeqs(message);
    }
    this.#port.emit({ type: "failed", clientMsgId: message.clientMsgId, reason, retryable });
  }

  #forgetSeqs(message: OutgoingMessage): void {
    for (const seq of message.seqs) this.#port.forget(seq);
    message.seqs = [];
  }
}
