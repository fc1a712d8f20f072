// The README's `syncwire dump` sessions are real: each shown output must be what the CLI prints now.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { repoPath, runCli } from "../support/cli.js";

const readme = readFileSync(repoPath("README.md"), "utf8");
/** Every ```text block that starts with `$ npx syncwire …`: the command's arguments and the shown output. */
const sessions = [...readme.matchAll(/```text\n\$ npx syncwire ([^\n#]*?)\s*(?:#[^\n]*)?\n([\s\S]*?)```/g)].map((m) => ({
  args: m[1]!.trim().split(/\s+/),
  shown: m[2]!,
}));

describe("README dump sessions", () => {
  test("there are sessions to check (one of our frames, one Bilibili brotli batch)", () => {
    expect(sessions.length).toBeGreaterThanOrEqual(2);
  });
  test.each(sessions.map((s) => [s.args.join(" "), s] as const))("%s", async (_name, session) => {
    const args = session.args.map((a) => (a.startsWith("fixtures/") ? repoPath(a) : a));
    const result = await runCli([...args, "--no-color"]);
    expect(result.code).toBe(0);
    // The README may show an excerpt: it must appear, line for line, in the real output.
    expect(result.stdout).toContain(session.shown);
  });
});
