// The store contract (test/session/stores/contract.ts) on Redis: the same suites as the memory stores,
// against a real redis-server, with a clock that really waits (Redis expires by its own clock).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { RedisStores } from "../../src/redis/index.js";
import {
  describeDedupeContract,
  describeIdAllocatorContract,
  describeObjectContract,
  describePresenceContract,
  describeSyncLogContract,
  describeUploadContract,
  freshName,
} from "../session/stores/contract.js";
import { realClock, REDIS, RedisFixture } from "./support.js";

const fixture = new RedisFixture();
let stores: RedisStores;
let classic: RedisStores;
let resp2: RedisStores;
const logs = new Map<number, Promise<RedisStores>>();
const resp2Logs = new Map<number, Promise<RedisStores>>();

describe.skipIf(!REDIS.available)(`store contract on Redis (${REDIS.reason})`, () => {
  beforeAll(async () => {
    await fixture.start();
    stores = await fixture.stores();
    classic = await fixture.stores({ pubsub: "classic" });
    resp2 = await fixture.stores({ client: await fixture.resp2Client() });
  });
  afterAll(() => fixture.stop());

  // The suites below assert through whatever stores they are handed: this proves those are the Redis
  // stores on this fixture's server (a fixture that fell back to memory would pass them all silently).
  test("the stores under contract keep their state in this Redis, over RESP 3 and RESP 2 clients", async () => {
    const raw = await fixture.client();
    for (const under of [stores, classic, resp2]) {
      const conversation = freshName("c");
      expect(await under.ids.next(conversation)).toBe(1n);
      expect(await raw.get(under.keys.ids(conversation))).toBe("1");
    }
  });

  const timing = { clock: realClock, ttlMs: 400, settle: () => new Promise<void>((resolve) => setTimeout(resolve, 50)) };
  describeDedupeContract("redis", () => stores.dedupe, timing);
  describeIdAllocatorContract("redis", () => stores.ids);
  describeSyncLogContract("redis", ({ retention }) => {
    let made = logs.get(retention);
    if (made === undefined) logs.set(retention, (made = fixture.stores({ log: { retention } })));
    return made.then((s) => s.log);
  });
  describeUploadContract("redis", () => stores.uploads, timing);
  describeObjectContract("redis (filesystem blobs)", () => stores.objects);
  describePresenceContract("redis, sharded pub/sub", () => stores.presence, timing);
  describePresenceContract("redis, classic pub/sub", () => classic.presence, timing);

  // The same stores over a client speaking RESP 2 (node-redis defaults to RESP 3): replies are shaped alike.
  describeDedupeContract("redis, RESP 2 client", () => resp2.dedupe, timing);
  describeSyncLogContract("redis, RESP 2 client", async ({ retention }) => {
    let made = resp2Logs.get(retention);
    if (made === undefined) resp2Logs.set(retention, (made = fixture.resp2Client().then((client) => fixture.stores({ client, log: { retention } }))));
    return (await made).log;
  });
  describeUploadContract("redis, RESP 2 client", () => resp2.uploads, timing);
  describePresenceContract("redis, RESP 2 client", () => resp2.presence, timing);
});
