/**
 * The store contract (src/session/stores.ts) as test suites any implementation runs: one function per
 * interface, each taking a name and a factory. `memory.test.ts` runs them on the memory stores; the Redis
 * stores run the same functions.
 *
 * Time: a suite reads its clock from `options.clock` (default: a fake clock whose `advance` just moves
 * the number). A store that expires by its own clock (Redis TTLs) passes a real clock whose `advance`
 * sleeps, with `ttlMs` small enough to wait for. Async delivery (pub/sub) is awaited with `eventually`,
 * and "nothing arrives" is judged after `options.settle()`.
 *
 * Names: every test uses fresh user, sender and conversation names, so a store shared between tests
 * (one Redis database) needs no flushing.
 */
import { create } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createSyncKey, MessageKind, MessagePacketSchema, syncKeyToMap, type MessagePacket, type SyncKey } from "../../../src/index.js";
import type {
  AcceptedMessage,
  DedupeStore,
  MessageIdAllocator,
  ObjectStore,
  Presence,
  SyncLogStore,
  UploadLimits,
  UploadMeta,
  UploadState,
  UploadStore,
} from "../../../src/session/stores.js";

/** A clock the suites read `now` from. */
export interface ContractClock {
  now(): number;
  /** Moves time on by `ms` (a fake clock) or waits that long (a real one). */
  advance(ms: number): Promise<void>;
}

/** Options every suite takes. */
export interface ContractOptions {
  /** A fresh clock per test. Default: a fake clock starting at 1,700,000,000,000. */
  clock?: () => ContractClock;
  /** The TTL / idle time the expiry tests use (default 1000; a real clock wants something short). */
  ttlMs?: number;
  /** Waits until anything in flight has been delivered (default: one macrotask). */
  settle?: () => Promise<void>;
}

/** Makes a store; may be async (connecting to a server). */
export type Make<T> = () => T | Promise<T>;

/** A fake clock: `advance` moves the number, nothing waits. */
export function fakeClock(start = 1_700_000_000_000): ContractClock {
  let now = start;
  return {
    now: () => now,
    advance: async (ms) => {
      now += ms;
    },
  };
}

const macrotask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Polls `check` until it passes (or throws its last failure after `timeoutMs`). */
export async function eventually(check: () => void, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await macrotask();
    }
  }
}

let nameCounter = 0;
const runTag = Math.floor(Math.random() * 0xffffff).toString(36);
/** A name no other test uses (in this run, or in an earlier run sharing the store). */
export function freshName(prefix: string): string {
  return `${prefix}-${runTag}-${++nameCounter}`;
}

function resolveOptions(options: ContractOptions): Required<ContractOptions> {
  return { clock: options.clock ?? (() => fakeClock()), ttlMs: options.ttlMs ?? 1000, settle: options.settle ?? macrotask };
}

function accepted(serverMsgId: bigint, serverTimeMs = 1_700_000_000_000n): AcceptedMessage {
  return { serverMsgId, serverTimeMs };
}

function sameAccepted(a: AcceptedMessage | undefined, b: AcceptedMessage): void {
  expect(a).toBeDefined();
  expect(a!.serverMsgId).toBe(b.serverMsgId);
  expect(a!.serverTimeMs).toBe(b.serverTimeMs);
}

// ---------------------------------------------------------------------------------------------- dedupe

/** DedupeStore: set-if-absent records, keyed by (sender, client id), living for their TTL. */
export function describeDedupeContract(name: string, make: Make<DedupeStore>, options: ContractOptions = {}): void {
  const { clock: makeClock, ttlMs, settle } = resolveOptions(options);
  const DAY = 86_400_000;

  describe(`DedupeStore contract: ${name}`, () => {
    test("an unknown record is absent", async () => {
      const store = await make();
      expect(await store.get(freshName("s"), 1n, makeClock().now())).toBeUndefined();
    });

    test("putIfAbsent stores once: a second record for the same key gets the first back", async () => {
      const store = await make();
      const clock = makeClock();
      const sender = freshName("s");
      const first = accepted(7n, 111n);
      sameAccepted(await store.putIfAbsent(sender, 42n, first, clock.now(), DAY), first);
      sameAccepted(await store.putIfAbsent(sender, 42n, accepted(8n, 222n), clock.now(), DAY), first);
      sameAccepted(await store.get(sender, 42n, clock.now()), first);
    });

    test("keys are (sender, client id): other senders and other ids are independent, names cannot collide", async () => {
      const store = await make();
      const now = makeClock().now();
      const base = freshName("s");
      // "x1" + 23 and "x" + 123 would collide if the key were a plain concatenation.
      await store.putIfAbsent(`${base}x1`, 23n, accepted(1n), now, DAY);
      await store.putIfAbsent(`${base}x`, 123n, accepted(2n), now, DAY);
      await store.putIfAbsent(`${base}x1`, 24n, accepted(3n), now, DAY);
      expect((await store.get(`${base}x1`, 23n, now))?.serverMsgId).toBe(1n);
      expect((await store.get(`${base}x`, 123n, now))?.serverMsgId).toBe(2n);
      expect((await store.get(`${base}x1`, 24n, now))?.serverMsgId).toBe(3n);
      expect(await store.get(`${base}x`, 23n, now)).toBeUndefined();
    });

    test("client ids across the whole u64 range (fixed64) keep their identity", async () => {
      const store = await make();
      const now = makeClock().now();
      const sender = freshName("s");
      const ids = [0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, 0xffff_ffff_ffff_fffen, 0xffff_ffff_ffff_ffffn];
      for (const [i, id] of ids.entries()) await store.putIfAbsent(sender, id, accepted(BigInt(i + 1), 0xffff_ffff_ffff_ffffn), now, DAY);
      for (const [i, id] of ids.entries()) sameAccepted(await store.get(sender, id, now), accepted(BigInt(i + 1), 0xffff_ffff_ffff_ffffn));
    });

    test("concurrent putIfAbsent (Promise.all): exactly one record stands and every caller gets it", async () => {
      const store = await make();
      const now = makeClock().now();
      const sender = freshName("s");
      const candidates = Array.from({ length: 25 }, (_, i) => accepted(BigInt(100 + i)));
      const results = await Promise.all(candidates.map((c) => store.putIfAbsent(sender, 9n, c, now, DAY)));
      const winner = results[0]!;
      expect(candidates.map((c) => c.serverMsgId)).toContain(winner.serverMsgId);
      for (const result of results) sameAccepted(result, winner);
      sameAccepted(await store.get(sender, 9n, now), winner);
    });

    test("a record lives for its TTL, then is absent and can be replaced", async () => {
      const store = await make();
      const clock = makeClock();
      const sender = freshName("s");
      await store.putIfAbsent(sender, 5n, accepted(1n), clock.now(), ttlMs);
      sameAccepted(await store.get(sender, 5n, clock.now()), accepted(1n));
      await clock.advance(ttlMs * 2);
      await settle();
      expect(await store.get(sender, 5n, clock.now())).toBeUndefined();
      sameAccepted(await store.putIfAbsent(sender, 5n, accepted(2n), clock.now(), ttlMs), accepted(2n));
    });

    test("a TTL that is not positive is a caller error (the promise rejects with RangeError)", async () => {
      const store = await make();
      const now = makeClock().now();
      await expect(store.putIfAbsent(freshName("s"), 1n, accepted(1n), now, 0)).rejects.toBeInstanceOf(RangeError);
      await expect(store.putIfAbsent(freshName("s"), 1n, accepted(1n), now, -5)).rejects.toBeInstanceOf(RangeError);
    });

    test("property: any sequence of puts and gets behaves like a map of first writes", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.record({ put: fc.boolean(), id: fc.bigInt({ min: 0n, max: 4n }), value: fc.bigInt({ min: 1n, max: 1000n }) }), { maxLength: 40 }), async (steps) => {
          const store = await make();
          const now = makeClock().now();
          const sender = freshName("s");
          const model = new Map<bigint, bigint>();
          for (const step of steps) {
            if (step.put) {
              if (!model.has(step.id)) model.set(step.id, step.value);
              expect((await store.putIfAbsent(sender, step.id, accepted(step.value), now, DAY)).serverMsgId).toBe(model.get(step.id));
            } else {
              expect((await store.get(sender, step.id, now))?.serverMsgId).toBe(model.get(step.id));
            }
          }
        }),
        { numRuns: 30 },
      );
    });
  });
}

// --------------------------------------------------------------------------------------------- ids

/** MessageIdAllocator: ids per conversation, never repeated, increasing. */
export function describeIdAllocatorContract(name: string, make: Make<MessageIdAllocator>): void {
  describe(`MessageIdAllocator contract: ${name}`, () => {
    test("ids of one conversation increase; conversations are independent", async () => {
      const ids = await make();
      const a = freshName("conv");
      const b = freshName("conv");
      const seen = { [a]: [] as bigint[], [b]: [] as bigint[] };
      for (const conversation of [a, a, b, a, b, b, a]) seen[conversation]!.push(await ids.next(conversation));
      for (const list of Object.values(seen)) {
        for (let i = 1; i < list.length; i++) expect(list[i]! > list[i - 1]!).toBe(true);
        expect(list[0]! > 0n).toBe(true);
      }
    });

    test("concurrent calls (Promise.all) never return the same id", async () => {
      const ids = await make();
      const conversation = freshName("conv");
      const results = await Promise.all(Array.from({ length: 50 }, () => ids.next(conversation)));
      expect(new Set(results).size).toBe(50);
      const later = await ids.next(conversation);
      for (const id of results) expect(later > id).toBe(true);
    });

    test("property: any interleaving of conversations keeps each one strictly increasing", async () => {
      const ids = await make();
      await fc.assert(
        fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 60 }), async (picks) => {
          const names = Array.from({ length: 6 }, () => freshName("conv"));
          const last = new Map<string, bigint>();
          for (const pick of picks) {
            const conversation = names[pick]!;
            const id = await ids.next(conversation);
            expect(id > (last.get(conversation) ?? 0n)).toBe(true);
            last.set(conversation, id);
          }
        }),
        { numRuns: 30 },
      );
    });
  });
}

// ---------------------------------------------------------------------------------------- sync log

function packet(text: string, serverMsgId = 0n): MessagePacket {
  return create(MessagePacketSchema, {
    clientMsgId: 1n,
    serverMsgId,
    conversationId: "c",
    senderId: "s",
    recipientId: "r",
    kind: MessageKind.TEXT,
    content: new TextEncoder().encode(text),
  });
}

function texts(entries: readonly { message: MessagePacket }[]): string[] {
  return entries.map((e) => new TextDecoder().decode(e.message.content));
}

function versions(key: SyncKey): [number, bigint][] {
  return [...syncKeyToMap(key)].filter(([, v]) => v > 0n).sort((x, y) => x[0] - y[0]);
}

/** Makes a sync log that keeps at least `retention` entries per user and trims what every device committed beyond that. */
export type MakeSyncLog = (bounds: { retention: number }) => SyncLogStore | Promise<SyncLogStore>;

/** SyncLogStore: per-user append-only logs with versions per stream key, idempotent appends, commits, trimming. */
export function describeSyncLogContract(name: string, make: MakeSyncLog): void {
  const big = { retention: 1_000 };

  describe(`SyncLogStore contract: ${name}`, () => {
    test("an unknown user has an empty log, an empty head and nothing committed", async () => {
      const log = await make(big);
      const user = freshName("u");
      expect(await log.read(user, createSyncKey([]), 10)).toEqual({ entries: [], hasMore: false });
      expect(versions(await log.head(user))).toEqual([]);
      expect(versions(await log.committed(user, "d"))).toEqual([]);
    });

    test("appends take versions 1, 2, 3 … per stream key; read returns them oldest first", async () => {
      const log = await make(big);
      const user = freshName("u");
      expect(await log.append(user, 1, packet("a"), "k-a")).toEqual({ version: 1n, appended: true });
      expect(await log.append(user, 1, packet("b"), "k-b")).toEqual({ version: 2n, appended: true });
      expect(await log.append(user, 2, packet("x"), "k-x")).toEqual({ version: 1n, appended: true });
      expect(await log.append(user, 1, packet("c"), "k-c")).toEqual({ version: 3n, appended: true });
      const all = await log.read(user, createSyncKey([]), 10);
      expect(texts(all.entries)).toEqual(["a", "b", "x", "c"]);
      expect(all.entries.map((e) => [e.key, e.version])).toEqual([
        [1, 1n],
        [1, 2n],
        [2, 1n],
        [1, 3n],
      ]);
      expect(all.hasMore).toBe(false);
      expect(versions(await log.head(user))).toEqual([
        [1, 3n],
        [2, 1n],
      ]);
    });

    test("the stored message comes back with its fields", async () => {
      const log = await make(big);
      const user = freshName("u");
      const message = create(MessagePacketSchema, {
        clientMsgId: 0xffff_ffff_ffff_ffffn,
        serverMsgId: 77n,
        conversationId: "conv",
        senderId: "bob",
        recipientId: user,
        kind: MessageKind.IMAGE,
        content: new Uint8Array([0, 1, 255]),
        media: { objectId: "obj", contentType: "image/png", size: 3n, thumbnail: new Uint8Array([9]) },
        createdAtMs: 1_700_000_000_123n,
      });
      await log.append(user, 1, message, "k");
      const [entry] = (await log.read(user, createSyncKey([]), 1)).entries;
      expect(entry!.message).toEqual(message);
    });

    test("read: after a key, up to limit, hasMore when more wait", async () => {
      const log = await make(big);
      const user = freshName("u");
      for (const t of ["a", "b", "c", "d", "e"]) await log.append(user, 1, packet(t), `k-${t}`);
      const page1 = await log.read(user, createSyncKey([]), 2);
      expect(texts(page1.entries)).toEqual(["a", "b"]);
      expect(page1.hasMore).toBe(true);
      const page2 = await log.read(user, createSyncKey([[1, 2n]]), 2);
      expect(texts(page2.entries)).toEqual(["c", "d"]);
      expect(page2.hasMore).toBe(true);
      const page3 = await log.read(user, createSyncKey([[1, 4n]]), 2);
      expect(texts(page3.entries)).toEqual(["e"]);
      expect(page3.hasMore).toBe(false);
      const exact = await log.read(user, createSyncKey([[1, 3n]]), 2);
      expect(texts(exact.entries)).toEqual(["d", "e"]);
      expect(exact.hasMore).toBe(false);
      expect(await log.read(user, createSyncKey([[1, 5n]]), 2)).toEqual({ entries: [], hasMore: false });
      expect(await log.read(user, createSyncKey([[1, 99n]]), 2)).toEqual({ entries: [], hasMore: false });
    });

    test("read with several stream keys: each key filtered by its own version, append order kept", async () => {
      const log = await make(big);
      const user = freshName("u");
      await log.append(user, 1, packet("m1"), "a");
      await log.append(user, 2, packet("c1"), "b");
      await log.append(user, 1, packet("m2"), "c");
      await log.append(user, 2, packet("c2"), "d");
      await log.append(user, 1000, packet("app1"), "e");
      const result = await log.read(user, createSyncKey([[1, 1n], [1000, 1n]]), 10);
      expect(texts(result.entries)).toEqual(["c1", "m2", "c2"]);
      const limited = await log.read(user, createSyncKey([[2, 2n]]), 2);
      expect(texts(limited.entries)).toEqual(["m1", "m2"]);
      expect(limited.hasMore).toBe(true);
    });

    test("a limit that is not an integer ≥ 1 rejects with RangeError", async () => {
      const log = await make(big);
      await expect(log.read(freshName("u"), createSyncKey([]), 0)).rejects.toBeInstanceOf(RangeError);
      await expect(log.read(freshName("u"), createSyncKey([]), 1.5)).rejects.toBeInstanceOf(RangeError);
    });

    test("a stream key that is not a u32 rejects with RangeError, and nothing is appended", async () => {
      const log = await make(big);
      const user = freshName("u");
      for (const key of [-1, 1.5, 0x1_0000_0000]) await expect(log.append(user, key, packet("x"), `k${key}`)).rejects.toBeInstanceOf(RangeError);
      expect(await log.read(user, createSyncKey([]), 10)).toEqual({ entries: [], hasMore: false });
    });

    test("append is idempotent by key: the same key returns the first version and appends nothing", async () => {
      const log = await make(big);
      const user = freshName("u");
      await log.append(user, 1, packet("a"), "dup");
      await log.append(user, 1, packet("b"), "other");
      expect(await log.append(user, 1, packet("a again"), "dup")).toEqual({ version: 1n, appended: false });
      expect(texts((await log.read(user, createSyncKey([]), 10)).entries)).toEqual(["a", "b"]);
      expect(versions(await log.head(user))).toEqual([[1, 2n]]);
    });

    test("idempotency keys are per user", async () => {
      const log = await make(big);
      const [u1, u2] = [freshName("u"), freshName("u")];
      expect((await log.append(u1, 1, packet("a"), "same")).appended).toBe(true);
      expect((await log.append(u2, 1, packet("a"), "same")).appended).toBe(true);
    });

    test("concurrent appends (Promise.all): distinct versions 1…n; one idempotency key appends once", async () => {
      const log = await make(big);
      const user = freshName("u");
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(user, 1, packet(`m${i}`), `k${i}`)));
      expect(results.map((r) => r.version).sort((a, b) => Number(a - b))).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)));
      const read = await log.read(user, createSyncKey([]), 100);
      expect(read.entries.map((e) => e.version)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)));
      const same = await Promise.all(Array.from({ length: 10 }, () => log.append(user, 1, packet("once"), "race")));
      expect(same.filter((r) => r.appended)).toHaveLength(1);
      expect(new Set(same.map((r) => r.version)).size).toBe(1);
      expect((await log.read(user, createSyncKey([]), 100)).entries).toHaveLength(21);
    });

    test("users' logs are independent", async () => {
      const log = await make(big);
      const [u1, u2] = [freshName("u"), freshName("u")];
      await log.append(u1, 1, packet("for u1"), "a");
      await log.append(u2, 1, packet("for u2"), "a");
      await log.append(u2, 1, packet("for u2 again"), "b");
      expect(texts((await log.read(u1, createSyncKey([]), 10)).entries)).toEqual(["for u1"]);
      expect(versions(await log.head(u2))).toEqual([[1, 2n]]);
    });

    test("commit: per device, merged per key, never goes back", async () => {
      const log = await make(big);
      const user = freshName("u");
      await log.commit(user, "phone", createSyncKey([[1, 5n]]));
      await log.commit(user, "phone", createSyncKey([[1, 3n], [2, 4n]]));
      expect(versions(await log.committed(user, "phone"))).toEqual([
        [1, 5n],
        [2, 4n],
      ]);
      expect(versions(await log.committed(user, "laptop"))).toEqual([]);
      await Promise.all([log.commit(user, "laptop", createSyncKey([[1, 2n]])), log.commit(user, "laptop", createSyncKey([[1, 9n]])), log.commit(user, "laptop", createSyncKey([[1, 4n]]))]);
      expect(versions(await log.committed(user, "laptop"))).toEqual([[1, 9n]]);
    });

    test("commits do not consume: a read with an old key still returns committed entries within retention", async () => {
      const log = await make({ retention: 10 });
      const user = freshName("u");
      for (const t of ["a", "b", "c"]) await log.append(user, 1, packet(t), t);
      await log.commit(user, "d1", createSyncKey([[1, 3n]]));
      expect(texts((await log.read(user, createSyncKey([]), 10)).entries)).toEqual(["a", "b", "c"]);
    });

    test("trimming: beyond the retention bound, what every device committed goes; the newest `retention` stay", async () => {
      const log = await make({ retention: 3 });
      const user = freshName("u");
      for (let i = 1; i <= 8; i++) await log.append(user, 1, packet(`m${i}`), `k${i}`);
      await log.commit(user, "d1", createSyncKey([[1, 8n]]));
      await log.commit(user, "d2", createSyncKey([[1, 6n]]));
      // d2 has committed up to 6: entries 1–5 are beyond the newest three and committed by both.
      expect(texts((await log.read(user, createSyncKey([]), 100)).entries)).toEqual(["m6", "m7", "m8"]);
      await log.commit(user, "d2", createSyncKey([[1, 8n]]));
      expect(texts((await log.read(user, createSyncKey([]), 100)).entries)).toEqual(["m6", "m7", "m8"]);
      // Versions keep counting after a trim.
      expect(await log.append(user, 1, packet("m9"), "k9")).toEqual({ version: 9n, appended: true });
    });

    test("trimming waits for the slowest device that has committed", async () => {
      const log = await make({ retention: 2 });
      const user = freshName("u");
      await log.commit(user, "slow", createSyncKey([]));
      for (let i = 1; i <= 6; i++) await log.append(user, 1, packet(`m${i}`), `k${i}`);
      await log.commit(user, "fast", createSyncKey([[1, 6n]]));
      expect(texts((await log.read(user, createSyncKey([]), 100)).entries)).toEqual(["m1", "m2", "m3", "m4", "m5", "m6"]);
      await log.commit(user, "slow", createSyncKey([[1, 2n]]));
      expect(texts((await log.read(user, createSyncKey([]), 100)).entries)).toEqual(["m3", "m4", "m5", "m6"]);
    });

    test("a trimmed entry's idempotency key is still recognised (a late retry is not stored twice)", async () => {
      const log = await make({ retention: 1 });
      const user = freshName("u");
      await log.append(user, 1, packet("first"), "retry-me");
      await log.append(user, 1, packet("second"), "other");
      await log.commit(user, "d", createSyncKey([[1, 2n]]));
      expect(texts((await log.read(user, createSyncKey([]), 10)).entries)).toEqual(["second"]);
      expect(await log.append(user, 1, packet("first"), "retry-me")).toEqual({ version: 1n, appended: false });
      expect(texts((await log.read(user, createSyncKey([]), 10)).entries)).toEqual(["second"]);
    });

    test("property: random appends, retries, reads and commits match a model log", async () => {
      const step = fc.oneof(
        fc.record({ kind: fc.constant("append" as const), key: fc.constantFrom(1, 2), idem: fc.integer({ min: 0, max: 12 }) }),
        fc.record({ kind: fc.constant("read" as const), after1: fc.bigInt({ min: 0n, max: 14n }), after2: fc.bigInt({ min: 0n, max: 14n }), limit: fc.integer({ min: 1, max: 5 }) }),
        fc.record({ kind: fc.constant("commit" as const), device: fc.constantFrom("a", "b"), v1: fc.bigInt({ min: 0n, max: 14n }) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 50 }), async (steps) => {
          const log = await make(big);
          const user = freshName("u");
          const model: { key: number; version: bigint; text: string }[] = [];
          const byIdem = new Map<number, bigint>();
          const heads = new Map<number, bigint>();
          const commits = new Map<string, bigint>();
          for (const s of steps) {
            if (s.kind === "append") {
              const text = `i${s.idem}`;
              const result = await log.append(user, s.key, packet(text), text);
              const known = byIdem.get(s.idem);
              if (known !== undefined) {
                expect(result).toEqual({ version: known, appended: false });
              } else {
                const version = (heads.get(s.key) ?? 0n) + 1n;
                heads.set(s.key, version);
                byIdem.set(s.idem, version);
                model.push({ key: s.key, version, text });
                expect(result).toEqual({ version, appended: true });
              }
            } else if (s.kind === "read") {
              const after = new Map([[1, s.after1], [2, s.after2]]);
              const newer = model.filter((e) => e.version > after.get(e.key)!);
              const result = await log.read(user, createSyncKey(after), s.limit);
              expect(texts(result.entries)).toEqual(newer.slice(0, s.limit).map((e) => e.text));
              expect(result.entries.map((e) => e.version)).toEqual(newer.slice(0, s.limit).map((e) => e.version));
              expect(result.hasMore).toBe(newer.length > s.limit);
            } else {
              await log.commit(user, s.device, createSyncKey([[1, s.v1]]));
              commits.set(s.device, (commits.get(s.device) ?? 0n) > s.v1 ? commits.get(s.device)! : s.v1);
              expect(versions(await log.committed(user, s.device))).toEqual(commits.get(s.device)! > 0n ? [[1, commits.get(s.device)!]] : []);
            }
          }
          expect(versions(await log.head(user))).toEqual([...heads].sort((x, y) => x[0] - y[0]));
        }),
        { numRuns: 40 },
      );
    });
  });
}

// ----------------------------------------------------------------------------------------- uploads

function meta(partCount: number, totalSize: number, contentType = "image/png"): UploadMeta {
  return { partCount, totalSize: BigInt(totalSize), contentType };
}

function isState(result: UploadState | { readonly refused: string }): result is UploadState {
  return !("refused" in result);
}

function stateOf(result: UploadState | { readonly refused: string }): UploadState {
  if (!isState(result)) throw new Error(`expected a state, got the refusal ${result.refused}`);
  return result;
}

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

/** UploadStore: parts in any order, duplicates, refusals, completion, expiry. */
export function describeUploadContract(name: string, make: Make<UploadStore>, options: ContractOptions = {}): void {
  const { clock: makeClock, ttlMs } = resolveOptions(options);
  const limits: UploadLimits = { maxObjectSize: 1000, maxOpenUploads: 3, idleMs: 60_000 };

  describe(`UploadStore contract: ${name}`, () => {
    test("parts in any order; received ascending; readParts only once all are in, in index order", async () => {
      const uploads = await make();
      const now = makeClock().now();
      const owner = freshName("o");
      const m = meta(3, 6);
      expect(stateOf(await uploads.putPart(owner, "up", m, 2, bytes(5, 6), limits, now)).received).toEqual([2]);
      expect(await uploads.readParts(owner, "up")).toBeUndefined();
      const afterZero = stateOf(await uploads.putPart(owner, "up", m, 0, bytes(1, 2), limits, now));
      expect(afterZero.received).toEqual([0, 2]);
      expect(afterZero.receivedBytes).toBe(4);
      expect(afterZero.objectId).toBeUndefined();
      const all = stateOf(await uploads.putPart(owner, "up", m, 1, bytes(3, 4), limits, now));
      expect(all.received).toEqual([0, 1, 2]);
      expect(all.receivedBytes).toBe(6);
      expect(all.meta).toEqual(m);
      expect((await uploads.readParts(owner, "up"))!.map((p) => [...p])).toEqual([[1, 2], [3, 4], [5, 6]]);
    });

    test("a duplicate part is ignored (not counted twice, first bytes kept)", async () => {
      const uploads = await make();
      const now = makeClock().now();
      const owner = freshName("o");
      await uploads.putPart(owner, "up", meta(2, 4), 0, bytes(1, 2), limits, now);
      const again = stateOf(await uploads.putPart(owner, "up", meta(2, 4), 0, bytes(9, 9), limits, now));
      expect(again.received).toEqual([0]);
      expect(again.receivedBytes).toBe(2);
      await uploads.putPart(owner, "up", meta(2, 4), 1, bytes(3, 4), limits, now);
      expect((await uploads.readParts(owner, "up"))!.map((p) => [...p])).toEqual([[1, 2], [3, 4]]);
    });

    test("the content type comes from the first part that names one", async () => {
      const uploads = await make();
      const now = makeClock().now();
      const owner = freshName("o");
      expect(stateOf(await uploads.putPart(owner, "up", meta(2, 2, ""), 1, bytes(2), limits, now)).meta.contentType).toBe("");
      expect(stateOf(await uploads.putPart(owner, "up", meta(2, 2, "audio/ogg"), 0, bytes(1), limits, now)).meta.contentType).toBe("audio/ogg");
    });

    test("refusals: META_MISMATCH, TOO_LARGE, TOO_MANY_UPLOADS — and nothing is stored", async () => {
      const uploads = await make();
      const now = makeClock().now();
      const owner = freshName("o");
      await uploads.putPart(owner, "up", meta(2, 4), 0, bytes(1, 2), limits, now);
      expect(await uploads.putPart(owner, "up", meta(3, 4), 1, bytes(3, 4), limits, now)).toEqual({ refused: "META_MISMATCH" });
      expect(await uploads.putPart(owner, "up", meta(2, 5), 1, bytes(3, 4), limits, now)).toEqual({ refused: "META_MISMATCH" });
      expect(await uploads.putPart(owner, "up", meta(2, 4), 2, bytes(3, 4), limits, now)).toEqual({ refused: "META_MISMATCH" });
      expect(await uploads.putPart(owner, "fresh", meta(2, 4), 5, bytes(3), limits, now)).toEqual({ refused: "META_MISMATCH" });
      expect(await uploads.putPart(owner, "up", meta(2, 4), 1, bytes(3, 4, 5), limits, now)).toEqual({ refused: "TOO_LARGE" });
      expect(await uploads.putPart(owner, "huge", meta(2, 1001), 0, bytes(1), limits, now)).toEqual({ refused: "TOO_LARGE" });
      expect(stateOf((await uploads.state(owner, "up", limits, now))!).received).toEqual([0]);
      expect(await uploads.state(owner, "huge", limits, now)).toBeUndefined();
      expect(await uploads.state(owner, "fresh", limits, now)).toBeUndefined();
      await uploads.putPart(owner, "second", meta(2, 2), 0, bytes(1), limits, now);
      await uploads.putPart(owner, "third", meta(2, 2), 0, bytes(1), limits, now);
      expect(await uploads.putPart(owner, "fourth", meta(2, 2), 0, bytes(1), limits, now)).toEqual({ refused: "TOO_MANY_UPLOADS" });
      // Parts of uploads already open are still taken, and another owner has its own allowance.
      expect(isState(await uploads.putPart(owner, "third", meta(2, 2), 1, bytes(1), limits, now))).toBe(true);
      expect(isState(await uploads.putPart(freshName("o"), "fourth", meta(2, 2), 0, bytes(1), limits, now))).toBe(true);
    });

    test("uploads are per owner: the same upload id of two owners are two uploads", async () => {
      const uploads = await make();
      const now = makeClock().now();
      const [a, b] = [freshName("o"), freshName("o")];
      await uploads.putPart(a, "same", meta(1, 1), 0, bytes(1), limits, now);
      expect(await uploads.state(b, "same", limits, now)).toBeUndefined();
      expect(stateOf(await uploads.putPart(b, "same", meta(2, 2), 1, bytes(7), limits, now)).received).toEqual([1]);
      expect((await uploads.readParts(a, "same"))!.map((p) => [...p])).toEqual([[1]]);
    });

    test("complete: set-if-absent, frees the slot, later parts are answered with the object id", async () => {
      const uploads = await make();
      const now = makeClock().now();
      const owner = freshName("o");
      for (const id of ["u1", "u2", "u3"]) await uploads.putPart(owner, id, meta(1, 1), 0, bytes(1), limits, now);
      const results = await Promise.all([uploads.complete(owner, "u1", "obj-A", limits, now), uploads.complete(owner, "u1", "obj-B", limits, now)]);
      expect(results[0]).toBe(results[1]);
      expect(["obj-A", "obj-B"]).toContain(results[0]);
      expect(await uploads.complete(owner, "u1", "obj-C", limits, now)).toBe(results[0]);
      const late = stateOf(await uploads.putPart(owner, "u1", meta(1, 1), 0, bytes(1), limits, now));
      expect(late.objectId).toBe(results[0]);
      expect(late.received).toEqual([0]);
      expect((await uploads.state(owner, "u1", limits, now))?.objectId).toBe(results[0]);
      expect(await uploads.readParts(owner, "u1")).toBeUndefined();
      // A completed upload is no longer open: a fourth one fits.
      expect(isState(await uploads.putPart(owner, "u4", meta(1, 1), 0, bytes(1), limits, now))).toBe(true);
    });

    test("an idle upload expires: state is gone, the slot is free, a new part starts it anew", async () => {
      const uploads = await make();
      const clock = makeClock();
      const owner = freshName("o");
      const short: UploadLimits = { ...limits, maxOpenUploads: 1, idleMs: ttlMs };
      await uploads.putPart(owner, "old", meta(2, 2), 0, bytes(1), short, clock.now());
      expect(await uploads.putPart(owner, "other", meta(1, 1), 0, bytes(1), short, clock.now())).toEqual({ refused: "TOO_MANY_UPLOADS" });
      await clock.advance(ttlMs * 2);
      expect(await uploads.state(owner, "old", short, clock.now())).toBeUndefined();
      expect(isState(await uploads.putPart(owner, "other", meta(1, 1), 0, bytes(1), short, clock.now()))).toBe(true);
      await clock.advance(ttlMs * 2);
      expect(stateOf(await uploads.putPart(owner, "old", meta(2, 2), 1, bytes(2), short, clock.now())).received).toEqual([1]);
    });

    test("a part refreshes the idle deadline", async () => {
      const uploads = await make();
      const clock = makeClock();
      const owner = freshName("o");
      const short: UploadLimits = { ...limits, idleMs: ttlMs };
      await uploads.putPart(owner, "up", meta(3, 3), 0, bytes(1), short, clock.now());
      await clock.advance(ttlMs * 0.6);
      await uploads.putPart(owner, "up", meta(3, 3), 1, bytes(2), short, clock.now());
      await clock.advance(ttlMs * 0.6);
      expect(stateOf((await uploads.state(owner, "up", short, clock.now()))!).received).toEqual([0, 1]);
    });

    // The same idle time on every call, as the engine passes it (UploadLimits: "passed on every call so
    // nodes agree"); a store that expires by key TTLs takes it from the writes.
    test("expire drops idle uploads, open and completed (a store that expires by itself may count 0)", async () => {
      const uploads = await make();
      const clock = makeClock();
      const owner = freshName("o");
      const short: UploadLimits = { ...limits, idleMs: ttlMs };
      await uploads.putPart(owner, "a", meta(2, 2), 0, bytes(1), short, clock.now());
      await uploads.putPart(owner, "b", meta(1, 1), 0, bytes(1), short, clock.now());
      await uploads.complete(owner, "b", "obj", short, clock.now());
      await clock.advance(ttlMs * 2);
      expect(Number.isInteger(await uploads.expire(clock.now(), ttlMs))).toBe(true);
      expect(await uploads.state(owner, "a", short, clock.now())).toBeUndefined();
      expect(await uploads.state(owner, "b", short, clock.now())).toBeUndefined();
    });

    test("concurrent parts (Promise.all) are all stored", async () => {
      const uploads = await make();
      const now = makeClock().now();
      const owner = freshName("o");
      const m = meta(20, 20);
      await Promise.all(Array.from({ length: 20 }, (_, i) => uploads.putPart(owner, "up", m, i, bytes(i), limits, now)));
      expect((await uploads.readParts(owner, "up"))!.map((p) => p[0])).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    test("property: any order with duplicates assembles the same bytes", async () => {
      const arb = fc
        .array(fc.uint8Array({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 12 })
        .chain((parts) => fc.tuple(fc.constant(parts), fc.array(fc.integer({ min: 0, max: parts.length - 1 }), { maxLength: 30 }), fc.shuffledSubarray([...parts.keys()], { minLength: parts.length })));
      await fc.assert(
        fc.asyncProperty(arb, async ([parts, extra, order]) => {
          const uploads = await make();
          const now = makeClock().now();
          const owner = freshName("o");
          const total = parts.reduce((n, p) => n + p.byteLength, 0);
          const m = meta(parts.length, total);
          const seen = new Set<number>();
          for (const index of [...extra, ...order]) {
            const state = stateOf(await uploads.putPart(owner, "up", m, index, parts[index]!, limits, now));
            seen.add(index);
            expect(state.received).toEqual([...seen].sort((a, b) => a - b));
            expect(state.receivedBytes).toBe([...seen].reduce((n, i) => n + parts[i]!.byteLength, 0));
          }
          const assembled = (await uploads.readParts(owner, "up"))!.flatMap((p) => [...p]);
          expect(assembled).toEqual(parts.flatMap((p) => [...p]));
        }),
        { numRuns: 40 },
      );
    });
  });
}

// ----------------------------------------------------------------------------------------- objects

/** ObjectStore: put gives a fresh id; stat and read give the object back. */
export function describeObjectContract(name: string, make: Make<ObjectStore>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    test("put, stat, read", async () => {
      const objects = await make();
      const owner = freshName("o");
      const id = await objects.put(owner, "image/png", bytes(1, 2, 3));
      expect(await objects.stat(id)).toEqual({ owner, contentType: "image/png", size: 3 });
      expect([...(await objects.read(id))!]).toEqual([1, 2, 3]);
    });

    test("an empty object is an object", async () => {
      const objects = await make();
      const id = await objects.put(freshName("o"), "", new Uint8Array(0));
      expect((await objects.stat(id))?.size).toBe(0);
      expect((await objects.read(id))?.byteLength).toBe(0);
    });

    test("ids are distinct, also when put concurrently", async () => {
      const objects = await make();
      const owner = freshName("o");
      const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => objects.put(owner, "x", bytes(i))));
      expect(new Set(ids).size).toBe(30);
      for (const [i, id] of ids.entries()) expect([...(await objects.read(id))!]).toEqual([i]);
    });

    test("an unknown id has no facts and no bytes", async () => {
      const objects = await make();
      expect(await objects.stat(freshName("nope"))).toBeUndefined();
      expect(await objects.read(freshName("nope"))).toBeUndefined();
    });
  });
}

// ---------------------------------------------------------------------------------------- presence

/** Presence: subscribe / unsubscribe / publish fan-out per user. */
export function describePresenceContract(name: string, make: Make<Presence>, options: ContractOptions = {}): void {
  const { settle } = resolveOptions(options);
  const head = (v: bigint): SyncKey => createSyncKey([[1, v]]);
  const seen = (list: SyncKey[]): bigint[] => list.map((k) => syncKeyToMap(k).get(1) ?? 0n);

  describe(`Presence contract: ${name}`, () => {
    test("publish reaches every subscriber of that user, and only them", async () => {
      const presence = await make();
      const [alice, bob] = [freshName("u"), freshName("u")];
      const a1: SyncKey[] = [];
      const a2: SyncKey[] = [];
      const b1: SyncKey[] = [];
      await presence.subscribe(alice, (k) => a1.push(k));
      await presence.subscribe(alice, (k) => a2.push(k));
      await presence.subscribe(bob, (k) => b1.push(k));
      await presence.publish(alice, head(3n));
      await eventually(() => {
        expect(seen(a1)).toEqual([3n]);
        expect(seen(a2)).toEqual([3n]);
      });
      await settle();
      expect(b1).toEqual([]);
      await presence.publish(bob, head(9n));
      await eventually(() => expect(seen(b1)).toEqual([9n]));
      await settle();
      expect(seen(a1)).toEqual([3n]);
    });

    test("publishes to one subscriber arrive in publish order", async () => {
      const presence = await make();
      const user = freshName("u");
      const got: SyncKey[] = [];
      await presence.subscribe(user, (k) => got.push(k));
      for (let v = 1n; v <= 5n; v++) await presence.publish(user, head(v));
      await eventually(() => expect(seen(got)).toEqual([1n, 2n, 3n, 4n, 5n]));
    });

    test("unsubscribe stops delivery (twice is harmless); the other subscribers keep theirs", async () => {
      const presence = await make();
      const user = freshName("u");
      const gone: SyncKey[] = [];
      const kept: SyncKey[] = [];
      const unsubscribe = await presence.subscribe(user, (k) => gone.push(k));
      await presence.subscribe(user, (k) => kept.push(k));
      await unsubscribe();
      await unsubscribe();
      await presence.publish(user, head(1n));
      await eventually(() => expect(seen(kept)).toEqual([1n]));
      await settle();
      expect(gone).toEqual([]);
    });

    test("a listener that is not a function rejects with TypeError", async () => {
      const presence = await make();
      await expect(presence.subscribe(freshName("u"), "not a function" as never)).rejects.toBeInstanceOf(TypeError);
    });

    test("publishing to a user nobody listens to is fine", async () => {
      const presence = await make();
      await expect(presence.publish(freshName("u"), head(1n))).resolves.toBeUndefined();
    });

    test("a listener may unsubscribe while it is being called", async () => {
      const presence = await make();
      const user = freshName("u");
      const got: SyncKey[] = [];
      let unsubscribe: (() => Promise<void>) | undefined;
      unsubscribe = await presence.subscribe(user, (k) => {
        got.push(k);
        void unsubscribe?.();
      });
      await presence.publish(user, head(1n));
      await eventually(() => expect(got).toHaveLength(1));
      await settle();
      await presence.publish(user, head(2n));
      await settle();
      expect(seen(got)).toEqual([1n]);
    });
  });
}
