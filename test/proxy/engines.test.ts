// The session engines through the fault proxy: a ServerEngine on node:net (the README's adapter), two
// ClientEngines connecting through the proxy with 1-byte writes both ways, and the sender's link killed
// in the middle of its SENDs. The client reconnects (`reconnected()`), resends what was not acked, and
// in the end every message is stored once and reaches the recipient exactly once, in order, and each
// client's SyncKey is the server's.
import { createServer } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { createMemoryStores, createSyncKey, formatSyncKey, ServerEngine } from "../../src/index.js";
import { DisconnectCode } from "../../src/gen/syncwire/v1/session_pb.js";
import { createFaultProxy } from "../../src/node/index.js";
import { seededRandom } from "../../src/node/seeded-random.js";
import { closeAll, NetClient, serve, sleep, track, until } from "./support.js";

afterEach(closeAll);

describe("the session engines through the fault proxy", () => {
  test("1-byte writes both ways and the sender's link killed mid-send: every message stored once and delivered exactly once", async () => {
    const stores = createMemoryStores();
    const engine = new ServerEngine({
      stores,
      random: seededRandom(5),
      authenticate: (hello) => (hello.token.startsWith("tok:") ? { user: hello.token.slice(4) } : { refuse: DisconnectCode.AUTH_FAILED, reason: "bad token" }),
    });
    const server = createServer({ allowHalfOpen: true }, (socket) => serve(engine, socket, Date.now));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    track(server, (s) => new Promise<void>((resolve) => s.close(() => resolve())));
    track(engine, (e) => e.shutdown(Date.now()));

    let killedAt: number | undefined;
    let ackedAtKill = -1;
    let alice: NetClient | undefined;
    const proxy = await createFaultProxy({
      upstream: { port: (server.address() as { port: number }).port },
      faults: { split: 1 },
      onEvent: (event) => {
        if (event.type !== "kill") return;
        killedAt = event.time;
        ackedAtKill = new Set(alice!.of("sent").map((e) => e.clientMsgId)).size;
      },
    });
    track(proxy, (p) => (p.killAll(), p.close()));

    alice = new NetClient(proxy.address.port, "alice", 1);
    const bob = new NetClient(proxy.address.port, "bob", 2);
    await until("both clients open", () => alice.of("open").length === 1 && bob.of("open").length === 1);

    // From now on, the client → server direction dies after 1,000 more bytes: inside the SENDs below.
    proxy.setFaults({ split: 1, up: { killAfterBytes: 1000 } });
    const count = 30;
    const ids = [...Array(count).keys()].map((i) => alice.send("bob", `message ${i + 1}`));
    await until("a link killed", () => killedAt !== undefined, 10_000);
    proxy.setFaults({ split: 1 }); // the new links live

    await until(
      `every message acked (${new Set(alice.of("sent").map((e) => e.clientMsgId)).size}) and delivered (${bob.of("message").length})`,
      () => new Set(alice.of("sent").map((e) => e.clientMsgId)).size === count && bob.of("message").length >= count,
      30_000,
    );
    await sleep(100); // anything late would show now

    expect(ackedAtKill).toBeGreaterThanOrEqual(0);
    expect(ackedAtKill).toBeLessThan(count); // the kill left messages unacknowledged: they were resent
    expect(alice.links).toBeGreaterThanOrEqual(2);
    expect(alice.of("open").at(-1)!.resumed).toBe(true);
    expect(alice.of("failed")).toStrictEqual([]);
    // Delivered exactly once, in the order sent.
    const delivered = bob.of("message").map((e) => e.message);
    expect(delivered.map((m) => m.clientMsgId)).toStrictEqual(ids);
    expect(delivered.map((m) => new TextDecoder().decode(m.content))).toStrictEqual(ids.map((_, i) => `message ${i + 1}`));
    // Stored once: the recipient's log holds each message once.
    const log = await stores.log.read("bob", createSyncKey([]), 1000);
    expect(log.entries.map((e) => e.message.clientMsgId)).toStrictEqual(ids);
    // Each client's key is the server's head of its log.
    for (const [user, client] of [
      ["alice", alice],
      ["bob", bob],
    ] as const) {
      const head = formatSyncKey(await stores.log.head(user));
      await until(`${user}'s key at the head ${head}`, () => formatSyncKey(client.engine.syncKey) === head);
    }
  }, 60_000);
});
