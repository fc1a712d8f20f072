// The tests Stryker runs against each mutant (see stryker.config.mjs): the wire core, the streaming
// decoder and the bodies layer. The CLI and Node adapter tests sit on top and add only time.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/wire/**/*.test.ts", "test/stream/**/*.test.ts", "test/bodies/**/*.test.ts"],
    setupFiles: ["test/support/fc-setup.ts"],
    testTimeout: 600_000,
    // Tells the one test that reads src/ as text (test/wire/api.test.ts) that src/ is instrumented.
    env: { SYNCWIRE_MUTATION_RUN: "1" },
  },
});
