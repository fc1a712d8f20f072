// failoverTransport: which node each link goes to (sticky while links open, the next node after a link
// that never opened), and createClient({ url: [...] }) moving to the other of two real loopback servers
// (one set of memory stores: two nodes in one process) when its node stops.
import { describe, expect, test } from "vitest";
import { createMemoryStores, failoverTransport, type ClientTransport, type TransportHandlers } from "../../src/index.js";
import { createClient, SyncwireServer, tokenAuthenticator } from "../../src/node/index.js";
import { FAST_RECONNECT, textMessage, textOf, useHarness, waitUntil } from "../transports/support.js";

/** A transport whose links open or fail as the test says; records which node each link went to. */
function scriptedNodes(count: number) {
  const connects: number[] = [];
  const pending: { node: number; handlers: TransportHandlers; aborted: boolean }[] = [];
  const transports: ClientTransport[] = Array.from({ length: count }, (_, node) => ({
    kind: "tcp",
    connect(handlers: TransportHandlers) {
      connects.push(node);
      const entry = { node, handlers, aborted: false };
      pending.push(entry);
      return { send: () => true, close: () => handlers.closed("closed"), abort: () => void (entry.aborted = true) };
    },
  }));
  const last = () => pending[pending.length - 1]!;
  return { transports, connects, last };
}

const noHandlers: TransportHandlers = { open: () => undefined, bytes: () => undefined, message: () => undefined, writable: () => undefined, closed: () => undefined };

describe("failoverTransport", () => {
  test("links stay on a node while they open; a link that never opened moves the next one to the next node, round the list", () => {
    const { transports, connects, last } = scriptedNodes(3);
    const switches: [number, string][] = [];
    const failover = failoverTransport(transports, { onSwitch: (index, reason) => switches.push([index, reason]) });
    expect([failover.kind, failover.current]).toEqual(["tcp", 0]);

    failover.connect(noHandlers);
    last().handlers.open();
    last().handlers.closed("reset after it opened"); // a cut link: retried at the same node
    failover.connect(noHandlers);
    last().handlers.closed("ECONNREFUSED"); // the node is gone: next
    failover.connect(noHandlers);
    last().handlers.closed("ECONNREFUSED");
    failover.connect(noHandlers);
    last().handlers.closed("ECONNREFUSED"); // round the list, back to 0
    failover.connect(noHandlers);
    expect(connects).toEqual([0, 0, 1, 2, 0]);
    expect(switches).toEqual([
      [1, "ECONNREFUSED"],
      [2, "ECONNREFUSED"],
      [0, "ECONNREFUSED"],
    ]);
  });

  test("a link the client drops before it opened (connect timeout) moves on too; a late closed() of that link does not move twice", () => {
    const { transports, connects, last } = scriptedNodes(3);
    const failover = failoverTransport(transports, { start: 1 });
    const link = failover.connect(noHandlers);
    link.abort();
    expect(last().aborted).toBe(true);
    last().handlers.closed("aborted");
    failover.connect(noHandlers);
    expect(connects).toEqual([1, 2]);
    expect(failover.current).toBe(2);
  });

  test("the handlers get every callback of the link they belong to", () => {
    const { transports, last } = scriptedNodes(2);
    const seen: string[] = [];
    failoverTransport(transports).connect({
      open: () => seen.push("open"),
      bytes: (b) => seen.push(`bytes ${b.byteLength}`),
      message: (m) => seen.push(`message ${m.byteLength}`),
      writable: () => seen.push("writable"),
      closed: (r) => seen.push(`closed ${r}`),
    });
    const { handlers } = last();
    handlers.open();
    handlers.bytes(new Uint8Array(3));
    handlers.message(new Uint8Array(5));
    handlers.writable();
    handlers.closed("bye");
    expect(seen).toEqual(["open", "bytes 3", "message 5", "writable", "closed bye"]);
  });

  test("misuse: no transports, a member without connect, mixed kinds, a start outside the list", () => {
    const tcp = scriptedNodes(1).transports[0]!;
    expect(() => failoverTransport([])).toThrow(TypeError);
    expect(() => failoverTransport([tcp, {} as ClientTransport])).toThrow(TypeError);
    expect(() => failoverTransport([tcp, { ...tcp, kind: "ws" }])).toThrow(/one kind, got tcp, ws/);
    expect(() => failoverTransport([tcp, { ...tcp, short: true }])).toThrow(TypeError);
    expect(() => failoverTransport([tcp], { start: 1 })).toThrow(RangeError);
    expect(() => failoverTransport([tcp], { start: -1 })).toThrow(RangeError);
  });
});

describe("createClient with several URLs, against two loopback servers over one set of stores", () => {
  const harness = useHarness();

  test("its node stops: the client moves to the other node and resumes, nothing lost, nothing twice", async () => {
    const stores = createMemoryStores();
    const nodes = [0, 1].map(() => new SyncwireServer({ authenticate: tokenAuthenticator(), stores, tcp: { host: "127.0.0.1", port: 0 } }));
    harness.servers.push(...nodes);
    const urls = await Promise.all(nodes.map(async (n) => (await n.listen()).tcp!.url));
    const alice = { client: createClient({ url: urls, reconnect: FAST_RECONNECT, engine: { clientId: "alice-device", token: "alice", userId: "alice" } }), user: "alice", messages: [], events: [] };
    harness.clients.push(alice);
    const bob = harness.client(urls[1]!, "bob");
    await waitUntil(() => alice.client.state === "open" && bob.client.state === "open", "both open");
    expect(nodes.map((n) => n.engine.connectionCount)).toEqual([1, 1]);

    alice.client.send(textMessage("alice", "bob", "before"));
    await waitUntil(() => bob.messages.length === 1, "the first message");
    await nodes[0]!.close({ retryAfterMs: 0, graceMs: 500 }); // alice's node goes away
    alice.client.send(textMessage("alice", "bob", "after"));
    await waitUntil(() => bob.messages.length === 2 && alice.client.state === "open", "the message sent while moving");
    expect(nodes[1]!.engine.connectionCount).toBe(2);
    expect(bob.messages.map(textOf)).toEqual(["before", "after"]);
  });
});
