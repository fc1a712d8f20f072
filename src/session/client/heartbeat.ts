/**
 * Heartbeats and the round-trip time (docs/PROTOCOL.md §11.3).
 *
 * Theory of operation. From WELCOME on, a HEARTBEAT is due every `heartbeat_interval_ms` (0: never),
 * whatever other traffic there is. When one falls due while the previous one is still unanswered, that
 * one counts as *missed*; after `maxMissedHeartbeats` consecutive misses the link is dead and no more
 * heartbeats are sent (the engine closes the link). Other traffic does not reset the count; any
 * HEARTBEAT_ACK of a heartbeat sent on this link does (a late one proves the link alive, only slow).
 *
 * Each HEARTBEAT carries the client's clock (`client_time_ms`); the HEARTBEAT_ACK echoes it, and the
 * round-trip time is the clock at the ACK minus the echo. An echo that cannot be ours (0, or in the
 * future) falls back to the send time remembered for that seq.
 */
import { create } from "@bufbuild/protobuf";
import { HeartbeatSchema, type HeartbeatAck } from "../../gen/syncwire/v1/session_pb.js";
import { encodeBody } from "../../bodies/codec.js";
import { Op } from "../../wire/ops.js";
import type { ClientPort } from "./port.js";

/** Heartbeats of the current link. Internal: never throws. */
export class Heartbeat {
  readonly #port: ClientPort;
  readonly #maxMissed: number;
  #interval = 0;
  #due: number | undefined;
  #missed = 0;
  /** The latest heartbeat's seq, while it is unanswered. */
  #awaiting: number | undefined;
  /** Send times of the last few heartbeats, by seq (a late ACK still counts). */
  readonly #sentAt = new Map<number, number>();
  #rttMs: number | undefined;

  constructor(port: ClientPort, maxMissed: number) {
    this.#port = port;
    this.#maxMissed = maxMissed;
  }

  /** The last measured round-trip time, ms (kept across links), or undefined before the first. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** WELCOME: the first heartbeat is due one interval from now. */
  start(intervalMs: number, now: number): void {
    this.stop();
    this.#interval = intervalMs;
    this.#due = intervalMs > 0 ? now + intervalMs : undefined;
  }

  /** The link is gone. */
  stop(): void {
    this.#due = undefined;
    this.#missed = 0;
    this.#awaiting = undefined;
    this.#sentAt.clear();
  }

  /** When the next heartbeat is due, or undefined. */
  nextDeadline(): number | undefined {
    return this.#due;
  }

  /**
   * Sends the heartbeat that is due, counting a miss if the previous one is unanswered.
   * @returns false if the link is dead (too many misses): nothing was sent.
   */
  handleTimeout(now: number): boolean {
    if (this.#due === undefined || this.#due > now) return true;
    if (this.#awaiting !== undefined && ++this.#missed >= this.#maxMissed) {
      this.stop();
      return false;
    }
    const seq = this.#port.request(Op.HEARTBEAT, encodeBody(Op.HEARTBEAT, create(HeartbeatSchema, { clientTimeMs: clientTime(now) })), undefined);
    this.#awaiting = seq;
    this.#sentAt.set(seq, now);
    // Keep only the heartbeats that can still be answered usefully: at most maxMissed + 1 are unanswered.
    if (this.#sentAt.size > this.#maxMissed + 1) this.#sentAt.delete(this.#sentAt.keys().next().value!);
    this.#due = now + this.#interval;
    return true;
  }

  /** A HEARTBEAT_ACK. One that answers no heartbeat of this link is ignored. */
  onAck(seq: number, ack: HeartbeatAck, now: number): void {
    const sentAt = this.#sentAt.get(seq);
    if (sentAt === undefined) return;
    this.#sentAt.delete(seq);
    this.#missed = 0;
    if (this.#awaiting === seq) this.#awaiting = undefined;
    const echoed = ack.clientTimeMs;
    const from = echoed > 0n && echoed <= clientTime(now) ? Number(echoed) : sentAt;
    this.#rttMs = Math.max(0, now - from);
    this.#port.emit({ type: "heartbeat", rttMs: this.#rttMs });
  }
}

/** `now` as a u64 for Heartbeat.client_time_ms (a clock before 1970 sends 0, "not sent"). */
function clientTime(now: number): bigint {
  return now > 0 ? BigInt(Math.floor(now)) : 0n;
}
