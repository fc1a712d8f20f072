/**
 * RedisUploadStore: unfinished uploads and the records of finished ones, in Redis, shared by all nodes
 * (a part may arrive on any link of any node).
 *
 * Theory of operation. Per owner (one hash tag, keys.ts):
 * - `up:{U}:<upload id>` (hash): the facts (`pc` part count, `ts` total size, `ct` content type), `rb`
 *   bytes stored, one field `#<index>` per stored part holding its bytes, and `oid` once complete (the
 *   parts are then deleted). Its TTL is the idle time, renewed by every part: an idle upload disappears
 *   with its parts, and a completed record lives `idleMs` after completion to answer late duplicates.
 * - `up:{U}` (sorted set): the owner's open uploads by the time of their last part. Entries idle for
 *   longer than `idleMs` are dropped before counting, so the count is exactly the open uploads the
 *   `maxOpenUploads` limit is about; completed uploads leave the set.
 *
 * Every operation is one Lua script, atomic per owner: counting open uploads, checking the limits and
 * storing the part cannot interleave with another node's call. Idle times use Redis's clock (TIME and key
 * TTLs); the `now` arguments are not used, and `expire` has nothing to do (it returns 0).
 *
 * Bound: parts held per owner ≤ maxOpenUploads × maxObjectSize bytes of Redis memory, for at most the
 * idle time after the last part.
 */
import type { UploadLimits, UploadMeta, UploadRefusal, UploadState, UploadStore } from "../session/stores.js";
import { array, luaScript, RedisStoreError, text, type RedisCommander } from "./commander.js";
import type { RedisKeys } from "./keys.js";

const NOW = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function state(up)
  local f = redis.call('HMGET', up, 'pc', 'ts', 'ct', 'rb', 'oid')
  local out = { 'state', f[1], f[2], f[3], f[4], f[5] or '' }
  if not f[5] then
    for _, name in ipairs(redis.call('HKEYS', up)) do
      if string.sub(name, 1, 1) == '#' then out[#out + 1] = string.sub(name, 2) end
    end
  end
  return out
end
`;

// KEYS: upload, open set. ARGV: upload id, part count, total size, content type, index, data,
// maxObjectSize, maxOpenUploads, idleMs, meta too large (0/1), index valid (0/1).
const PUT_PART = luaScript(
  "upload-put",
  `${NOW}
local up, open = KEYS[1], KEYS[2]
local id, pc, ts, ct, index, data = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local max_size, max_open, idle = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', open, '-inf', string.format('%.0f', now - idle - 1))
if redis.call('EXISTS', up) == 0 then
  if redis.call('ZCARD', open) >= max_open then return { 'refused', 'TOO_MANY_UPLOADS' } end
  if ARGV[10] == '1' then return { 'refused', 'TOO_LARGE' } end
  if ARGV[11] ~= '1' then return { 'refused', 'META_MISMATCH' } end
  redis.call('HSET', up, 'pc', pc, 'ts', ts, 'ct', ct, 'rb', '0')
end
redis.call('PEXPIRE', up, idle)
if redis.call('HEXISTS', up, 'oid') == 1 then return state(up) end
redis.call('ZADD', open, string.format('%.0f', now), id)
redis.call('PEXPIRE', open, idle)
if redis.call('HGET', up, 'pc') ~= pc or redis.call('HGET', up, 'ts') ~= ts or ARGV[11] ~= '1' then
  return { 'refused', 'META_MISMATCH' }
end
if ct ~= '' and redis.call('HGET', up, 'ct') == '' then redis.call('HSET', up, 'ct', ct) end
if redis.call('HEXISTS', up, '#' .. index) == 1 then return state(up) end
local bytes = tonumber(redis.call('HGET', up, 'rb')) + string.len(data)
if bytes > tonumber(ts) or bytes > max_size then return { 'refused', 'TOO_LARGE' } end
redis.call('HSET', up, '#' .. index, data, 'rb', string.format('%.0f', bytes))
return state(up)`,
);

// KEYS: upload.
const STATE = luaScript(
  "upload-state",
  `${NOW}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return state(KEYS[1])`,
);

// KEYS: upload. The parts in index order, or nil if not complete (or already completed).
const READ_PARTS = luaScript(
  "upload-read",
  `local up = KEYS[1]
local f = redis.call('HMGET', up, 'pc', 'oid')
if not f[1] or f[2] then return false end
local out = {}
for index = 0, tonumber(f[1]) - 1 do
  local part = redis.call('HGET', up, '#' .. index)
  if not part then return false end
  out[#out + 1] = part
end
return out`,
);

// KEYS: upload, open set. ARGV: upload id, object id, idleMs.
const COMPLETE = luaScript(
  "upload-complete",
  `local up, open = KEYS[1], KEYS[2]
if redis.call('EXISTS', up) == 0 then return ARGV[2] end
local standing = redis.call('HGET', up, 'oid')
if standing then return standing end
for _, name in ipairs(redis.call('HKEYS', up)) do
  if string.sub(name, 1, 1) == '#' then redis.call('HDEL', up, name) end
end
redis.call('HSET', up, 'oid', ARGV[2])
redis.call('ZREM', open, ARGV[1])
redis.call('PEXPIRE', up, ARGV[3])
return ARGV[2]`,
);

function checkLimits(limits: UploadLimits): void {
  for (const name of ["maxObjectSize", "maxOpenUploads", "idleMs"] as const) {
    const value = limits[name];
    if (!Number.isSafeInteger(value) || value < (name === "maxObjectSize" ? 0 : 1)) throw new RangeError(`limits.${name} must be an integer, got ${value}`);
  }
}

/** ["state", pc, ts, ct, rb, oid, indexes…] → UploadState. */
function stateOf(reply: unknown[]): UploadState {
  const partCount = Number(text(reply[1]));
  const totalSize = text(reply[2]);
  const receivedBytes = Number(text(reply[4]));
  if (text(reply[0]) !== "state" || !Number.isSafeInteger(partCount) || !/^\d+$/.test(totalSize) || !Number.isSafeInteger(receivedBytes)) {
    throw new RedisStoreError("CORRUPT_REPLY", "an upload record is not what the store writes");
  }
  const meta: UploadMeta = { partCount, totalSize: BigInt(totalSize), contentType: text(reply[3]) };
  const objectId = text(reply[5]);
  if (objectId !== "") {
    return { meta, received: Array.from({ length: partCount }, (_, i) => i), receivedBytes: Number(meta.totalSize), objectId };
  }
  const received = reply.slice(6).map((index) => Number(text(index)));
  received.sort((a, b) => a - b);
  return { meta, received, receivedBytes };
}

/** Uploads in Redis. See the theory of operation above. */
export class RedisUploadStore implements UploadStore {
  readonly #redis: RedisCommander;
  readonly #keys: RedisKeys;

  /** @internal Use `createRedisStores`. */
  constructor(redis: RedisCommander, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /**
   * @inheritDoc `now` is not used (Redis's clock decides idleness).
   * @throws (rejects) RangeError if a limit is not a whole number in range.
   */
  async putPart(
    owner: string,
    uploadId: string,
    meta: UploadMeta,
    index: number,
    data: Uint8Array,
    limits: UploadLimits,
    _now: number,
  ): Promise<UploadState | { readonly refused: UploadRefusal }> {
    checkLimits(limits);
    const tooLarge = meta.totalSize > BigInt(limits.maxObjectSize);
    const indexValid = Number.isInteger(index) && index >= 0 && index < meta.partCount;
    const reply = array(
      await this.#redis.eval(
        PUT_PART,
        [this.#keys.upload(owner, uploadId), this.#keys.openUploads(owner)],
        [
          uploadId,
          String(meta.partCount),
          String(meta.totalSize),
          meta.contentType,
          String(index),
          // Buffer.from copies: node-redis writes later, and the caller's bytes are theirs.
          Buffer.from(data),
          String(limits.maxObjectSize),
          String(limits.maxOpenUploads),
          String(limits.idleMs),
          tooLarge ? "1" : "0",
          indexValid ? "1" : "0",
        ],
      ),
      "putPart",
    );
    if (text(reply[0]) === "refused") {
      const refused = text(reply[1]);
      if (refused !== "TOO_MANY_UPLOADS" && refused !== "TOO_LARGE" && refused !== "META_MISMATCH") throw new RedisStoreError("CORRUPT_REPLY", `unknown refusal ${refused}`);
      return { refused };
    }
    return stateOf(reply);
  }

  /** @inheritDoc `limits` and `now` are not used (the record's TTL is the idle time). */
  async state(owner: string, uploadId: string, _limits: UploadLimits, _now: number): Promise<UploadState | undefined> {
    const reply = await this.#redis.eval(STATE, [this.#keys.upload(owner, uploadId)], []);
    return reply === null ? undefined : stateOf(array(reply, "state"));
  }

  /** @inheritDoc The parts are Buffers from the reply. */
  async readParts(owner: string, uploadId: string): Promise<readonly Uint8Array[] | undefined> {
    const reply = await this.#redis.eval(READ_PARTS, [this.#keys.upload(owner, uploadId)], []);
    if (reply === null) return undefined;
    return array(reply, "readParts").map((part) => {
      if (!Buffer.isBuffer(part)) throw new RedisStoreError("CORRUPT_REPLY", "an upload part is not a bulk string");
      return part;
    });
  }

  /**
   * @inheritDoc `now` is not used.
   * @throws (rejects) RangeError if a limit is not a whole number in range.
   */
  async complete(owner: string, uploadId: string, objectId: string, limits: UploadLimits, _now: number): Promise<string> {
    checkLimits(limits);
    const reply = await this.#redis.eval(COMPLETE, [this.#keys.upload(owner, uploadId), this.#keys.openUploads(owner)], [uploadId, objectId, String(limits.idleMs)]);
    return text(reply);
  }

  /** @inheritDoc Redis drops idle uploads by itself (key TTLs): nothing to do, returns 0. */
  async expire(_now: number, _idleMs: number): Promise<number> {
    return 0;
  }
}
