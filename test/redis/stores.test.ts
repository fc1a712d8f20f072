// What only the Redis stores promise, beyond the shared contract: the sync log's bounds (as the memory
// log's, with idempotency keys kept for a time instead of a count), one Cluster slot per user, binary
// safety, corrupt data reported as such, the blob store's atomic writes, and option checking.
import { create } from "@bufbuild/protobuf";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createSyncKey, MessagePacketSchema } from "../../src/index.js";
import { createRedisStores, FsBlobStore, RedisStoreError, type RedisStores } from "../../src/redis/index.js";
import { freshName } from "../session/stores/contract.js";
import { REDIS, RedisFixture } from "./support.js";

const fixture = new RedisFixture();
const message = (text = "m") => create(MessagePacketSchema, { conversationId: "c", content: new TextEncoder().encode(text) });
const versionsOf = async (stores: RedisStores, user: string) => (await stores.log.read(user, createSyncKey([]), 1000)).entries.map((e) => e.version);

/** CRC16-XMODEM of the hash tag, mod 16384: the slot Redis Cluster gives a key (cluster spec). */
/**
 * A log that keeps one entry and remembers trimmed idempotency keys for 300 ms, after two appends: "retry-me"
 * (trimmed, remembered) and "other" (live). With the raw client and the user's log key prefix, to look inside.
 */
async function oneKeyTrimmed() {
  const stores = await fixture.stores({ log: { retention: 1, idempotencyTtlMs: 300 } });
  const user = freshName("u");
  const prefix = stores.keys.log(user);
  const client = await fixture.client();
  await stores.log.append(user, 1, message("first"), "retry-me");
  await stores.log.append(user, 1, message("second"), "other");
  return { stores, user, prefix, client };
}

function clusterSlot(key: string): number {
  const bytes = Buffer.from(key);
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b);
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) [start, end] = [open + 1, close];
  }
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]! << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

describe.skipIf(!REDIS.available)(`Redis stores (${REDIS.reason})`, () => {
  beforeAll(() => fixture.start());
  afterAll(() => fixture.stop());

  test("the slot function is Redis Cluster's (spec examples)", () => {
    expect(clusterSlot("123456789")).toBe(0x31c3 % 16384);
    expect(clusterSlot("{user1000}.following")).toBe(clusterSlot("{user1000}.followers"));
  });

  test("every key and the channel of one user share one Cluster slot; keys carry the prefix", async () => {
    const stores = await fixture.stores();
    const user = freshName("u:{odd}");
    await stores.dedupe.putIfAbsent(user, 7n, { serverMsgId: 1n, serverTimeMs: 2n }, 0, 60_000);
    await stores.log.append(user, 1, message(), "k1");
    await stores.log.append(user, 2, message(), "k2");
    await stores.log.commit(user, "dev", createSyncKey([[1, 1n]]));
    await stores.uploads.putPart(user, "up-1", { partCount: 2, totalSize: 2n, contentType: "" }, 0, new Uint8Array([1]), { maxObjectSize: 10, maxOpenUploads: 2, idleMs: 60_000 }, 0);
    const client = await fixture.client();
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${stores.keys.prefix}*`, COUNT: 1000 })) keys.push(...batch);
    const mine = keys.filter((k) => k.includes(`{${user.length}:${user}}`));
    expect(mine.length).toBeGreaterThanOrEqual(8);
    expect(keys.every((k) => k.startsWith(stores.keys.prefix))).toBe(true);
    const slots = new Set([...mine, stores.keys.notify(user)].map(clusterSlot));
    expect(slots.size).toBe(1);
  });

  test("binary safety: every byte value in content, separators and non-ASCII in names and idempotency keys", async () => {
    const stores = await fixture.stores();
    const user = freshName("üser:{x}:é");
    const content = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
    const packet = create(MessagePacketSchema, { conversationId: "c:{}", senderId: "s:1", recipientId: user, content, clientMsgId: 0xffff_ffff_ffff_ffffn });
    for (const idem of ["a:b:c", "1:x", "{}", "日本", ":"]) await stores.log.append(user, 1, packet, idem);
    const { entries } = await stores.log.read(user, createSyncKey([]), 10);
    expect(entries).toHaveLength(5);
    for (const entry of entries) expect(entry.message).toEqual(packet);
    expect((await stores.log.append(user, 1, packet, "1:x")).appended).toBe(false);
  });

  test("sync log: a user without devices keeps the newest `retention` entries", async () => {
    const stores = await fixture.stores({ log: { retention: 5 } });
    const user = freshName("bot");
    for (let i = 0; i < 30; i++) await stores.log.append(user, 1, message(), `k${i}`);
    expect(await versionsOf(stores, user)).toEqual([26n, 27n, 28n, 29n, 30n]);
  });

  test("sync log: a device that stopped committing pins at most maxEntries", async () => {
    const stores = await fixture.stores({ log: { retention: 5, maxEntries: 20 } });
    const user = freshName("u");
    await stores.log.commit(user, "stale", createSyncKey([[1, 1n]]));
    for (let i = 0; i < 60; i++) await stores.log.append(user, 1, message(), `k${i}`);
    const versions = await versionsOf(stores, user);
    expect(versions).toHaveLength(20);
    expect(versions[0]).toBe(41n);
  });

  test("sync log: devices per user are bounded, the least recently committing forgotten", async () => {
    const stores = await fixture.stores({ log: { maxDevices: 3 } });
    const user = freshName("u");
    for (let d = 0; d < 6; d++) await stores.log.commit(user, `d${d}`, createSyncKey([[1, BigInt(d + 1)]]));
    expect((await stores.log.committed(user, "d0")).entries).toEqual([]);
    expect((await stores.log.committed(user, "d2")).entries).toEqual([]);
    expect((await stores.log.committed(user, "d5")).entries.map((e) => e.version)).toEqual([6n]);
    const client = await fixture.client();
    expect(await client.hLen(`${stores.keys.log(user)}c`)).toBe(3);
  });

  test("sync log: a trimmed entry's idempotency key is remembered for idempotencyTtlMs, then forgotten", async () => {
    const { stores, user, prefix, client } = await oneKeyTrimmed();
    expect(await versionsOf(stores, user)).toEqual([2n]);
    expect(await client.zScore(`${prefix}tq`, "retry-me")).not.toBeNull();
    expect(await stores.log.append(user, 1, message("first"), "retry-me")).toEqual({ version: 1n, appended: false });
    await new Promise((resolve) => setTimeout(resolve, 450));
    // The next trim (of "other") sweeps the expired key: memory follows the TTL window.
    await stores.log.append(user, 1, message("third"), "third");
    expect(await client.hExists(`${prefix}i`, "retry-me")).toBe(0);
    expect(await client.zScore(`${prefix}tq`, "retry-me")).toBeNull();
    expect(await client.zScore(`${prefix}tq`, "other")).not.toBeNull();
    expect(await stores.log.append(user, 1, message("first"), "retry-me")).toEqual({ version: 4n, appended: true });
  });

  test("sync log: an expired key not yet swept is forgotten when it comes back (appended anew, swept from tq)", async () => {
    const { stores, user, prefix, client } = await oneKeyTrimmed();
    await new Promise((resolve) => setTimeout(resolve, 450));
    // No trim ran since: the key is still in i, with an expired time in tq.
    expect(await client.hExists(`${prefix}i`, "retry-me")).toBe(1);
    expect(await stores.log.append(user, 1, message("first"), "retry-me")).toEqual({ version: 3n, appended: true });
    // It is live again: a later sweep must not forget it, and a retry is recognised.
    expect(await client.zScore(`${prefix}tq`, "retry-me")).toBeNull();
    expect(await stores.log.append(user, 1, message("first"), "retry-me")).toEqual({ version: 3n, appended: false });
  });

  test("sync log: appends trim in steps of retention/64; the log never holds fewer than retention", async () => {
    const stores = await fixture.stores({ log: { retention: 128 } });
    const user = freshName("bot");
    const prefix = stores.keys.log(user);
    const client = await fixture.client();
    const sizes: number[] = [];
    for (let i = 0; i < 140; i++) {
      await stores.log.append(user, 1, message(), `k${i}`);
      sizes.push(Number(await client.zCard(`${prefix}e:1`)));
    }
    // Up to 128 + 2 entries, then back to 128 on the append that makes 131.
    expect(Math.max(...sizes)).toBe(130);
    expect(sizes.slice(127)).toEqual([128, 129, 130, 128, 129, 130, 128, 129, 130, 128, 129, 130, 128]);
    expect(await client.hGet(`${prefix}m`, "live")).toBe("128");
    const versions = await versionsOf(stores, user);
    expect(versions[0]).toBe(13n);
    expect(versions.at(-1)).toBe(140n);
    // A commit trims to retention exactly.
    await stores.log.append(user, 1, message(), "k140");
    await stores.log.commit(user, "d", createSyncKey([[1, 141n]]));
    expect(await versionsOf(stores, user)).toHaveLength(128);
  });

  test("sync log: one call trims at most trimBatch entries; later calls catch up", async () => {
    const stores = await fixture.stores({ log: { retention: 2, trimBatch: 3 } });
    const user = freshName("u");
    await stores.log.commit(user, "d", createSyncKey([]));
    for (let i = 0; i < 12; i++) await stores.log.append(user, 1, message(), `k${i}`);
    expect(await versionsOf(stores, user)).toHaveLength(12);
    await stores.log.commit(user, "d", createSyncKey([[1, 12n]]));
    expect(await versionsOf(stores, user)).toHaveLength(9);
    await stores.log.commit(user, "d", createSyncKey([[1, 12n]]));
    expect(await versionsOf(stores, user)).toHaveLength(6);
    await stores.log.append(user, 1, message(), "k12");
    expect(await versionsOf(stores, user)).toEqual([10n, 11n, 12n, 13n]);
    await stores.log.commit(user, "d", createSyncKey([[1, 13n]]));
    expect(await versionsOf(stores, user)).toEqual([12n, 13n]);
  });

  test("committed keys keep any u64 version exactly", async () => {
    const stores = await fixture.stores();
    const user = freshName("u");
    const max = 0xffff_ffff_ffff_ffffn;
    await stores.log.commit(user, "d", createSyncKey([[1, max - 1n], [0xffff_ffff, 5n]]));
    await stores.log.commit(user, "d", createSyncKey([[1, max]]));
    await stores.log.commit(user, "d", createSyncKey([[1, max - 2n]]));
    expect((await stores.log.committed(user, "d")).entries.map((e) => [e.key, e.version])).toEqual([
      [1, max],
      [0xffff_ffff, 5n],
    ]);
  });

  test("data Redis holds that the stores never wrote is reported as CORRUPT_REPLY, not misread", async () => {
    const stores = await fixture.stores();
    const client = await fixture.client();
    const sender = freshName("s");
    await client.set(stores.keys.dedupe(sender, 1n), "garbage");
    await expect(stores.dedupe.get(sender, 1n, 0)).rejects.toMatchObject({ code: "CORRUPT_REPLY" });
    await expect(stores.dedupe.get(sender, 1n, 0)).rejects.toBeInstanceOf(RedisStoreError);
    const user = freshName("u");
    await client.hSet(`${stores.keys.log(user)}c`, "d", "not a key");
    await expect(stores.log.committed(user, "d")).rejects.toMatchObject({ code: "CORRUPT_REPLY" });
  });

  test("objects: bytes in the blob directory, written atomically (no temporary file left), facts in Redis", async () => {
    const directory = fixture.directory();
    const stores = await fixture.stores({ blobDirectory: directory });
    const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256);
    const id = await stores.objects.put("owner", "image/png", bytes);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(readdirSync(directory)).toEqual([id]);
    expect(Buffer.compare(Buffer.from((await stores.objects.read(id))!), Buffer.from(bytes))).toBe(0);
    expect(await stores.objects.stat(id)).toEqual({ owner: "owner", contentType: "image/png", size: 100_000 });
    await stores.objects.delete(id);
    expect(await stores.objects.stat(id)).toBeUndefined();
    expect(existsSync(join(directory, id))).toBe(false);
  });

  test("FsBlobStore: ids cannot name paths outside the directory", async () => {
    const blobs = new FsBlobStore(fixture.directory());
    for (const id of ["../x", "a/b", "", ".hidden", "x".repeat(129)]) {
      await expect(blobs.put(id, new Uint8Array(1))).rejects.toBeInstanceOf(RangeError);
      expect(await blobs.get(id)).toBeUndefined();
    }
    await blobs.put("ok-id_1", new Uint8Array([1, 2]));
    expect([...(await blobs.get("ok-id_1"))!]).toEqual([1, 2]);
    expect(await blobs.get("missing")).toBeUndefined();
    expect(() => new FsBlobStore("")).toThrow(TypeError);
  });

  test("createRedisStores checks its options", async () => {
    const client = await fixture.client();
    const blobDirectory = fixture.directory();
    await expect(createRedisStores({ blobDirectory })).rejects.toBeInstanceOf(TypeError);
    await expect(createRedisStores({ client, url: fixture.server.url, blobDirectory })).rejects.toBeInstanceOf(TypeError);
    await expect(createRedisStores({ client })).rejects.toBeInstanceOf(TypeError);
    await expect(createRedisStores({ client, blobDirectory, pubsub: "loud" as never })).rejects.toBeInstanceOf(TypeError);
    await expect(createRedisStores({ client, blobDirectory, commandTimeoutMs: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(createRedisStores({ client, blobDirectory, log: { retention: 10, maxEntries: 5 } })).rejects.toBeInstanceOf(RangeError);
    await expect(createRedisStores({ client, blobDirectory, reconnect: { initialMs: -1 } })).rejects.toBeInstanceOf(RangeError);
  });

  test("a store made from a url owns its client: close() closes it, and the stores reject afterwards", async () => {
    const stores = await createRedisStores({ url: fixture.server.url, blobDirectory: fixture.directory(), prefix: `${freshName("t")}:` });
    expect(await stores.ids.next(freshName("c"))).toBe(1n);
    const user = freshName("u");
    const off = await stores.presence.subscribe(user, () => undefined);
    await off();
    await stores.close();
    await stores.close();
    await expect(stores.ids.next("c")).rejects.toThrow();
    await expect(stores.presence.subscribe(user, () => undefined)).rejects.toMatchObject({ code: "CLOSED" });
  });
});
