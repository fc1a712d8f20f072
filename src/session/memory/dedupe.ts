/**
 * MemoryDedupeStore: the dedupe records of one process, (sender, client_msg_id) → the ids first acked.
 *
 * Theory of operation. Each sender has a map from client_msg_id (the bigint itself: no key string is
 * built per message) to a record, and every record also sits in one process-wide queue in insertion
 * order, oldest first. Records are only ever added at the end, so the oldest sit at the front: each
 * write first drops expired records from the front (stopping at the first live one), then stores, then
 * evicts from the front while more than `capacity` are held. A record is live while `now < expiresAt`;
 * `get` and `putIfAbsent` treat an expired record as absent even before the sweep reaches it (a
 * `putIfAbsent` over an expired record replaces it: the old one stays in the queue, marked stale, until
 * it reaches the front). Every method runs to completion before its promise settles, so set-if-absent
 * is atomic within the process.
 *
 * One object per record (the queue slot is the map's value) and no per-message key string: on the SEND
 * hot path this store holds 100,000 records by default, and what each of them keeps alive is what the
 * garbage collector copies and marks (measured: the string keys and the wrapper objects of the previous
 * layout were about a fifth of the client ↔ server loop's collector time).
 *
 * Bound: at most `capacity` records (default 100,000, docs/PROTOCOL.md §11.4); the queue holds at most
 * about twice that (stale slots are compacted away once they are half of it), and a sender's map is
 * dropped with its last record. A retry that arrives after its record was evicted is stored as a new
 * message: the capacity must cover the retries of the busiest TTL window.
 */
import { integerOption } from "../options.js";
import type { AcceptedMessage, DedupeStore } from "../stores.js";

/** Options of {@link MemoryDedupeStore}. */
export interface MemoryDedupeOptions {
  /** Most records kept; the oldest are evicted first. Default 100,000. */
  capacity?: number;
}

/** One record: the map it is in, its key there, and the caller's record (kept by reference). */
interface Slot {
  readonly sender: string;
  readonly records: Map<bigint, Slot>;
  readonly clientMsgId: bigint;
  readonly record: AcceptedMessage;
  readonly expiresAt: number;
  /** False once evicted, expired and swept, or replaced. */
  live: boolean;
}

/** Dedupe records in one process's memory, bounded by capacity and age. See the theory of operation above. */
export class MemoryDedupeStore implements DedupeStore {
  readonly #capacity: number;
  /** Sender → client_msg_id → record. */
  readonly #senders = new Map<string, Map<bigint, Slot>>();
  /** Every slot in insertion order from `#head` on; stale ones (`live` false) are skipped. */
  #queue: Slot[] = [];
  #head = 0;
  /** Live records. */
  #size = 0;

  /** @throws RangeError if `capacity` is not an integer ≥ 1. */
  constructor(options: MemoryDedupeOptions = {}) {
    this.#capacity = integerOption("capacity", options.capacity, 100_000, 1);
  }

  /** Records held now, expired ones not yet swept included. */
  get size(): number {
    return this.#size;
  }

  /** @inheritDoc */
  async get(sender: string, clientMsgId: bigint, now: number): Promise<AcceptedMessage | undefined> {
    const slot = this.#senders.get(sender)?.get(clientMsgId);
    return slot !== undefined && now < slot.expiresAt ? slot.record : undefined;
  }

  /**
   * @inheritDoc
   * @throws (rejects) RangeError if `ttlMs` is not a positive number.
   */
  async putIfAbsent(sender: string, clientMsgId: bigint, record: AcceptedMessage, now: number, ttlMs: number): Promise<AcceptedMessage> {
    if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${ttlMs}`);
    this.#sweep(now);
    let records = this.#senders.get(sender);
    if (records === undefined) {
      records = new Map();
      this.#senders.set(sender, records);
    }
    const held = records.get(clientMsgId);
    if (held !== undefined) {
      if (now < held.expiresAt) return held.record;
      // Expired but not swept yet (a younger record is older in the queue than nothing): replace it.
      held.live = false;
      this.#size--;
    }
    const slot: Slot = { sender, records, clientMsgId, record, expiresAt: now + ttlMs, live: true };
    records.set(clientMsgId, slot);
    this.#queue.push(slot);
    this.#size++;
    while (this.#size > this.#capacity) this.#evict(this.#oldest()!);
    return record;
  }

  /** The oldest live slot, skipping (and dropping) stale ones at the front. */
  #oldest(): Slot | undefined {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const slot = queue[this.#head]!;
      if (slot.live) return slot;
      queue[this.#head++] = undefined!;
    }
    return undefined;
  }

  #evict(slot: Slot): void {
    slot.live = false;
    this.#size--;
    this.#queue[this.#head++] = undefined!;
    const records = slot.records;
    records.delete(slot.clientMsgId);
    if (records.size === 0 && this.#senders.get(slot.sender) === records) this.#senders.delete(slot.sender);
    this.#compact();
  }

  /** Drops expired records from the front (the oldest). */
  #sweep(now: number): void {
    for (let oldest = this.#oldest(); oldest !== undefined && now >= oldest.expiresAt; oldest = this.#oldest()) this.#evict(oldest);
    this.#compact();
  }

  /** Drops the consumed front and the stale slots once they are most of the queue: amortised O(1). */
  #compact(): void {
    const dead = this.#queue.length - this.#size;
    if (dead < 1024 || dead * 2 < this.#queue.length) return;
    this.#queue = this.#queue.slice(this.#head).filter((slot) => slot.live);
    this.#head = 0;
  }
}
