// The README's `syncwire proxy` session is a real run, and this test runs it again: the command in the
// README, between a ClientEngine and a ServerEngine on loopback (alice logs in, sends "hi bob", syncs
// and says goodbye). Engines run on a fixed clock and seeded randomness, so the frames are the same every
// run; only the proxy's timestamps and the client's port differ, and are compared as placeholders.
// The README shows the proxy on 9000 and the server on 9001; the run uses free ports, mapped back.
// UPDATE_GOLDEN=1 rewrites the README block from a fresh run (review the diff before committing).
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { afterEach, expect, test } from "vitest";
import { createMemoryStores, ServerEngine } from "../../src/index.js";
import { DisconnectCode } from "../../src/gen/syncwire/v1/session_pb.js";
import { seededRandom } from "../../src/node/seeded-random.js";
import { proxyOptions, startProxy } from "../../src/cli/proxy-command.js";
import { fakeIo, repoPath, UPDATE_GOLDEN } from "../support/cli.js";
import { fencedBlocks } from "../support/readme-blocks.js";
import { closeAll, NetClient, serve, track, until } from "./support.js";

afterEach(closeAll);

/** The engines' clock: a fixed Unix time (2024-11-19), so bodies carrying times are the same every run. */
const FIXED_NOW = 1_732_000_000_000;
const COMMAND = "$ npx syncwire proxy ";

/** Runs the README's command (its arguments, on free ports) against the session; returns the terminal's text. */
async function runSession(args: readonly string[]): Promise<string> {
  const engine = new ServerEngine({
    stores: createMemoryStores(),
    random: seededRandom(3),
    authenticate: (hello) => (hello.token.startsWith("tok:") ? { user: hello.token.slice(4) } : { refuse: DisconnectCode.AUTH_FAILED, reason: "bad token" }),
  });
  const server = createServer({ allowHalfOpen: true }, (socket) => serve(engine, socket, () => FIXED_NOW));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  track(server, (s) => new Promise<void>((resolve) => s.close(() => resolve())));
  const upstreamPort = (server.address() as { port: number }).port;

  const replaced = args.map((arg, i) => (args[i - 1] === "--listen" ? "127.0.0.1:0" : args[i - 1] === "--upstream" ? `127.0.0.1:${upstreamPort}` : arg));
  const fake = fakeIo();
  const running = await startProxy(proxyOptions([...replaced], false), fake.io);
  if (typeof running === "number") throw new Error(fake.stderr());
  let stopped: Promise<number> | undefined;
  track(running, (r) => (stopped ??= r.stop()).then(() => undefined));

  const alice = new NetClient(running.address.port, "alice", 1, () => FIXED_NOW);
  // Each step waits for the last to be answered, so the interleaving is the same every run.
  await until("WELCOME and the first sync", () => alice.of("open").length === 1 && alice.of("synced").length === 1);
  alice.send("bob", "hi bob");
  await until("the ACK and the sync", () => alice.of("sent").length === 1 && alice.of("synced").some((e) => e.count === 1));
  // The SYNC_COMMIT's ACK (the fifth frame down) before goodbye, so the session is the same every run.
  await until("the commit's ACK", () => running.proxy.stats.down.frames === 5);
  alice.disconnect();
  await until("the link to close", () => running.proxy.stats.linksOpened === 1 && running.proxy.stats.linksOpen === 0);
  const code = await (stopped ??= running.stop());
  expect(code).toBe(0);
  const [listening, stoppedLine] = fake.stderr().split(/(?<=\n)/);
  const text = `${listening}${fake.stdout()}${stoppedLine}`;
  return text.replaceAll(`127.0.0.1:${running.address.port}`, "127.0.0.1:9000").replaceAll(`127.0.0.1:${upstreamPort}`, "127.0.0.1:9001");
}

/** Times and the client's port as placeholders. */
const normalise = (text: string): string => text.replace(/\b\d\d:\d\d:\d\d\.\d{3}\b/g, "hh:mm:ss.mmm").replace(/from 127\.0\.0\.1:\d+/g, "from 127.0.0.1:PORT");

test("the README's syncwire proxy session is what the command prints", async () => {
  const readme = readFileSync(repoPath("README.md"), "utf8");
  const block = fencedBlocks(readme).find((b) => b.lang === "text" && b.code.startsWith(COMMAND));
  expect(block, "README has a text block starting with '$ npx syncwire proxy'").toBeDefined();
  expect(block!.notRun, "the session needs a live link: it is marked not-run, and this test runs it").toBeDefined();
  const [commandLine, ...shown] = block!.code.split("\n");
  const args = commandLine!.slice(COMMAND.length).trim().split(/\s+/);
  expect(args).toEqual(expect.arrayContaining(["--listen", "127.0.0.1:9000", "--upstream", "127.0.0.1:9001"]));
  const printed = await runSession(args);
  if (UPDATE_GOLDEN) {
    const lines = readme.split("\n");
    lines.splice(block!.line, block!.endLine - block!.line - 1, commandLine!, ...printed.replace(/\n$/, "").split("\n"));
    writeFileSync(repoPath("README.md"), lines.join("\n"));
    return;
  }
  expect(normalise(shown.join("\n")), "README's proxy session differs from a fresh run (UPDATE_GOLDEN=1 rewrites it)").toBe(normalise(printed));
}, 30_000);
