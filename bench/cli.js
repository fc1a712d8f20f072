// The CLI, as a user runs it: whole `syncwire` processes, spawned, from spawn to exit. benchmark.js
// measures functions in one process and cannot see module loading or stdout, so this file times child
// processes itself.
//
// 1. Start-up: many runs each, median and 90th percentile, beside `node -e 0` (Node's own start-up, the
//    floor) in the same run. The first rows split the cost: what importing the package's heavy
//    dependency alone takes, and what `npx` adds in front of the same script.
// 2. Throughput: `syncwire dump --max-frames 0` of a large capture (bench/cli-capture.js writes it into a
//    temporary folder and it is deleted after: a link's frames with protobuf bodies and batches, raw and
//    as a pcap of one TCP connection) in the text form, `--no-hex` and `--json`, stdout to /dev/null. MB/s
//    are the frames' bytes (the same for both inputs) over the whole process's wall time, start-up
//    included. Beside them in the same run: `hexdump -C` of the same raw file (a plain hex dump, the
//    peer a person would reach for), and the library alone in one process (FrameDecoder, splitBatch and
//    decodeMessage for every body, nothing printed: what is left is the CLI's own cost).
//
// BENCH_CLI_RUNS: start-up runs per case (default 30; npx gets a third of them, it is slow).
// BENCH_CLI_MB: megabytes of frames in the capture (default 100). BENCH_CLI_THROUGHPUT_RUNS: runs per
// throughput case (default 3, the median is reported; cases interleaved).
// BENCH_CLI_BASELINE=/path/to/another/checkout (built, with node_modules) adds its `bin/syncwire.js`
// dump rows to the same run, interleaved, for before/after figures. BENCH_CLI_ONLY=startup or
// BENCH_CLI_ONLY=throughput runs one half (while working on it; the README wants both).
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeCapture } from "./cli-capture.js";
import { report } from "./report.js";

const repo = fileURLToPath(new URL("../", import.meta.url));
const runs = Number(process.env.BENCH_CLI_RUNS ?? 30);
const node = process.execPath;
const heartbeat = "00000010001000010000000200000001\n";
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * Milliseconds of one run of `c`, stdout to `stdout` (a file descriptor, or "ignore").
 * @returns `{ ms, cpuMs, rssKb }`: wall time, and the CPU time (user + system) and peak resident set
 *   when /usr/bin/time measured them (`c.timed`).
 */
function once(c, stdout = "ignore") {
  const timed = c.timed === true && existsSync("/usr/bin/time");
  const command = timed ? "/usr/bin/time" : c.command;
  const args = timed ? ["-f", "rss=%M cpu=%U+%S", c.command, ...c.args] : c.args;
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: c.cwd ?? repo, input: c.input ?? "", stdio: ["pipe", stdout, "pipe"], maxBuffer: 1 << 20 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${c.name}: exit ${result.status}: ${String(result.stderr).slice(0, 400)}`);
  const measured = timed ? /rss=(\d+) cpu=([\d.]+)\+([\d.]+)/.exec(String(result.stderr)) : null;
  if (measured === null) return { ms };
  return { ms, cpuMs: 1000 * (Number(measured[2]) + Number(measured[3])), rssKb: Number(measured[1]) };
}

// ---- start-up ----

/** @type {{ name: string, command: string, args: string[], input?: string, runs?: number, reference?: boolean }[]} */
const startCases = [
  { name: "node -e 0 (Node's own start-up)", command: node, args: ["-e", "0"], reference: true },
  { name: "node: import @bufbuild/protobuf only", command: node, args: ["--input-type=module", "-e", "await import('@bufbuild/protobuf')"] },
  { name: "node bin/syncwire.js --help", command: node, args: ["bin/syncwire.js", "--help"] },
  { name: "dump a heartbeat (hex on stdin)", command: node, args: ["bin/syncwire.js", "dump", "-"], input: heartbeat },
  { name: "dump examples/session.bin (protobuf bodies)", command: node, args: ["bin/syncwire.js", "dump", "examples/session.bin"] },
  { name: "dump --profile goim (a heartbeat)", command: node, args: ["bin/syncwire.js", "dump", "-", "--profile", "goim"], input: heartbeat },
  { name: "dump --profile bilibili (a brotli batch)", command: node, args: ["bin/syncwire.js", "dump", "--profile", "bilibili", "examples/bilibili-brotli.hex"] },
  { name: "npx syncwire --help", command: "npx", args: ["--no-install", "syncwire", "--help"], runs: Math.max(3, Math.round(runs / 3)) },
];

const only = process.env.BENCH_CLI_ONLY;
const startRows = [];
for (const c of only === "throughput" ? [] : startCases) {
  once(c); // warm the file cache
  const times = Array.from({ length: c.runs ?? runs }, () => once(c).ms).sort((a, b) => a - b);
  startRows.push({ name: c.name, median: quantile(times, 0.5), p90: quantile(times, 0.9), runs: times.length });
}
const reference = startRows[startCases.findIndex((c) => c.reference)];
if (reference !== undefined) report(
  "cli-startup",
  `CLI start-up (whole processes, ${runs} runs each)`,
  ["case", "median ms", "p90 ms", `vs ${reference.name}`],
  startRows.map((r) => [r.name, r.median.toFixed(0), r.p90.toFixed(0), `${(r.median / reference.median).toFixed(2)}×`]),
  startRows,
);

// ---- throughput ----

const megabytes = Number(process.env.BENCH_CLI_MB ?? 100);
const throughputRuns = Number(process.env.BENCH_CLI_THROUGHPUT_RUNS ?? 3);
const baseline = process.env.BENCH_CLI_BASELINE;
if (only !== "startup") await throughput();

async function throughput() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "syncwire-bench-cli-"));
  const devNull = openSync("/dev/null", "w");
  try {
    const capture = writeCapture(dir, megabytes * 1e6);
    // The library alone: every frame cut, every batch split, every body decoded; nothing printed.
    const libraryOnly = `
      import { readFileSync } from "node:fs";
      import { FrameDecoder, Op, splitBatch, decodeMessage, isBodyOp } from "./dist/index.js";
      const bytes = readFileSync(process.argv[1]);
      const decoder = new FrameDecoder({ maxFrameSize: 1 << 20 });
      let n = 0;
      const body = (op, b, hl) => { if (isBodyOp(op) && b.byteLength > 0) { decodeMessage(op, b, hl); n++; } };
      for (let at = 0; at < bytes.byteLength; at += 65536) {
        decoder.pushVisit(bytes.subarray(at, at + 65536), (op, seq, b, version, extension) => {
          if (op === Op.BATCH) for (const f of splitBatch(b, { versions: "any" })) body(f.op, f.body, f.headerLength);
          else body(op, b, 16 + extension.byteLength);
        });
      }
      decoder.end();
      if (n === 0) throw new Error("no bodies decoded");`;
    const dumpCases = (bin, label, cwd) => [
      ["text (hex dump, bodies)", []],
      ["--no-hex", ["--no-hex"]],
      ["--json", ["--json"]],
    ].flatMap(([mode, flags]) =>
      [
        ["raw", capture.raw],
        ["pcap", capture.pcap],
      ].map(([input, file]) => ({ name: `${label}dump ${mode}, ${input}`, mode, input, command: node, args: [bin, "dump", file, "--max-frames", "0", ...flags], timed: true, cwd, baseline: label !== "" })),
    );
    const cases = [
      { name: "hexdump -C of the raw file (peer)", input: "raw", command: "hexdump", args: ["-C", capture.raw], reference: true, timed: true },
      { name: "library only: decode every frame and body, nothing printed", input: "raw", command: node, args: ["--input-type=module", "-e", libraryOnly, capture.raw], timed: true },
      ...dumpCases("bin/syncwire.js", ""),
    ];
    if (baseline !== undefined) cases.push(...dumpCases(path.join(baseline, "bin/syncwire.js"), "before: ", baseline));
    if (!existsSync("/usr/bin/hexdump") && !existsSync("/bin/hexdump")) cases.shift();

    const wall = cases.map(() => []);
    const cpu = cases.map(() => []);
    const rss = cases.map(() => 0);
    for (let r = 0; r < throughputRuns; r++) {
      cases.forEach((c, i) => {
        const { ms, cpuMs, rssKb } = once(c, devNull);
        wall[i].push(ms);
        if (cpuMs !== undefined) cpu[i].push(cpuMs);
        rss[i] = Math.max(rss[i], rssKb ?? 0);
      });
    }
    const mb = capture.frameBytes / 1e6;
    const median = (values) => (values.length === 0 ? undefined : quantile([...values].sort((a, b) => a - b), 0.5));
    const rows = cases.map((c, i) => {
      const ms = median(wall[i]);
      const cpuMs = median(cpu[i]);
      return {
        name: c.name,
        mode: c.mode,
        input: c.input,
        baseline: c.baseline === true,
        ms,
        cpuMs,
        mbps: mb / (ms / 1000),
        cpuMbps: cpuMs === undefined ? undefined : mb / (cpuMs / 1000),
        rssMb: rss[i] > 0 ? rss[i] / 1024 : undefined,
      };
    });
    const ref = rows.find((r, i) => cases[i].reference) ?? rows[0];
    // On a shared machine the wall time moves with the load; CPU time (user + system) much less: the
    // ratios are taken from it when it was measured.
    const speed = (r) => r.cpuMbps ?? r.mbps;
    report(
      "cli-throughput",
      `syncwire dump of ${mb.toFixed(0)} MB of frames (${capture.frames} frames; pcap file ${(capture.pcapBytes / 1e6).toFixed(0)} MB), stdout to /dev/null, median of ${throughputRuns}`,
      ["case", "MB/s", "MB per CPU s", "wall s", "CPU s", "peak RSS MB", `vs ${ref.name} (CPU)`],
      rows.map((r) => [
        r.name,
        r.mbps.toFixed(1),
        r.cpuMbps === undefined ? "" : r.cpuMbps.toFixed(1),
        (r.ms / 1000).toFixed(2),
        r.cpuMs === undefined ? "" : (r.cpuMs / 1000).toFixed(2),
        r.rssMb === undefined ? "" : r.rssMb.toFixed(0),
        `${(speed(r) / speed(ref)).toFixed(2)}×`,
      ]),
      { rows, megabytes: mb, frames: capture.frames, pcapMegabytes: capture.pcapBytes / 1e6, runs: throughputRuns },
    );
  } finally {
    closeSync(devNull);
    rmSync(dir, { recursive: true, force: true });
  }
}
