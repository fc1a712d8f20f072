/**
 * SyncKey helpers. A SyncKey is a set of counters, one per data stream (`key`): the newest `version`
 * its holder has seen. It is a position in a partial order, not a number:
 *
 * - a key that is absent and a key at version 0 mean the same thing ("nothing seen");
 * - if a peer sends the same key twice, the larger version counts;
 * - entry order carries no meaning.
 *
 * Every helper here follows those three rules, so `merge` is commutative, associative and idempotent
 * and `equals` ignores order. Results are fresh `SyncKey` messages with entries sorted by key.
 * The text form is WeChat's long-poll form: `key_version|key_version`, e.g. `1_620943725|2_620943769`.
 */
import { create } from "@bufbuild/protobuf";
import { SyncKeyEntrySchema, SyncKeySchema, type SyncKey } from "../gen/syncwire/v1/sync_pb.js";
import { MAX_U32 } from "../wire/bytes.js";

const MAX_U64 = 0xffff_ffff_ffff_ffffn;

/** Why a SyncKey text failed to parse, and where (a character index). */
export class SyncKeyFormatError extends Error {
  /** Always "BAD_SYNC_KEY". */
  readonly code = "BAD_SYNC_KEY" as const;
  /** Character index where the offending entry starts. */
  readonly offset: number;
  /** What went wrong, in words: `message` without its "(BAD_SYNC_KEY at character N)" suffix. */
  readonly reason: string;

  /** @param message what went wrong (becomes `reason`); the code and offset are appended for `message`. */
  constructor(offset: number, message: string) {
    super(`${message} (BAD_SYNC_KEY at character ${offset})`);
    this.name = "SyncKeyFormatError";
    this.offset = offset;
    this.reason = message;
  }
}

/**
 * The versions of `key` as a map (max per key when a key repeats).
 * @returns a fresh Map; never throws.
 */
export function syncKeyToMap(key: SyncKey): Map<number, bigint> {
  const map = new Map<number, bigint>();
  for (const { key: k, version } of key.entries) {
    const seen = map.get(k);
    if (seen === undefined || version > seen) map.set(k, version);
  }
  return map;
}

/**
 * Builds a SyncKey from `[key, version]` pairs (a Map works), sorted by key, max per repeated key.
 * @returns a fresh SyncKey message.
 * @throws RangeError if a key is not a u32 or a version not a u64 `bigint`.
 */
export function createSyncKey(pairs: Iterable<readonly [number, bigint]>): SyncKey {
  const map = new Map<number, bigint>();
  for (const [k, version] of pairs) {
    if (!Number.isInteger(k) || k < 0 || k > MAX_U32) throw new RangeError(`SyncKey key must be a u32, got ${k}`);
    if (typeof version !== "bigint" || version < 0n || version > MAX_U64) throw new RangeError(`SyncKey version must be a u64 bigint, got ${String(version)}`);
    const seen = map.get(k);
    if (seen === undefined || version > seen) map.set(k, version);
  }
  const keys = [...map.keys()].sort((a, b) => a - b);
  return create(SyncKeySchema, { entries: keys.map((k) => create(SyncKeyEntrySchema, { key: k, version: map.get(k)! })) });
}

/**
 * Per-key maximum of `a` and `b`: the position that has seen everything either has seen.
 * Commutative, associative and idempotent (up to {@link syncKeyEquals}).
 * @returns a fresh SyncKey, sorted by key; the inputs are not modified. Never throws.
 */
export function mergeSyncKeys(a: SyncKey, b: SyncKey): SyncKey {
  const map = syncKeyToMap(a);
  for (const [k, version] of syncKeyToMap(b)) {
    const seen = map.get(k);
    if (seen === undefined || version > seen) map.set(k, version);
  }
  return createSyncKey(map);
}

/**
 * Compares two positions.
 * @returns 0 if equal, -1 if `a` is behind `b` (no key newer, some key older), 1 if ahead, and
 *   `undefined` if each has a key newer than the other's (concurrent). Never throws.
 */
export function compareSyncKeys(a: SyncKey, b: SyncKey): -1 | 0 | 1 | undefined {
  const newerInA = hasNewer(a, b);
  const newerInB = hasNewer(b, a);
  if (newerInA) return newerInB ? undefined : 1;
  return newerInB ? -1 : 0;
}

/**
 * "Is there anything newer?": true if some key of `candidate` (e.g. the server's, from NOTIFY) has a
 * version above `current`'s for that key. Never throws.
 */
export function hasNewer(candidate: SyncKey, current: SyncKey): boolean {
  const mine = syncKeyToMap(current);
  for (const [k, version] of syncKeyToMap(candidate)) {
    if (version > (mine.get(k) ?? 0n)) return true;
  }
  return false;
}

/** True if `a` and `b` are the same position: independent of entry order, repeats and zero versions. Never throws. */
export function syncKeyEquals(a: SyncKey, b: SyncKey): boolean {
  return compareSyncKeys(a, b) === 0;
}

/**
 * The text form `key_version|key_version`, entries in their order (empty string for no entries).
 * @returns a fresh string; never throws.
 */
export function formatSyncKey(key: SyncKey): string {
  return key.entries.map((e) => `${e.key}_${e.version}`).join("|");
}

const ENTRY = /^(0|[1-9][0-9]{0,9})_(0|[1-9][0-9]{0,19})$/;

/**
 * Parses the text form `key_version|key_version` (decimal, no signs, no leading zeros, no spaces; the
 * empty string is the empty key). Entries keep their order.
 * @returns a fresh SyncKey message.
 * @throws SyncKeyFormatError for a malformed entry, a key above 2^32 − 1, a version above 2^64 − 1 or
 *   a repeated key, with the character index of the entry.
 */
export function parseSyncKey(text: string): SyncKey {
  const key = create(SyncKeySchema);
  if (text === "") return key;
  const seen = new Set<number>();
  let at = 0;
  for (const part of text.split("|")) {
    const match = ENTRY.exec(part);
    if (match === null) throw new SyncKeyFormatError(at, `expected key_version, got ${JSON.stringify(part.slice(0, 40))}`);
    const k = Number(match[1]);
    const version = BigInt(match[2]!);
    if (k > MAX_U32) throw new SyncKeyFormatError(at, `key ${match[1]} exceeds 2^32 - 1`);
    if (version > MAX_U64) throw new SyncKeyFormatError(at, `version ${match[2]} exceeds 2^64 - 1`);
    if (seen.has(k)) throw new SyncKeyFormatError(at, `key ${k} appears twice`);
    seen.add(k);
    key.entries.push(create(SyncKeyEntrySchema, { key: k, version }));
    at += part.length + 1;
  }
  return key;
}
