// `syncwire serve --redis`'s command line, in process through `run`: the options that go with --redis,
// a URL that is not Redis's, an unreachable Redis at start-up (a clear message and exit 1, not a retry
// loop), and and the built CLI's start and graceful stop on a real Redis, the start-up line naming the stores.
import { describe, expect, test } from "vitest";
import { defaultBlobDirectory } from "../../src/cli/serve-stores.js";
import { freePort } from "../support/redis-server.js";
import { REDIS, RedisFixture } from "../redis/support.js";
import { ensureDistBuilt } from "../support/dist.js";
import { ServeNode } from "./support.js";

async function runServe(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { run } = await import("../../src/cli/main.js");
  let out = "";
  let err = "";
  const code = await run(["serve", ...args], { stdout: { write: (t: string | Uint8Array) => (out += String(t)) }, stderr: { write: (t: string) => (err += t) }, stdin: process.stdin });
  return { code, out, err };
}

describe("syncwire serve --redis: the command line", () => {
  test.each([
    [["--tcp", "127.0.0.1:0", "--blobs", "/tmp/b"], /--redis-prefix and --blobs go with --redis/],
    [["--tcp", "127.0.0.1:0", "--redis-prefix", "chat:"], /--redis-prefix and --blobs go with --redis/],
    [["--tcp", "127.0.0.1:0", "--redis", "http://127.0.0.1:6379"], /--redis needs a URL such as redis:\/\/127\.0\.0\.1:6379, got 'http:\/\/127\.0\.0\.1:6379'/],
    [["--tcp", "127.0.0.1:0", "--redis", "127.0.0.1:6379"], /--redis needs a URL/],
  ])("%j is a usage error (exit 2)", async (args, message) => {
    const { code, err } = await runServe(args);
    expect([code, err]).toEqual([2, expect.stringMatching(message)]);
  });

  test("an unreachable Redis at start-up: 'cannot connect to Redis at …', exit 1, at once (no retry loop)", async () => {
    const port = await freePort(); // nothing listens there
    const started = Date.now();
    const { code, out, err } = await runServe(["--tcp", "127.0.0.1:0", "--redis", `redis://127.0.0.1:${port}`]);
    expect(code).toBe(1);
    expect(err).toBe(`syncwire: cannot connect to Redis at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`);
    expect(out).toBe(""); // it never listened
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test("a password in the URL never reaches the output", async () => {
    const port = await freePort();
    const { code, err } = await runServe(["--tcp", "127.0.0.1:0", "--redis", `redis://user:hunter2@127.0.0.1:${port}`]);
    expect(code).toBe(1);
    expect(err).toMatch(/cannot connect to Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:\d+/);
    expect(err).not.toMatch(/hunter2/);
  });

  test("the default blob directory is one per prefix under the temp dir", () => {
    expect(defaultBlobDirectory("syncwire:")).toMatch(/syncwire-blobs-syncwire_$/);
    expect(defaultBlobDirectory("chat:eu/1")).toMatch(/syncwire-blobs-chat_eu_1$/);
  });
});

describe.skipIf(!REDIS.available)(`syncwire serve --redis on a real Redis (${REDIS.reason})`, () => {
  test("starts (the built CLI), names its stores, stops on SIGTERM with exit 0", async () => {
    ensureDistBuilt();
    const fixture = new RedisFixture();
    await fixture.start();
    const blobs = fixture.directory();
    const node = new ServeNode("node", ["--redis", fixture.server.url, "--redis-prefix", "serve-test:", "--blobs", blobs]);
    try {
      await node.waitFor(/^Redis stores at .*$/m);
      expect(await node.kill("SIGTERM")).toEqual({ code: 0, signal: null });
      expect(node.output).toMatch(/^listening tcp  tcp:\/\/127\.0\.0\.1:\d+$/m);
      expect(node.output).toContain(`Redis stores at ${fixture.server.url} (prefix "serve-test:", blobs in ${blobs}); any user logs in: the token is the user id\n`);
      expect(node.output.endsWith("\nstopped\n")).toBe(true);
    } finally {
      await node.kill("SIGKILL");
      await fixture.stop();
    }
  }, 60_000);
});
