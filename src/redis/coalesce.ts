/**
 * Coalescer: store calls made in one turn of the event loop become one Redis command per group.
 *
 * Theory of operation. node-redis already pipelines: the commands issued before its next
 * `setImmediate` leave in one socket write, so a BATCH of SENDs costs a few round trips, not a few per
 * SEND. But each command still costs the node its own encoding, promise and reply parsing, and costs
 * Redis its own dispatch — and a script call its own Lua entry (bench/redis.js: about five commands per
 * SEND made a node spend more on node-redis than on the session). So the hot store calls (dedupe `get`
 * and `putIfAbsent`, `ids.next`, `log.append`) go through a Coalescer: `add` queues the call in its
 * group and, once per turn, a `setImmediate` (the same moment node-redis writes) runs each group's calls
 * as one command — MGET, or a script that loops over them — and hands every caller its own result.
 *
 * Groups exist for Redis Cluster: one command may only touch one slot, so there each group is one
 * user's (or conversation's) hash tag; on a single Redis everything is one group. A group is flushed at
 * once when it reaches `max` calls, so one command never holds Redis for long.
 *
 * Guarantees are the ones of each call alone: a script runs its calls one after the other, each as the
 * single-call script would (a batch is atomic as a whole, which is stronger). If the command fails,
 * every call in it rejects with that error — and, as for a single call that failed, some of the writes
 * may have happened; every write the stores make is idempotent and the engine acks nothing that
 * rejected, so the client's retry is safe.
 */

import { RedisStoreError } from "./commander.js";

/**
 * Most calls of one kind in one MGET or script call, for the light calls (dedupe records, ids): a few
 * µs of Redis each, so one command holds Redis well under a millisecond. Appends do more per call and
 * have their own, lower limit (sync-log.ts).
 */
export const MAX_CALLS_PER_COMMAND = 256;

/** One queued call. */
interface Waiter<Result> {
  resolve(value: Result): void;
  reject(error: unknown): void;
}

interface Group<Item, Result> {
  items: Item[];
  waiters: Waiter<Result>[];
}

/**
 * Runs one group's calls as one command.
 * @returns one entry per item, in order: its result, or an Error to reject that call with.
 */
export type RunBatch<Item, Result> = (items: readonly Item[]) => Promise<readonly (Result | Error)[]>;

/** Queues calls per group and runs each group as one command per event-loop turn. See above. */
export class Coalescer<Item, Result> {
  readonly #run: RunBatch<Item, Result>;
  readonly #max: number;
  #groups = new Map<string, Group<Item, Result>>();
  #scheduled = false;

  /**
   * @param run one command for a group's calls.
   * @param max most calls in one command (≥ 1).
   */
  constructor(run: RunBatch<Item, Result>, max: number) {
    this.#run = run;
    this.#max = max;
  }

  /**
   * Queues one call.
   * @param group calls of one group may share a command (on Cluster: one slot).
   * @returns its result, once the command it went out in answered.
   * @throws (rejects) whatever the command rejected with, or the Error the batch gave this call.
   */
  add(group: string, item: Item): Promise<Result> {
    let queued = this.#groups.get(group);
    if (queued === undefined) this.#groups.set(group, (queued = { items: [], waiters: [] }));
    const result = new Promise<Result>((resolve, reject) => {
      queued.waiters.push({ resolve, reject });
    });
    queued.items.push(item);
    if (queued.items.length >= this.#max) {
      this.#groups.delete(group);
      this.#runGroup(queued);
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
    return result;
  }

  #flush(): void {
    this.#scheduled = false;
    const groups = this.#groups;
    this.#groups = new Map();
    for (const group of groups.values()) this.#runGroup(group);
  }

  #runGroup({ items, waiters }: Group<Item, Result>): void {
    let running: Promise<readonly (Result | Error)[]>;
    try {
      running = this.#run(items);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (results) => {
        for (let w = 0; w < waiters.length; w++) {
          const result = results[w];
          if (result instanceof Error) waiters[w]!.reject(result);
          else if (w >= results.length) waiters[w]!.reject(new RedisStoreError("CORRUPT_REPLY", `a batch of ${items.length} calls answered ${results.length} results`));
          else waiters[w]!.resolve(result as Result);
        }
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  }
}
