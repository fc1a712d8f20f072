// How README blocks are sorted into programs, scripts and sessions (test/support/readme-blocks.ts).
import { describe, expect, test } from "vitest";
import { readmeBlocks } from "../support/readme-blocks.js";

const fence = "```";

describe("readmeBlocks", () => {
  test("a program's output: its // → comments in order, or nothing", () => {
    const md = [`${fence}ts`, `console.log(1 + 1);   // → 2`, `f();`, `console.log("a  b"); // → a  b   `, fence, "", `${fence}ts`, `quiet();`, fence].join("\n");
    const { programs } = readmeBlocks(md);
    expect(programs).toEqual([
      { line: 1, file: "block-L1.ts", language: "ts", code: 'console.log(1 + 1);   // → 2\nf();\nconsole.log("a  b"); // → a  b   \n', expectedStdout: "2\na  b\n" },
      { line: 7, file: "block-L7.ts", language: "ts", code: "quiet();\n", expectedStdout: "" },
    ]);
  });

  test("a program's output: the text block right after it (blank lines between), which is then not prose", () => {
    const md = [`${fence}js app.cjs`, "loop();", fence, "", "", `${fence}text`, "one", "two", fence, "", "Prose.", "", `${fence}text`, "a diagram", fence].join("\n");
    const { programs, sessions } = readmeBlocks(md);
    expect(programs).toEqual([{ line: 1, file: "app.cjs", language: "js", code: "loop();\n", expectedStdout: "one\ntwo\n" }]);
    expect(sessions).toEqual([]);
  });

  test("a text block after prose is not a program's output", () => {
    const md = [`${fence}ts`, "x();", fence, "Prints:", `${fence}text`, "1", fence].join("\n");
    expect(readmeBlocks(md).programs[0]!.expectedStdout).toBe("");
  });

  test("sessions: the command without its comment, and the output shown", () => {
    const md = [`${fence}text`, "$ npx syncwire dump a.bin      # the third frame", "frame @113  SEND", "  body", fence].join("\n");
    expect(readmeBlocks(md).sessions).toEqual([{ line: 1, command: "npx syncwire dump a.bin", shown: "frame @113  SEND\n  body\n" }]);
  });

  test("sh, bash and shell blocks are scripts; other languages are prose", () => {
    const md = [`${fence}sh`, "a", fence, `${fence}bash`, "b", fence, `${fence}json`, "{}", fence, `${fence}shell`, "c", fence].join("\n");
    const { scripts, programs, sessions } = readmeBlocks(md);
    expect(scripts.map((s) => s.code)).toEqual(["a\n", "b\n", "c\n"]);
    expect([programs, sessions]).toEqual([[], []]);
  });

  test("<!-- not-run: reason --> right before a block leaves it out, with its reason", () => {
    const md = ["<!-- not-run: needs a live server -->", "", `${fence}sh`, "nc host port", fence, `${fence}sh`, "ok", fence].join("\n");
    const { scripts, notRun } = readmeBlocks(md);
    expect(scripts.map((s) => s.code)).toEqual(["ok\n"]);
    expect(notRun.map((b) => [b.line, b.notRun])).toEqual([[3, "needs a live server"]]);
  });

  test("malformed blocks are errors, not skipped", () => {
    expect(() => readmeBlocks(["<!-- not-run: -->", `${fence}sh`, "x", fence].join("\n"))).toThrow(/must say why/);
    expect(() => readmeBlocks(["<!-- not-run -->", `${fence}sh`, "x", fence].join("\n"))).toThrow(/must say why/);
    expect(() => readmeBlocks([`${fence}ts`, "x"].join("\n"))).toThrow(/never closed/);
    expect(() => readmeBlocks([`${fence}ts`, "x // → 1", fence, `${fence}text`, "1", fence].join("\n"))).toThrow(/both/);
    expect(() => readmeBlocks([`${fence}ts app.cjs`, "x", fence].join("\n"))).toThrow(/cannot be named/);
    expect(() => readmeBlocks([`${fence}js my app`, "x", fence].join("\n"))).toThrow(/not a file name/);
    expect(() => readmeBlocks([`${fence}js a.js`, "x", fence, `${fence}js a.js`, "y", fence].join("\n"))).toThrow(/second block named a\.js/);
    expect(() => readmeBlocks([`${fence}text`, "$   # only a comment", fence].join("\n"))).toThrow(/without a command/);
  });
});
