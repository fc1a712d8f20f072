// CLI start-up: wall time of whole `syncwire` processes, from spawn to exit, beside `node -e 0` (Node's
// own start-up, the floor) in the same run. Child processes, many runs each, median and 90th
// percentile: benchmark.js measures functions in one process and cannot see module loading. The first
// rows split the cost: what importing the package's heavy dependency alone takes, and what `npx` adds
// in front of the same script.
//
// BENCH_CLI_RUNS sets the runs per case (default 30; npx gets a third of them, it is slow).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../", import.meta.url));
const runs = Number(process.env.BENCH_CLI_RUNS ?? 30);
const node = process.execPath;
const heartbeat = "00000010001000010000000200000001\n";

/** @type {{ name: string, command: string, args: string[], input?: string, runs?: number, reference?: boolean }[]} */
const cases = [
  { name: "node -e 0 (Node's own start-up)", command: node, args: ["-e", "0"], reference: true },
  { name: "node: import @bufbuild/protobuf only", command: node, args: ["--input-type=module", "-e", "await import('@bufbuild/protobuf')"] },
  { name: "node bin/syncwire.js --help", command: node, args: ["bin/syncwire.js", "--help"] },
  { name: "dump a heartbeat (hex on stdin)", command: node, args: ["bin/syncwire.js", "dump", "-"], input: heartbeat },
  { name: "dump examples/session.bin (protobuf bodies)", command: node, args: ["bin/syncwire.js", "dump", "examples/session.bin"] },
  { name: "dump --profile goim (a heartbeat)", command: node, args: ["bin/syncwire.js", "dump", "-", "--profile", "goim"], input: heartbeat },
  { name: "dump --profile bilibili (a brotli batch)", command: node, args: ["bin/syncwire.js", "dump", "--profile", "bilibili", "examples/bilibili-brotli.hex"] },
  { name: "npx syncwire --help", command: "npx", args: ["--no-install", "syncwire", "--help"], runs: Math.max(3, Math.round(runs / 3)) },
];

/** Milliseconds of one run. */
function once(c) {
  const started = process.hrtime.bigint();
  const result = spawnSync(c.command, c.args, { cwd: repo, input: c.input ?? "", stdio: ["pipe", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${c.name}: exit ${result.status}: ${String(result.stderr).slice(0, 400)}`);
  return ms;
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

const rows = [];
for (const c of cases) {
  once(c); // warm the file cache
  const times = Array.from({ length: c.runs ?? runs }, () => once(c)).sort((a, b) => a - b);
  rows.push({ name: c.name, median: quantile(times, 0.5), p90: quantile(times, 0.9), runs: times.length });
}
const reference = rows[cases.findIndex((c) => c.reference)];
console.log(`\n### CLI start-up (whole processes, ${runs} runs each)\n`);
console.log(`| case | median ms | p90 ms | vs ${reference.name} |`);
console.log("|---|---:|---:|---:|");
for (const r of rows) console.log(`| ${r.name} | ${r.median.toFixed(0)} | ${r.p90.toFixed(0)} | ${(r.median / reference.median).toFixed(2)}× |`);
