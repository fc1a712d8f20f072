/**
 * MemoryMessageIdAllocator: server_msg_ids, increasing per conversation, in one process's memory.
 *
 * Theory of operation. A map from conversation to the last id handed out, kept in least-recently-used
 * order (a conversation moves to the end on every call; a `FifoMap`, so finding the least recently used
 * one is O(1), not a walk over the slots a `Map` keeps for deleted entries). Beyond `capacity` conversations the least
 * recently used one is forgotten and its last id folded into `floor`, the largest id ever forgotten. A
 * conversation with no entry (new, or forgotten) continues from `floor`, so its next id is above every id
 * it ever had: ids stay increasing per conversation with bounded memory, at the price of gaps.
 */
import { integerOption } from "../options.js";
import { FifoMap } from "./fifo-map.js";
import type { MessageIdAllocator } from "../stores.js";

/** Options of {@link MemoryMessageIdAllocator}. */
export interface MemoryIdOptions {
  /** Most conversations remembered; the least recently used are folded into a floor. Default 100,000. */
  capacity?: number;
}

/** Per-conversation increasing ids with bounded memory. See the theory of operation above. */
export class MemoryMessageIdAllocator implements MessageIdAllocator {
  readonly #capacity: number;
  readonly #last = new FifoMap<bigint>();
  #floor = 0n;

  /** @throws RangeError if `capacity` is not an integer ≥ 1. */
  constructor(options: MemoryIdOptions = {}) {
    this.#capacity = integerOption("capacity", options.capacity, 100_000, 1);
  }

  /** Conversations remembered now. */
  get size(): number {
    return this.#last.size;
  }

  /** @inheritDoc */
  async next(conversationId: string): Promise<bigint> {
    const last = this.#last.get(conversationId);
    const id = (last ?? this.#floor) + 1n;
    this.#last.set(conversationId, id);
    if (this.#last.size > this.#capacity) {
      const forgotten = this.#last.shift()!;
      if (forgotten > this.#floor) this.#floor = forgotten;
    }
    return id;
  }
}
