// Property tests run with one seed per run. It is printed by fast-check with every counterexample
// ("seed: …, path: …"); set FC_SEED to replay a run and FC_NUM_RUNS to widen or narrow the search.
import fc from "fast-check";

const seed = process.env.FC_SEED === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env.FC_SEED);
const numRuns = process.env.FC_NUM_RUNS === undefined ? undefined : Number(process.env.FC_NUM_RUNS);
if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${process.env.FC_SEED}`);
fc.configureGlobal({ seed, ...(numRuns === undefined ? {} : { numRuns }) });
