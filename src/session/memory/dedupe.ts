/**
 * MemoryDedupeStore: the dedupe records of one process, (sender, client_msg_id) → the ids first acked.
 *
 * Theory of operation. One map in insertion order (a `FifoMap`, whose order is O(1) to consume) holds
 * every record with its expiry time. Records are only ever added at the end, so the oldest sit at the
 * front: each write first drops expired records from the front (stopping at the first live one), then
 * stores, then evicts from the front while the map is over `capacity`. A record is live while `now < expiresAt`; `get` and `putIfAbsent` treat an
 * expired record as absent even before the sweep reaches it. Every method runs to completion before its
 * promise settles, so set-if-absent is atomic within the process.
 *
 * Bound: at most `capacity` records (default 100,000, docs/PROTOCOL.md §11.4). A retry that arrives after
 * its record was evicted is stored as a new message: the capacity must cover the retries of the busiest
 * TTL window.
 */
import { integerOption, pairKey } from "../options.js";
import { FifoMap } from "./fifo-map.js";
import type { AcceptedMessage, DedupeStore } from "../stores.js";

/** Options of {@link MemoryDedupeStore}. */
export interface MemoryDedupeOptions {
  /** Most records kept; the oldest are evicted first. Default 100,000. */
  capacity?: number;
}

interface Held {
  readonly record: AcceptedMessage;
  readonly expiresAt: number;
}

/** Dedupe records in one process's memory, bounded by capacity and age. See the theory of operation above. */
export class MemoryDedupeStore implements DedupeStore {
  readonly #capacity: number;
  readonly #records = new FifoMap<Held>();
  /** The last key built: the engine asks `get` and then `putIfAbsent` for the same (sender, id). */
  #lastSender = "";
  #lastId = 0n;
  #lastKey = "";

  /** @throws RangeError if `capacity` is not an integer ≥ 1. */
  constructor(options: MemoryDedupeOptions = {}) {
    this.#capacity = integerOption("capacity", options.capacity, 100_000, 1);
  }

  /** Records held now, expired ones not yet swept included. */
  get size(): number {
    return this.#records.size;
  }

  /** @inheritDoc */
  async get(sender: string, clientMsgId: bigint, now: number): Promise<AcceptedMessage | undefined> {
    const held = this.#records.get(this.#key(sender, clientMsgId));
    return held !== undefined && now < held.expiresAt ? held.record : undefined;
  }

  /**
   * @inheritDoc
   * @throws (rejects) RangeError if `ttlMs` is not a positive number.
   */
  async putIfAbsent(sender: string, clientMsgId: bigint, record: AcceptedMessage, now: number, ttlMs: number): Promise<AcceptedMessage> {
    if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${ttlMs}`);
    this.#sweep(now);
    const key = this.#key(sender, clientMsgId);
    const held = this.#records.get(key);
    if (held !== undefined && now < held.expiresAt) return held.record;
    this.#records.set(key, { record, expiresAt: now + ttlMs });
    while (this.#records.size > this.#capacity) this.#records.shift();
    return record;
  }

  #key(sender: string, clientMsgId: bigint): string {
    if (sender !== this.#lastSender || clientMsgId !== this.#lastId || this.#lastKey === "") {
      this.#lastSender = sender;
      this.#lastId = clientMsgId;
      this.#lastKey = pairKey(sender, String(clientMsgId));
    }
    return this.#lastKey;
  }

  /** Drops expired records from the front (the oldest). */
  #sweep(now: number): void {
    for (let oldest = this.#records.oldestValue(); oldest !== undefined && now >= oldest.expiresAt; oldest = this.#records.oldestValue()) {
      this.#records.shift();
    }
  }
}
