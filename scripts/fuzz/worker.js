// The fuzzing loop, in a worker thread so that the main thread can watch it: before each input the
// worker writes the input's index and target into shared memory, and counts it when done. A hang (an
// input that runs past the time bound) or a blow-up (past the heap limit or the RSS watch) is then
// caught by the main thread, which knows which input it was and makes it again from the seed.
import { parentPort, workerData } from "node:worker_threads";
import { loadCorpus } from "./inputs.js";
import { Failure, inputAt, showInput, TARGETS } from "./targets.js";

const { seed, firstIndex, deadline, only, progress } = workerData;
/** [0] index of the input running now, [1] inputs finished */
const shared = new Int32Array(progress);
const targets = only === undefined ? TARGETS : TARGETS.filter((t) => t.name === only);
const corpus = loadCorpus();
/** Per target: inputs run, and milliseconds spent running them. */
const counts = new Map(targets.map((t) => [t.name, [0, 0]]));

let index = firstIndex;
let lastReport = Date.now();
while (Date.now() < deadline) {
  Atomics.store(shared, 0, index);
  const { target, r, input } = inputAt(targets, seed, index, corpus);
  const started = performance.now();
  try {
    await target.run(input, r);
  } catch (error) {
    const message = error instanceof Failure ? error.message : `harness: ${error instanceof Error ? error.stack : String(error)}`;
    parentPort.postMessage({ type: "failure", index, target: target.name, message, input: showInput(target, input) });
  }
  const [n, ms] = counts.get(target.name);
  counts.set(target.name, [n + 1, ms + performance.now() - started]);
  Atomics.add(shared, 1, 1);
  index++;
  if (Date.now() - lastReport > 1000) {
    parentPort.postMessage({ type: "counts", counts: [...counts] });
    lastReport = Date.now();
  }
}
parentPort.postMessage({ type: "counts", counts: [...counts] });
parentPort.postMessage({ type: "done", next: index });
