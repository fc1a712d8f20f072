// `npm run bench [-- wire stream bodies alloc bundle session cli] [--write-readme]`: builds dist/ first (see
// package.json), then runs the named benchmark files, or all of them. Each prints Markdown tables; after
// a full run the README's Benchmarks section, assembled from that one run (bench/readme.js), is printed
// too, and `--write-readme` puts it into README.md between its bench markers. The run's tables are kept
// in the OS temp folder: `node bench/run.js --from-last-run [--write-readme]` rebuilds the section from
// them after an edit to bench/readme.js, without measuring again.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readmeSection, writeReadme } from "./readme.js";
import { tables } from "./report.js";

const all = ["wire", "stream", "bodies", "alloc", "bundle", "session", "cli"];
const args = process.argv.slice(2);
const write = args.includes("--write-readme");
const readmePath = fileURLToPath(new URL("../README.md", import.meta.url));
/** Every full run keeps its tables here, so the README's prose can be regenerated without measuring again. */
const lastRun = path.join(os.tmpdir(), "syncwire-bench-last-run.json");

if (args.includes("--from-last-run")) {
  // `node bench/run.js --from-last-run [--write-readme]`: the section from the last full run's tables.
  const saved = JSON.parse(readFileSync(lastRun, "utf8"));
  for (const [key, table] of saved.tables) tables.set(key, table);
  const section = readmeSection(saved.run);
  console.log(section);
  if (write) writeReadme(readmePath, section);
  process.exit(0);
}

const named = args.filter((a) => !a.startsWith("--"));
const picked = named.length > 0 ? named : all;
const header = `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${new Date().toISOString().slice(0, 10)}`;
const loadBefore = os.loadavg();
console.log(`${header}, load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`);
for (const name of picked) {
  const file = new URL(`./${name}.js`, import.meta.url);
  if (!existsSync(file)) {
    console.log(`\n(${name}: no bench/${name}.js yet)`);
    continue;
  }
  console.log(`\n## ${name}`);
  await import(file.href);
}
if (all.every((name) => picked.includes(name))) {
  const run = { header, loadBefore, loadAfter: os.loadavg() };
  writeFileSync(lastRun, JSON.stringify({ run, tables: [...tables] }));
  const section = readmeSection(run);
  console.log("\n\n==== README Benchmarks section (from this run) ====\n");
  console.log(section);
  if (write) {
    writeReadme(readmePath, section);
    console.log("(written to README.md)");
  }
} else if (write) {
  console.log("\n--write-readme needs a full run (no bench names): the README's tables come from one run.");
}
