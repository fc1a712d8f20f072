// Loaded with `node --import` into a child process under test: on exit, writes the process's peak
// resident memory to stderr as a last line "maxRSS <KiB>", for tests that bound memory.
process.on("exit", () => process.stderr.write(`\nmaxRSS ${process.resourceUsage().maxRSS}\n`));
