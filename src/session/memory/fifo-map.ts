/**
 * FifoMap: a string-keyed map that remembers insertion order in a queue of its own, so the memory stores
 * can expire and evict their oldest entries in O(1).
 *
 * Why not the Map's own order: deleting from the front of a `Map` and then iterating it from the start
 * (`map.keys().next()`, or a sweep that stops at the first live entry) walks over every slot V8 keeps for
 * deleted entries until the table is next rebuilt. A store that evicts one entry per write then pays
 * O(capacity) per write: measured, appending 100,000 messages to a sync log whose trimmed-key memory was
 * full spent 44 % of the whole client ↔ server loop in that walk. (The client's BoundedSet avoids the
 * same trap with a ring.)
 *
 * Theory of operation. `#map` holds key → entry; `#queue` holds the entries in insertion order from
 * `#head` on. An entry replaced or deleted stays in the queue as a stale slot (its `live` flag cleared)
 * until it reaches the head; the queue is compacted when stale slots outnumber the live ones, so it
 * holds at most about twice the entries the map does. Every operation is amortised O(1).
 */

interface Slot<V> {
  readonly key: string;
  readonly value: V;
  live: boolean;
}

/** A map with O(1) access to its oldest entry. Internal to the memory stores. */
export class FifoMap<V> {
  readonly #map = new Map<string, Slot<V>>();
  #queue: Slot<V>[] = [];
  #head = 0;
  #stale = 0;

  /** Entries held. */
  get size(): number {
    return this.#map.size;
  }

  /** The value for `key`, or undefined. */
  get(key: string): V | undefined {
    return this.#map.get(key)?.value;
  }

  /** Stores `value` for `key` as the newest entry (a previous value for `key` is dropped). */
  set(key: string, value: V): void {
    const old = this.#map.get(key);
    if (old !== undefined) this.#retire(old);
    const slot: Slot<V> = { key, value, live: true };
    this.#map.set(key, slot);
    this.#queue.push(slot);
  }

  /** Removes `key`. @returns true if it was there. */
  delete(key: string): boolean {
    const slot = this.#map.get(key);
    if (slot === undefined) return false;
    this.#map.delete(key);
    this.#retire(slot);
    return true;
  }

  /** The oldest entry's value, or undefined when empty. */
  oldestValue(): V | undefined {
    return this.#first()?.value;
  }

  /** Removes the oldest entry. @returns its value, or undefined when empty. */
  shift(): V | undefined {
    const slot = this.#first();
    if (slot === undefined) return undefined;
    this.#map.delete(slot.key);
    slot.live = false;
    this.#head++;
    this.#compact();
    return slot.value;
  }

  /** The oldest live slot, dropping stale ones on the way. */
  #first(): Slot<V> | undefined {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const slot = queue[this.#head]!;
      if (slot.live) return slot;
      this.#head++;
      this.#stale--;
    }
    return undefined;
  }

  #retire(slot: Slot<V>): void {
    slot.live = false;
    this.#stale++;
    this.#compact();
  }

  /** Drops consumed and stale slots once they are most of the queue. */
  #compact(): void {
    const dead = this.#head + this.#stale;
    if (dead < 1024 || dead * 2 < this.#queue.length) return;
    this.#queue = this.#queue.slice(this.#head).filter((slot) => slot.live);
    this.#head = 0;
    this.#stale = 0;
  }
}
