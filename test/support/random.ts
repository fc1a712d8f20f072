// A small seeded PRNG for tests: networks, jitter, scenario choices. Deterministic per seed: the same
// mulberry32 the fault proxy draws its drops from (src/node/seeded-random.ts).
export { mulberry32 as seededRandom } from "../../src/node/seeded-random.js";
