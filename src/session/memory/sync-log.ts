/**
 * MemorySyncLog: every user's sync log in one process's memory (WeChat's SyncKey model).
 *
 * Theory of operation. Each user has one array of entries in append order, with a `start` index below
 * which entries have been trimmed, the newest version of each stream key (`heads`), a map from
 * idempotency key to version for the live entries (and the recently trimmed ones), and the committed key of each device (a
 * least-recently-committed-first map).
 *
 * - `append` returns the existing version when the idempotency key is known (live, or among the recently
 *   trimmed keys), else takes the next version of its stream and pushes the entry: one synchronous step,
 *   so concurrent appends never interleave.
 * - `read` finds the first newer entry by binary search when the log has one stream key (versions then
 *   grow with the index), else scans from `start`; it collects up to `limit` newer entries and looks one
 *   further for `hasMore`.
 * - Trimming runs after every append and commit, oldest first: an entry goes once more than `retention`
 *   entries are live and every device that ever committed has committed it (a user without devices
 *   keeps the newest `retention`), or unconditionally once more than `maxEntries` are live (a device
 *   that stopped syncing must not pin memory forever; it then misses the entries trimmed under it).
 *   Trimmed entries' idempotency keys stay in their user's key map, and join one process-wide FIFO that
 *   forgets the oldest beyond `trimmedKeys`, so a late retry of a trimmed message is still recognised
 *   (see SyncLogStore.append) and an append looks up one map, whatever was trimmed.
 * - Devices are bounded per user (`maxDevices`): committing as one more device forgets the one that
 *   committed least recently.
 *
 * Memory: per user O(maxEntries + maxDevices × stream keys), plus `trimmedKeys` keys in all.
 */
import type { SyncKey } from "../../gen/syncwire/v1/sync_pb.js";
import type { MessagePacket } from "../../gen/syncwire/v1/message_pb.js";
import { createSyncKey, syncKeyToMap } from "../../bodies/sync-key.js";
import { integerOption } from "../options.js";
import type { AppendResult, ReadResult, SyncLogEntry, SyncLogStore } from "../stores.js";

/** Options of {@link MemorySyncLog}. */
export interface MemorySyncLogOptions {
  /** Entries per user kept even when every device committed them. Default 10,000. */
  retention?: number;
  /** Entries per user beyond which the oldest go whatever was committed. Default 100,000 (≥ retention). */
  maxEntries?: number;
  /** Devices remembered per user (their committed keys). Default 64. */
  maxDevices?: number;
  /** Idempotency keys of trimmed entries remembered, process-wide, newest first. Default 100,000. */
  trimmedKeys?: number;
}

interface UserLog {
  /** Entries in append order; those below `start` are trimmed (and cleared for the collector). */
  entries: (SyncLogEntry | undefined)[];
  /** The idempotency key of each entry, parallel to `entries`. */
  idemKeys: (string | undefined)[];
  start: number;
  readonly heads: Map<number, bigint>;
  /** Idempotency key → version, for the live entries and the trimmed ones still remembered. */
  readonly idem: Map<string, bigint>;
  readonly devices: Map<string, Map<number, bigint>>;
}

const MAX_U32 = 0xffff_ffff;

/** Sync logs in memory, bounded per user. See the theory of operation above. */
export class MemorySyncLog implements SyncLogStore {
  readonly #retention: number;
  readonly #maxEntries: number;
  readonly #maxDevices: number;
  readonly #trimmedCapacity: number;
  readonly #logs = new Map<string, UserLog>();
  /**
   * Trimmed keys still remembered, oldest first from `#trimmedHead` (each also in its log's `idem`), in
   * two parallel arrays: no object per trimmed entry (every message is trimmed once per log it is in).
   */
  #trimmedLogs: (UserLog | undefined)[] = [];
  #trimmedKeys: (string | undefined)[] = [];
  #trimmedHead = 0;

  /** @throws RangeError for an option that is not an integer in range (`maxEntries` < `retention` included). */
  constructor(options: MemorySyncLogOptions = {}) {
    this.#retention = integerOption("retention", options.retention, 10_000, 0);
    this.#maxEntries = integerOption("maxEntries", options.maxEntries, Math.max(100_000, this.#retention), Math.max(1, this.#retention));
    this.#maxDevices = integerOption("maxDevices", options.maxDevices, 64, 1);
    this.#trimmedCapacity = integerOption("trimmedKeys", options.trimmedKeys, 100_000, 0);
  }

  /** Live (untrimmed) entries of `user`'s log. */
  entryCount(user: string): number {
    const log = this.#logs.get(user);
    return log === undefined ? 0 : log.entries.length - log.start;
  }

  /** Devices remembered for `user`. */
  deviceCount(user: string): number {
    return this.#logs.get(user)?.devices.size ?? 0;
  }

  /** Idempotency keys of trimmed entries remembered now (all users). */
  get trimmedKeyCount(): number {
    return this.#trimmedKeys.length - this.#trimmedHead;
  }

  /**
   * @inheritDoc
   * @throws (rejects) RangeError if `key` is not a u32.
   */
  async append(user: string, key: number, message: MessagePacket, idempotencyKey: string): Promise<AppendResult> {
    if (!Number.isInteger(key) || key < 0 || key > MAX_U32) throw new RangeError(`stream key must be a u32, got ${key}`);
    const log = this.#logOf(user);
    const known = log.idem.get(idempotencyKey);
    if (known !== undefined) return { version: known, appended: false };
    const version = (log.heads.get(key) ?? 0n) + 1n;
    log.heads.set(key, version);
    log.entries.push({ key, version, message });
    log.idemKeys.push(idempotencyKey);
    log.idem.set(idempotencyKey, version);
    this.#trim(log);
    return { version, appended: true };
  }

  /**
   * @inheritDoc
   * @throws (rejects) RangeError if `limit` is not an integer ≥ 1.
   */
  async read(user: string, after: SyncKey, limit: number): Promise<ReadResult> {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be an integer ≥ 1, got ${limit}`);
    const log = this.#logs.get(user);
    if (log === undefined) return { entries: [], hasMore: false };
    const seen = syncKeyToMap(after);
    const entries = log.entries;
    const end = entries.length;
    let i = log.heads.size === 1 ? this.#firstNewer(log, seen) : log.start;
    const out: SyncLogEntry[] = [];
    for (; i < end && out.length < limit; i++) {
      const entry = entries[i]!;
      if (entry.version > (seen.get(entry.key) ?? 0n)) out.push(entry);
    }
    let hasMore = false;
    for (; i < end; i++) {
      const entry = entries[i]!;
      if (entry.version > (seen.get(entry.key) ?? 0n)) {
        hasMore = true;
        break;
      }
    }
    return { entries: out, hasMore };
  }

  /** @inheritDoc */
  async head(user: string): Promise<SyncKey> {
    return createSyncKey(this.#logs.get(user)?.heads ?? []);
  }

  /** @inheritDoc */
  async commit(user: string, device: string, key: SyncKey): Promise<void> {
    const log = this.#logOf(user);
    const committed = log.devices.get(device) ?? new Map<number, bigint>();
    for (const [k, version] of syncKeyToMap(key)) {
      if (version > (committed.get(k) ?? 0n)) committed.set(k, version);
    }
    // Least recently committed first: re-insert at the end, forget the front beyond the bound.
    log.devices.delete(device);
    log.devices.set(device, committed);
    if (log.devices.size > this.#maxDevices) {
      for (const oldest of log.devices.keys()) {
        log.devices.delete(oldest);
        break;
      }
    }
    this.#trim(log);
  }

  /** @inheritDoc */
  async committed(user: string, device: string): Promise<SyncKey> {
    return createSyncKey(this.#logs.get(user)?.devices.get(device) ?? []);
  }

  #logOf(user: string): UserLog {
    let log = this.#logs.get(user);
    if (log === undefined) {
      log = { entries: [], idemKeys: [], start: 0, heads: new Map(), idem: new Map(), devices: new Map() };
      this.#logs.set(user, log);
    }
    return log;
  }

  /** Index of the first entry newer than `seen`, for a log of a single stream key (versions grow with the index). */
  #firstNewer(log: UserLog, seen: ReadonlyMap<number, bigint>): number {
    let lo = log.start;
    let hi = log.entries.length;
    const first = log.entries[lo];
    if (first === undefined) return hi;
    const floor = seen.get(first.key) ?? 0n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (log.entries[mid]!.version > floor) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  #committedByAll(log: UserLog, entry: SyncLogEntry): boolean {
    for (const committed of log.devices.values()) {
      if ((committed.get(entry.key) ?? 0n) < entry.version) return false;
    }
    return true;
  }

  #trim(log: UserLog): void {
    let live = log.entries.length - log.start;
    while (live > this.#retention) {
      const entry = log.entries[log.start]!;
      if (live <= this.#maxEntries && !this.#committedByAll(log, entry)) break;
      this.#rememberTrimmed(log, log.idemKeys[log.start]!);
      log.entries[log.start] = undefined;
      log.idemKeys[log.start] = undefined;
      log.start++;
      live--;
    }
    // Compact once the trimmed prefix is most of the array: amortised O(1) per trimmed entry.
    if (log.start > 1024 && log.start * 2 > log.entries.length) {
      log.entries = log.entries.slice(log.start);
      log.idemKeys = log.idemKeys.slice(log.start);
      log.start = 0;
    }
  }

  /** A trimmed entry's key stays known (in its log's `idem`) until it is the oldest beyond `trimmedKeys`. */
  #rememberTrimmed(log: UserLog, key: string): void {
    if (this.#trimmedCapacity === 0) {
      log.idem.delete(key);
      return;
    }
    this.#trimmedLogs.push(log);
    this.#trimmedKeys.push(key);
    if (this.#trimmedKeys.length - this.#trimmedHead > this.#trimmedCapacity) {
      const head = this.#trimmedHead++;
      this.#trimmedLogs[head]!.idem.delete(this.#trimmedKeys[head]!);
      this.#trimmedLogs[head] = undefined;
      this.#trimmedKeys[head] = undefined;
      if (this.#trimmedHead > 1024 && this.#trimmedHead * 2 > this.#trimmedKeys.length) {
        this.#trimmedLogs = this.#trimmedLogs.slice(this.#trimmedHead);
        this.#trimmedKeys = this.#trimmedKeys.slice(this.#trimmedHead);
        this.#trimmedHead = 0;
      }
    }
  }
}
