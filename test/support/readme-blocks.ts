/**
 * The code blocks of a Markdown file (README.md), sorted into what test/package/consumer.test.ts runs.
 *
 * How a block is treated, by the language of its fence:
 *
 * - ```` ```ts ```` / ```` ```js ````: a program. It is written to a file of its own in a scratch project that
 *   installed the packed package, type-checked there (`nodenext` and `bundler`) and run. The file is
 *   `block-L<line>.ts` (`.js`), or the name given after the language (```` ```js app.cjs ````), which also
 *   picks the module kind (`.cjs`/`.cts` are CommonJS; the project is `"type": "module"`). What the block
 *   prints must be exactly what the README says it prints: the text after `// → ` on each line that has
 *   one, in order, one output line each; or, for output that one comment cannot show, the ```` ```text ````
 *   block that directly follows the program (blank lines between are fine). A program with neither must
 *   print nothing.
 * - ```` ```sh ```` (`bash`, `shell`): a script, run with bash (`set -euo pipefail`) in the scratch
 *   project; it must exit 0. `npm install syncwire` in it stands for the install the project was set up
 *   with (the packed tarball, offline), and only checks that syncwire is there.
 * - ```` ```text ```` whose first line starts with `$ `: a session. The command (a trailing `# comment`
 *   dropped) runs in the scratch project and must exit 0; the rest of the block must appear, line for
 *   line, in what it printed (a session may show an excerpt).
 * - Other ```` ```text ```` blocks (unless they are a program's output) and other languages are prose: not run.
 *
 * Opting out: a line `<!-- not-run: REASON -->` right before the fence (blank lines between are fine)
 * leaves a block out, and REASON must say why. Use it only where running is impossible (a live server,
 * the test suite itself); a block that merely needs setup should be made complete instead.
 */

/** A fenced block as written. */
export interface FencedBlock {
  /** The first word of the info string (`ts`, `sh`, …), lower case; "" for none. */
  readonly lang: string;
  /** The rest of the info string, trimmed (`app.cjs` in ```` ```js app.cjs ````). */
  readonly info: string;
  /** 1-based line number of the opening fence. */
  readonly line: number;
  /** 1-based line number of the closing fence. */
  readonly endLine: number;
  /** The lines between the fences, each ending in "\n". */
  readonly code: string;
  /** The reason of a `<!-- not-run: … -->` marker right before the block, if any. */
  readonly notRun?: string;
}

/** A ts/js block to type-check and run. */
export interface ProgramBlock {
  readonly line: number;
  /** File name in the scratch project's readme/ folder. */
  readonly file: string;
  readonly language: "ts" | "js";
  readonly code: string;
  /** What it must print, exactly ("" for nothing). */
  readonly expectedStdout: string;
}

/** An sh block to run as one script. */
export interface ScriptBlock {
  readonly line: number;
  readonly code: string;
}

/** A `$ command` transcript. */
export interface SessionBlock {
  readonly line: number;
  /** The command after `$ `, without a trailing `# comment`. */
  readonly command: string;
  /** The output shown (an excerpt of the real output, line for line). */
  readonly shown: string;
}

export interface ReadmeBlocks {
  readonly programs: readonly ProgramBlock[];
  readonly scripts: readonly ScriptBlock[];
  readonly sessions: readonly SessionBlock[];
  /** Blocks left out by a `not-run` marker, with the reason. */
  readonly notRun: readonly FencedBlock[];
}

const FENCE_OPEN = /^```([A-Za-z0-9_+-]*)[ \t]*(.*)$/;
const FENCE_CLOSE = /^```[ \t]*$/;
const NOT_RUN = /^<!--\s*not-run:(.*?)-->\s*$/;
const ANY_MARKER = /^<!--\s*not-run\b/;
/** `// → text` at the end of a program line: the output line it states. */
const STATED_OUTPUT = /\/\/ → (.*)$/;

/** Splits Markdown into its fenced blocks. @throws Error for an unclosed fence or a `not-run` marker without a reason. */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split("\n");
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i]!);
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !FENCE_CLOSE.test(lines[i]!); i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`README line ${start + 1}: code block never closed`);
    let before = start - 1;
    while (before >= 0 && lines[before]!.trim() === "") before--;
    const previous = before >= 0 ? lines[before]! : "";
    let notRun: string | undefined;
    if (ANY_MARKER.test(previous)) {
      const reason = NOT_RUN.exec(previous)?.[1]?.trim() ?? "";
      if (reason === "") throw new Error(`README line ${before + 1}: a not-run marker must say why: <!-- not-run: REASON -->`);
      notRun = reason;
    }
    blocks.push({
      lang: open[1]!.toLowerCase(),
      info: open[2]!.trim(),
      line: start + 1,
      endLine: i + 1,
      code: body.map((l) => `${l}\n`).join(""),
      ...(notRun === undefined ? {} : { notRun }),
    });
  }
  return blocks;
}

/** True when only blank lines separate the end of `a` from the start of `b`. */
function adjacent(lines: readonly string[], a: FencedBlock, b: FencedBlock): boolean {
  for (let l = a.endLine + 1; l < b.line; l++) if (lines[l - 1]!.trim() !== "") return false;
  return true;
}

const PROGRAM_LANGS: Record<string, "ts" | "js"> = { ts: "ts", typescript: "ts", js: "js", javascript: "js" };
const SCRIPT_LANGS = new Set(["sh", "bash", "shell"]);
const FILE_NAME = /^[A-Za-z0-9_-]+\.(ts|cts|mts|js|cjs|mjs)$/;

/**
 * Sorts a README's blocks into programs, scripts and sessions (see the top of this file).
 * @throws Error for a malformed block: a bad file name, a name used twice, a program whose output is stated
 *   both ways, an empty session.
 */
export function readmeBlocks(markdown: string): ReadmeBlocks {
  const blocks = fencedBlocks(markdown);
  const lines = markdown.split("\n");
  const programs: ProgramBlock[] = [];
  const scripts: ScriptBlock[] = [];
  const sessions: SessionBlock[] = [];
  const notRun: FencedBlock[] = [];
  const names = new Set<string>();
  const consumed = new Set<FencedBlock>();
  for (const [index, block] of blocks.entries()) {
    if (consumed.has(block)) continue;
    if (block.notRun !== undefined) {
      notRun.push(block);
      continue;
    }
    const where = `README line ${block.line}`;
    const language = PROGRAM_LANGS[block.lang];
    if (language !== undefined) {
      const file = block.info === "" ? `block-L${block.line}.${language}` : block.info;
      if (!FILE_NAME.test(file)) throw new Error(`${where}: '${block.info}' is not a file name (name.ts, name.cjs, …)`);
      if ((language === "ts") !== /\.[cm]?ts$/.test(file)) throw new Error(`${where}: a ${language} block cannot be named ${file}`);
      if (names.has(file)) throw new Error(`${where}: a second block named ${file}`);
      names.add(file);
      const stated = block.code
        .split("\n")
        .map((l) => STATED_OUTPUT.exec(l)?.[1])
        .filter((s): s is string => s !== undefined);
      const next = blocks[index + 1];
      const outputBlock = next !== undefined && next.lang === "text" && next.notRun === undefined && !next.code.startsWith("$ ") && adjacent(lines, block, next) ? next : undefined;
      if (outputBlock !== undefined && stated.length > 0) throw new Error(`${where}: output stated both in // → comments and in the text block after it`);
      if (outputBlock !== undefined) consumed.add(outputBlock);
      const expectedStdout = outputBlock?.code ?? stated.map((s) => `${s.trimEnd()}\n`).join("");
      programs.push({ line: block.line, file, language, code: block.code, expectedStdout });
    } else if (SCRIPT_LANGS.has(block.lang)) {
      scripts.push({ line: block.line, code: block.code });
    } else if (block.lang === "text" && block.code.startsWith("$ ")) {
      const newline = block.code.indexOf("\n");
      const command = block.code.slice(2, newline).replace(/\s+#.*$/, "").trim();
      if (command === "") throw new Error(`${where}: a session without a command`);
      sessions.push({ line: block.line, command, shown: block.code.slice(newline + 1) });
    }
  }
  return { programs, scripts, sessions, notRun };
}
