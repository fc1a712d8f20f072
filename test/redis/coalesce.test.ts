// How the Redis stores talk to Redis, against a real one: the hot calls of one event-loop turn share one
// command (counted at the client), each call still gets its own answer (and its own error), coalescing
// can be turned off, a retry undoes its optimistic version, and a command Redis never answers rejects
// after commandTimeoutMs with TIMEOUT.
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createSyncKey, MessagePacketSchema } from "../../src/index.js";
import { RedisStoreError, type RedisStoresOptions } from "../../src/redis/index.js";
import { freshName } from "../session/stores/contract.js";
import { makeClient, REDIS, RedisFixture } from "./support.js";

const fixture = new RedisFixture();
const message = (text = "m") => create(MessagePacketSchema, { conversationId: "c", content: new TextEncoder().encode(text) });

/** A connected client whose commands are counted by name; `hang` names commands that never get an answer. */
async function countingClient(hang: readonly string[] = []) {
  const client = makeClient(fixture.server.url);
  await client.connect();
  const counts = new Map<string, number>();
  const send = client.sendCommand.bind(client);
  (client as { sendCommand: unknown }).sendCommand = (args: readonly unknown[], options?: object) => {
    const name = String(args[0]).toUpperCase();
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (hang.includes(name)) return new Promise(() => undefined);
    return send(args as never, options as never);
  };
  return { client, counts };
}

async function storesWith(client: Awaited<ReturnType<typeof countingClient>>["client"], options: Partial<RedisStoresOptions> = {}) {
  return fixture.stores({ client: client as never, ...options });
}

describe.skipIf(!REDIS.available)(`Redis stores: commands (${REDIS.reason})`, () => {
  beforeAll(() => fixture.start(), 30_000);
  afterAll(() => fixture.stop(), 30_000);

  test("100 appends to 10 users in one turn are one script call; each gets its own version", async () => {
    const { client, counts } = await countingClient();
    const stores = await storesWith(client);
    const users = Array.from({ length: 10 }, () => freshName("u"));
    await stores.log.append(freshName("warm"), 1, message(), "warm-up");
    counts.clear();
    const results = await Promise.all(Array.from({ length: 100 }, (_, n) => stores.log.append(users[n % 10]!, 1, message(`m${n}`), `k${n}`)));
    expect(counts.get("EVALSHA")).toBe(1);
    // Each user got versions 1…10 in call order.
    for (let n = 0; n < 100; n++) expect(results[n]).toEqual({ version: BigInt(Math.floor(n / 10) + 1), appended: true });
    for (const user of users) expect((await stores.log.read(user, createSyncKey([]), 100)).entries.map((e) => e.version)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
  });

  test("one turn's dedupe gets are one MGET, puts one script call, ids one script call — answers as if alone", async () => {
    const { client, counts } = await countingClient();
    const stores = await storesWith(client);
    const sender = freshName("s");
    const record = (n: number) => ({ serverMsgId: BigInt(n), serverTimeMs: 1000n + BigInt(n) });
    await stores.dedupe.putIfAbsent(sender, 3n, record(3), 0, 60_000);
    // Scripts are loaded by their first use (EVALSHA, then EVAL once): load the ids script first.
    await Promise.all([stores.ids.next(freshName("warm")), stores.ids.next(freshName("warm"))]);
    counts.clear();
    const gets = await Promise.all([1n, 2n, 3n, 4n].map((id) => stores.dedupe.get(sender, id, 0)));
    expect(gets).toEqual([undefined, undefined, record(3), undefined]);
    // The same record twice in one batch: the first stands, the second learns it.
    const puts = await Promise.all([
      stores.dedupe.putIfAbsent(sender, 3n, record(30), 0, 60_000),
      stores.dedupe.putIfAbsent(sender, 5n, record(5), 0, 60_000),
      stores.dedupe.putIfAbsent(sender, 5n, record(50), 0, 60_000),
    ]);
    expect(puts).toEqual([record(3), record(5), record(5)]);
    const conversation = freshName("c");
    const ids = await Promise.all(Array.from({ length: 20 }, (_, n) => stores.ids.next(n % 2 === 0 ? conversation : `${conversation}-other`)));
    expect(ids).toEqual(Array.from({ length: 20 }, (_, n) => BigInt(Math.floor(n / 2) + 1)));
    expect(Object.fromEntries(counts)).toEqual({ MGET: 1, EVALSHA: 2 });
  });

  test("a corrupt record fails only its own call in a batch", async () => {
    const { client } = await countingClient();
    const stores = await storesWith(client);
    const admin = await fixture.client();
    const sender = freshName("s");
    await admin.set(stores.keys.dedupe(sender, 2n), "garbage");
    await stores.dedupe.putIfAbsent(sender, 1n, { serverMsgId: 7n, serverTimeMs: 8n }, 0, 60_000);
    const [one, two, three] = await Promise.allSettled([1n, 2n, 3n].map((id) => stores.dedupe.get(sender, id, 0)));
    expect(one).toEqual({ status: "fulfilled", value: { serverMsgId: 7n, serverTimeMs: 8n } });
    expect(two).toMatchObject({ status: "rejected", reason: { code: "CORRUPT_REPLY" } });
    expect(three).toEqual({ status: "fulfilled", value: undefined });
  });

  test("coalesce: false sends one command per call", async () => {
    const { client, counts } = await countingClient();
    const stores = await storesWith(client, { coalesce: false });
    const user = freshName("u");
    await stores.log.append(user, 1, message(), "warm-up");
    counts.clear();
    await Promise.all(Array.from({ length: 10 }, (_, n) => stores.log.append(user, 1, message(), `k${n}`)));
    await Promise.all(Array.from({ length: 5 }, (_, n) => stores.dedupe.get(user, BigInt(n), 0)));
    expect(Object.fromEntries(counts)).toEqual({ EVALSHA: 10, GET: 5 });
  });

  test("a retry of a key on another stream key is answered with the first version and leaves no head behind", async () => {
    const stores = await fixture.stores();
    const user = freshName("u");
    expect(await stores.log.append(user, 1, message(), "k")).toEqual({ version: 1n, appended: true });
    expect(await stores.log.append(user, 7, message(), "k")).toEqual({ version: 1n, appended: false });
    expect((await stores.log.head(user)).entries.map((e) => [e.key, e.version])).toEqual([[1, 1n]]);
    expect(await stores.log.append(user, 7, message(), "k2")).toEqual({ version: 1n, appended: true });
    expect(await stores.log.append(user, 1, message(), "k3")).toEqual({ version: 2n, appended: true });
  });

  test("a command Redis never answers rejects after commandTimeoutMs with TIMEOUT; the others are unaffected", async () => {
    const { client } = await countingClient(["GET"]);
    const stores = await storesWith(client, { commandTimeoutMs: 150 });
    const started = Date.now();
    // The handler goes on at once: the rejection must not wait unhandled behind the INCR below.
    const hung = stores.dedupe.get(freshName("s"), 1n, 0).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    await expect(stores.ids.next(freshName("c"))).resolves.toBe(1n);
    const error = await hung;
    expect(error).toBeInstanceOf(RedisStoreError);
    expect(error).toMatchObject({ code: "TIMEOUT" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
