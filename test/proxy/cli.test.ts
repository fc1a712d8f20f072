// `syncwire proxy` in-process over loopback: what it prints is what `dump` prints for the same bytes, in
// both directions and every profile, plus its own link records; faults from flags; usage errors.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import { encodeFrame } from "../../src/index.js";
import { proxyOptions, startProxy, type RunningProxy } from "../../src/cli/proxy-command.js";
import { fakeIo, ndjson, repoPath, runCli } from "../support/cli.js";
import { readFixture } from "../support/fixtures.js";
import { fromHex } from "../support/hex.js";
import { marsBytes } from "../support/mars.js";
import { closeAll, concat, connect, startUpstream, track, until, type Peer } from "./support.js";

afterEach(closeAll);

/** A line the proxy adds: a heading ("12:00:01.234  #1 client → server") or a link record. */
const PROXY_LINE = /^\d\d:\d\d:\d\d\.\d{3}  #\d+ /;

interface Session {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly client: Peer;
}

/**
 * Runs the proxy with `args` between a client that sends `up` in `chunk`-byte writes and ends its
 * stream, and an upstream that answers `down` once the client's stream has ended, then ends its own.
 * Returns what the proxy printed once it stopped.
 */
async function session(args: readonly string[], up: Uint8Array, down: Uint8Array, chunk = 7): Promise<Session> {
  const upstream = await startUpstream((peer) => peer.socket.on("end", () => peer.socket.end(down)));
  const fake = fakeIo();
  const running = await startProxy(proxyOptions([...args, "--listen", "127.0.0.1:0", "--upstream", `127.0.0.1:${upstream.port}`], false), fake.io);
  if (typeof running === "number") throw new Error(`proxy did not start: ${fake.stderr()}`);
  let stopped: Promise<number> | undefined;
  const stop = (): Promise<number> => (stopped ??= running.stop());
  track(running, () => stop().then(() => undefined));
  const client = await connect(running.address.port);
  for (let at = 0; at < up.byteLength; at += chunk) client.socket.write(up.subarray(at, at + chunk));
  client.socket.end();
  await client.gone;
  await until("the link to close", () => running.proxy.stats.linksOpened === 1 && running.proxy.stats.linksOpen === 0);
  const code = await stop();
  return { code, stdout: fake.stdout(), stderr: fake.stderr(), client };
}

/** What `dump ARGS` prints for `bytes` on stdin. */
async function dumped(args: readonly string[], bytes: Uint8Array): Promise<{ code: number; stdout: string }> {
  const result = await runCli(["dump", "-", ...args], bytes.byteLength === 0 ? [] : [bytes]);
  return { code: result.code, stdout: result.stdout };
}

/** Checks that the text output, without the proxy's own lines, is dump's for `up` then dump's for `down`. */
async function expectDumpText(printed: string, args: readonly string[], up: Uint8Array, down: Uint8Array): Promise<void> {
  const frames = printed
    .split("\n")
    .filter((line) => !PROXY_LINE.test(line))
    .join("\n");
  expect(frames).toBe((await dumped(args, up)).stdout + (await dumped(args, down)).stdout);
}

/** Checks that the JSON records of each direction, without `stream` and `time`, are dump's. */
async function expectDumpJson(printed: string, args: readonly string[], up: Uint8Array, down: Uint8Array): Promise<void> {
  const records = ndjson(printed).filter((r) => r.type !== "link");
  for (const [label, bytes] of [
    ["#1 client → server", up],
    ["#1 server → client", down],
  ] as const) {
    const mine = records.filter((r) => r.stream === label);
    for (const r of mine) {
      expect(r.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      delete r.stream;
      delete r.time;
    }
    expect(mine).toStrictEqual(ndjson((await dumped([...args, "--json"], bytes)).stdout));
  }
  expect(records.every((r) => r.stream === undefined)).toBe(true);
}

const session_bin = new Uint8Array(readFileSync(repoPath("examples/session.bin")));

describe("what the proxy prints", () => {
  test("text: each direction's frames are dump's, each headed by time and direction; link records around them", async () => {
    const up = session_bin;
    const down = session_bin.subarray(0, 113);
    const run = await session(["--split", "5"], up, down);
    expect(run.code).toBe(0);
    await expectDumpText(run.stdout, [], up, down);
    const lines = run.stdout.split("\n").filter((line) => PROXY_LINE.test(line));
    const words = lines.map((line) => line.slice(14));
    expect(words[0]).toMatch(/^#1 open from 127\.0\.0\.1:\d+ to upstream 127\.0\.0\.1:\d+$/);
    expect(words.filter((w) => w === "#1 client → server")).toHaveLength(8);
    expect(words.filter((w) => w === "#1 server → client")).toHaveLength(2);
    expect(words).toContain("#1 client → server  end of stream");
    expect(words).toContain("#1 server → client  end of stream");
    expect(words.at(-1)).toBe(`#1 closed (ended): client → server 8 frames, ${up.byteLength} bytes; server → client 2 frames, 113 bytes`);
    expect(run.stderr).toMatch(/^syncwire proxy: listening on 127\.0\.0\.1:\d+, upstream 127\.0\.0\.1:\d+, profile syncwire, faults: split 5\nsyncwire proxy: stopped after 1 link\n$/);
  });

  test("--json: each direction's records are dump --json's plus stream and time; link records", async () => {
    const up = session_bin.subarray(0, 250);
    const down = session_bin.subarray(113);
    const run = await session(["--json"], up, down.subarray(0, 103 + 55));
    const links = ndjson(run.stdout).filter((r) => r.type === "link");
    expect(links.map((r) => r.event)).toStrictEqual(["open", "end", "end", "closed"]);
    expect(links[3]).toMatchObject({ link: 1, reason: "ended", up: { frames: 3, bytesIn: 250 } });
    // 250 bytes are three frames and a cut-off fourth: reported as dump reports it, exit 1.
    expect(run.code).toBe(1);
    await expectDumpJson(run.stdout, [], up, down.subarray(0, 103 + 55));
  });

  test("bytes that are not frames: the error as dump prints it, then the direction goes on as bytes", async () => {
    const good = session_bin.subarray(0, 66);
    const garbage = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
    const up = concat([good, garbage]);
    const run = await session([], up, good);
    expect(run.code).toBe(1);
    await expectDumpText(run.stdout, [], up, good);
    expect(run.stdout).toMatch(/#1 client → server\nerror at byte 66: .*\(BAD_HEADER_LENGTH|FRAME_TOO_LARGE|UNSUPPORTED_VERSION\)/);
    expect(run.stdout).toMatch(/#1 client → server  not frames from byte 66 on: forwarded as bytes, not shown\n/);
    expect(run.stdout).toContain(`client → server 1 frame, ${up.byteLength} bytes`);
  });

  test("--drop and --kill-after show what they did", async () => {
    const frames = [1, 2, 3, 4].map((seq) => encodeFrame({ op: 2, seq }));
    const upstream = await startUpstream((peer) => peer.socket.on("data", () => {}));
    const fake = fakeIo();
    const args = ["--listen", "127.0.0.1:0", "--upstream", `127.0.0.1:${upstream.port}`, "--drop", "1", "--kill-after", "3", "--faults-on", "up", "--no-hex"];
    const running = (await startProxy(proxyOptions(args, false), fake.io)) as RunningProxy;
    track(running, (r) => r.stop().then(() => undefined));
    const client = await connect(running.address.port);
    client.socket.write(concat(frames));
    await client.gone;
    await until("the link to close", () => running.proxy.stats.linksOpen === 0);
    expect(await running.stop()).toBe(0);
    const words = fake.stdout().split("\n").filter((line) => PROXY_LINE.test(line)).map((line) => line.slice(14));
    expect(words.filter((w) => w.endsWith("dropped (--drop)"))).toStrictEqual(["#1 client → server  frame @0 dropped (--drop)", "#1 client → server  frame @16 dropped (--drop)", "#1 client → server  frame @32 dropped (--drop)"]);
    expect(words).toContain("#1 killed after 3 frames client → server (--kill-after 3)");
    expect(words.at(-1)).toBe("#1 closed (killed): client → server 3 frames (3 dropped), 64 bytes, 0 forwarded; server → client 0 frames, 0 bytes");
    expect(fake.stderr()).toContain("faults: drop 1 (seed 1), kill after 3 frames; client → server only");
  });
});

describe("peer profiles over TCP", () => {
  const peers = readFixture<{ name: string; hex: string }[]>("wire/peers.json");
  const vector = (name: string): Uint8Array => fromHex(peers.find((v) => v.name === name)!.hex);

  test("goim: auth and heartbeat up; auth reply, online count and a raw op-9 batch (TCP form) down", async () => {
    const up = concat([vector("G2"), vector("G1")]);
    const down = concat([vector("G3"), vector("G4"), vector("G6")]);
    const run = await session(["--profile", "goim"], up, down, 3);
    expect(run.code).toBe(0);
    await expectDumpText(run.stdout, ["--profile", "goim"], up, down);
    expect(run.stdout).toContain("HEARTBEAT_REPLY");
    expect(run.stdout).toContain("body: online 42");
  });

  test("Bilibili: auth and heartbeat up; auth reply, brotli and zlib batches and the heartbeat reply with its echoed trailer down", async () => {
    const up = concat([vector("B1"), vector("B3")]);
    const down = concat([vector("B2"), vector("B5"), vector("B8"), vector("B4")]);
    const run = await session(["--profile", "bilibili"], up, down, 11);
    expect(run.code).toBe(0);
    await expectDumpText(run.stdout, ["--profile", "bilibili"], up, down);
    await expectDumpJson((await session(["--profile", "bilibili", "--json"], up, down, 11)).stdout, ["--profile", "bilibili"], up, down);
    expect(run.stdout).toContain('trailer @321  15 bytes after the last frame "[object Object]"');
    expect(run.client.bytes).toStrictEqual(down);
  });

  test("Mars: its 20-byte header cuts the stream", async () => {
    const up = concat([marsBytes({ cmdid: 6, seq: 0xffffffff }), marsBytes({ cmdid: 1001, seq: 7, body: new TextEncoder().encode('{"text":"hi"}') })]);
    const down = concat([marsBytes({ cmdid: 6, seq: 0xffffffff }), marsBytes({ cmdid: 1001, seq: 7 }), marsBytes({ cmdid: 1002, seq: 0, body: new Uint8Array(40) })]);
    const run = await session(["--profile", "mars", "--split", "1"], up, down, 1);
    expect(run.code).toBe(0);
    await expectDumpText(run.stdout, ["--profile", "mars"], up, down);
    expect(run.stdout.split("\n").filter((l) => l.endsWith("#1 server → client"))).toHaveLength(3);
  });
});

describe("the command line", () => {
  test.each([
    ["no --upstream", ["proxy", "--listen", "127.0.0.1:0"], /--upstream HOST:PORT is required/],
    ["no --listen", ["proxy", "--upstream", "9000"], /--listen HOST:PORT is required/],
    ["a bad address", ["proxy", "--listen", "127.0.0.1:99999", "--upstream", "9000"], /--listen needs HOST:PORT with a port from 0 to 65535, got '127\.0\.0\.1:99999'/],
    ["upstream port 0", ["proxy", "--listen", "0", "--upstream", "localhost:0"], /--upstream needs HOST:PORT with a port from 1/],
    ["a bad probability", ["proxy", "--listen", "0", "--upstream", "9000", "--drop", "1.5"], /--drop needs a probability from 0 to 1, got '1\.5'/],
    ["split 0", ["proxy", "--listen", "0", "--upstream", "9000", "--split", "0"], /--split needs an integer from 1/],
    ["a bad direction", ["proxy", "--listen", "0", "--upstream", "9000", "--faults-on", "sideways"], /--faults-on needs up, down or both/],
    ["an operand", ["proxy", "--listen", "0", "--upstream", "9000", "extra"], /proxy takes no operands, got 'extra'/],
    ["an unknown profile", ["proxy", "--listen", "0", "--upstream", "9000", "--profile", "mqtt"], /unknown profile 'mqtt'/],
    ["an unknown option", ["proxy", "--frobnicate"], /Unknown option '--frobnicate'/],
  ])("%s: exit 2 with a one-line hint", async (_, args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.split("\n")).toHaveLength(2);
    expect(result.stdout).toBe("");
  });

  test("addresses: HOST:PORT, [IPv6]:PORT, PORT alone", () => {
    const at = (listen: string) => proxyOptions(["--listen", listen, "--upstream", "9000"], false).listen;
    expect(at("0.0.0.0:80")).toStrictEqual({ host: "0.0.0.0", port: 80 });
    expect(at("[::1]:9000")).toStrictEqual({ host: "::1", port: 9000 });
    expect(at("9001")).toStrictEqual({ host: "127.0.0.1", port: 9001 });
    expect(at("localhost:0")).toStrictEqual({ host: "localhost", port: 0 });
  });

  test("faults from flags, for both directions or one", () => {
    const faults = (...args: string[]) => proxyOptions(["--listen", "0", "--upstream", "9000", ...args], false).faults;
    expect(faults()).toStrictEqual({});
    expect(faults("--split", "1", "--merge", "5", "--delay", "20", "--drop", ".25", "--kill-after", "3", "--kill-after-bytes", "0")).toStrictEqual({
      split: 1,
      mergeMs: 5,
      delayMs: 20,
      drop: 0.25,
      killAfterFrames: 3,
      killAfterBytes: 0,
    });
    expect(faults("--delay", "7", "--faults-on", "down")).toStrictEqual({ down: { delayMs: 7 } });
  });

  test("--help: the proxy's own help", async () => {
    const result = await runCli(["proxy", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^syncwire proxy — watch and break a live TCP link\n/);
    for (const flag of ["--listen", "--upstream", "--profile", "--json", "--split", "--merge", "--delay", "--drop", "--seed", "--kill-after", "--kill-after-bytes", "--faults-on"]) {
      expect(result.stdout).toContain(flag);
    }
    expect((await runCli(["--help"])).stdout).toContain("syncwire proxy --listen HOST:PORT --upstream HOST:PORT");
  });

  test("an address in use: exit 1 with the reason", async () => {
    const upstream = await startUpstream();
    const fake = fakeIo();
    const code = await startProxy(proxyOptions(["--listen", `127.0.0.1:${upstream.port}`, "--upstream", `${upstream.port}`], false), fake.io);
    expect(code).toBe(1);
    expect(fake.stderr()).toBe(`syncwire: cannot listen on 127.0.0.1:${upstream.port}: EADDRINUSE\n`);
  });
});
