// `syncwire/redis` is its own entry: nothing the root entry (or `syncwire/node`) imports reaches
// src/redis or the `redis` package, so users without Redis never load node-redis. Runs without Redis.
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/** Every file reachable from `entry` by static imports/re-exports, and the bare packages imported. */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gms)) {
      const specifier = match[1]!;
      if (specifier.startsWith(".")) visit(join(dirname(file), specifier.replace(/\.js$/, ".ts")));
      else packages.add(specifier);
    }
  };
  visit(entry);
  return { files, packages };
}

describe("entries", () => {
  test.each(["index.ts", "node/index.ts"])("src/%s reaches neither src/redis nor the redis package", (entry) => {
    const { files, packages } = importGraph(join(SRC, entry));
    expect(files.size).toBeGreaterThan(1);
    expect([...files].map((f) => relative(SRC, f)).filter((f) => f.startsWith("redis"))).toEqual([]);
    expect([...packages].filter((p) => p === "redis" || p.startsWith("@redis/"))).toEqual([]);
  });

  test("src/redis/index.ts does reach the redis package (the check can see it)", () => {
    expect(importGraph(join(SRC, "redis/index.ts")).packages.has("redis")).toBe(true);
  });
});
