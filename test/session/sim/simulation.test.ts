// The simulation (docs/TESTING.md): real ClientEngines and a real ServerEngine over memory stores, joined
// by a seeded network with 30 % loss, 10 % duplication, 10 % reordering and periodic resets, then healed.
// Over many seeds: every message is acknowledged and delivered to every device of both users exactly once
// in its sender's order, or failed after its retries (and delivered exactly once if the server stored it
// anyway); no duplicates, nothing lost silently; every device converges on the server's head and holds
// the same messages as the user's other devices; uploads end byte-identical or failed with a reason; every
// bound holds. The checks live in simulator.js (shared with `npm run soak`); these tests run it.
//
// Replay one scenario: SIM_SEED=<seed> npx vitest run test/session/sim (prints its report).
// Search harder:       FC_NUM_RUNS=500 npx vitest run test/session/sim
import { fc, test } from "@fast-check/vitest";
import { describe, expect, test as plainTest } from "vitest";
import * as lib from "../../../src/index.js";
import type { ServerStores } from "../../../src/session/stores.js";
import { CALM, CI_WEATHER, scenarioFromSeed, simulate, type SimulationReport } from "./simulator.js";

const SIM_SEED = process.env.SIM_SEED === undefined ? undefined : Number(process.env.SIM_SEED);
const NUM_RUNS = process.env.FC_NUM_RUNS === undefined ? 80 : Number(process.env.FC_NUM_RUNS);

/** What a failing run prints: how to replay it, its counts, its first violations. */
function explain(report: SimulationReport): string {
  const { violations, stats, ...counts } = report;
  return [`replay: SIM_SEED=${report.seed} npx vitest run test/session/sim`, JSON.stringify(counts, (_, v) => (typeof v === "bigint" ? String(v) : v)), ...violations].join("\n  ");
}

/** The properties every healthy run has (the simulator's own checks are the `violations`). */
function expectHealthy(report: SimulationReport): void {
  const why = explain(report);
  expect(report.violations, why).toEqual([]);
  expect(report.violationCount, why).toBe(0);
  expect(report.converged, why).toBe(true);
  expect([report.duplicates, report.lost, report.pending], why).toEqual([0, 0, 0]);
  // Every message ends acknowledged or failed; every stored one (acked, or failed but stored) reached
  // every device of both users.
  expect(report.acked + report.failed, why).toBe(report.sent);
  expect(report.delivered, why).toBe(report.acked + report.storedFailed);
  expect(report.uploads.completed + report.uploads.failed, why).toBe(report.uploads.started);
}

describe("the simulation: client and server engines over a bad network", () => {
  if (SIM_SEED !== undefined) {
    plainTest(`SIM_SEED=${SIM_SEED}: one scenario`, async () => {
      const report = await simulate(lib, scenarioFromSeed(SIM_SEED));
      console.log(explain(report));
      expectHealthy(report);
    });
    return;
  }

  test.prop([fc.integer({ min: 0, max: 2 ** 31 - 1 })], { numRuns: NUM_RUNS })(
    "30 % loss, 10 % duplication, 10 % reordering, resets: exactly once, in order, converged, bounded",
    async (seed) => {
      const report = await simulate(lib, scenarioFromSeed(seed));
      expectHealthy(report);
      // The weather did bite: frames were lost, duplicated and reordered, links were lost and rebuilt.
      const { stats } = report;
      expect(stats.dropped > 0 && stats.duplicated > 0 && stats.reordered > 0, explain(report)).toBe(true);
      expect(stats.resets + stats.linkDead, explain(report)).toBeGreaterThan(0);
      // Links, not opens: a link lost during its handshake is rebuilt without an extra "open" (seed 890663342).
      expect(stats.links, explain(report)).toBeGreaterThan(report.devices);
    },
  );

  plainTest("a seed replays exactly: the same run, frame for frame", async () => {
    const scenario = scenarioFromSeed(20261201);
    const lines: string[][] = [[], []];
    const [a, b] = [await simulate(lib, { ...scenario, trace: (l) => lines[0]!.push(l) }), await simulate(lib, { ...scenario, trace: (l) => lines[1]!.push(l) })];
    expect(lines[0]!.length).toBeGreaterThan(100);
    expect(lines[1]).toEqual(lines[0]);
    expect({ ...b, ms: 0 }).toEqual({ ...a, ms: 0 });
  });

  plainTest("a calm network: everything acknowledged at the first try, no link lost", async () => {
    const report = await simulate(lib, { ...scenarioFromSeed(7), weather: CALM });
    expectHealthy(report);
    expect([report.failed, report.stats.retries, report.stats.resets, report.stats.linkDead]).toEqual([0, 0, 0, 0]);
    expect(report.uploads.completed).toBe(report.uploads.started);
  });

  plainTest("the bounds bite: pending sends reach maxPendingSends and one more send is refused", async () => {
    const report = await simulate(lib, { seed: 11, devices: [1, 1], messages: 60, uploads: 0, sendGapMs: 10, weather: CI_WEATHER });
    expectHealthy(report);
    expect(report.stats.queueFull).toBeGreaterThan(0);
  });
});

/** Stores whose log forgets its idempotency keys: a retried SEND whose record is gone is appended again. */
function forgetfulStores(stores: ServerStores): ServerStores {
  let n = 0;
  return {
    ...stores,
    dedupe: { get: async () => undefined, putIfAbsent: async (_s, _id, record) => record },
    log: { ...stores.log, append: (user, key, message, idempotencyKey) => stores.log.append(user, key, message, `${idempotencyKey}#${n++}`) },
  };
}

describe("the simulation's checks catch a broken engine or store", () => {
  plainTest("a server without dedupe stores retransmissions again: duplicates", async () => {
    const report = await simulate(lib, { ...scenarioFromSeed(3), wrapStores: forgetfulStores });
    expect(report.duplicates).toBeGreaterThan(0);
    expect(report.violations.some((v) => / holds u\d:\d+ twice/.test(v))).toBe(true);
  });

  plainTest("a log that drops some appends (but says it stored them): lost", async () => {
    let n = 0;
    const report = await simulate(lib, {
      ...scenarioFromSeed(5),
      weather: CALM,
      wrapStores: (stores) => ({
        ...stores,
        log: { ...stores.log, append: async (user, key, message, idem) => (++n % 7 === 0 ? { version: 999n, appended: false } : stores.log.append(user, key, message, idem)) },
      }),
    });
    expect(report.lost).toBeGreaterThan(0);
    expect(report.violations.some((v) => /acknowledged but not stored|stored in the logs of/.test(v))).toBe(true);
  });

  plainTest("a client that swallows a synced message: lost, and the device is out of step", async () => {
    let n = 0;
    class LeakyClient extends lib.ClientEngine {
      override pollEvent(): lib.ClientEvent | undefined {
        const event = super.pollEvent();
        if (event?.type === "message" && ++n === 5) return super.pollEvent();
        return event;
      }
    }
    const report = await simulate({ ...lib, ClientEngine: LeakyClient }, { ...scenarioFromSeed(9), weather: CALM });
    expect(report.lost).toBeGreaterThan(0);
    expect(report.violations.some((v) => /before entries/.test(v))).toBe(true);
  });

  plainTest("a client that hands a message over twice: duplicates", async () => {
    let n = 0;
    class StutteringClient extends lib.ClientEngine {
      #again: lib.ClientEvent | undefined;
      override pollEvent(): lib.ClientEvent | undefined {
        if (this.#again !== undefined) {
          const again = this.#again;
          this.#again = undefined;
          return again;
        }
        const event = super.pollEvent();
        if (event?.type === "message" && ++n === 5) this.#again = event;
        return event;
      }
    }
    const report = await simulate({ ...lib, ClientEngine: StutteringClient }, { ...scenarioFromSeed(9), weather: CALM });
    expect(report.duplicates).toBeGreaterThan(0);
  });

  plainTest("a server that acknowledges before it stores (so a later message overtakes): the order check fails", async () => {
    let n = 0;
    const report = await simulate(lib, {
      seed: 13,
      devices: [1, 1],
      messages: 30,
      uploads: 0,
      topics: 1,
      selfShare: 0,
      weather: CALM,
      wrapStores: (stores) => {
        let deferred: { user: string; clientMsgId: bigint; run: () => Promise<unknown> } | undefined;
        return {
          ...stores,
          log: {
            ...stores.log,
            append: async (user, key, message, idem) => {
              if (deferred === undefined && ++n % 4 === 0) {
                deferred = { user, clientMsgId: message.clientMsgId, run: () => stores.log.append(user, key, message, idem) };
                return { version: 0n, appended: false }; // a false OK: stored later, after the user's next message
              }
              const result = await stores.log.append(user, key, message, idem);
              const late = deferred;
              if (late !== undefined && late.user === user && late.clientMsgId !== message.clientMsgId) {
                deferred = undefined;
                await late.run();
              }
              return result;
            },
          },
        };
      },
    });
    expect(report.violations.some((v) => /after message \d+ of the same sender and conversation/.test(v)), explain(report)).toBe(true);
  });
});
