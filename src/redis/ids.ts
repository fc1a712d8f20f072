/**
 * RedisMessageIdAllocator: server_msg_ids per conversation, from one Redis counter per conversation
 * (`INCR PREFIX ids:{conversation}`): atomic, so ids never repeat and increase in the order Redis handed
 * them out, whichever node asks. Counters never expire (one small key per conversation).
 *
 * On Cluster each conversation's counter lives in its conversation's slot, so allocation scales with the
 * shards. Redis replication is asynchronous: if a primary dies and a replica that had not yet received
 * the last INCRs takes over, those ids can be handed out again (the same holds for every write; see the
 * README's durability notes).
 */
import type { MessageIdAllocator } from "../session/stores.js";
import { RedisStoreError, text, type RedisCommander } from "./commander.js";
import type { RedisKeys } from "./keys.js";

/** Per-conversation counters in Redis. See the theory of operation above. */
export class RedisMessageIdAllocator implements MessageIdAllocator {
  readonly #redis: RedisCommander;
  readonly #keys: RedisKeys;

  /** @internal Use `createRedisStores`. */
  constructor(redis: RedisCommander, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** @inheritDoc */
  async next(conversationId: string): Promise<bigint> {
    const key = this.#keys.ids(conversationId);
    const reply = text(await this.#redis.send(key, ["INCR", key]));
    if (!/^\d+$/.test(reply)) throw new RedisStoreError("CORRUPT_REPLY", `INCR ${key} answered ${JSON.stringify(reply)}`);
    return BigInt(reply);
  }
}
