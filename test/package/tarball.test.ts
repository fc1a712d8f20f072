// What the tarball holds, from `npm pack --dry-run --json`: what a user downloads, and nothing else.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureDistBuilt } from "../support/dist.js";
import { pack, readManifest, REPO_ROOT, userEnv, type PackResult } from "./scratch.js";

let packed: PackResult;
let paths: string[];
const scratch = mkdtempSync(join(tmpdir(), "syncwire-tarball-"));

beforeAll(async () => {
  ensureDistBuilt();
  packed = await pack(REPO_ROOT, scratch, { dryRun: true, env: userEnv(join(scratch, "cache")) });
  paths = packed.files.map((f) => f.path).sort();
}, 180_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Paths of the .ts files under src/, relative to it, without the extension. */
function sourceModules(dir = join(REPO_ROOT, "src"), prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceModules(join(dir, entry.name), `${prefix}${entry.name}/`) : entry.name.endsWith(".ts") ? [`${prefix}${entry.name.slice(0, -3)}`] : [],
  );
}

describe("npm pack", () => {
  test("ships the package's files at the top level, and only them", () => {
    for (const file of ["LICENSE", "README.md", "package.json", "bin/syncwire.js", "docs/PROTOCOL.md"]) expect(paths).toContain(file);
    const allowed = /^(LICENSE|README\.md|package\.json|(bin|dist|docs|proto|examples)\/.+)$/;
    expect(paths.filter((p) => !allowed.test(p))).toEqual([]);
    // Named, so a `files` entry added by mistake says what it let in.
    for (const out of [/^src\//, /^test\//, /^fixtures\//, /^bench\//, /^scripts\//, /^\.ci\//, /node_modules/, /\.map$/, /\.tsbuildinfo$/, /^tsconfig/, /^buf\./]) {
      expect(paths.filter((p) => out.test(p)), String(out)).toEqual([]);
    }
  });

  test("dist/ holds exactly one .js and one .d.ts per source module, and no source maps", () => {
    const expected = sourceModules().flatMap((m) => [`dist/${m}.d.ts`, `dist/${m}.js`]).sort();
    expect(paths.filter((p) => p.startsWith("dist/"))).toEqual(expected);
    for (const path of expected) {
      // No comment may point at a map or at src/*.ts, which are not shipped.
      expect(readFileSync(join(REPO_ROOT, path), "utf8"), path).not.toMatch(/sourceMappingURL/);
    }
  });

  test("every file the package.json points at is in it (exports, main, types, bin)", () => {
    const manifest = readManifest();
    /** The strings among the values (not the keys) of a JSON value. */
    const leaves = (value: unknown): string[] =>
      typeof value === "string" ? [value] : typeof value === "object" && value !== null ? Object.values(value).flatMap(leaves) : [];
    const targets = leaves([manifest.exports, manifest.main, manifest.types, manifest.bin, manifest.typesVersions]);
    expect(targets.length).toBe(12);
    for (const target of targets) expect(paths, target).toContain(target.replace(/^\.\//, ""));
  });

  test("every shipped file or folder the README names is in it (node_modules/syncwire/…)", () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const named = [...new Set([...readme.matchAll(/node_modules\/syncwire\/([\w./-]+\w)/g)].map((m) => m[1]!))];
    expect(named).toEqual(expect.arrayContaining(["examples/session.bin", "examples/bilibili-brotli.hex"]));
    for (const file of named) expect(paths.some((p) => p === file || p.startsWith(`${file}/`)), file).toBe(true);
  });

  test("the example pcap is the capture fixture, byte for byte", () => {
    expect(readFileSync(join(REPO_ROOT, "examples/exchange.pcap")).equals(readFileSync(join(REPO_ROOT, "fixtures/pcap/exchange.pcap")))).toBe(true);
  });

  // A budget to notice growth, not a cap: 246 KB for the core and CLI, then syncwire/redis (+23 KB packed),
  // the fault proxy with `syncwire proxy` (+28 KB) and the transports (+30 KB: the reconnecting client and
  // its transports in dist/web, the server and the Node client in dist/node, `syncwire serve`), then the
  // hand-written readers and writers for every body and docs/TESTING.md: 368 KB in all.
  test("stays small: under 400 KiB packed", () => {
    expect(packed.size).toBeLessThan(400 * 1024);
    expect(packed.entryCount).toBe(paths.length);
  });
});

describe("package.json and LICENSE", () => {
  const manifest = readManifest();

  test("an MIT LICENSE file to match the license field", () => {
    expect(manifest.license).toBe("MIT");
    const license = readFileSync(join(REPO_ROOT, "LICENSE"), "utf8");
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} syncwire contributors\n/);
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND');
  });

  test("the metadata a registry page shows", () => {
    expect(String(manifest.description).length).toBeGreaterThan(40);
    expect(manifest.keywords).toEqual(expect.arrayContaining(["protobuf", "instant-messaging"]));
    expect(manifest.author).toBe("syncwire contributors");
    expect(manifest.repository).toEqual({ type: "git", url: "git+https://github.com/syncwire/syncwire.git" });
    expect(manifest.homepage).toBe("https://github.com/syncwire/syncwire#readme");
    expect(manifest.bugs).toEqual({ url: "https://github.com/syncwire/syncwire/issues" });
  });

  test("every entry resolves under import and require: a default condition after types", () => {
    expect(manifest.exports).toEqual({
      ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
      "./node": { types: "./dist/node/index.d.ts", default: "./dist/node/index.js" },
      "./redis": { types: "./dist/redis/index.d.ts", default: "./dist/redis/index.js" },
      "./package.json": "./package.json",
    });
    expect(manifest.type).toBe("module");
    expect(manifest.engines).toEqual({ node: ">=20.19" });
  });

  test("@bufbuild/protobuf is a peer (one copy, the user's), never a dependency of ours; redis an optional peer; ws the one dependency", () => {
    expect(manifest.peerDependencies).toEqual({ "@bufbuild/protobuf": expect.stringMatching(/^\^2\.\d+\.\d+$/), redis: expect.stringMatching(/^\^6\.\d+\.\d+$/) });
    // Only syncwire/redis uses node-redis: users without Redis are not asked to install it.
    expect(manifest.peerDependenciesMeta).toEqual({ redis: { optional: true } });
    // The floor of the range is what the tests run on.
    expect(manifest.devDependencies?.redis).toBe(manifest.peerDependencies?.redis?.slice(1));
    // ws is syncwire/node's WebSocket (server, and client on Node 20): a tilde pin, patches only.
    expect(manifest.dependencies).toEqual({ ws: expect.stringMatching(/^~8\.\d+\.\d+$/) });
  });
});
