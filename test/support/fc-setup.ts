// Property tests run with one seed per run. It is printed by fast-check with every counterexample
// ("seed: …, path: …"); set FC_SEED to replay a run and FC_NUM_RUNS to widen or narrow the search.
import fc from "fast-check";

const seed = process.env.FC_SEED === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env.FC_SEED);
// FC_MAX_RUNS caps every property test, those that ask for more runs too (see runs.ts).
const numRuns =
  process.env.FC_NUM_RUNS !== undefined ? Number(process.env.FC_NUM_RUNS) : process.env.FC_MAX_RUNS !== undefined ? Math.min(100, Number(process.env.FC_MAX_RUNS)) : undefined;
if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${process.env.FC_SEED}`);
fc.configureGlobal({ seed, ...(numRuns === undefined ? {} : { numRuns }) });
