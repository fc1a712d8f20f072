// Collects every table the benchmarks print, so bench/run.js can assemble the README's Benchmarks
// section from one run (see bench/readme.js). Tables are keyed by their title (suites) or by a short key
// (summaries).

/** @type {Map<string, { title: string, headers: string[], rows: string[][], data?: unknown }>} */
export const tables = new Map();

/** Formats one Markdown table. */
export function markdownTable(headers, rows) {
  const align = headers.map((_, i) => (i === 0 ? "---" : "---:"));
  return [`| ${headers.join(" | ")} |`, `|${align.join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

/**
 * Prints a table under a `###` title and keeps it for the README.
 * @param {string} key
 * @param {string} title
 * @param {string[]} headers
 * @param {string[][]} rows
 * @param {unknown} [data] raw figures for the README's prose
 */
export function report(key, title, headers, rows, data) {
  tables.set(key, { title, headers, rows, data });
  console.log(`\n### ${title}\n`);
  console.log(markdownTable(headers, rows));
}
