// fixtures/wire/mars.json: Tencent Mars's 20-byte header (PROTOCOL.md Appendix A), checked through what
// users run, `syncwire dump --profile mars --json`: the fields, the name of each frame, and the errors
// with their codes and offsets. The vectors were read with Buffer by scripts/make-wire-fixtures.mjs.
import { describe, expect, test } from "vitest";
import { readFixture } from "../support/fixtures.js";
import { ndjson, runCli } from "../support/cli.js";

interface MarsFields {
  offset: number;
  name: string;
  headLength: number;
  clientVersion: number;
  cmdid: number;
  seq: number;
  bodyLength: number;
  extension: string;
  body: string;
}
interface MarsVectors {
  frames: { name: string; what: string; hex: string; frames: MarsFields[] }[];
  errors: { name: string; what: string; hex: string; code: string; offset: number }[];
}

const vectors = readFixture<MarsVectors>("wire/mars.json");
const pick = (r: Record<string, unknown>): MarsFields => ({
  offset: r.offset as number,
  name: r.name as string,
  headLength: r.headLength as number,
  clientVersion: r.clientVersion as number,
  cmdid: r.cmdid as number,
  seq: r.seq as number,
  bodyLength: r.bodyLength as number,
  extension: r.extension as string,
  body: r.body as string,
});

describe("Mars frames", () => {
  test.each(vectors.frames.map((v) => [v.name, v] as const))("%s", async (_name, v) => {
    const result = await runCli(["dump", "-", "--profile", "mars", "--json"], v.hex + "\n");
    expect([result.code, result.stderr]).toStrictEqual([0, ""]);
    expect(ndjson(result.stdout).filter((r) => r.type === "frame").map(pick)).toStrictEqual(v.frames);
  });
});

describe("Mars errors", () => {
  test.each(vectors.errors.map((v) => [v.name, v] as const))("%s", async (_name, v) => {
    const result = await runCli(["dump", "-", "--profile", "mars", "--json"], v.hex + "\n");
    expect(result.code).toBe(1);
    const errors = ndjson(result.stdout).filter((r) => r.type === "error");
    expect(errors.map((r) => ({ code: r.code, offset: r.offset }))).toStrictEqual([{ code: v.code, offset: v.offset }]);
  });
});
