// The store contract on the memory stores, plus what only the memory stores promise: their bounds.
import { create } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createSyncKey, MessagePacketSchema } from "../../../src/index.js";
import {
  createMemoryStores,
  MemoryDedupeStore,
  MemoryMessageIdAllocator,
  MemoryObjectStore,
  MemoryPresence,
  MemorySyncLog,
  MemoryUploadStore,
} from "../../../src/session/memory/index.js";
import {
  describeDedupeContract,
  describeIdAllocatorContract,
  describeObjectContract,
  describePresenceContract,
  describeSyncLogContract,
  describeUploadContract,
} from "./contract.js";

describeDedupeContract("memory", () => new MemoryDedupeStore());
describeIdAllocatorContract("memory", () => new MemoryMessageIdAllocator());
describeIdAllocatorContract("memory, capacity 2 (forgotten conversations continue above a floor)", () => new MemoryMessageIdAllocator({ capacity: 2 }));
describeSyncLogContract("memory", ({ retention }) => new MemorySyncLog({ retention }));
describeUploadContract("memory", () => new MemoryUploadStore());
describeObjectContract("memory", () => new MemoryObjectStore());
describePresenceContract("memory", () => new MemoryPresence());

const DAY = 86_400_000;
const record = (id: bigint) => ({ serverMsgId: id, serverTimeMs: 0n });

describe("memory bounds", () => {
  test("dedupe: beyond capacity the oldest records go first", async () => {
    const store = new MemoryDedupeStore({ capacity: 3 });
    for (let i = 1n; i <= 5n; i++) await store.putIfAbsent("s", i, record(i), 0, DAY);
    expect(store.size).toBe(3);
    expect(await store.get("s", 1n, 0)).toBeUndefined();
    expect(await store.get("s", 2n, 0)).toBeUndefined();
    expect((await store.get("s", 3n, 0))?.serverMsgId).toBe(3n);
    expect((await store.get("s", 5n, 0))?.serverMsgId).toBe(5n);
  });

  test("dedupe: expired records are swept on the next write, so memory follows the TTL window", async () => {
    const store = new MemoryDedupeStore({ capacity: 1000 });
    for (let i = 0n; i < 100n; i++) await store.putIfAbsent("s", i, record(i), Number(i), 50);
    // At t = 99 the records written before t = 49 have expired; the write swept them.
    expect(store.size).toBeLessThanOrEqual(51);
    await store.putIfAbsent("s", 1000n, record(1000n), 10_000, 50);
    expect(store.size).toBe(1);
  });

  test("dedupe: an expired record behind a live one is replaced in place, counted once, and evicted in order", async () => {
    const store = new MemoryDedupeStore({ capacity: 2 });
    await store.putIfAbsent("s", 1n, record(1n), 0, 100); // live until 100
    await store.putIfAbsent("s", 2n, record(2n), 0, 10); // expired from 10, but behind 1n in the queue
    const replaced = await store.putIfAbsent("s", 2n, record(20n), 50, 100);
    expect(replaced.serverMsgId).toBe(20n);
    expect(store.size).toBe(2);
    expect((await store.get("s", 2n, 50))?.serverMsgId).toBe(20n);
    // One more record: the oldest live one (1n) goes, not the replaced 2n (its stale slot is skipped).
    await store.putIfAbsent("t", 3n, record(3n), 60, 100);
    expect(store.size).toBe(2);
    expect(await store.get("s", 1n, 60)).toBeUndefined();
    expect((await store.get("s", 2n, 60))?.serverMsgId).toBe(20n);
    expect((await store.get("t", 3n, 60))?.serverMsgId).toBe(3n);
  });

  test("dedupe: the same client id from two senders is two records", async () => {
    const store = new MemoryDedupeStore();
    await store.putIfAbsent("alice", 7n, record(1n), 0, 100);
    expect((await store.putIfAbsent("bob", 7n, record(2n), 0, 100)).serverMsgId).toBe(2n);
    expect((await store.get("alice", 7n, 0))?.serverMsgId).toBe(1n);
  });

  test("dedupe: a non-positive TTL is a caller error (the promise rejects)", async () => {
    await expect(new MemoryDedupeStore().putIfAbsent("s", 1n, record(1n), 0, 0)).rejects.toBeInstanceOf(RangeError);
  });

  test("ids: remembered conversations are bounded; property: ids stay increasing per conversation", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 80 }), async (capacity, picks) => {
        const ids = new MemoryMessageIdAllocator({ capacity });
        const last = new Map<number, bigint>();
        for (const pick of picks) {
          const id = await ids.next(`c${pick}`);
          expect(id > (last.get(pick) ?? 0n)).toBe(true);
          last.set(pick, id);
          expect(ids.size).toBeLessThanOrEqual(capacity);
        }
      }),
    );
  });

  const message = create(MessagePacketSchema, { conversationId: "c" });

  test("sync log: a user without devices keeps the newest `retention` entries", async () => {
    const log = new MemorySyncLog({ retention: 5 });
    for (let i = 0; i < 50; i++) await log.append("bot", 1, message, `k${i}`);
    expect(log.entryCount("bot")).toBe(5);
    expect((await log.read("bot", createSyncKey([]), 100)).entries.map((e) => e.version)).toEqual([46n, 47n, 48n, 49n, 50n]);
  });

  test("sync log: a device that stopped committing pins at most maxEntries", async () => {
    const log = new MemorySyncLog({ retention: 5, maxEntries: 20 });
    await log.commit("u", "stale", createSyncKey([[1, 1n]]));
    for (let i = 0; i < 100; i++) await log.append("u", 1, message, `k${i}`);
    expect(log.entryCount("u")).toBe(20);
    const read = await log.read("u", createSyncKey([[1, 1n]]), 100);
    expect(read.entries[0]!.version).toBe(81n);
  });

  test("sync log: devices per user and trimmed idempotency keys are bounded", async () => {
    const log = new MemorySyncLog({ retention: 1, maxDevices: 3, trimmedKeys: 10 });
    for (let d = 0; d < 10; d++) await log.commit("u", `d${d}`, createSyncKey([[1, 1_000n]]));
    expect(log.deviceCount("u")).toBe(3);
    // The least recently committed devices were forgotten.
    expect((await log.committed("u", "d0")).entries).toEqual([]);
    expect((await log.committed("u", "d9")).entries).toHaveLength(1);
    for (let i = 0; i < 40; i++) await log.append("u", 1, message, `k${i}`);
    expect(log.entryCount("u")).toBe(1);
    expect(log.trimmedKeyCount).toBe(10);
    // Recently trimmed keys are still recognised; the oldest are forgotten (documented bound).
    expect((await log.append("u", 1, message, "k38")).appended).toBe(false);
    expect((await log.append("u", 1, message, "k0")).appended).toBe(true);
  });

  test("sync log: invalid options are RangeErrors", () => {
    expect(() => new MemorySyncLog({ retention: -1 })).toThrow(RangeError);
    expect(() => new MemorySyncLog({ retention: 10, maxEntries: 5 })).toThrow(RangeError);
    expect(() => new MemorySyncLog({ maxDevices: 0 })).toThrow(RangeError);
  });

  test("uploads: expiry frees the parts' memory", async () => {
    const uploads = new MemoryUploadStore();
    const limits = { maxObjectSize: 1 << 20, maxOpenUploads: 4, idleMs: 1000 };
    await uploads.putPart("o", "a", { partCount: 2, totalSize: 2000n, contentType: "" }, 0, new Uint8Array(1000), limits, 0);
    await uploads.putPart("p", "b", { partCount: 2, totalSize: 2000n, contentType: "" }, 0, new Uint8Array(1000), limits, 500);
    expect(uploads.bytesHeld).toBe(2000);
    expect(await uploads.expire(1001, 1000)).toBe(1);
    expect(uploads.bytesHeld).toBe(1000);
    expect(await uploads.expire(5000, 1000)).toBe(1);
    expect(uploads.bytesHeld).toBe(0);
    expect(uploads.size).toBe(0);
    // Completed records expire too, and are counted.
    await uploads.putPart("o", "c", { partCount: 1, totalSize: 1n, contentType: "" }, 0, new Uint8Array(1), limits, 6000);
    await uploads.complete("o", "c", "obj", limits, 6000);
    expect(await uploads.expire(7001, 1000)).toBe(1);
    expect(uploads.size).toBe(0);
  });

  test("objects: beyond maxTotalBytes the oldest go first; ids come from the random source", async () => {
    let counter = 0;
    const objects = new MemoryObjectStore({ maxTotalBytes: 10, randomBytes: (target) => target.fill(++counter) });
    const first = await objects.put("o", "x", new Uint8Array(6));
    expect(first).toBe("01".repeat(16));
    const second = await objects.put("o", "x", new Uint8Array(4));
    const third = await objects.put("o", "x", new Uint8Array(3));
    expect(await objects.stat(first)).toBeUndefined();
    expect((await objects.stat(second))?.size).toBe(4);
    expect((await objects.stat(third))?.size).toBe(3);
    expect(objects.totalBytes).toBe(7);
    await expect(objects.put("o", "x", new Uint8Array(11))).rejects.toBeInstanceOf(RangeError);
  });

  test("objects: a random source that repeats an id is asked again; one that always repeats is an error, not a hang", async () => {
    const values = [1, 1, 2];
    const objects = new MemoryObjectStore({ randomBytes: (target) => target.fill(values.shift()!) });
    const a = await objects.put("o", "x", new Uint8Array(1));
    const b = await objects.put("o", "x", new Uint8Array(1));
    expect(a).not.toBe(b);
    const stuck = new MemoryObjectStore({ randomBytes: (target) => target.fill(7) });
    await stuck.put("o", "x", new Uint8Array(1));
    await expect(stuck.put("o", "x", new Uint8Array(1))).rejects.toThrow(/repeating/);
  });

  test("presence: a user's entry goes with its last listener; a throwing listener does not starve the others", async () => {
    const presence = new MemoryPresence();
    const got: number[] = [];
    const off1 = await presence.subscribe("u", () => {
      throw new Error("bad listener");
    });
    const off2 = await presence.subscribe("u", () => got.push(1));
    await presence.publish("u", createSyncKey([[1, 1n]]));
    expect(got).toEqual([1]);
    expect(presence.listenerCount("u")).toBe(2);
    await off1();
    await off2();
    expect(presence.listenerCount()).toBe(0);
  });

  test("createMemoryStores gives independent sets", async () => {
    const a = createMemoryStores();
    const b = createMemoryStores({ dedupe: { capacity: 1 } });
    await a.log.append("u", 1, message, "k");
    expect(b.log.entryCount("u")).toBe(0);
    expect(() => createMemoryStores({ ids: { capacity: 0 } })).toThrow(RangeError);
  });
});
