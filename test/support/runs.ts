/**
 * The number of runs for a property test that asks for `n`: `n`, capped by FC_MAX_RUNS when set.
 * `npm run mutate` sets the cap (see stryker.config.mjs) so that each mutant costs seconds rather than
 * minutes; fc-setup.ts applies the same cap to tests that keep fast-check's default of 100.
 */
export function runs(n: number): number {
  const cap = process.env.FC_MAX_RUNS;
  return cap === undefined ? n : Math.min(n, Number(cap));
}
