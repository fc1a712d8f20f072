/**
 * RedisDedupeStore: the dedupe records of every node, (sender, client_msg_id) → the ids first acked, in
 * Redis. One key per record (`PREFIX dedupe:{sender}:<id>`, see keys.ts) holding
 * "server_msg_id:server_time_ms", with a TTL: Redis forgets a record when its time-to-live has run out,
 * so memory follows the TTL window and the `now` arguments are not used.
 *
 * `putIfAbsent` is one round trip: a script runs `SET key value NX PX ttl` and, if a record already
 * stood, returns it — set-if-absent and reading the winner in one atomic step, so of two nodes storing
 * the same (sender, id) at once exactly one record stands and both learn which.
 */
import type { AcceptedMessage, DedupeStore } from "../session/stores.js";
import { luaScript, RedisStoreError, text, type RedisCommander } from "./commander.js";
import type { RedisKeys } from "./keys.js";

const PUT_IF_ABSENT = luaScript(
  "dedupe-put",
  `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('GET', KEYS[1])`,
);

function encode(record: AcceptedMessage): string {
  return `${record.serverMsgId}:${record.serverTimeMs}`;
}

function decode(value: unknown): AcceptedMessage {
  const match = /^(\d+):(\d+)$/.exec(text(value));
  if (match === null) throw new RedisStoreError("CORRUPT_REPLY", `a dedupe record is not "id:time": ${JSON.stringify(text(value))}`);
  return { serverMsgId: BigInt(match[1]!), serverTimeMs: BigInt(match[2]!) };
}

/** Dedupe records in Redis, expiring by key TTL. See the theory of operation above. */
export class RedisDedupeStore implements DedupeStore {
  readonly #redis: RedisCommander;
  readonly #keys: RedisKeys;

  /** @internal Use `createRedisStores`. */
  constructor(redis: RedisCommander, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** @inheritDoc `now` is not used: Redis expires records by their TTL. */
  async get(sender: string, clientMsgId: bigint, _now: number): Promise<AcceptedMessage | undefined> {
    const key = this.#keys.dedupe(sender, clientMsgId);
    const value = await this.#redis.send(key, ["GET", key]);
    return value === null ? undefined : decode(value);
  }

  /**
   * @inheritDoc The record lives `ttlMs` from when Redis stores it (`now` is not used).
   * @throws (rejects) RangeError if `ttlMs` is not a positive integer.
   */
  async putIfAbsent(sender: string, clientMsgId: bigint, record: AcceptedMessage, _now: number, ttlMs: number): Promise<AcceptedMessage> {
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new RangeError(`ttlMs must be a positive integer, got ${ttlMs}`);
    const existing = await this.#redis.eval(PUT_IF_ABSENT, [this.#keys.dedupe(sender, clientMsgId)], [encode(record), String(ttlMs)]);
    return existing === null ? record : decode(existing);
  }
}
