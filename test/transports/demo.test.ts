// `npm run demo` (scripts/demo.mjs on the built package): it must finish, pass its own checks and tell
// the story the README shows. CI also runs it through .ci/run.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, expect, test } from "vitest";
import { ensureDistBuilt, REPO_ROOT } from "../support/dist.js";

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
