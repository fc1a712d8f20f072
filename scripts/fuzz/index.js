#!/usr/bin/env node
// `npm run fuzz -- --seconds N --seed S`: random and mutated-valid inputs into every decoder of the
// library and into the CLI's input readers, profiles and whole `dump` command, in process (over dist/).
// See targets.js for what each is held to.
//
// The loop runs in a worker thread; this thread watches it: an input still running after --input-ms is
// a hang, a worker past its heap (--heap-mb) or the process past --max-rss-mb is a blow-up. Either way
// the input is reported and the run goes on from the next one. Every input is a function of the seed
// and its index, so a failure is printed with both (and its bytes as hex) and `--replay INDEX` runs it
// again alone.
//
// Options: --seconds N (default 60), --seed S (default: random, printed), --target NAME (only that one),
// --input-ms N (10000), --heap-mb N (768), --max-rss-mb N (1536), --replay INDEX.
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { loadCorpus } from "./inputs.js";
import { inputAt, showInput, TARGETS } from "./targets.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    seed: { type: "string" },
    target: { type: "string" },
    "input-ms": { type: "string", default: "10000" },
    "heap-mb": { type: "string", default: "768" },
    "max-rss-mb": { type: "string", default: "1536" },
    replay: { type: "string" },
  },
});
const number = (name) => {
  const n = Number(values[name]);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} needs a non-negative integer, got ${values[name]}`);
  return n;
};
const seed = values.seed === undefined ? (Math.random() * 2 ** 32) >>> 0 : number("seed") >>> 0;
const only = values.target;
const targets = only === undefined ? TARGETS : TARGETS.filter((t) => t.name === only);
if (targets.length === 0) throw new Error(`no target ${only}; one of: ${TARGETS.map((t) => t.name).join(", ")}`);
const replayCommand = (index) => `npm run fuzz -- --seed ${seed}${only === undefined ? "" : ` --target "${only}"`} --replay ${index}`;

if (values.replay !== undefined) {
  const index = number("replay");
  const { target, r, input } = inputAt(targets, seed, index, loadCorpus());
  console.log(`replay: seed ${seed}, input #${index}, target ${target.name}\ninput: ${showInput(target, input)}`);
  const started = performance.now();
  try {
    await target.run(input, r);
    console.log(`ok in ${(performance.now() - started).toFixed(1)} ms`);
  } catch (error) {
    console.log(`FAIL in ${(performance.now() - started).toFixed(1)} ms: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
  process.exit();
}

const seconds = number("seconds");
const inputMs = number("input-ms");
const heapMb = number("heap-mb");
const maxRss = number("max-rss-mb") * 1024 * 1024;
const deadline = Date.now() + seconds * 1000;
const corpus = loadCorpus();
console.log(`fuzz: seed ${seed}, ${seconds} s, ${targets.length} targets, per-input bound ${inputMs} ms, worker heap ${heapMb} MB, RSS watch ${maxRss / 2 ** 20} MB`);

const failures = [];
/** Per target: inputs run, and milliseconds spent in them. */
const totals = new Map(targets.map((t) => [t.name, [0, 0]]));
let peakRss = 0;
const started = performance.now();

/** Runs one worker from `firstIndex`; resolves with the index to go on from, or undefined when time is up. */
function runWorker(firstIndex) {
  return new Promise((resolve) => {
    const progress = new SharedArrayBuffer(8);
    const shared = new Int32Array(progress);
    const worker = new Worker(new URL("./worker.js", import.meta.url), {
      workerData: { seed, firstIndex, deadline, only, progress },
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    });
    let counts = new Map();
    let settled = false;
    let lastDone = -1;
    let lastChange = Date.now();
    const finish = (next) => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      for (const [name, [n, ms]] of counts) totals.set(name, [totals.get(name)[0] + n, totals.get(name)[1] + ms]);
      resolve(next);
    };
    /** Reports the input running now and ends this worker; the run goes on after it. */
    const lost = (why) => {
      const index = Atomics.load(shared, 0);
      const { target, input } = inputAt(targets, seed, index, corpus);
      failures.push({ index, target: target.name, message: why, input: showInput(target, input) });
      void worker.terminate();
      finish(Date.now() < deadline ? index + 1 : undefined);
    };
    const watch = setInterval(() => {
      const rss = process.memoryUsage.rss();
      peakRss = Math.max(peakRss, rss);
      if (rss > maxRss) return lost(`memory: RSS ${Math.round(rss / 2 ** 20)} MB past the ${maxRss / 2 ** 20} MB watch`);
      const done = Atomics.load(shared, 1);
      if (done !== lastDone) {
        lastDone = done;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > inputMs) {
        lost(`hang: no result within ${inputMs} ms`);
      }
    }, 100);
    worker.on("message", (message) => {
      if (message.type === "counts") counts = new Map(message.counts);
      else if (message.type === "failure") failures.push(message);
      else if (message.type === "done") finish(undefined);
    });
    worker.on("error", (error) => lost(`worker died: ${error.code ?? ""} ${error.message}`));
    worker.on("exit", () => finish(undefined));
  });
}

let next = 0;
let lastLine = Date.now();
const ticker = setInterval(() => {
  if (Date.now() - lastLine < 10_000) return;
  lastLine = Date.now();
  console.log(`fuzz: ${Math.round((Date.now() - (deadline - seconds * 1000)) / 1000)} s, ${failures.length} failures so far`);
}, 1000);
while (next !== undefined) next = await runWorker(next);
clearInterval(ticker);

const elapsed = (performance.now() - started) / 1000;
const total = [...totals.values()].reduce((a, [n]) => a + n, 0);
console.log(`\n| target | inputs | inputs/s (of its own time) |\n|---|---:|---:|`);
for (const [name, [n, ms]] of totals) console.log(`| ${name} | ${n} | ${ms === 0 ? "–" : (n / (ms / 1000)).toFixed(0)} |`);
console.log(`\nfuzz: ${total} inputs in ${elapsed.toFixed(1)} s (${(total / elapsed).toFixed(0)} inputs/s), peak RSS ${Math.round(peakRss / 2 ** 20)} MB, ${failures.length} failure${failures.length === 1 ? "" : "s"}`);
const SHOWN = 20;
if (failures.length > SHOWN) console.log(`(the first ${SHOWN} of ${failures.length} failures below)`);
for (const f of failures.slice(0, SHOWN)) {
  console.log(`\nFAIL ${f.target}: ${f.message}\n  seed ${seed}, input #${f.index}\n  input: ${f.input.length > 8192 ? `${f.input.slice(0, 8192)}… (${f.input.length} chars)` : f.input}\n  replay: ${replayCommand(f.index)}`);
}
process.exit(failures.length > 0 ? 1 : 0);
