// `npm run bench [-- wire stream bodies alloc bundle session redis cli] [--write-readme]`: builds dist/
// first (see package.json), then runs the named benchmark files, or all of them. Each prints Markdown
// tables; after a full run the README's Benchmarks section, assembled from that one run
// (bench/readme.js), is printed too, and `--write-readme` puts it into README.md between its bench
// markers. A file that does not exist yet is skipped, and so are its tables in the section.
//
// The run's tables are kept in the OS temp folder (BENCH_LAST_RUN names another file):
// - `node bench/run.js --from-last-run [--write-readme]` rebuilds the section from them after an edit to
//   bench/readme.js, without measuring again;
// - `node bench/run.js NAME… --merge-last-run [--write-readme]` measures only those files and replaces
//   their tables in the saved run (the section then says which tables were measured later, alone).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readmeSection, writeReadme } from "./readme.js";
import { tables } from "./report.js";

const all = ["wire", "stream", "bodies", "alloc", "bundle", "session", "redis", "cli"];
const args = process.argv.slice(2);
const write = args.includes("--write-readme");
const merge = args.includes("--merge-last-run");
const readmePath = fileURLToPath(new URL("../README.md", import.meta.url));
/** Every full run keeps its tables here, so the README's prose can be regenerated without measuring again. */
const lastRun = process.env.BENCH_LAST_RUN ?? path.join(os.tmpdir(), "syncwire-bench-last-run.json");

/** The saved run: `{ run, tables: [key, table][], sources: { [file]: key[] } }`. */
function loadLastRun() {
  if (!existsSync(lastRun)) throw new Error(`no saved run at ${lastRun}: run \`npm run bench\` (all files) first`);
  return JSON.parse(readFileSync(lastRun, "utf8"));
}

/** Prints the section, and writes it into README.md with `--write-readme`. */
function section(run, sources) {
  const text = readmeSection(run, sources);
  console.log("\n\n==== README Benchmarks section ====\n");
  console.log(text);
  if (write) {
    writeReadme(readmePath, text);
    console.log("(written to README.md)");
  }
}

if (args.includes("--from-last-run")) {
  const saved = loadLastRun();
  for (const [key, table] of saved.tables) tables.set(key, table);
  section(saved.run, saved.sources);
  process.exit(0);
}

const named = args.filter((a) => !a.startsWith("--"));
const unknown = named.filter((n) => !all.includes(n));
if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(", ")} (one of ${all.join(", ")})`);
const picked = named.length > 0 ? named : all;
const header = `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${new Date().toISOString().slice(0, 10)}`;
const loadBefore = os.loadavg();
console.log(`${header}, load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`);
/** Which table keys each file reported, so the README can show a file's tables without naming their keys. */
const sources = {};
for (const name of picked) {
  const file = new URL(`./${name}.js`, import.meta.url);
  if (!existsSync(file)) {
    console.log(`\n(${name}: no bench/${name}.js yet)`);
    continue;
  }
  console.log(`\n## ${name}`);
  const before = new Set(tables.keys());
  await import(file.href);
  sources[name] = [...tables.keys()].filter((k) => !before.has(k));
}
const run = { header, loadBefore, loadAfter: os.loadavg() };

if (all.every((name) => picked.includes(name))) {
  writeFileSync(lastRun, JSON.stringify({ run, tables: [...tables], sources }));
  section(run, sources);
} else if (merge) {
  const saved = loadLastRun();
  const replaced = new Set(picked.flatMap((name) => saved.sources?.[name] ?? []));
  const fresh = [...tables];
  tables.clear();
  for (const [key, table] of saved.tables) if (!replaced.has(key)) tables.set(key, table);
  for (const [key, table] of fresh) tables.set(key, table);
  const merged = { ...saved.run, merged: [...(saved.run.merged ?? []).filter((m) => !m.names.every((n) => picked.includes(n))), { names: picked, header: `${header}, load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")}` }] };
  const mergedSources = { ...saved.sources, ...sources };
  writeFileSync(lastRun, JSON.stringify({ run: merged, tables: [...tables], sources: mergedSources }));
  section(merged, mergedSources);
} else if (write) {
  console.log("\n--write-readme needs a full run (no bench names), or --merge-last-run: the README's tables come from one run.");
}
