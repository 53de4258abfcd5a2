// SET throughput with Appendonly 1 (everysec) vs without, alternating runs, medians; plus the
// server's CPU time per SET. Usage: bun bench/persistence-aof.ts [runs=5] [seconds=5] [fsync=everysec]

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const RUNS = Number(process.argv[2] ?? 5);
const SECONDS = Number(process.argv[3] ?? 5);
const FSYNC = process.argv[4] ?? "everysec";
const ROOT = join(import.meta.dir, "..");
const work = mkdtempSync(join(tmpdir(), "owl-bench-aof-"));
writeFileSync(join(work, "none.conf"), "# bench\n");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function run(appendonly: number): Promise<{ ops: number; cpuUs: number }> {
  const dir = mkdtempSync(join(work, "d-"));
  const proc = Bun.spawn(
    ["taskset", "-c", "0", "bun", "run", join(ROOT, "src/main.ts"), "-config", join(work, "none.conf"),
      ...Object.entries({ DBfile: dir, Logfile: join(dir, "log"), Tcpport: 0, Httpport: 0, Respport: 0, Pass: "bench-password-1", Appendonly: appendonly, Appendfsync: FSYNC })
        .flatMap(([k, v]) => ["--set", `${k}=${v}`])],
    { stdout: "pipe", stderr: "ignore" },
  );
  let banner = "";
  const reader = proc.stdout.getReader();
  while (!/^\s+logs\s/m.test(banner)) banner += new TextDecoder().decode((await reader.read()).value);
  const port = /^\s+tcp\s+\S*?:(\d+)/m.exec(banner)![1]!;
  const cpu0 = cpuSeconds(proc.pid);
  const loadgen = Bun.spawn(["taskset", "-c", "1", "/work/tools/loadgen", "--proto", "owl", "--port", port, "--skip-banner", "--get-ratio", "0", "--conns", "50", "--pipeline", "8", "--seconds", String(SECONDS), "--warmup", "0", "--check"], { stdout: "pipe" });
  const out = await new Response(loadgen.stdout).text();
  const cpu = cpuSeconds(proc.pid) - cpu0;
  proc.kill(9);
  await proc.exited;
  rmSync(dir, { recursive: true, force: true });
  const ops = Number(/ops_per_sec=([\d.]+)/.exec(out)![1]);
  return { ops, cpuUs: (cpu / Number(/ops=(\d+)/.exec(out)![1])) * 1e6 };
}

const plain: { ops: number; cpuUs: number }[] = [];
const logged: { ops: number; cpuUs: number }[] = [];
for (let i = 0; i < RUNS; i++) {
  plain.push(await run(0));
  logged.push(await run(1));
}
const r2 = (n: number) => Math.round(n * 100) / 100;
console.log(JSON.stringify({
  appendfsync: FSYNC,
  withoutOps: median(plain.map((r) => r.ops)),
  withOps: median(logged.map((r) => r.ops)),
  ratio: r2(median(logged.map((r) => r.ops)) / median(plain.map((r) => r.ops))),
  cpuUsWithout: r2(median(plain.map((r) => r.cpuUs))),
  cpuUsWith: r2(median(logged.map((r) => r.cpuUs))),
  cpuRatio: r2(median(plain.map((r) => r.cpuUs)) / median(logged.map((r) => r.cpuUs))),
  withoutRuns: plain.map((r) => Math.round(r.ops)),
  withRuns: logged.map((r) => Math.round(r.ops)),
}));
rmSync(work, { recursive: true, force: true });
