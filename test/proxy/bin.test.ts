// `node bin/syncwire.js proxy …` as a child process: it forwards a real link, prints it, and stops cleanly
// on SIGTERM and SIGINT, links open or not.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import { REPO, repoPath } from "../support/cli.js";
import { ensureDistBuilt } from "../support/dist.js";
import { closeAll, connect, echo, startUpstream, track, until } from "./support.js";

beforeAll(ensureDistBuilt, 180_000);
afterEach(closeAll);

interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  readonly port: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit status (or the signal's name if it was killed by one). */
  readonly exited: Promise<number | string>;
}

/** Starts `syncwire proxy ARGS --listen 127.0.0.1:0` and waits until it listens. */
async function startBin(args: readonly string[]): Promise<Child> {
  const child = spawn(process.execPath, ["bin/syncwire.js", "proxy", "--listen", "127.0.0.1:0", ...args], { cwd: REPO });
  track(child, (c) => void (c.exitCode === null && c.signalCode === null && c.kill("SIGKILL")));
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  await until(`the proxy to listen (stderr: ${JSON.stringify(err)})`, () => /listening on 127\.0\.0\.1:\d+/.test(err) || child.exitCode !== null, 15_000);
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(err)?.[1]);
  return { process: child, port, stdout: () => out, stderr: () => err, exited };
}

const session = new Uint8Array(readFileSync(repoPath("examples/session.bin")));

describe("syncwire proxy as a process", () => {
  test("forwards and prints a link; SIGTERM after it closed: exit 0 and a last line", async () => {
    const upstream = await startUpstream(echo);
    const child = await startBin(["--upstream", `127.0.0.1:${upstream.port}`, "--no-hex"]);
    const client = await connect(child.port);
    client.socket.end(session);
    await client.received(session.byteLength);
    expect(client.bytes).toStrictEqual(session);
    await until("the close record", () => child.stdout().includes("#1 closed (ended)"));
    child.process.kill("SIGTERM");
    expect(await child.exited).toBe(0);
    const headings = child.stdout().split("\n").filter((l) => /^\d\d:\d\d:\d\d\.\d{3}  #1 (client → server|server → client)$/.test(l));
    expect(headings).toHaveLength(16);
    expect(child.stdout()).toContain("frame @113  SEND  packetLength=103");
    expect(child.stderr()).toMatch(/^syncwire proxy: listening on 127\.0\.0\.1:\d+, upstream 127\.0\.0\.1:\d+, profile syncwire, faults: none\nsyncwire proxy: stopped after 1 link\n$/);
  });

  test("SIGINT with a link open: the link is closed, the process exits 0 promptly", async () => {
    const upstream = await startUpstream(echo);
    const child = await startBin(["--upstream", `127.0.0.1:${upstream.port}`, "--json", "--delay", "10"]);
    const client = await connect(child.port);
    client.socket.write(session.subarray(0, 66));
    await client.received(66);
    const started = performance.now();
    child.process.kill("SIGINT");
    expect(await child.exited).toBe(0);
    expect(performance.now() - started).toBeLessThan(5000);
    await client.gone;
    const records = child
      .stdout()
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => [r.type, r.event ?? r.name, r.stream ?? null])).toStrictEqual([
      ["link", "open", null],
      ["frame", "HELLO", "#1 client → server"],
      ["frame", "HELLO", "#1 server → client"],
      ["link", "closed", null],
    ]);
    expect(records[3]).toMatchObject({ reason: "proxy-closed" });
  });

  test("a usage error: exit 2 before listening", async () => {
    const child = spawn(process.execPath, ["bin/syncwire.js", "proxy", "--upstream", "9000"], { cwd: REPO });
    track(child, (c) => void (c.exitCode === null && c.kill("SIGKILL")));
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(err).toBe("syncwire: --listen HOST:PORT is required. Try 'syncwire --help'.\n");
  });
});
