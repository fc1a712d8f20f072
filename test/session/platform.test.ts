// src/session is part of the platform-neutral core (like src/wire, src/stream, src/bodies): no Node API.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";

const root = new URL("../../src/session/", import.meta.url);
const files = readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));

describe("the session layer is platform-neutral", () => {
  test("it has files to check", () => {
    expect(files).toEqual(expect.arrayContaining(["crc32.ts", "server/connection.ts", "memory/sync-log.ts"]));
  });
  test.each(files)("src/session/%s uses no Node API, no clock and no Math.random", (file) => {
    // Comments and double-quoted strings (an error message may name Math.random) are not code.
    const source = readFileSync(new URL(file, root), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$|"(?:[^"\\\n]|\\.)*"/gm, "");
    expect(source).not.toMatch(/from\s+["']node:|require\(|\bBuffer\b|\bprocess\.|\bsetTimeout\b|\bsetInterval\b|Date\.now|new Date\b|performance\.now|Math\.random/);
  });
});
