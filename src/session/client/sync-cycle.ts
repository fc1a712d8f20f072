/**
 * The sync cycle: NOTIFY → SYNC → SYNC_RESULT → hand over → SYNC_COMMIT, paging while `has_more`
 * (docs/PROTOCOL.md §11.5).
 *
 * Theory of operation. State:
 *
 * - `key`: the SyncKey of everything handed to the application. It only moves forward
 *   (`mergeSyncKeys`), and only after a whole SYNC_RESULT page was handed over; a page that fails to
 *   decode never reaches this module (the engine closes the link first), so an error never advances it.
 * - A **cycle** is one or more SYNC requests, paging while `has_more`. `#running` says a cycle is on;
 *   `#wantSync` that its next SYNC is still to be sent (when the link and the in-flight budget allow);
 *   `#outstanding` is the one SYNC awaiting its result. At most one SYNC is outstanding.
 * - A NOTIFY whose key is newer than `key` (or that has no key) starts a cycle; during a cycle it only
 *   sets `#again`, and the cycle runs exactly once more when it would end. Every WELCOME starts a cycle.
 * - NOTIFY is a hint nobody acknowledges: a transport that loses a frame without losing the link (a
 *   lossy relay) can lose one, and the device would stay behind until the next message or reconnect.
 *   So a cycle also starts when no SYNC was sent for `syncIntervalMs` on an open link (0: never).
 * - A SYNC_RESULT whose seq is not the outstanding SYNC's is stale and ignored (a duplicate, or the
 *   answer to a transmission that timed out: the engine forgets superseded seqs). A SYNC unanswered
 *   for `syncTimeoutMs` (with backoff, no limit: sync must converge once the network heals) is sent
 *   again with a new seq and the same key.
 * - Redelivery: the server keeps entries until they are committed, so a page can come again (after a
 *   reconnect, or a lost commit). `#processed` remembers the (conversation, server id) pairs handed
 *   over (bounded, oldest forgotten) and drops them.
 * - **Commit** per page that carried messages: the newest key waits in `#commitKey` until acknowledged.
 *   One SYNC_COMMIT is in flight at a time; a newer key waiting replaces the older (commits are
 *   cumulative). An unacknowledged commit is sent again on timeout and on the next link.
 */
import { create } from "@bufbuild/protobuf";
import type { MessagePacket } from "../../gen/syncwire/v1/message_pb.js";
import { SyncCommitSchema, SyncKeySchema, SyncRequestSchema, type SyncKey, type SyncResult } from "../../gen/syncwire/v1/sync_pb.js";
import { encodeBody } from "../../bodies/codec.js";
import { hasNewer, mergeSyncKeys, syncKeyEquals } from "../../bodies/sync-key.js";
import { Op } from "../../wire/ops.js";
import { BoundedPairSet } from "./bounded-pair-set.js";
import type { ResolvedClientOptions } from "./options.js";
import type { ClientPort } from "./port.js";

const SYNC_OWNER = { kind: "sync" } as const;
const COMMIT_OWNER = { kind: "commit" } as const;
const EMPTY_KEY: SyncKey = create(SyncKeySchema);

interface Outstanding {
  seq: number;
  deadline: number;
  attempt: number;
}

interface CommitInFlight extends Outstanding {
  key: SyncKey;
}

/**
 * Keeps the client's SyncKey and runs sync cycles. See the theory of operation above. Internal: never
 * throws, except RangeError from a caller's `random()` that breaks its contract.
 */
export class SyncCycle {
  readonly #port: ClientPort;
  readonly #options: ResolvedClientOptions;
  /** Decides whether a synced message is this device's own (the outbox knows the ids it sent). */
  readonly #isOwn: (message: MessagePacket) => boolean;
  #key: SyncKey;
  #running = false;
  #wantSync = false;
  #again = false;
  #outstanding: Outstanding | undefined;
  #commitKey: SyncKey | undefined;
  #commitInFlight: CommitInFlight | undefined;
  /** When the last SYNC was sent (the periodic sync counts from it), or undefined before the first. */
  #lastSyncAt: number | undefined;
  readonly #processed: BoundedPairSet<bigint>;

  constructor(port: ClientPort, options: ResolvedClientOptions, key: SyncKey | undefined, isOwn: (message: MessagePacket) => boolean) {
    this.#port = port;
    this.#options = options;
    this.#key = key === undefined ? EMPTY_KEY : mergeSyncKeys(EMPTY_KEY, key);
    this.#isOwn = isOwn;
    this.#processed = new BoundedPairSet(options.processedIdCapacity);
  }

  /** The key of everything handed over so far. */
  get key(): SyncKey {
    return this.#key;
  }

  /** Requests of this module unanswered on the current link (they count against `max_in_flight`). */
  get inFlightCount(): number {
    return (this.#outstanding === undefined ? 0 : 1) + (this.#commitInFlight === undefined ? 0 : 1);
  }

  /** (conversation, server id) pairs remembered to drop redelivered messages (at most `processedIdCapacity`). */
  get processedCount(): number {
    return this.#processed.size;
  }

  /** A cycle is on (a SYNC is outstanding or about to be sent). */
  get running(): boolean {
    return this.#running;
  }

  /** WELCOME arrived: sync now, whatever the last link left unfinished. */
  start(): void {
    this.#running = true;
    this.#wantSync = true;
    this.#again = false;
  }

  /** A NOTIFY (or a pushed SYNC_RESULT, which counts as a NOTIFY without a key). */
  onNotify(serverKey: SyncKey | undefined): void {
    if (serverKey !== undefined && !hasNewer(serverKey, this.#key)) return;
    if (this.#running) this.#again = true;
    else this.start();
  }

  /** Sends an unacknowledged commit first, then the cycle's SYNC, while the in-flight budget allows. */
  pump(now: number): void {
    if (this.#commitKey !== undefined && this.#commitInFlight === undefined && this.#port.canRequest()) {
      this.#commitInFlight = { seq: 0, deadline: 0, attempt: 0, key: this.#commitKey };
      this.#sendCommit(this.#commitInFlight, now);
    }
    if (this.#wantSync && this.#outstanding === undefined && this.#port.canRequest()) {
      this.#wantSync = false;
      this.#outstanding = { seq: 0, deadline: 0, attempt: 0 };
      this.#sendSync(this.#outstanding, now);
    }
  }

  /**
   * A SYNC_RESULT routed to a SYNC of this link (the engine checked the seq belongs to a SYNC).
   * Hands the new messages over, advances the key, schedules the commit and the next page.
   */
  onResult(seq: number, result: SyncResult): void {
    if (this.#outstanding === undefined || this.#outstanding.seq !== seq) return; // stale
    this.#port.forget(seq);
    this.#outstanding = undefined;
    let count = 0;
    for (const message of result.messages) {
      if (!this.#processed.add(message.conversationId, message.serverMsgId)) continue;
      count++;
      this.#port.emit({ type: "message", message, own: this.#isOwn(message) });
    }
    const before = this.#key;
    if (result.syncKey !== undefined) this.#key = mergeSyncKeys(this.#key, result.syncKey);
    if (result.messages.length > 0) this.#commitKey = this.#key;
    this.#port.emit({ type: "synced", syncKey: this.#key, count, hasMore: result.hasMore });
    // A has_more that does not move the key would ask for the same page forever: end the cycle instead.
    if (result.hasMore && hasNewer(this.#key, before)) {
      this.#wantSync = true;
    } else if (this.#again) {
      this.#again = false;
      this.#wantSync = true;
    } else {
      this.#running = false;
    }
  }

  /** An ACK (any status) answered the commit in flight: that key is done with (REJECTED: not retried). */
  onCommitAck(seq: number): void {
    const commit = this.#commitInFlight;
    if (commit === undefined || commit.seq !== seq) return;
    this.#port.forget(seq);
    this.#commitInFlight = undefined;
    if (this.#commitKey !== undefined && syncKeyEquals(this.#commitKey, commit.key)) this.#commitKey = undefined;
  }

  /** Asks again for a result or a commit ACK that is overdue; starts the periodic sync when it is due. */
  handleTimeout(now: number): void {
    const periodic = this.#periodicDeadline();
    if (periodic !== undefined && periodic <= now) this.start();
    const sync = this.#outstanding;
    if (sync !== undefined && sync.deadline <= now) {
      this.#port.forget(sync.seq);
      sync.attempt++;
      this.#sendSync(sync, now);
    }
    const commit = this.#commitInFlight;
    if (commit !== undefined && commit.deadline <= now) {
      this.#port.forget(commit.seq);
      commit.attempt++;
      commit.key = this.#commitKey ?? commit.key;
      this.#sendCommit(commit, now);
    }
  }

  /** The earliest deadline of this module (the link is open), or undefined. */
  nextDeadline(): number | undefined {
    let earliest = this.#periodicDeadline();
    for (const deadline of [this.#outstanding?.deadline, this.#commitInFlight?.deadline]) {
      if (deadline !== undefined && (earliest === undefined || deadline < earliest)) earliest = deadline;
    }
    return earliest;
  }

  /** When the periodic sync is due: only between cycles, `syncIntervalMs` after the last SYNC. */
  #periodicDeadline(): number | undefined {
    const interval = this.#options.syncIntervalMs;
    if (interval === 0 || this.#running || this.#lastSyncAt === undefined) return undefined;
    return this.#lastSyncAt + interval;
  }

  /** The link is gone: nothing is outstanding any more; an unacknowledged commit waits for the next link. */
  linkLost(): void {
    this.#outstanding = undefined;
    this.#commitInFlight = undefined;
    this.#wantSync = false;
  }

  #sendSync(sync: Outstanding, now: number): void {
    const body = encodeBody(Op.SYNC, create(SyncRequestSchema, { syncKey: this.#key, limit: this.#options.syncLimit }));
    sync.seq = this.#port.request(Op.SYNC, body, SYNC_OWNER);
    this.#lastSyncAt = now;
    sync.deadline = now + this.#port.backoff(sync.attempt, this.#options.syncTimeoutMs);
  }

  #sendCommit(commit: CommitInFlight, now: number): void {
    const body = encodeBody(Op.SYNC_COMMIT, create(SyncCommitSchema, { syncKey: commit.key }));
    commit.seq = this.#port.request(Op.SYNC_COMMIT, body, COMMIT_OWNER);
    commit.deadline = now + this.#port.backoff(commit.attempt, this.#options.syncTimeoutMs);
  }
}
