// Mutation testing (StrykerJS 9.6.1 + its vitest runner): `npm run mutate`, not part of CI.
//
// It mutates the wire core, the streaming decoder and the hand-written protobuf reader/writer, runs the
// tests that cover each mutant, and reports which mutants no test notices. Property tests run with a
// fixed seed (FC_SEED, set by the npm script) so two runs judge the same inputs, and with at most
// FC_MAX_RUNS runs each (test/support/runs.ts) so a mutant costs seconds, not minutes.
//
// One area at a time:   npm run mutate -- --mutate 'src/wire/**/*.ts'
//                       npm run mutate -- --mutate src/bodies/reader.ts
// and only the tests that matter for it (fewer tests, a much shorter first run):
//   MUTATE_TESTS='test/wire/**/*.test.ts,test/stream/frame-decoder.test.ts' npm run mutate -- --mutate 'src/wire/**/*.ts'
// Reports: reports/mutation/mutation.html and mutation.json (ignored by git).
// Expect roughly half an hour per area on two cores; `--concurrency 2` is faster on an idle machine.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutate.config.ts" },
  mutate: [
    "src/wire/**/*.ts",
    "src/stream/frame-decoder.ts",
    "src/bodies/reader.ts",
    "src/bodies/sync-key.ts",
    "src/bodies/fast-decode.ts",
    "src/bodies/writer.ts",
    "src/bodies/fast-encode.ts",
  ],
  coverageAnalysis: "perTest",
  concurrency: 1,
  // Property tests are slow under instrumentation; a mutant that loops forever is cut off here.
  timeoutMS: 60_000,
  // The first run (all tests, with coverage) takes minutes on a busy machine.
  dryRunTimeoutMinutes: 60,
  timeoutFactor: 2,
  reporters: ["clear-text", "progress-append-only", "html", "json"],
  clearTextReporter: { allowColor: false, logTests: false },
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
  cleanTempDir: true,
  thresholds: { high: 95, low: 85, break: null },
};
