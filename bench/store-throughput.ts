// End-to-end get/set throughput of owlcache before (MapStore) and after (CompactStore) over the
// owl text protocol, beside redis-server over RESP, same run, servers on CPU 0, loadgen on CPU 1.
// Run: taskset -c 1 bun run bench/store-throughput.ts   (SECONDS=3 RUNS=3 by default)

import { beforeTree, median, ROOT, startOwl, startRedis, type Server } from "./store-servers.ts";

const LOADGEN = process.env.LOADGEN ?? "/work/tools/loadgen";
const SECONDS = process.env.SECONDS ?? "3";
const RUNS = Number(process.env.RUNS ?? 3);
const KEYS = "100000";

interface Workload {
  readonly name: string;
  readonly args: string[];
}

const workloads: Workload[] = [
  { name: "get p1", args: ["--pipeline", "1", "--get-ratio", "1"] },
  { name: "get p16", args: ["--pipeline", "16", "--get-ratio", "1"] },
  { name: "set p16", args: ["--pipeline", "16", "--get-ratio", "0"] },
];

function loadgen(server: Server, proto: "owl" | "resp", extra: string[]): number {
  const args = ["taskset", "-c", "1", LOADGEN, "--proto", proto, "--port", `${server.port}`, "--keys", KEYS, "--conns", "50", "--seconds", SECONDS, ...extra];
  if (proto === "owl") args.push("--skip-banner", "--check");
  const run = Bun.spawnSync(args);
  const out = run.stdout.toString();
  const ops = /ops_per_sec=([\d.]+)/.exec(out);
  const errors = /errors=(\d+)/.exec(out);
  if (!ops || run.exitCode !== 0 || (errors && errors[1] !== "0")) throw new Error(`loadgen failed: ${out} ${run.stderr}`);
  return Number(ops[1]);
}

const before = await beforeTree();
const targets: [string, "owl" | "resp", () => Promise<Server>][] = [
  ["redis-server (RESP)", "resp", startRedis],
  ["owlcache before, MapStore (owl)", "owl", () => startOwl("before", before)],
  ["owlcache after, CompactStore (owl)", "owl", () => startOwl("after", ROOT)],
];
const results = new Map<string, Map<string, number[]>>();
for (let run = 0; run < RUNS; run++) {
  for (const [name, proto, start] of targets) {
    const server = await start();
    try {
      loadgen(server, proto, ["--preload", "--requests", "1", "--warmup", "0"]);
      for (const workload of workloads) {
        const ops = loadgen(server, proto, workload.args);
        const byWorkload = results.get(name) ?? new Map<string, number[]>();
        byWorkload.set(workload.name, [...(byWorkload.get(workload.name) ?? []), ops]);
        results.set(name, byWorkload);
        console.log(`run ${run + 1} ${name} ${workload.name}: ${Math.round(ops)} ops/s`);
      }
    } finally {
      await server.stop();
    }
  }
}
const redis = results.get(targets[0]![0])!;
console.log(`\n| server | ${workloads.map((w) => `${w.name} ops/s (× redis)`).join(" | ")} |`);
console.log(`|---|${workloads.map(() => "---").join("|")}|`);
for (const [name, byWorkload] of results) {
  const cells = workloads.map((w) => {
    const m = median(byWorkload.get(w.name)!);
    return `${Math.round(m).toLocaleString("en")} (${(m / median(redis.get(w.name)!)).toFixed(2)})`;
  });
  console.log(`| ${name} | ${cells.join(" | ")} |`);
}
