/**
 * dist/ for the tests that use the built package (the packed tarball, the real bin): built when missing or
 * older than src/, and pruned of files whose source is gone (`npm run build` = tsc + scripts/prune-dist.mjs).
 *
 * CI builds dist/ before `npm test` (and `npm ci` builds it through `prepare`), so there this only checks.
 * Locally, test files running in parallel may both find dist/ stale: a lock directory makes one build while
 * the others wait, so no file is read while another process rewrites it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (no trailing slash). */
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Newest modification time of the files under `dir`. */
function newestMtime(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const path = join(dir, entry.name);
    return Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }, 0);
}

/** The built files every user of dist/ needs: the two entries and the CLI. */
const ENTRIES = ["dist/index.js", "dist/node/index.js", "dist/cli/main.js"];

function isFresh(): boolean {
  const sources = newestMtime(join(REPO_ROOT, "src"));
  return ENTRIES.every((entry) => {
    const path = join(REPO_ROOT, entry);
    return existsSync(path) && statSync(path).mtimeMs >= sources;
  });
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Makes dist/ match src/: builds it when stale, else only prunes files without a source.
 * @throws Error with tsc's output if the build fails, or if another process held the lock for 2 minutes.
 */
export function ensureDistBuilt(): void {
  // One lock per checkout (the path is in the name), in the system temp dir so no stray folder lands in the repo.
  const lock = join(tmpdir(), `syncwire-build-lock-${REPO_ROOT.replace(/[^A-Za-z0-9]+/g, "_")}`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // A lock older than the deadline is a leftover of a killed run.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held !== undefined && Date.now() - held.mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`dist/ build lock ${lock} held for 2 minutes`);
      sleep(200);
    }
  }
  try {
    const step = isFresh() ? ["scripts/prune-dist.mjs"] : null;
    const result =
      step === null
        ? spawnSync("npm", ["run", "build"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 120_000 })
        : spawnSync(process.execPath, step, { cwd: REPO_ROOT, encoding: "utf8", timeout: 30_000 });
    if (result.status !== 0) throw new Error(`building dist/ failed:\n${result.stdout}${result.stderr}${result.error?.message ?? ""}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
