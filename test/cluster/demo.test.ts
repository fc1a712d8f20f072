// `npm run demo -- --nodes 2` (scripts/demo.mjs → scripts/demo-cluster.mjs on the built package): it
// starts its own redis-server and two `syncwire serve --redis` nodes, must finish with its own checks
// passed, say which node each client's frames went through, and leave no process behind.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { ensureDistBuilt, REPO_ROOT } from "../support/dist.js";
import { REDIS } from "../support/redis-server.js";

let result: { status: number | null; stdout: string; stderr: string };

describe.skipIf(!REDIS.canStart)(`npm run demo -- --nodes 2 (${REDIS.reason})`, () => {
  beforeAll(() => {
    ensureDistBuilt();
    const run = spawnSync(process.execPath, [join(REPO_ROOT, "scripts/demo.mjs"), "--nodes", "2"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
    result = { status: run.status, stdout: run.stdout, stderr: run.stderr };
  }, 90_000);

  test("exits 0 with every check passed and nothing on stderr", () => {
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/\nAll checks passed: every device got every message once, in order, on either node; the keys match Redis\.\n$/);
  });

  test("it starts Redis and two serve nodes on it, and shows which node each client's frames went through", () => {
    const out = result.stdout;
    expect(out).toMatch(/^redis-server \S+ on redis:\/\/127\.0\.0\.1:(\d+) \(temporary directory, stopped at exit\)$/m);
    const redisUrl = /on (redis:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    for (const node of ["A", "B"]) {
      expect(out).toContain(`node ${node}: syncwire serve --tcp 127.0.0.1:0 --redis ${redisUrl} --redis-prefix demo-`);
      expect(out).toMatch(new RegExp(`^node ${node}: listening on tcp://127\\.0\\.0\\.1:\\d+$`, "m"));
    }
    expect(out).toMatch(/^ +\d+\.\d{3} {2}alice-phone @A {6}-> {2}HELLO {12}1 +\d+ B$/m);
    expect(out).toMatch(/^ +\d+\.\d{3} {2}bob-desk @B {9}<- {2}NOTIFY {11}0 +\d+ B$/m);
    expect(out).toMatch(/node A +log: alice-phone logged in \(user alice\)/);
    expect(out).toMatch(/node B +log: alice-laptop logged in \(user alice\)/);
    expect(out).toMatch(/bob-desk @B +got: alice → bob: "Hi Bob, from node A"/);
    expect(out).toMatch(/alice-phone @A +got: bob → alice: "Hi Alice, from node B"/);
  });

  test("node A crashes: the phone moves to node B, resumes, and every key equals Redis's head", () => {
    const out = result.stdout;
    expect(out).toMatch(/node A +killed \(SIGKILL\)/);
    expect(out).toMatch(/alice-phone +node A is unreachable \(.*ECONNREFUSED.*\): next link goes to node B/);
    expect(out).toMatch(/node B +log: alice-phone logged in \(user alice\)/);
    expect(out).toMatch(/alice-phone @B +resumed: unconfirmed messages go again with their client ids, then SYNC/);
    expect(out).toMatch(/bob-desk @B +got: alice → bob: "sent as node A crashed"/);
    for (const who of ["alice-phone", "alice-laptop", "bob-desk"]) expect(out).toMatch(new RegExp(`${who} +SyncKey (\\S+) = Redis head \\1$`, "m"));
    expect(out).toMatch(/node B +stopped \(exit 0\)/);
    expect(out).toMatch(/redis +stopped/);
  });
});

test("--nodes takes 1 or 2", () => {
  const run = spawnSync(process.execPath, [join(REPO_ROOT, "scripts/demo.mjs"), "--nodes", "3"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 30_000 });
  expect([run.status, run.stderr]).toEqual([2, "npm run demo: --nodes takes 1 or 2, got '3'\n"]);
});

test("without redis-server on the PATH: a clear message on stderr, exit 1, nothing started", () => {
  const run = spawnSync(process.execPath, [join(REPO_ROOT, "scripts/demo.mjs"), "--nodes", "2"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 30_000, env: { ...process.env, PATH: "/nonexistent" } });
  expect([run.status, run.stdout]).toEqual([1, ""]);
  expect(run.stderr).toMatch(/^npm run demo -- --nodes 2 needs redis-server, which is not installed \(Debian\/Ubuntu: apt-get install redis-server; macOS: brew install redis\)\.\n$/);
});
