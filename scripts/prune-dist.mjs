#!/usr/bin/env node
// Runs after `tsc -p tsconfig.build.json` (see `npm run build`): removes from dist/ every file whose
// source is gone, so a file renamed or deleted under src/ never lingers in dist/ and in the tarball
// (`files` ships all of dist/). tsc only ever adds and overwrites. Source maps are not built (see
// tsconfig.build.json), so any `.map` left by an older build goes too.
//
// dist/ is pruned in place rather than wiped before the build, so a test that runs bin/syncwire.js while
// another rebuilds never finds dist/ missing.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const dist = join(root, "dist");
const src = join(root, "src");

/** The source file a built file comes from: dist/a/b.js and dist/a/b.d.ts both come from src/a/b.ts. */
function sourceOf(builtRelative) {
  const match = /^(.*?)(\.d\.ts|\.js)$/.exec(builtRelative);
  return match === null ? null : join(src, `${match[1]}.ts`);
}

/** Removes stale files below `dir`, then `dir` itself if nothing is left. Returns how many files were removed. */
function prune(dir) {
  let removed = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      removed += prune(path);
      continue;
    }
    const source = sourceOf(relative(dist, path));
    if (source === null || !existsSync(source)) {
      rmSync(path);
      removed++;
    }
  }
  if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  return removed;
}

if (existsSync(dist)) {
  const removed = prune(dist);
  if (removed > 0) console.log(`prune-dist: removed ${removed} stale file(s) from dist/`);
}
