// Shared benchmark harness: runs benchmark.js suites one at a time and prints a Markdown table per
// suite with ops/s, the relative margin of error, and each case's ratio to the suite's reference case
// (the first case unless one is marked `reference: true`). Ratios from one run are what we report:
// absolute numbers move with the machine, ratios measured side by side much less.
import Benchmark from "benchmark";
import { report } from "./report.js";

/**
 * @typedef {object} Case
 * @property {string} name
 * @property {() => void} fn
 * @property {boolean} [reference] the case the ratios are relative to
 * @property {number} [perOp] units (frames, messages) done per call, to report units/s
 */

/**
 * Runs one suite and returns its rows.
 * @param {string} title
 * @param {Case[]} cases
 * @param {{ unit?: string, maxTime?: number, key?: string }} [options] `key` names the table for the README (default: the title)
 */
export function runSuite(title, cases, options = {}) {
  const unit = options.unit ?? "ops";
  const suite = new Benchmark.Suite(title);
  for (const c of cases) suite.add(c.name, c.fn, { maxTime: options.maxTime ?? Number(process.env.BENCH_MAX_TIME ?? 1.5), minSamples: 5 });
  suite.run({ async: false });
  // A Suite is array-like, not iterable.
  return suiteRows(title, cases, unit, Array.from(suite), options.key);
}

/**
 * Runs one suite of async cases (each `fn` returns a promise: benchmark.js's deferred benchmarks) and
 * prints it like {@link runSuite}. A case whose promise rejects ends the process with its error.
 * @param {string} title
 * @param {{ name: string, fn: () => Promise<unknown>, reference?: boolean, perOp?: number }[]} cases
 * @param {{ unit?: string, maxTime?: number, key?: string }} [options] `key` names the table for the README (default: the title)
 */
export function runSuiteAsync(title, cases, options = {}) {
  const unit = options.unit ?? "ops";
  const suite = new Benchmark.Suite(title);
  for (const c of cases) {
    const fn = (deferred) =>
      c.fn().then(
        () => deferred.resolve(),
        (error) => {
          console.error(`${title} / ${c.name}:`, error);
          process.exit(1);
        },
      );
    suite.add(c.name, fn, { defer: true, maxTime: options.maxTime ?? Number(process.env.BENCH_MAX_TIME ?? 1.5), minSamples: 5 });
  }
  return new Promise((resolve) => {
    suite.on("complete", () => resolve(suiteRows(title, cases, unit, Array.from(suite), options.key)));
    suite.run({ async: true });
  });
}

/** A finished suite's rows, printed and kept for the README (bench/report.js) under `key` (default: the title). */
function suiteRows(title, cases, unit, results, key) {
  const reference = cases.findIndex((c) => c.reference) === -1 ? 0 : cases.findIndex((c) => c.reference);
  const refRate = results[reference].hz * (cases[reference].perOp ?? 1);
  const rows = results.map((b, i) => {
    const rate = b.hz * (cases[i].perOp ?? 1);
    return { name: cases[i].name, rate, rme: b.stats.rme, ratio: rate / refRate, error: b.error };
  });
  report(
    key ?? title,
    title,
    ["case", `${unit}/s`, "±", `vs ${cases[reference].name}`],
    rows.map((r) => (r.error ? [r.name, `error: ${r.error.message}`, "", ""] : [r.name, formatRate(r.rate), `${r.rme.toFixed(1)}%`, `${r.ratio.toFixed(2)}×`])),
    rows,
  );
  return rows;
}

/** @param {number} n */
export function formatRate(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(1);
}

/** Consumes a value so the optimiser cannot drop the work that made it. */
export let sink = 0;
/** @param {number} n */
export function consume(n) {
  sink = (sink + n) | 0;
}
