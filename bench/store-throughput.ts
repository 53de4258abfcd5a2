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
// With a Redis-protocol server in the tree (issue 6), owlcache over RESP too.
const probe = await startOwl("probe", ROOT, {}, true);
const hasResp = probe.respPort > 0;
await probe.stop();
if (hasResp) {
  const viaResp = (root: string) => async (): Promise<Server> => {
    const s = await startOwl("resp", root, {}, true);
    return { ...s, port: s.respPort };
  };
  targets.push(["owlcache after, CompactStore (RESP)", "resp", viaResp(ROOT)]);
  const probeBefore = await startOwl("probe", before, {}, true);
  if (probeBefore.respPort > 0) targets.push(["owlcache before, MapStore (RESP)", "resp", viaResp(before)]);
  await probeBefore.stop();
}
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

// redis-benchmark beside loadgen, when owlcache speaks RESP: GET and SET at pipeline 1 and 16.
function redisBenchmark(port: number, pipeline: number): Record<string, number> {
  const run = Bun.spawnSync(["taskset", "-c", "1", "redis-benchmark", "-p", `${port}`, "-t", "get,set", "-c", "50", "-P", `${pipeline}`, "-n", pipeline > 1 ? "1000000" : "200000", "-r", KEYS, "-d", "32", "-q"]);
  const out: Record<string, number> = {};
  for (const match of run.stdout.toString().matchAll(/(GET|SET): ([\d.]+) requests per second/g)) out[match[1]!] = Number(match[2]);
  return out;
}

if (hasResp) {
  const rows = new Map<string, number[][]>();
  for (let run = 0; run < RUNS; run++) {
    for (const [name, proto, start] of targets) {
      if (proto !== "resp") continue;
      const server = await start();
      try {
        const p1 = redisBenchmark(server.port, 1);
        const p16 = redisBenchmark(server.port, 16);
        rows.set(name, [...(rows.get(name) ?? []), [p1.GET ?? NaN, p16.GET ?? NaN, p1.SET ?? NaN, p16.SET ?? NaN]]);
        console.log(`run ${run + 1} ${name} redis-benchmark: GET p1 ${p1.GET} p16 ${p16.GET}, SET p1 ${p1.SET} p16 ${p16.SET}`);
      } finally {
        await server.stop();
      }
    }
  }
  const base = rows.get(targets[0]![0])!;
  const med = (runs: number[][], i: number): number => median(runs.map((r) => r[i]!));
  console.log("\n| redis-benchmark | GET p1 (× redis) | GET p16 (× redis) | SET p1 (× redis) | SET p16 (× redis) |\n|---|---|---|---|---|");
  for (const [name, runs] of rows) {
    const cells = [0, 1, 2, 3].map((i) => `${Math.round(med(runs, i)).toLocaleString("en")} (${(med(runs, i) / med(base, i)).toFixed(2)})`);
    console.log(`| ${name} | ${cells.join(" | ")} |`);
  }
}
