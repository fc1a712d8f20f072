/**
 * Helpers for the CLI's tests: run `syncwire` in-process through `run(args, io)` with a fake io (stdout
 * and stderr captured, stdin built from chunks), run a profile's frame stream the way `dump` does and
 * collect its events, golden files under fixtures/cli/golden/, the "never a stack trace" check, and the
 * built `bin/syncwire.js` for tests that need a real process.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { createFrameStream } from "../../src/cli/frame-stream.js";
import { DEFAULT_LIMITS, DumpBudget, type DumpLimits } from "../../src/cli/limits.js";
import { run } from "../../src/cli/main.js";
import type { DumpEvent } from "../../src/cli/model.js";
import { loadProfile, type ProfileName } from "../../src/cli/profiles/profile.js";
import { concat } from "./hex.js";

/** The repository root, with a trailing slash. */
export const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** Absolute path of a file in the repository. */
export function repoPath(relative: string): string {
  return fileURLToPath(new URL(`../../${relative}`, import.meta.url));
}

type Io = Parameters<typeof run>[1];

/** What one run printed and returned. */
export interface CliResult {
  readonly code: number;
  /** stdout as text (UTF-8; raw bytes from `encode --raw` are in `stdoutBytes`). */
  readonly stdout: string;
  readonly stdoutBytes: Uint8Array;
  readonly stderr: string;
}

/** stdin content: one buffer or string, or a list of chunks delivered in order. */
export type StdinInput = Uint8Array | string | readonly (Uint8Array | string)[];

export interface RunOptions {
  /** `isTTY` of stdout (default false: a pipe). */
  readonly stdoutIsTTY?: boolean;
  /** `isTTY` of stdin (default false). */
  readonly stdinIsTTY?: boolean;
  /** Called before chunk `index` is delivered, with the stdout written so far. */
  readonly beforeChunk?: (index: number, stdoutSoFar: string) => void | Promise<void>;
}

const encoder = new TextEncoder();
const asBytes = (chunk: Uint8Array | string): Uint8Array => (typeof chunk === "string" ? encoder.encode(chunk) : chunk);

/** A fake io: stdout/stderr captured, stdin an async iterable over `stdin`'s chunks (copied, never reused). */
export function fakeIo(stdin: StdinInput = [], options: RunOptions = {}): { io: Io; stdout: () => string; stdoutBytes: () => Uint8Array; stderr: () => string } {
  const out: Uint8Array[] = [];
  let err = "";
  const chunks = (Array.isArray(stdin) ? stdin : [stdin]) as readonly (Uint8Array | string)[];
  const decoder = new TextDecoder();
  const stdoutText = (): string => decoder.decode(concat(out));
  const input = {
    isTTY: options.stdinIsTTY ?? false,
    async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < chunks.length; i++) {
        await options.beforeChunk?.(i, stdoutText());
        // A fresh copy, as a real stream hands out: the CLI must not rely on the caller's buffer.
        yield asBytes(chunks[i]!).slice();
      }
    },
  };
  const io: Io = {
    stdout: {
      isTTY: options.stdoutIsTTY ?? false,
      write: (text: string | Uint8Array) => {
        out.push(typeof text === "string" ? encoder.encode(text) : text.slice());
        return true;
      },
    },
    stderr: {
      write: (text: string) => {
        err += text;
        return true;
      },
    },
    stdin: input,
  };
  return { io, stdout: stdoutText, stdoutBytes: () => concat(out), stderr: () => err };
}

/** Runs `syncwire ARGS` in-process. */
export async function runCli(args: readonly string[], stdin: StdinInput = [], options: RunOptions = {}): Promise<CliResult> {
  const fake = fakeIo(stdin, options);
  const code = await run([...args], fake.io);
  return { code, stdout: fake.stdout(), stdoutBytes: fake.stdoutBytes(), stderr: fake.stderr() };
}

/**
 * Runs one frame stream of `profile` over `chunks` the way `dump` does (push each chunk until the
 * stream stops, then end) and collects the events it emits.
 */
export async function profileEvents(profile: ProfileName, chunks: Uint8Array | readonly Uint8Array[], limits: Partial<DumpLimits> = {}): Promise<DumpEvent[]> {
  const events: DumpEvent[] = [];
  const all = { ...DEFAULT_LIMITS, ...limits };
  const sink = { emit: (event: DumpEvent) => void events.push(event), ready: () => undefined };
  const stream = createFrameStream(await loadProfile(profile), { limits: all, budget: new DumpBudget(all) }, sink);
  for (const chunk of chunks instanceof Uint8Array ? [chunks] : chunks) if (!(await stream.push(chunk))) break;
  await stream.end();
  return events;
}

/** Fails if either stream holds a stack trace line ("    at …"). */
export function expectNoStackTrace(result: { stdout: string; stderr: string }): void {
  expect(result.stdout).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toMatch(/\n\s{4}at /);
}

/** The NDJSON lines of a `dump --json` run, parsed. */
export function ndjson(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** True when golden files are to be (re)written: UPDATE_GOLDEN=1. */
export const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === "1";

/**
 * Compares `actual` with the golden file fixtures/cli/golden/`relative`, exactly. A missing file fails
 * the test; UPDATE_GOLDEN=1 writes (or rewrites) it instead: review the new file before committing it.
 */
export function expectGolden(relative: string, actual: string): void {
  const path = repoPath(`fixtures/cli/golden/${relative}`);
  if (UPDATE_GOLDEN) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  expect(existsSync(path), `golden ${relative} is missing (UPDATE_GOLDEN=1 writes it; review it before committing)`).toBe(true);
  const expected = readFileSync(path, "utf8");
  // toBe on the whole text gives a line diff on failure; the message names the file to refresh.
  expect(actual, `golden ${relative} differs (UPDATE_GOLDEN=1 rewrites it; review the diff)`).toBe(expected);
}

/** Newest modification time of the files under `dir`. */
function newestFile(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const path = `${dir}/${entry.name}`;
    return Math.max(newest, entry.isDirectory() ? newestFile(path) : statSync(path).mtimeMs);
  }, 0);
}

/**
 * Makes sure dist/ is built from the current src/ (CI builds it with `npm run build`, and `prepare` on
 * `npm ci`; a test run after an edit builds it here). Call from a `beforeAll` with a long timeout.
 */
export function ensureBuilt(): void {
  const main = repoPath("dist/cli/main.js");
  if (existsSync(main) && statSync(main).mtimeMs >= newestFile(repoPath("src"))) return;
  const build = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: REPO, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
}

/** How {@link runBin} runs the child. */
export interface BinOptions {
  /** Kill it after this long (default 20 s): the result then has `signal` set. */
  readonly timeoutMs?: number;
  /** Node options before the script, e.g. `--max-old-space-size=96`. */
  readonly nodeArgs?: readonly string[];
  /** Send stdout to /dev/null instead of collecting it (for runs that print hundreds of megabytes). */
  readonly discardStdout?: boolean;
  /** Report the child's peak resident memory (`maxRssKiB` in the result). */
  readonly measureRss?: boolean;
}

/** Runs the built `bin/syncwire.js ARGS` in a child process (see {@link ensureBuilt}). */
export function runBin(args: readonly string[], input: string | Uint8Array = "", options: BinOptions = {}): ReturnType<typeof spawnSync> & { maxRssKiB?: number } {
  const node = [...(options.nodeArgs ?? []), ...(options.measureRss === true ? ["--import", "./test/support/report-rss.mjs"] : [])];
  const result = spawnSync(process.execPath, [...node, "bin/syncwire.js", ...args], {
    cwd: REPO,
    input,
    timeout: options.timeoutMs ?? 20_000,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["pipe", options.discardStdout === true ? "ignore" : "pipe", "pipe"],
  });
  const rss = /\nmaxRSS (\d+)\n$/.exec(String(result.stderr ?? ""));
  return rss === null ? result : { ...result, stderr: String(result.stderr).slice(0, rss.index), maxRssKiB: Number(rss[1]) };
}
