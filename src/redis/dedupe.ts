/**
 * RedisDedupeStore: the dedupe records of every node, (sender, client_msg_id) → the ids first acked, in
 * Redis. One key per record (`PREFIX dedupe:{sender}:<id>`, see keys.ts) holding
 * "server_msg_id:server_time_ms", with a TTL: Redis forgets a record when its time-to-live has run out,
 * so memory follows the TTL window and the `now` arguments are not used.
 *
 * `putIfAbsent` is one round trip: a script runs `SET key value NX PX ttl` and, if a record already
 * stood, returns it — set-if-absent and reading the winner in one atomic step, so of two nodes storing
 * the same (sender, id) at once exactly one record stands and both learn which.
 *
 * Both calls are coalesced (coalesce.ts): the `get`s of one event-loop turn are one MGET, the
 * `putIfAbsent`s one script call that runs them in turn.
 */
import type { AcceptedMessage, DedupeStore } from "../session/stores.js";
import { Coalescer, MAX_CALLS_PER_COMMAND } from "./coalesce.js";
import { array, luaScript, RedisStoreError, text, type RedisCommander } from "./commander.js";
import type { RedisKeys } from "./keys.js";

// One or more set-if-absent calls (coalesce.ts). KEYS: the records. ARGV: value, ttl of each.
// Returns, per record, 0 if this call stored it, else the record that stood.
const PUT_IF_ABSENT = luaScript(
  "dedupe-put",
  `local out = {}
for n = 1, #KEYS do
  if redis.call('SET', KEYS[n], ARGV[2 * n - 1], 'NX', 'PX', ARGV[2 * n]) then out[n] = 0
  else out[n] = redis.call('GET', KEYS[n]) or 0 end
end
return out`,
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
  readonly #gets: Coalescer<string, AcceptedMessage | undefined>;
  readonly #puts: Coalescer<{ key: string; value: string; ttl: string; record: AcceptedMessage }, AcceptedMessage>;

  /** @internal Use `createRedisStores`. */
  constructor(redis: RedisCommander, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
    this.#gets = new Coalescer(async (batch) => {
      if (batch.length === 1) return [decodeOrAbsent(await redis.send(batch[0], ["GET", batch[0]!]))];
      return array(await redis.send(batch[0], ["MGET", ...batch]), "MGET").map(decodeOrAbsent);
    }, redis.batchLimit(MAX_CALLS_PER_COMMAND));
    this.#puts = new Coalescer(async (batch) => {
      const args: string[] = [];
      for (const put of batch) args.push(put.value, put.ttl);
      const reply = array(await redis.eval(PUT_IF_ABSENT, batch.map((put) => put.key), args), "dedupe put");
      return batch.map((put, n) => (Buffer.isBuffer(reply[n]) ? decodeOrError(reply[n]) : put.record));
    }, redis.batchLimit(MAX_CALLS_PER_COMMAND));
  }

  /** @inheritDoc `now` is not used: Redis expires records by their TTL. */
  get(sender: string, clientMsgId: bigint, _now: number): Promise<AcceptedMessage | undefined> {
    const key = this.#keys.dedupe(sender, clientMsgId);
    return this.#gets.add(this.#redis.groupOf(key), key);
  }

  /**
   * @inheritDoc The record lives `ttlMs` from when Redis stores it (`now` is not used).
   * @throws (rejects) RangeError if `ttlMs` is not a positive integer.
   */
  async putIfAbsent(sender: string, clientMsgId: bigint, record: AcceptedMessage, _now: number, ttlMs: number): Promise<AcceptedMessage> {
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new RangeError(`ttlMs must be a positive integer, got ${ttlMs}`);
    const key = this.#keys.dedupe(sender, clientMsgId);
    return this.#puts.add(this.#redis.groupOf(key), { key, value: encode(record), ttl: String(ttlMs), record });
  }
}

/** A GET/MGET reply: absent, a record, or CORRUPT_REPLY (as an Error for that call). */
function decodeOrAbsent(value: unknown): AcceptedMessage | undefined | Error {
  if (value === null) return undefined;
  return decodeOrError(value);
}

function decodeOrError(value: unknown): AcceptedMessage | Error {
  try {
    return decode(value);
  } catch (error) {
    return error as Error;
  }
}
