/**
 * RedisMessageIdAllocator: server_msg_ids per conversation, from one Redis counter per conversation
 * (`INCR PREFIX ids:{conversation}`): atomic, so ids never repeat and increase in the order Redis handed
 * them out, whichever node asks. Counters never expire (one small key per conversation).
 *
 * On Cluster each conversation's counter lives in its conversation's slot, so allocation scales with the
 * shards. Redis replication is asynchronous: if a primary dies and a replica that had not yet received
 * the last INCRs takes over, those ids can be handed out again (the same holds for every write; see the
 * README's durability notes).
 *
 * The calls of one event-loop turn are coalesced (coalesce.ts): one INCR, or one script that INCRs each
 * counter in turn.
 */
import type { MessageIdAllocator } from "../session/stores.js";
import { Coalescer, MAX_CALLS_PER_COMMAND } from "./coalesce.js";
import { array, luaScript, RedisStoreError, text, type RedisCommander } from "./commander.js";
import type { RedisKeys } from "./keys.js";

// One or more INCRs (coalesce.ts). KEYS: the counters. Returns each new value.
const INCR_EACH = luaScript(
  "ids-incr",
  `local out = {}
for n = 1, #KEYS do out[n] = redis.call('INCR', KEYS[n]) end
return out`,
);

function idOf(reply: unknown, key: string): bigint | Error {
  const value = text(reply);
  return /^\d+$/.test(value) ? BigInt(value) : new RedisStoreError("CORRUPT_REPLY", `INCR ${key} answered ${JSON.stringify(value)}`);
}

/** Per-conversation counters in Redis. See the theory of operation above. */
export class RedisMessageIdAllocator implements MessageIdAllocator {
  readonly #redis: RedisCommander;
  readonly #keys: RedisKeys;
  readonly #incrs: Coalescer<string, bigint>;

  /** @internal Use `createRedisStores`. */
  constructor(redis: RedisCommander, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
    this.#incrs = new Coalescer(async (batch) => {
      if (batch.length === 1) return [idOf(await redis.send(batch[0], ["INCR", batch[0]!]), batch[0]!)];
      const reply = array(await redis.eval(INCR_EACH, batch, []), "INCR");
      return batch.map((key, n) => idOf(reply[n], key));
    }, redis.batchLimit(MAX_CALLS_PER_COMMAND));
  }

  /** @inheritDoc */
  next(conversationId: string): Promise<bigint> {
    const key = this.#keys.ids(conversationId);
    return this.#incrs.add(this.#redis.groupOf(key), key);
  }
}
