#!/usr/bin/env node
// `npm run soak -- --messages N --clients C --loss P --dup P --reorder P --resets P --seed S`: the
// simulation of test/session/sim (the same simulator.js, one implementation) at scale, with the engines
// built into dist/. A progress line on a TTY (stderr), then one JSON summary line on stdout:
// {"sent":…,"acked":…,"failed":…,"delivered":…,"duplicates":…,"lost":…,"ms":…, …}. Exits 1 if any check
// failed (the first violations go to stderr), 2 on bad arguments. docs/TESTING.md describes the model.
import { parseArgs } from "node:util";
import * as lib from "../dist/index.js";
import { simulate } from "../test/session/sim/simulator.js";

const USAGE = `usage: npm run soak -- [--messages N] [--clients C] [--loss P] [--dup P] [--reorder P] [--resets P]
                      [--reset-every MS] [--uploads N] [--seed S]
  --messages N    text messages the applications send (default 10000)
  --clients C     client engines (devices), two per user (default 8)
  --loss P        probability a frame (or BATCH) is lost (default 0)
  --dup P         … delivered twice (default 0)
  --reorder P     … held back so later frames overtake it (default 0)
  --resets P      probability the link is reset after a frame (default 0)
  --reset-every MS  also reset every link 0.5–1.5 × MS after it opens (default 0: never)
  --uploads N     uploads (default messages / 2000)
  --seed S        the seed: the same seed replays the same run (default 1)`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      messages: { type: "string", default: "10000" },
      clients: { type: "string", default: "8" },
      loss: { type: "string", default: "0" },
      dup: { type: "string", default: "0" },
      reorder: { type: "string", default: "0" },
      resets: { type: "string", default: "0" },
      "reset-every": { type: "string", default: "0" },
      uploads: { type: "string" },
      seed: { type: "string", default: "1" },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (error) {
  console.error(`${error.message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

/** @param {string} name @param {number} min @param {number} max @param {boolean} integer */
function number(name, min, max, integer) {
  const raw = values[name];
  const n = Number(raw);
  if (raw === "" || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    console.error(`--${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}, got ${raw}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

const messages = number("messages", 0, 10_000_000, true);
const clients = number("clients", 1, 1000, true);
const weather = {
  loss: number("loss", 0, 0.95, false),
  dup: number("dup", 0, 1, false),
  reorder: number("reorder", 0, 1, false),
  resets: number("resets", 0, 1, false),
  resetEveryMs: number("reset-every", 0, 86_400_000, true),
};
const uploads = values.uploads === undefined ? Math.floor(messages / 2000) : number("uploads", 0, 1_000_000, true);
const seed = number("seed", 0, 2 ** 32 - 1, true);

// Two devices per user (a phone and a laptop); an odd count leaves the last user one.
const users = Math.max(1, Math.ceil(clients / 2));
const devices = Array.from({ length: users }, (_, i) => (i < Math.floor(clients / 2) ? 2 : 1));

const tty = process.stderr.isTTY === true;
let lastDraw = 0;
/** @param {{ phase: string, sent: number, acked: number, simMs: number, wallMs: number }} p */
function onProgress(p) {
  if (!tty || p.wallMs - lastDraw < 200) return;
  lastDraw = p.wallMs;
  process.stderr.write(`\r\x1b[2Ksoak ${p.phase}: sent ${p.sent}/${messages} acked ${p.acked}, ${(p.simMs / 1000).toFixed(0)} s simulated in ${(p.wallMs / 1000).toFixed(1)} s`);
}

const report = await simulate(lib, {
  seed,
  devices,
  messages,
  uploads,
  weather,
  topics: 4,
  sendGapMs: 20,
  maxSimMs: 24 * 3_600_000,
  healMs: 1_800_000,
  onProgress,
  // A phone's figures, but a deeper queue and larger parts than the CI scale.
  client: { maxPendingSends: 64, maxFailedSends: 256, processedIdCapacity: 10_000, partSize: 4096, uploadWindow: 4, maxUploads: 4, syncIntervalMs: 30_000 },
  server: {
    heartbeatIntervalMs: 10_000,
    limits: { maxBatchFrames: 64, maxInFlight: 128 },
    syncPageLimit: 100,
    uploads: { maxObjectSize: 1024 * 1024, maxOpenUploads: 4, idleMs: 30_000 },
  },
  // Bounds a run of this size exceeds (so eviction and trimming happen), large enough to cover retries.
  stores: {
    dedupe: { capacity: Math.max(2000, Math.ceil(messages / 4)) },
    log: { retention: 1000, maxEntries: 100_000, maxDevices: 8, trimmedKeys: Math.max(2000, Math.ceil(messages / 2)) },
  },
});
if (tty) process.stderr.write("\r\x1b[2K");

const { stats } = report;
const summary = {
  sent: report.sent,
  acked: report.acked,
  failed: report.failed,
  delivered: report.delivered,
  duplicates: report.duplicates,
  lost: report.lost,
  ms: report.ms,
  storedFailed: report.storedFailed,
  deliveries: report.deliveries,
  uploads: report.uploads,
  converged: report.converged,
  violations: report.violationCount,
  clients,
  users,
  seed,
  weather,
  simMs: report.simMs,
  frames: stats.frames,
  dropped: stats.dropped,
  duplicated: stats.duplicated,
  reordered: stats.reordered,
  resets: stats.resets,
  linkDead: stats.linkDead,
  retries: stats.retries,
};
console.log(JSON.stringify(summary));
if (report.violationCount > 0) {
  console.error(`${report.violationCount} check(s) failed (replay with the same arguments):`);
  for (const line of report.violations) console.error(`  ${line}`);
  process.exit(1);
}
