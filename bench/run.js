// `npm run bench [-- wire stream bodies session cli]`: builds dist/ first (see package.json), then runs the named
// benchmark files, or all of them. Each prints Markdown tables; the README quotes one full run.
import { existsSync } from "node:fs";
import os from "node:os";

const all = ["wire", "stream", "bodies", "session", "cli"];
const picked = process.argv.slice(2).length > 0 ? process.argv.slice(2) : all;
console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${new Date().toISOString()}`);
for (const name of picked) {
  const file = new URL(`./${name}.js`, import.meta.url);
  if (!existsSync(file)) {
    console.log(`\n(${name}: no bench/${name}.js yet)`);
    continue;
  }
  console.log(`\n## ${name}`);
  await import(file.href);
}
