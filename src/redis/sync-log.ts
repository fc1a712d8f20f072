/**
 * RedisSyncLog: every user's sync log in Redis (WeChat's SyncKey model), shared by all nodes.
 *
 * Theory of operation. A user's log is a handful of keys under one hash tag (keys.ts), so on Cluster
 * they live in one slot and each operation is one Lua script — atomic, one round trip, never
 * read-then-write from Node:
 *
 * - `h` (hash): stream key → newest version. `m` (hash): `pos`, the append counter (an entry's position
 *   in append order), `live`, how many entries the log holds, `cseq`, the commit counter, and `b`, "1"
 *   while trimming is blocked by an entry some device has not committed.
 * - `e:<stream key>` (sorted set), one per stream key: score = the entry's version, member =
 *   `"<pos>:<length>:<idempotency key>"` followed by the MessagePacket's protobuf bytes (binary-safe).
 *   Versions grow with positions within a stream, so each set is in append order.
 * - `i` (hash): idempotency key → version, of live entries and of trimmed ones still remembered; `tq`
 *   (sorted set): the trimmed ones by the time they may be forgotten (`idempotencyTtlMs` after the
 *   trim: at least the engine's dedupe TTL, as long as a dedupe record may make the engine append again).
 * - `c` (hash): device → committed key as `"k=v,k=v"`; `cd` (sorted set): devices by last commit,
 *   bounded by `maxDevices` (the least recently committing device is forgotten).
 *
 * Scripts. Every `redis.call` inside a script costs Redis about 1.5 µs beyond the command's own work
 * (TIME about 4 µs), so the hot one, append, makes five calls and does everything else only when a
 * counter says there is work (bench/redis.js has the figures). The appends of one event-loop turn go
 * in one script call (coalesce.ts), each run as if alone:
 * - append: HINCRBY the stream's head, HSETNX the idempotency key to that version — if the key was
 *   there, this is a retry: the HINCRBY is undone and the known version returned (unless it is a
 *   trimmed key whose time is up: then it is forgotten and the message appended anew); HMGET `m`; ZADD
 *   the entry; HSET `m`. It trims only when the log holds more than `retention + retention/64` entries
 *   and trimming is not blocked, or more than `maxEntries`.
 * - read: for each stream key, ZRANGEBYSCORE (after its version, +inf] LIMIT limit + 1; merge the
 *   candidates by position, return the first `limit` and whether more were found. Exact: a stream that
 *   contributes to the first `limit` overall does so within its own first `limit + 1`, and the total
 *   exceeds `limit` exactly when more entries wait.
 * - commit: merge the device's key (per stream, the larger version; decimal strings compared exactly,
 *   so u64 versions never round), record the device as most recent, forget devices beyond the bound,
 *   then always trim (a commit is what unblocks trimming).
 * - trim: takes the oldest entries (smallest positions across streams) down to `retention`, at most
 *   `trimBatch` per call, in one ZRANGE and one ZREMRANGEBYRANK per stream: an entry goes if every device
 *   that ever committed has committed it (a user without devices keeps the newest `retention`), or
 *   unconditionally while more than `maxEntries` are live (then down to `maxEntries − maxEntries/64`).
 *   The first entry some device still needs stops it and sets `b`, so appends stop trying until a
 *   commit. Trimmed keys go to `tq` in one ZADD; keys whose time is up are forgotten (HDEL `i`, ZREM
 *   `tq`) in the same call.
 *
 * So a user's log holds at least `retention` entries (the newest), at most `retention + retention/64`
 * once every device has committed them, and never more than `maxEntries`. Trimming in steps of
 * `retention/64` is what makes an append cheap: a log at its bound trims 157 entries once per 157 appends
 * (default bounds) instead of one entry, with its floor computed, on every append.
 *
 * Numbers: versions and positions are exact up to 2^53 (sorted-set scores are doubles); committed keys
 * keep any u64. Entries' bytes fields are views of the reply buffer (nothing else uses it).
 *
 * Time: expiry of trimmed idempotency keys uses Redis's clock (TIME, read only when trimming or checking
 * a retry); `now` arguments do not exist here. Logs written by an earlier layout (no `live` count) are
 * counted once when first touched.
 */
import { createSyncKey, syncKeyToMap } from "../bodies/sync-key.js";
import { decodeProto, encodeProto } from "../bodies/proto.js";
import { MessagePacketSchema, type MessagePacket } from "../gen/syncwire/v1/message_pb.js";
import type { SyncKey } from "../gen/syncwire/v1/sync_pb.js";
import { integerOption } from "../session/options.js";
import type { AppendResult, ReadResult, SyncLogEntry, SyncLogStore } from "../session/stores.js";
import { array, luaScript, RedisStoreError, text, type RedisCommander } from "./commander.js";
import { Coalescer } from "./coalesce.js";
import type { RedisKeys } from "./keys.js";

/** Options of {@link RedisSyncLog} (as for the memory log, plus the idempotency keys' lifetime). */
export interface RedisSyncLogOptions {
  /**
   * Entries per user kept even when every device committed them. Default 10,000. Appends trim in steps
   * of `retention/64` (rounded down): a log holds up to `retention + retention/64` entries that every
   * device committed before an append trims it back to `retention`; commits trim to `retention`.
   */
  retention?: number;
  /**
   * Entries per user beyond which the oldest go whatever was committed (then `maxEntries/64` of them at
   * once). Default 100,000 (≥ retention).
   */
  maxEntries?: number;
  /** Devices remembered per user (their committed keys). Default 64. */
  maxDevices?: number;
  /**
   * How long a trimmed entry's idempotency key is remembered, ms. Must be at least the engine's
   * `dedupeTtlMs` (default 24 h, which is this default too).
   */
  idempotencyTtlMs?: number;
  /** Most entries one append or commit trims, 1–2,000 (Lua passes them to one command). Default 1,000. */
  trimBatch?: number;
}

const DAY_MS = 86_400_000;
const MAX_U32 = 0xffff_ffff;

/** Lua helpers shared by the scripts that write. */
const HELPERS = `
local function s(n) return string.format('%.0f', n) end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function pos_of(member) return tonumber(string.match(member, '^(%d+):')) end
local function idem_of(member)
  local a = string.find(member, ':', 1, true)
  local b = string.find(member, ':', a + 1, true)
  local n = tonumber(string.sub(member, a + 1, b - 1))
  return string.sub(member, b + 1, b + n)
end
local function parse_key(text)
  local out = {}
  for k, v in string.gmatch(text, '(%d+)=(%d+)') do out[k] = v end
  return out
end
local function count_live(P, h)
  local live = 0
  for _, k in ipairs(redis.call('HKEYS', h)) do live = live + redis.call('ZCARD', P .. 'e:' .. k) end
  return live
end
-- Trims down to retention (see the theory of operation). Returns the new live count and whether an
-- entry some device has not committed stopped it.
local function trim(P, h, i, tq, c, live, retention, max_entries, ttl, budget)
  local want = math.min(budget, live - retention)
  if want <= 0 then return live, false end
  local forced_to = nil
  if live > max_entries then forced_to = math.max(retention, max_entries - math.floor(max_entries / 64)) end
  local streams = redis.call('HKEYS', h)
  local devices = redis.call('HVALS', c)
  local floor = nil
  if #devices > 0 then
    floor = {}
    for _, k in ipairs(streams) do floor[k] = math.huge end
    for _, d in ipairs(devices) do
      local committed = parse_key(d)
      for _, k in ipairs(streams) do
        local v = tonumber(committed[k] or '0')
        if v < floor[k] then floor[k] = v end
      end
    end
  end
  local found = {}
  for _, k in ipairs(streams) do
    local got = redis.call('ZRANGE', P .. 'e:' .. k, 0, want - 1, 'WITHSCORES')
    for g = 1, #got, 2 do found[#found + 1] = { pos_of(got[g]), k, tonumber(got[g + 1]), got[g] } end
  end
  if #streams > 1 then table.sort(found, function(x, y) return x[1] < y[1] end) end
  local now = now_ms()
  local expires = s(now + ttl)
  local drop, pairs_, blocked = {}, {}, false
  for f = 1, math.min(want, #found) do
    local e = found[f]
    if not (forced_to ~= nil and live > forced_to) and floor ~= nil and e[3] > floor[e[2]] then
      blocked = true
      break
    end
    drop[e[2]] = (drop[e[2]] or 0) + 1
    pairs_[#pairs_ + 1] = expires
    pairs_[#pairs_ + 1] = idem_of(e[4])
    live = live - 1
  end
  for k, n in pairs(drop) do redis.call('ZREMRANGEBYRANK', P .. 'e:' .. k, 0, n - 1) end
  if #pairs_ > 0 then redis.call('ZADD', tq, unpack(pairs_)) end
  local gone = redis.call('ZRANGEBYSCORE', tq, '-inf', s(now), 'LIMIT', 0, budget)
  if #gone > 0 then
    redis.call('HDEL', i, unpack(gone))
    redis.call('ZREM', tq, unpack(gone))
  end
  return live, blocked
end
`;

// One or more appends, in order (coalesce.ts). KEYS: h m i tq c of each. ARGV: retention, maxEntries,
// ttl, budget, then P, stream, idempotency key, payload of each. Returns appended (1/0), version of each.
const APPEND = luaScript(
  "log-append",
  `${HELPERS}
local retention, max_entries, ttl, budget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local step = math.floor(retention / 64)
local function append(h, m, i, tq, c, P, stream, idem, payload)
  -- Optimistic: take the version and claim the key in two calls; a retry (rare) undoes the first.
  local version = redis.call('HINCRBY', h, stream, 1)
  if redis.call('HSETNX', i, idem, s(version)) == 0 then
    local known = redis.call('HGET', i, idem)
    local expires = redis.call('ZSCORE', tq, idem)
    if not expires or tonumber(expires) > now_ms() then
      if redis.call('HINCRBY', h, stream, -1) == 0 then redis.call('HDEL', h, stream) end
      return 0, known
    end
    -- A trimmed key whose time is up, not yet swept: forget it, append anew.
    redis.call('ZREM', tq, idem)
    redis.call('HSET', i, idem, s(version))
  end
  local meta = redis.call('HMGET', m, 'pos', 'live', 'b')
  local pos = tonumber(meta[1] or '0') + 1
  local live = (meta[2] and tonumber(meta[2]) or count_live(P, h)) + 1
  redis.call('ZADD', P .. 'e:' .. stream, s(version), s(pos) .. ':' .. string.len(idem) .. ':' .. idem .. payload)
  if live > max_entries or (live > retention + step and meta[3] ~= '1') then
    local blocked
    live, blocked = trim(P, h, i, tq, c, live, retention, max_entries, ttl, budget)
    redis.call('HSET', m, 'pos', s(pos), 'live', s(live), 'b', blocked and '1' or '0')
  else
    redis.call('HSET', m, 'pos', s(pos), 'live', s(live))
  end
  return 1, s(version)
end
local out = {}
for n = 0, #KEYS / 5 - 1 do
  local k, a = n * 5, 4 + n * 4
  local appended, version = append(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4])
  out[#out + 1] = appended
  out[#out + 1] = version
end
return out`,
);

// KEYS: h. ARGV: P, limit, then stream key / version pairs of the reader's key.
const READ = luaScript(
  "log-read",
  `local P, limit = ARGV[1], tonumber(ARGV[2])
local after = {}
for a = 3, #ARGV, 2 do after[ARGV[a]] = ARGV[a + 1] end
local found = {}
for _, k in ipairs(redis.call('HKEYS', KEYS[1])) do
  local got = redis.call('ZRANGEBYSCORE', P .. 'e:' .. k, '(' .. (after[k] or '0'), '+inf', 'WITHSCORES', 'LIMIT', 0, limit + 1)
  for g = 1, #got, 2 do
    found[#found + 1] = { tonumber(string.match(got[g], '^(%d+):')), k, got[g + 1], got[g] }
  end
end
table.sort(found, function(x, y) return x[1] < y[1] end)
local out = { #found > limit and 1 or 0 }
for f = 1, math.min(limit, #found) do
  out[#out + 1] = found[f][2]
  out[#out + 1] = found[f][3]
  out[#out + 1] = found[f][4]
end
return out`,
);

// KEYS: h m i tq c cd. ARGV: P, device, key "k=v,…", retention, maxEntries, ttl, budget, maxDevices.
const COMMIT = luaScript(
  "log-commit",
  `${HELPERS}
local h, m, i, tq, c, cd = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local P, device = ARGV[1], ARGV[2]
local function vgt(a, b)
  if string.len(a) ~= string.len(b) then return string.len(a) > string.len(b) end
  return a > b
end
local merged = parse_key(redis.call('HGET', c, device) or '')
for k, v in pairs(parse_key(ARGV[3])) do
  if vgt(v, merged[k] or '0') then merged[k] = v end
end
local parts = {}
for k, v in pairs(merged) do parts[#parts + 1] = k .. '=' .. v end
redis.call('HSET', c, device, table.concat(parts, ','))
redis.call('ZADD', cd, s(redis.call('HINCRBY', m, 'cseq', 1)), device)
local max_devices = tonumber(ARGV[8])
while redis.call('ZCARD', cd) > max_devices do
  local oldest = redis.call('ZRANGE', cd, 0, 0)[1]
  redis.call('ZREM', cd, oldest)
  redis.call('HDEL', c, oldest)
end
local stored = redis.call('HGET', m, 'live')
local live = stored and tonumber(stored) or count_live(P, h)
local blocked
live, blocked = trim(P, h, i, tq, c, live, tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]))
redis.call('HSET', m, 'live', s(live), 'b', blocked and '1' or '0')
return 1`,
);

const HGETALL = luaScript("hgetall", "return redis.call('HGETALL', KEYS[1])");

/** "k=v,k=v" → SyncKey (versions > 0). @throws RedisStoreError CORRUPT_REPLY for anything else. */
function parseCommitted(value: string): SyncKey {
  if (value === "") return createSyncKey([]);
  const pairs: [number, bigint][] = [];
  for (const part of value.split(",")) {
    const match = /^(\d+)=(\d+)$/.exec(part);
    if (match === null) throw new RedisStoreError("CORRUPT_REPLY", `a committed key is not "k=v,…": ${JSON.stringify(value)}`);
    pairs.push([Number(match[1]), BigInt(match[2]!)]);
  }
  try {
    return createSyncKey(pairs);
  } catch (error) {
    throw new RedisStoreError("CORRUPT_REPLY", `a committed key is out of range: ${JSON.stringify(value)}`);
  }
}

/** Index of the first `:` (0x3a) at or after `from` in `bytes`, or -1. */
function colon(bytes: Uint8Array, from: number): number {
  return bytes.indexOf(0x3a, from);
}

/** An entry from a read reply: stream key, version (score) and member. */
function entryOf(key: unknown, score: unknown, member: unknown): SyncLogEntry {
  if (!Buffer.isBuffer(member)) throw new RedisStoreError("CORRUPT_REPLY", "a log entry is not a bulk string");
  const a = colon(member, 0);
  const b = a < 0 ? -1 : colon(member, a + 1);
  const length = b < 0 ? NaN : Number(member.toString("latin1", a + 1, b));
  const start = b + 1 + length;
  const streamKey = Number(text(key));
  const version = text(score);
  if (!Number.isInteger(length) || start > member.byteLength || !Number.isInteger(streamKey) || !/^\d+$/.test(version)) {
    throw new RedisStoreError("CORRUPT_REPLY", "a log entry is not \"pos:len:key\" + message");
  }
  let message: MessagePacket;
  try {
    message = decodeProto(MessagePacketSchema, member.subarray(start));
  } catch (error) {
    throw new RedisStoreError("CORRUPT_REPLY", `a log entry's message does not decode: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { key: streamKey, version: BigInt(version), message };
}

/** An append waiting for its turn's script. */
interface QueuedAppend {
  readonly prefix: string;
  readonly stream: string;
  readonly idempotencyKey: string;
  readonly payload: Buffer;
}

/** Most appends in one script: about 10 µs of Redis each, so one call holds Redis ~1 ms at most. */
const MAX_APPENDS_PER_CALL = 128;

/** Sync logs in Redis. See the theory of operation above. */
export class RedisSyncLog implements SyncLogStore {
  readonly #redis: RedisCommander;
  readonly #appends: Coalescer<QueuedAppend, AppendResult>;
  readonly #keys: RedisKeys;
  readonly #bounds: string[];
  readonly #maxDevices: string;

  /**
   * @internal Use `createRedisStores`.
   * @throws RangeError for an option that is not an integer in range (`maxEntries` < `retention` included).
   */
  constructor(redis: RedisCommander, keys: RedisKeys, options: RedisSyncLogOptions = {}) {
    this.#redis = redis;
    this.#keys = keys;
    this.#appends = new Coalescer((items) => this.#appendBatch(items), redis.batchLimit(MAX_APPENDS_PER_CALL));
    const retention = integerOption("retention", options.retention, 10_000, 0);
    const maxEntries = integerOption("maxEntries", options.maxEntries, Math.max(100_000, retention), Math.max(1, retention));
    const ttl = integerOption("idempotencyTtlMs", options.idempotencyTtlMs, DAY_MS, 1);
    const budget = integerOption("trimBatch", options.trimBatch, 1_000, 1, 2_000);
    this.#maxDevices = String(integerOption("maxDevices", options.maxDevices, 64, 1));
    this.#bounds = [String(retention), String(maxEntries), String(ttl), String(budget)];
  }

  /** Pushes one user's keys as the append script takes them: h m i tq c (the commit script adds cd). */
  #pushAppendKeys(prefix: string, keys: string[]): string[] {
    keys.push(`${prefix}h`, `${prefix}m`, `${prefix}i`, `${prefix}tq`, `${prefix}c`);
    return keys;
  }

  /**
   * @inheritDoc The message is stored as its protobuf encoding.
   * @throws (rejects) RangeError if `key` is not a u32; TypeError if `message` cannot be encoded.
   */
  async append(user: string, key: number, message: MessagePacket, idempotencyKey: string): Promise<AppendResult> {
    if (!Number.isInteger(key) || key < 0 || key > MAX_U32) throw new RangeError(`stream key must be a u32, got ${key}`);
    const prefix = this.#keys.log(user);
    // Buffer.from copies: encodeProto may return a view of a shared slab, and node-redis writes later.
    const payload = Buffer.from(encodeProto(MessagePacketSchema, message));
    return this.#appends.add(this.#redis.groupOf(prefix), { prefix, stream: String(key), idempotencyKey, payload });
  }

  /** Runs the appends queued in one turn as one script (coalesce.ts). */
  async #appendBatch(items: readonly QueuedAppend[]): Promise<(AppendResult | Error)[]> {
    const keys: string[] = [];
    const args: (string | Buffer)[] = [...this.#bounds];
    for (const item of items) {
      const { prefix } = item;
      this.#pushAppendKeys(prefix, keys);
      args.push(prefix, item.stream, item.idempotencyKey, item.payload);
    }
    const reply = array(await this.#redis.eval(APPEND, keys, args), "append");
    const results: (AppendResult | Error)[] = [];
    for (let n = 0; n < items.length; n++) {
      const version = text(reply[2 * n + 1]);
      if (!/^\d+$/.test(version)) results.push(new RedisStoreError("CORRUPT_REPLY", `append answered version ${JSON.stringify(version)}`));
      else results.push({ version: BigInt(version), appended: text(reply[2 * n]) === "1" });
    }
    return results;
  }

  /**
   * @inheritDoc Entries' bytes fields are views of the reply.
   * @throws (rejects) RangeError if `limit` is not an integer ≥ 1.
   */
  async read(user: string, after: SyncKey, limit: number): Promise<ReadResult> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be an integer ≥ 1, got ${limit}`);
    const prefix = this.#keys.log(user);
    // A key may repeat in a SyncKey: syncKeyToMap keeps the largest version.
    const pairs = [...syncKeyToMap(after)].flatMap(([k, v]) => [String(k), String(v)]);
    const reply = array(await this.#redis.eval(READ, [`${prefix}h`], [prefix, String(limit), ...pairs]), "read");
    const entries: SyncLogEntry[] = [];
    for (let r = 1; r + 2 < reply.length; r += 3) entries.push(entryOf(reply[r], reply[r + 1], reply[r + 2]));
    return { entries, hasMore: text(reply[0]) === "1" };
  }

  /** @inheritDoc */
  async head(user: string): Promise<SyncKey> {
    const reply = array(await this.#redis.eval(HGETALL, [`${this.#keys.log(user)}h`], []), "head");
    const pairs: [number, bigint][] = [];
    for (let r = 0; r + 1 < reply.length; r += 2) {
      const key = Number(text(reply[r]));
      const version = text(reply[r + 1]);
      if (!Number.isInteger(key) || !/^\d+$/.test(version)) throw new RedisStoreError("CORRUPT_REPLY", "a log head is not stream key → version");
      pairs.push([key, BigInt(version)]);
    }
    return createSyncKey(pairs);
  }

  /** @inheritDoc */
  async commit(user: string, device: string, key: SyncKey): Promise<void> {
    const prefix = this.#keys.log(user);
    const keys = this.#pushAppendKeys(prefix, []);
    keys.push(`${prefix}cd`);
    const versions = [...syncKeyToMap(key)].map(([k, v]) => `${k}=${v}`).join(",");
    await this.#redis.eval(COMMIT, keys, [prefix, device, versions, ...this.#bounds, this.#maxDevices]);
  }

  /** @inheritDoc */
  async committed(user: string, device: string): Promise<SyncKey> {
    const key = `${this.#keys.log(user)}c`;
    return parseCommitted(text(await this.#redis.send(key, ["HGET", key, device])));
  }
}
