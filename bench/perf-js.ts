// `perf` with JavaScript function names. JavaScriptCore can write JIT dumps that `perf inject
// --jit` reads, but it names each file after the thread that writes it (jit-TID-PID.dump) while
// perf only accepts jit-PID.dump; this renames them, in the recording and on disk, and injects.
//
//   1. start the process with BUN_JSC_useJITDump=1 BUN_JSC_jitDumpDirectory=DIR
//      (e.g. `BUN_JSC_useJITDump=1 BUN_JSC_jitDumpDirectory=/tmp/jd taskset -c 0 bun run src/main.ts`)
//   2. perf record -k 1 -e cpu-clock -F 4999 -p PID -o FILE -- sleep 5   (-k 1: the dumps' clock)
//   3. bun bench/perf-js.ts FILE DIR   → FILE.jit
//   4. perf report -i FILE.jit --no-children -g none --sort sym   (JSC-FTL: name#hash, …)
//
// The dumps add a thread and some overhead: compare shares within one recording, not ops/s.

import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [file, dir] = process.argv.slice(2);
if (!file || !dir) {
  console.error("usage: bun bench/perf-js.ts <perf.data> <jit dump dir>");
  process.exit(2);
}
const data = readFileSync(file);
for (const name of readdirSync(dir)) {
  const m = /^jit-(\d+)-(\d+)\.dump$/.exec(name);
  if (!m) continue;
  const wanted = `jit-${m[2]}.dump`;
  const from = Buffer.from(name);
  // same length in the record: the shorter name, padded with NULs
  const to = Buffer.concat([Buffer.from(wanted), Buffer.alloc(from.length - wanted.length)]);
  let at = data.indexOf(from);
  if (at < 0) continue;
  for (; at >= 0; at = data.indexOf(from, at + to.length)) to.copy(data, at);
  copyFileSync(join(dir, name), join(dir, wanted));
}
writeFileSync(`${file}.renamed`, data);
const inject = Bun.spawnSync(["perf", "inject", "--jit", "-i", `${file}.renamed`, "-o", `${file}.jit`], { stderr: "inherit" });
if (inject.exitCode !== 0) process.exit(inject.exitCode ?? 1);
console.log(`${file}.jit`);
