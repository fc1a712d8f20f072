// The tests Stryker runs against each mutant (see stryker.config.mjs): the wire core, the streaming
// decoder and the bodies layer; the CLI and Node adapter tests sit on top and add only time.
// MUTATE_TESTS (comma-separated globs) narrows the set for one area, e.g.
//   MUTATE_TESTS='test/wire/**/*.test.ts' npm run mutate -- --mutate 'src/wire/**/*.ts'
import { defineConfig } from "vitest/config";

const include = process.env.MUTATE_TESTS?.split(",") ?? ["test/wire/**/*.test.ts", "test/stream/**/*.test.ts", "test/bodies/**/*.test.ts"];

export default defineConfig({
  test: {
    include,
    setupFiles: ["test/support/fc-setup.ts"],
    testTimeout: 600_000,
    // Tells the one test that reads src/ as text (test/wire/api.test.ts) that src/ is instrumented.
    env: { SYNCWIRE_MUTATION_RUN: "1" },
  },
});
