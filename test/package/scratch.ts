/**
 * Helpers for the tests that meet the package as a user does: `npm pack`, a scratch project under the
 * system temp dir that installs the tarball offline, and child processes with a time bound.
 *
 * Nothing here reaches a registry: installs are `--offline` from tarballs packed from this checkout (the
 * package itself, and the copies of @bufbuild/protobuf that the lock file put in node_modules/), with an
 * npm cache of the project's own, so a step that would need the network fails instead of fetching.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../support/dist.js";

export { REPO_ROOT };

/** What a child process did. */
export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Killed (its whole process group) after this many ms. Default 60 s. */
  readonly timeoutMs?: number;
}

/**
 * Runs `command args` and collects its output. The child leads a process group of its own, so a timeout
 * kills what it started too (npx → node, bash → pipelines), and nothing outlives the test.
 */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // Already gone.
      }
    }, options.timeoutMs ?? 60_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** Runs and throws, with everything printed, unless the command exits 0. */
export async function runOk(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} (in ${options.cwd}) ${result.timedOut ? "timed out" : `exited ${result.code}`}\n${result.stdout}${result.stderr}`);
  }
  return result;
}

/**
 * The environment of a user's shell in a scratch project: this run's npm settings dropped (`npm test` sets
 * `npm_config_local_prefix` to this repository, which would make npm install here), node_modules/.bin
 * folders off PATH, npm offline with its own cache, no update check.
 */
export function userEnv(cacheDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === "INIT_CWD" || key === "NODE_OPTIONS" || key === "FORCE_COLOR") continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? "")
    .split(":")
    .filter((dir) => dir !== "" && !dir.includes("node_modules"))
    .join(":");
  env.npm_config_offline = "true";
  env.npm_config_cache = cacheDir;
  env.npm_config_update_notifier = "false";
  env.npm_config_audit = "false";
  env.npm_config_fund = "false";
  return env;
}

/** One file of `npm pack --json` output. */
export interface PackedFile {
  readonly path: string;
  readonly size: number;
  readonly mode: number;
}

/** `npm pack --json` output for one package. */
export interface PackResult {
  readonly name: string;
  readonly version: string;
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
  readonly files: readonly PackedFile[];
}

/**
 * Packs the package in `dir` into `destination` (or, with `dryRun`, only lists what would be packed).
 * Lifecycle scripts are not run: dist/ is built beforehand (see ensureDistBuilt).
 */
export async function pack(dir: string, destination: string, options: { dryRun?: boolean; env: NodeJS.ProcessEnv }): Promise<PackResult & { path: string }> {
  const args = ["pack", "--json", "--ignore-scripts", "--pack-destination", destination, ...(options.dryRun === true ? ["--dry-run"] : [])];
  // `npm pack DIR` would read a bare "a/b" as a GitHub spec: run it in the directory instead.
  const result = await runOk("npm", args, { cwd: dir, env: options.env, timeoutMs: 60_000 });
  const packed = (JSON.parse(result.stdout) as PackResult[])[0]!;
  return { ...packed, path: join(destination, packed.filename) };
}

/** The package.json of this repository. */
export interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly peerDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly [field: string]: unknown;
}

export function readManifest(dir = REPO_ROOT): Manifest {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
}

/** Writes `files` (relative path → text) under `dir`, making folders as needed. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [relative, text] of Object.entries(files)) {
    const path = join(dir, relative);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
  }
}
