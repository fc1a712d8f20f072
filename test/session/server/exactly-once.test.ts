// The property the SEND path exists for: retransmissions — duplicated, reordered, spread over several
// links of the same user, some of which are reset mid-flight — with store calls completing in a random
// order (fast-check's scheduler decides when each store call runs), store each message exactly once and
// acknowledge every copy with the same ids.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { AckStatus, createSyncKey, Op } from "../../../src/index.js";
import { createMemoryStores } from "../../../src/session/memory/index.js";
import type { ServerStores } from "../../../src/session/stores.js";
import { makeEngine, RawClient, text, untext, wrapStores } from "./support.js";

/** Every store call waits for the scheduler before it runs, so their order is the property's to choose. */
function scheduled(stores: ServerStores, s: fc.Scheduler): ServerStores {
  return wrapStores(stores, (id, call) => s.schedule(Promise.resolve(), id).then(call));
}

async function drainScheduler(s: fc.Scheduler): Promise<void> {
  for (;;) {
    await s.waitAll();
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (s.count() === 0) return;
  }
}

type Action = { kind: "send"; message: number; link: number } | { kind: "step" } | { kind: "reset"; link: number };

const MESSAGES = 4;
const LINKS = 2;

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("send" as const), message: fc.integer({ min: 0, max: MESSAGES - 1 }), link: fc.integer({ min: 0, max: LINKS - 1 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("step" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reset" as const), link: fc.integer({ min: 0, max: LINKS - 1 }) }) },
);

describe("exactly once", () => {
  test("property: duplicated, reordered retransmissions over several links of one user store each message once, every ACK with the same ids", async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(actionArb, { maxLength: 30 }), async (s, actions) => {
        const memory = createMemoryStores();
        const { engine } = makeEngine({}, scheduled(memory, s));
        const clientMsgId = (m: number) => 1000n + BigInt(m);
        const acks: { clientMsgId: bigint; serverMsgId: bigint; serverTimeMs: bigint; status: AckStatus }[] = [];
        const everyLink: RawClient[] = [];
        const open = (i: number): RawClient => {
          const client = new RawClient(engine);
          everyLink.push(client);
          client.feed(client.helloFrame({ clientId: `device-${i}` }));
          return client;
        };
        const collect = () => {
          for (const client of everyLink) {
            for (const r of client.drain()) if (r.op === Op.ACK) acks.push(r.body);
          }
        };
        const links = Array.from({ length: LINKS }, (_, i) => open(i));
        const send = (client: RawClient, m: number) => client.feed(client.sendFrame({ clientMsgId: clientMsgId(m), conversationId: `conv${m % 2}`, content: text(`message ${m}`) }));

        for (const action of actions) {
          if (action.kind === "send") send(links[action.link]!, action.message);
          else if (action.kind === "step") {
            if (s.count() > 0) await s.waitOne();
          } else {
            // A reset: the transport dies with whatever was in flight; the device reconnects.
            collect();
            links[action.link]!.link.linkClosed(links[action.link]!.now);
            links[action.link] = open(action.link);
          }
        }
        // The client resends everything not confirmed: here, simply every message once more, on link 0.
        for (let m = 0; m < MESSAGES; m++) send(links[0]!, m);
        await drainScheduler(s);
        collect();

        for (let m = 0; m < MESSAGES; m++) {
          const mine = acks.filter((a) => a.clientMsgId === clientMsgId(m));
          expect(mine.length).toBeGreaterThan(0);
          expect(new Set(mine.map((a) => a.serverMsgId)).size).toBe(1);
          expect(new Set(mine.map((a) => a.serverTimeMs)).size).toBe(1);
          expect(mine.filter((a) => a.status === AckStatus.OK).length).toBeLessThanOrEqual(1);
          expect(mine.every((a) => a.status === AckStatus.OK || a.status === AckStatus.DUPLICATE)).toBe(true);
        }
        for (const user of ["bob", "alice"]) {
          const { entries } = await memory.log.read(user, createSyncKey([]), 1000);
          const stored = entries.map((e) => untext(e.message.content)).sort();
          expect(stored).toEqual(Array.from({ length: MESSAGES }, (_, m) => `message ${m}`));
          for (const entry of entries) {
            const ack = acks.find((a) => a.clientMsgId === entry.message.clientMsgId)!;
            expect(entry.message.serverMsgId).toBe(ack.serverMsgId);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
