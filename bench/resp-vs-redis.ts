// End-to-end load, side by side: redis-server and owlcache's RESP port, both pinned to CPU 0,
// the load tools on CPU 1. Preloads 100k keys in each, then runs redis-benchmark and loadgen
// (GET and SET, pipeline 1 and 16, 50 connections), alternating servers, and prints the
// median ops/s of each and the owlcache/redis ratio.
//
//   bun bench/resp-vs-redis.ts [--runs 3] [--seconds 3]

import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const LOADGEN = process.env.LOADGEN ?? "/work/tools/loadgen";
const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const RUNS = option("runs", 3);
const SECONDS = option("seconds", 3);
const KEYS = 100_000;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

async function output(cmd: string[], stdin?: Uint8Array): Promise<string> {
  const proc = Bun.spawn(cmd, { stdin: stdin ? new Blob([stdin]) : "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed (${code}): ${err}`);
  return out;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await output(["redis-cli", "-p", String(port), "PING"])).includes("PONG")) return;
    } catch {
      // not up yet
    }
    await Bun.sleep(50);
  }
  throw new Error(`nothing answers on ${port}`);
}

/** SETs for both key formats: redis-benchmark's key:%012d and loadgen's key:%07d. */
function preloadPipe(): Uint8Array {
  const parts: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    for (const key of [`key:${String(i).padStart(12, "0")}`, `key:${String(i).padStart(7, "0")}`]) {
      parts.push(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$3\r\nxxx\r\n`);
    }
  }
  return new TextEncoder().encode(parts.join(""));
}

type Workload = { tool: "redis-benchmark" | "loadgen"; op: "get" | "set"; pipeline: number };

async function measure(port: number, w: Workload): Promise<number> {
  if (w.tool === "redis-benchmark") {
    const n = w.pipeline === 1 ? 60_000 : 400_000;
    const out = await output(["taskset", "-c", "1", "redis-benchmark", "-p", String(port), "-t", w.op, "-r", String(KEYS), "-c", "50",
      "-P", String(w.pipeline), "-n", String(n), "--csv"]);
    const row = out.trim().split("\n").find((line) => line.startsWith(`"${w.op.toUpperCase()}"`));
    return Number(row?.split(",")[1]?.replaceAll('"', ""));
  }
  const out = await output([
    "taskset", "-c", "1", LOADGEN, "--proto", "resp", "--port", String(port), "--conns", "50", "--pipeline", String(w.pipeline),
    "--seconds", String(SECONDS), "--warmup", "0.5", "--keys", String(KEYS), "--random", "--get-ratio", w.op === "get" ? "1" : "0",
  ]);
  const errors = Number(/errors=(\d+)/.exec(out)?.[1] ?? "0");
  if (errors > 0) throw new Error(`loadgen reported ${errors} errors on port ${port}`);
  return Number(/ops_per_sec=([\d.]+)/.exec(out)?.[1]);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), "owl-bench-"));
const [redisPort, owlPort] = [await freePort(), await freePort()];
const redis = Bun.spawn(["taskset", "-c", "0", "redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
  stdout: "ignore",
  stderr: "ignore",
});
const owl = Bun.spawn(
  ["taskset", "-c", "0", "bun", "run", join(ROOT, "src/main.ts"), "--set", `Respport=${owlPort}`, "--set", "CloseTcp=0", "--set", "Httpport=0",
    "--set", `DBfile=${join(dir, "db")}`, "--set", `Logfile=${join(dir, "log")}`, "--set", "Pass=bench-password-123"],
  { cwd: dir, stdout: "ignore", stderr: "ignore" },
);
try {
  await Promise.all([waitForPort(redisPort), waitForPort(owlPort)]);
  const pipe = preloadPipe();
  for (const port of [redisPort, owlPort]) {
    await output(["taskset", "-c", "1", "redis-cli", "-p", String(port), "--pipe"], pipe);
    console.error(`preloaded ${port}: ${(await output(["redis-cli", "-p", String(port), "DBSIZE"])).trim()} keys`);
  }
  const workloads: Workload[] = [];
  for (const tool of ["redis-benchmark", "loadgen"] as const) {
    for (const pipeline of [1, 16]) for (const op of ["get", "set"] as const) workloads.push({ tool, op, pipeline });
  }
  const results = new Map<Workload, { redis: number[]; owl: number[] }>(workloads.map((w) => [w, { redis: [], owl: [] }]));
  for (let run = 0; run < RUNS; run++) {
    for (const w of workloads) {
      const r = results.get(w)!;
      // Alternate who goes first so slow drifts of the shared machine hit both alike.
      const order = run % 2 === 0 ? (["redis", "owl"] as const) : (["owl", "redis"] as const);
      for (const who of order) r[who].push(await measure(who === "redis" ? redisPort : owlPort, w));
      console.error(`run ${run + 1} ${w.tool} ${w.op} -P ${w.pipeline}: redis ${r.redis.at(-1)!.toFixed(0)} owl ${r.owl.at(-1)!.toFixed(0)}`);
    }
  }
  console.log(`| tool | command | pipeline | redis-server ops/s | owlcache ops/s | owlcache/redis |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const w of workloads) {
    const r = results.get(w)!;
    const [a, b] = [median(r.redis), median(r.owl)];
    console.log(`| ${w.tool} | ${w.op.toUpperCase()} | ${w.pipeline} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(b / a).toFixed(2)}× |`);
  }
} finally {
  redis.kill("SIGKILL");
  owl.kill("SIGTERM");
  await Promise.all([redis.exited, owl.exited]);
  rmSync(dir, { recursive: true, force: true });
}
