/**
 * The package as a user meets it: `npm pack` once, then two scratch projects (under the system temp dir,
 * removed after) install the tarball offline beside a copy of @bufbuild/protobuf of their own, as npm does
 * for a peer dependency:
 *
 * - `lowest`: the floor of our peer range (2.13.0, the devDependency the rest of the tests run on);
 * - `newest`: the newest 2.x, from the lock file's `protobuf-newest` alias (`npm:@bufbuild/protobuf@…`).
 *
 * In each, CommonJS `require` of both entries, a `.cts` consumer, and every README program (see
 * test/support/readme-blocks.ts for how blocks are found, what they must print, and how one opts out):
 * type-checked with `moduleResolution` `nodenext` (emitting JavaScript) and `bundler`, then run. In the
 * newest project the README's sh blocks and `$ …` sessions run too, through the real `npx syncwire`.
 *
 * Bounded: every child process has a timeout and is killed with its process group; nothing reaches a
 * registry (see scratch.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureDistBuilt } from "../support/dist.js";
import { readmeBlocks, type ProgramBlock } from "../support/readme-blocks.js";
import { pack, readManifest, REPO_ROOT, run, runOk, userEnv, writeFiles, type RunResult } from "./scratch.js";

const README = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const blocks = readmeBlocks(README);
const manifest = readManifest();

/** The lowest @bufbuild/protobuf we allow: the floor of the peer range. */
const PEER_RANGE = manifest.peerDependencies?.["@bufbuild/protobuf"] ?? "";
const LOWEST = /^\^(\d+\.\d+\.\d+)$/.exec(PEER_RANGE)?.[1] ?? "(no caret range)";
/** The newest: the version the lock file installed under the `protobuf-newest` alias. */
const NEWEST = (JSON.parse(readFileSync(join(REPO_ROOT, "node_modules/protobuf-newest/package.json"), "utf8")) as { version: string }).version;
const PROTOBUF_COPIES = { lowest: "node_modules/@bufbuild/protobuf", newest: "node_modules/protobuf-newest" } as const;
type ProjectName = keyof typeof PROTOBUF_COPIES;
const EXPECTED_VERSION: Record<ProjectName, string> = { lowest: LOWEST, newest: NEWEST };

const root = mkdtempSync(join(tmpdir(), "syncwire-consumer-"));
const env = userEnv(join(root, "npm-cache"));
const TSC = join(REPO_ROOT, "node_modules/typescript/bin/tsc");

/** A CommonJS file that requires both entries and compares them with what `import()` gives. */
const CHECK_CJS = `
const root = require("syncwire");
const node = require("syncwire/node");
Promise.all([import("syncwire"), import("syncwire/node")]).then(([esmRoot, esmNode]) => {
  const frame = root.decodeFrame(root.encodeFrame({ op: root.Op.SEND, seq: 9 }));
  console.log(JSON.stringify({
    rootPath: require.resolve("syncwire"),
    nodePath: require.resolve("syncwire/node"),
    rootKeys: Object.keys(root).sort().join(),
    esmRootKeys: Object.keys(esmRoot).sort().join(),
    nodeKeys: Object.keys(node).sort().join(),
    sameInstances: root.decodeFrame === esmRoot.decodeFrame && root.FrameError === esmRoot.FrameError && node.FrameWriter === esmNode.FrameWriter,
    decoded: [frame.op, frame.seq],
  }));
});
`;

/** A CommonJS TypeScript consumer: `import = require` of both entries, typed (TypeScript ≥ 5.8, nodenext). */
const CONSUMER_CTS = `
import syncwire = require("syncwire");
import node = require("syncwire/node");

const frame: syncwire.Frame = syncwire.decodeFrame(syncwire.encodeFrame({ op: syncwire.Op.ACK, seq: 7 }));
const transform: InstanceType<typeof node.FrameDecoderTransform> = new node.FrameDecoderTransform();
transform.destroy();
console.log(frame.op, frame.seq, typeof node.FrameWriter);
`;

/**
 * The types a consumer sees. The tsconfigs skip checking .d.ts files (as `tsc --init` does; checking
 * @types/node triples the time), and under skipLibCheck a declaration that fails to resolve (say, a
 * protobuf-es type that a version lacks) quietly becomes `any`: so this file proves, for each protobuf-es
 * version, that the key exports are not `any` and that syncwire's schemas are the project's own
 * protobuf-es types (two copies gave TS2345: GenMessage<MessagePacket> is not assignable to DescMessage).
 */
const TYPES_TS = `
import { create, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { decodeBody, decodeFrame, FrameDecoder, MessagePacketSchema, type Frame } from "syncwire";
import { FrameWriter } from "syncwire/node";

type IsAny<T> = 0 extends 1 & T ? true : false;
const notAny: [
  IsAny<typeof MessagePacketSchema>, IsAny<MessageShape<typeof MessagePacketSchema>>, IsAny<Frame>,
  IsAny<typeof decodeFrame>, IsAny<typeof decodeBody>, IsAny<FrameDecoder>, IsAny<FrameWriter>,
] = [false, false, false, false, false, false, false];
const schema: DescMessage = MessagePacketSchema;
const packet = create(MessagePacketSchema, { conversationId: "c" });
const id: bigint = packet.clientMsgId;
console.log(notAny.length, schema.typeName, toBinary(MessagePacketSchema, packet).byteLength, typeof id);
`;

function tsconfig(resolution: "nodenext" | "bundler"): string {
  const common = {
    target: "es2022",
    strict: true,
    skipLibCheck: true,
    allowJs: true,
    checkJs: true,
    types: ["node"],
    typeRoots: [join(REPO_ROOT, "node_modules/@types")],
  };
  const compilerOptions =
    resolution === "nodenext"
      ? { ...common, module: "nodenext", moduleResolution: "nodenext", outDir: "out", rootDir: "." }
      : { ...common, module: "preserve", moduleResolution: "bundler", noEmit: true };
  return JSON.stringify({ compilerOptions, include: ["readme", "consumer.cts", "types.ts"] }, null, 2);
}

interface Project {
  readonly dir: string;
  readonly nodenext: RunResult;
  readonly bundler: RunResult;
}
const projects = new Map<ProjectName, Project>();

async function setUp(name: ProjectName, tarballs: readonly string[]): Promise<void> {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFiles(dir, {
    "package.json": JSON.stringify({ name: `consumer-${name}`, private: true, type: "module" }, null, 2),
    "tsconfig.nodenext.json": tsconfig("nodenext"),
    "tsconfig.bundler.json": tsconfig("bundler"),
    "check.cjs": CHECK_CJS,
    "consumer.cts": CONSUMER_CTS,
    "types.ts": TYPES_TS,
    ...Object.fromEntries(blocks.programs.map((p) => [`readme/${p.file}`, p.code])),
  });
  await runOk("npm", ["install", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", ...tarballs], { cwd: dir, env, timeoutMs: 120_000 });
  const [nodenext, bundler] = await Promise.all(
    (["nodenext", "bundler"] as const).map((r) => run(process.execPath, [TSC, "-p", `tsconfig.${r}.json`, "--pretty", "false"], { cwd: dir, env, timeoutMs: 120_000 })),
  );
  projects.set(name, { dir, nodenext: nodenext!, bundler: bundler! });
}

beforeAll(async () => {
  ensureDistBuilt();
  const tarballs = join(root, "tarballs");
  mkdirSync(tarballs);
  // syncwire's one dependency, ws, comes from the lock file's copy in node_modules: offline, as everything here.
  const [syncwire, lowest, newest, ws] = await Promise.all([
    pack(REPO_ROOT, tarballs, { env }),
    pack(join(REPO_ROOT, PROTOBUF_COPIES.lowest), tarballs, { env }),
    pack(join(REPO_ROOT, PROTOBUF_COPIES.newest), tarballs, { env }),
    pack(join(REPO_ROOT, "node_modules/ws"), tarballs, { env }),
  ]);
  // allSettled: when one set-up fails, the other still finishes before afterAll removes the folder.
  const settled = await Promise.allSettled([setUp("lowest", [syncwire.path, lowest.path, ws.path]), setUp("newest", [syncwire.path, newest.path, ws.path])]);
  for (const outcome of settled) if (outcome.status === "rejected") throw outcome.reason;
}, 300_000);
afterAll(() => rmSync(root, { recursive: true, force: true, maxRetries: 3 }));

function project(name: ProjectName): Project {
  const found = projects.get(name);
  if (found === undefined) throw new Error(`scratch project ${name} was not set up (see beforeAll)`);
  return found;
}

/** Where tsc (nodenext) put a program's JavaScript. */
function emitted(file: string): string {
  return `out/readme/${file.replace(/\.ts$/, ".js").replace(/\.cts$/, ".cjs").replace(/\.mts$/, ".mjs")}`;
}

const output = (r: RunResult): string => `${r.timedOut ? "(timed out) " : ""}exit ${r.code}\n${r.stdout}${r.stderr}`;

test("the versions proven: the peer range's floor and the newest 2.x in the lock file", () => {
  expect(PEER_RANGE).toMatch(/^\^2\.\d+\.\d+$/);
  // The devDependency the rest of the suite runs on is the floor, so both ends are tested.
  expect(manifest.devDependencies?.["@bufbuild/protobuf"]).toBe(LOWEST);
  expect(manifest.devDependencies?.["protobuf-newest"]).toBe(`npm:@bufbuild/protobuf@${NEWEST}`);
  const [major, minor] = NEWEST.split(".").map(Number);
  const [lowMajor, lowMinor] = LOWEST.split(".").map(Number);
  expect(major).toBe(lowMajor);
  expect(minor!).toBeGreaterThan(lowMinor!);
  // The README names both.
  expect(README).toContain(LOWEST);
  expect(README).toContain(NEWEST);
});

test("the README has programs, scripts and sessions to run, and says why any block is left out", () => {
  expect(blocks.programs.length).toBeGreaterThanOrEqual(5);
  expect(blocks.scripts.length).toBeGreaterThanOrEqual(3);
  expect(blocks.sessions.length).toBeGreaterThanOrEqual(2);
  for (const block of blocks.notRun) expect(block.notRun!.length).toBeGreaterThan(10);
});

describe.each(["lowest", "newest"] as const)("a project with @bufbuild/protobuf at its %s allowed version", (name) => {
  test(`one copy of @bufbuild/protobuf, the project's own (${EXPECTED_VERSION[name]}), shared with syncwire`, () => {
    const dir = project(name).dir;
    const installed = JSON.parse(readFileSync(join(dir, "node_modules/@bufbuild/protobuf/package.json"), "utf8")) as { version: string };
    expect(installed.version).toBe(EXPECTED_VERSION[name]);
    expect(existsSync(join(dir, "node_modules/syncwire/node_modules"))).toBe(false);
  });

  test("require() loads both entries from a .cjs file: the same module instances as import()", async () => {
    const result = await run(process.execPath, ["check.cjs"], { cwd: project(name).dir, env, timeoutMs: 30_000 });
    expect(result.code, output(result)).toBe(0);
    expect(result.stderr).toBe(""); // no ExperimentalWarning either
    const seen = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(seen.rootPath).toMatch(/node_modules\/syncwire\/dist\/index\.js$/);
    expect(seen.nodePath).toMatch(/node_modules\/syncwire\/dist\/node\/index\.js$/);
    expect(seen.rootKeys).toBe(seen.esmRootKeys);
    expect(String(seen.rootKeys).split(",")).toEqual(expect.arrayContaining(["decodeFrame", "FrameDecoder", "MessagePacketSchema", "decodeBody"]));
    expect(seen.nodeKeys).toBe(
      "FrameDecoderTransform,FrameWriter,ServerLinkDriver,SyncwireServer,createClient,createFaultProxy,formatServerLogEntry,nodeTransport,parseTokenFile,tcpTransport,tlsTransport,tokenAuthenticator",
    );
    expect(seen.sameInstances).toBe(true);
    expect(seen.decoded).toEqual([4, 9]);
  });

  test("tsc, moduleResolution nodenext: the README programs, a .cts consumer and the types check", () => {
    const result = project(name).nodenext;
    expect(result.code, output(result)).toBe(0);
  });

  test("tsc, moduleResolution bundler: the same type-check", () => {
    const result = project(name).bundler;
    expect(result.code, output(result)).toBe(0);
  });

  test("the .cts consumer runs", async () => {
    const result = await run(process.execPath, ["out/consumer.cjs"], { cwd: project(name).dir, env, timeoutMs: 30_000 });
    expect([result.code, result.stdout, result.stderr], output(result)).toEqual([0, "5 7 function\n", ""]);
  });

  test("the types: not any, and syncwire's schemas are the project's protobuf-es types", async () => {
    const result = await run(process.execPath, ["out/types.js"], { cwd: project(name).dir, env, timeoutMs: 30_000 });
    expect([result.code, result.stdout, result.stderr], output(result)).toEqual([0, "7 syncwire.v1.MessagePacket 3 bigint\n", ""]);
  });

  test.each(blocks.programs.map((p) => [`README line ${p.line} (${p.file})`, p] as const))("%s prints what the README says", async (_label, program: ProgramBlock) => {
    const result = await run(process.execPath, [emitted(program.file)], { cwd: project(name).dir, env, timeoutMs: 30_000 });
    expect(result.code, output(result)).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(program.expectedStdout);
  });
});

describe("the README's commands, in the newest project", () => {
  /**
   * An sh block runs as one bash script. `npm install syncwire` stands for the offline install the
   * project was set up with: it only checks that syncwire is installed.
   */
  const prelude = (line: number): string => `set -euo pipefail
trap 'echo "README line ${line}: failed: $BASH_COMMAND" >&2' ERR
npm() { if [ "$*" = "install syncwire" ]; then test -f node_modules/syncwire/package.json; else command npm "$@"; fi; }
`;

  test("npx syncwire dump <a shipped example> works offline", async () => {
    const result = await run("npx", ["syncwire", "dump", "node_modules/syncwire/examples/session.bin"], { cwd: project("newest").dir, env, timeoutMs: 30_000 });
    expect(result.code, output(result)).toBe(0);
    expect(result.stdout).toMatch(/^frame @0 {2}HELLO {2}packetLength=\d+ headerLength=16 version=1 op=7 seq=\d+$/m);
    expect(result.stdout.match(/^frame @\d+ /gm)).toHaveLength(8);
  });

  test.each(blocks.scripts.map((s) => [`README line ${s.line}`, s] as const))("sh block at %s runs", async (_label, script) => {
    const result = await run("bash", ["-c", prelude(script.line) + script.code], { cwd: project("newest").dir, env, timeoutMs: 60_000 });
    expect(result.code, output(result)).toBe(0);
    expect(result.stderr).toBe("");
  });

  test.each(blocks.sessions.map((s) => [`README line ${s.line}: $ ${s.command}`, s] as const))("%s prints what it shows", async (_label, session) => {
    const result = await run("bash", ["-c", session.command], { cwd: project("newest").dir, env, timeoutMs: 30_000 });
    expect(result.code, output(result)).toBe(0);
    // The README may show an excerpt: it must appear, line for line, in the real output.
    expect(result.stdout).toContain(session.shown);
  });
});
