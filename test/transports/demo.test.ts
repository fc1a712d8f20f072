// `npm run demo` (scripts/demo.mjs on the built package): it must finish, pass its own checks and tell
// the story the README shows — the README's transcript must be lines this run printed. CI also runs it
// through .ci/run.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, test } from "vitest";
import { ensureDistBuilt, REPO_ROOT } from "../support/dist.js";
import { fencedBlocks } from "../support/readme-blocks.js";

let result: { status: number | null; stdout: string; stderr: string };

beforeAll(() => {
  ensureDistBuilt();
  const run = spawnSync(process.execPath, [join(REPO_ROOT, "scripts/demo.mjs")], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
  result = { status: run.status, stdout: run.stdout, stderr: run.stderr };
}, 90_000);

test("exits 0 with every check passed and nothing on stderr", () => {
  expect(result.status, result.stdout + result.stderr).toBe(0);
  expect(result.stderr).toBe("");
  expect(result.stdout).toMatch(/\nAll checks passed: every message arrived exactly once, in order; the image is stored; the keys match\.\n$/);
});

test("the transcript shows frames both ways over TCP, WebSocket and HTTP, the upload, the cut and the resume", () => {
  const out = result.stdout;
  expect(out).toMatch(/^ +\d+\.\d{3} {2}alice \(tcp\) {3}-> {2}HELLO {12}1 +\d+ B$/m);
  expect(out).toMatch(/^ +\d+\.\d{3} {2}bob \(ws\) {6}<- {2}WELCOME {10}1 +\d+ B$/m);
  expect(out).toMatch(/alice \(http\) +-> {2}CHUNK +\d+ +\d+ B {2}part 6\/6/);
  expect(out).toMatch(/upload complete: object [0-9a-f]+ in \d+ POSTs, up to [2-4] at once/);
  expect(out).toMatch(/got alice's image: object [0-9a-f]+, 98304 B/);
  expect(out).toMatch(/✂ the link is cut as the ACK of "burst three" arrives/);
  expect(out).toMatch(/reconnecting in \d+ ms \(attempt 1\)/);
  expect(out).toMatch(/resumed: a new session/);
  expect(out).toMatch(/<- {2}ACK +\d+ +\d+ B {2}DUPLICATE, server id \d+/);
  expect(out).toMatch(/messages: alice sent 7 \(acked; 1 DUPLICATE after the cut\), bob sent 1; bob received 7, alice 1/);
  expect(out).toMatch(/SyncKey 1_8 = server's 1_8/);
});

/** What differs between runs: times, ports, session and object ids, the jittered reconnect delay. */
function normalise(line: string): string {
  return line
    .replace(/^ +\d+\.\d{3}(?= {2})/, "T")
    .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:PORT")
    .replace(/session [0-9a-f]+-\d+/, "session ID")
    .replace(/[0-9a-f]{32}|[0-9a-f]{8}…/g, "OBJECT")
    .replace(/reconnecting in \d+ ms/, "reconnecting in N ms");
}

test("the README's transcript is a real run: every line it shows is one this run printed, and its line count is this run's", () => {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const block = fencedBlocks(readme).find((b) => b.lang === "text" && b.code.startsWith("syncwire demo:"));
  expect(block, "README has the demo's transcript (a text block starting with 'syncwire demo:')").toBeDefined();
  const shown = block!.code.split("\n").filter((l) => l !== "" && l !== "…");
  expect(shown.length).toBeGreaterThan(50);
  const printed = new Set(result.stdout.split("\n").map(normalise));
  expect(shown.filter((l) => !printed.has(normalise(l))), "README lines this run did not print (update the README from a fresh `npm run demo`)").toEqual([]);
  // "Parts of a real run (N lines in all)": the run's length, give or take the few lines that depend on
  // how replies happen to share reads (two ACKs in one read or two).
  const claimed = /Parts of\s+a real run \((\d+) lines in all\)/.exec(readme);
  expect(claimed, "README says how long the run is").not.toBeNull();
  const lines = result.stdout.split("\n").length - 1;
  expect(Math.abs(Number(claimed![1]) - lines)).toBeLessThanOrEqual(5);
});
