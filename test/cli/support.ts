/**
 * Helpers for the CLI's end-to-end tests: run `syncwire` in-process through `run(args, io)` with a fake
 * io (stdout/stderr captured, stdin built from chunks), golden files under fixtures/cli/golden/, and
 * the "never a stack trace" check.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { run } from "../../src/cli/main.js";

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

/** Joins byte arrays (the shared test helper, under the name the CLI tests use). */
export { concat as concatBytes } from "../support/hex.js";
import { concat as concatBytes } from "../support/hex.js";

/** `bytes` cut into pieces of `size` bytes (the last may be shorter). */
export function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.byteLength; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/** `bytes` cut at the given (sorted or not, possibly repeated) positions. */
export function chunksAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.byteLength, c))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.byteLength]) {
    if (p > from) out.push(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  return out;
}

/** A fake io: stdout/stderr captured, stdin an async iterable over `stdin`'s chunks (copied, never reused). */
export function fakeIo(stdin: StdinInput = [], options: RunOptions = {}): { io: Io; stdout: () => string; stdoutBytes: () => Uint8Array; stderr: () => string } {
  const out: Uint8Array[] = [];
  let err = "";
  const chunks = (Array.isArray(stdin) ? stdin : [stdin]) as readonly (Uint8Array | string)[];
  const decoder = new TextDecoder();
  const stdoutText = (): string => decoder.decode(concatBytes(out));
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
  return { io, stdout: stdoutText, stdoutBytes: () => concatBytes(out), stderr: () => err };
}

/** Runs `syncwire ARGS` in-process. */
export async function runCli(args: readonly string[], stdin: StdinInput = [], options: RunOptions = {}): Promise<CliResult> {
  const fake = fakeIo(stdin, options);
  const code = await run([...args], fake.io);
  return { code, stdout: fake.stdout(), stdoutBytes: fake.stdoutBytes(), stderr: fake.stderr() };
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
 * Compares `actual` with the golden file fixtures/cli/golden/`relative`, exactly. A missing file (or
 * UPDATE_GOLDEN=1) writes it instead: review the new file before committing it.
 */
export function expectGolden(relative: string, actual: string): void {
  const path = repoPath(`fixtures/cli/golden/${relative}`);
  if (UPDATE_GOLDEN || !existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  const expected = readFileSync(path, "utf8");
  // toBe on the whole text gives a line diff on failure; the message names the file to refresh.
  expect(actual, `golden ${relative} differs (UPDATE_GOLDEN=1 rewrites it; review the diff)`).toBe(expected);
}

/** Lowercase hex of bytes. */
export function hexOf(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Bytes of lowercase or uppercase hex. */
export function bytesOfHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) throw new Error(`bad hex in a test: ${hex.slice(0, 40)}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
