/**
 * A set that remembers at most `capacity` values, forgetting the oldest first (FIFO, not LRU: a value
 * seen again does not move). The client uses it for the (conversation, server id) pairs it has handed to
 * the application and for the client ids it has sent: enough to drop a redelivered page, bounded so a
 * long-lived client does not grow without end.
 */
export class BoundedSet<T> {
  readonly #capacity: number;
  readonly #values = new Set<T>();

  /** @throws RangeError if `capacity` is not an integer ≥ 1. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer ≥ 1, got ${capacity}`);
    this.#capacity = capacity;
  }

  /** Values held now (≤ capacity). */
  get size(): number {
    return this.#values.size;
  }

  /** True if `value` is remembered. */
  has(value: T): boolean {
    return this.#values.has(value);
  }

  /**
   * Remembers `value` (if new), forgetting the oldest value when full.
   * @returns false if it was already remembered.
   */
  add(value: T): boolean {
    if (this.#values.has(value)) return false;
    this.#values.add(value);
    if (this.#values.size > this.#capacity) {
      // A Set iterates in insertion order: the first value is the oldest.
      const oldest = this.#values.values().next().value as T;
      this.#values.delete(oldest);
    }
    return true;
  }
}
