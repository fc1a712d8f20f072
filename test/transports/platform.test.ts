// src/web runs in browsers, Deno and Bun: no Node API (timers and the clock are fine there: it is the
// adapter layer). The browser test bundles it for Chromium; this catches a stray import early.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";

const root = new URL("../../src/web/", import.meta.url);
const files = readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));

describe("src/web is platform-neutral", () => {
  test("it has files to check", () => {
    expect(files).toEqual(expect.arrayContaining(["client.ts", "websocket.ts", "short-link.ts", "transport.ts"]));
  });
  test.each(files)("src/web/%s uses no Node API and imports nothing from src/node or src/cli", (file) => {
    // Comments and double-quoted strings are not code.
    const source = readFileSync(new URL(file, root), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$|"(?:[^"\\\n]|\\.)*"/gm, (m) => (m.startsWith('"') && /^"\.\.?\//.test(m) ? m : ""));
    expect(source).not.toMatch(/from\s+["']node:|require\(|\bBuffer\b|\bprocess\.|setImmediate|from\s+["']ws["']/);
    expect(source).not.toMatch(/from\s+"\.\.\/(node|cli)\//);
  });
});
