// The client engine is sans-I/O and platform-neutral: no Node API, no clock, no timers, no global
// randomness in its sources (time and randomness come in as arguments, docs/PROTOCOL.md §11).
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";

const root = new URL("../../../src/session/", import.meta.url);
const files = [...readdirSync(new URL("client/", root)).map((f) => `client/${f}`), "backoff.ts", "crc32.ts"].filter((f) => f.endsWith(".ts"));

describe("the client engine does no I/O", () => {
  test("there are files to check", () => expect(files.length).toBeGreaterThanOrEqual(10));
  test.each(files)("src/session/%s", (file) => {
    // Comments and double-quoted strings (error messages may say "pass Math.random") are not code.
    const source = readFileSync(new URL(file, root), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$|"(?:[^"\\\n]|\\.)*"/gm, "");
    expect(source).not.toMatch(/from\s+["']node:|require\(|\bBuffer\b|\bprocess\.|Date\.now|new Date\b|Math\.random|setTimeout|setInterval|queueMicrotask|performance\./);
  });
});
