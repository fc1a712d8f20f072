#!/usr/bin/env node
// The `syncwire` command. The code lives in dist/cli (built by `npm run build`, and by `prepare` on install).
import { run } from "../dist/cli/main.js";

process.stdout.on("error", (error) => {
  // `syncwire dump x | head` closes the pipe early: that is not a failure.
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
