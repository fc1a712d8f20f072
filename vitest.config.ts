import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Property tests print their seed on failure; FC_SEED replays one (see test/support/fc-setup.ts).
    setupFiles: ["test/support/fc-setup.ts"],
    testTimeout: 60_000,
  },
});
