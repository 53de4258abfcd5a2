// End-to-end persistence benchmark beside redis-server, in one run (servers on core 0, clients on
// core 1), medians of three: snapshot time vs SAVE, restart-to-serving vs RDB load, event-loop
// stall and RSS during a snapshot, SET throughput with Appendonly 1 everysec vs without.
// Usage: bun bench/persistence.ts [keys=1000000] [seconds=5]

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const KEYS = Number(process.argv[2] ?? 1_000_000);
const SECONDS = Number(process.argv[3] ?? 5);
const ROOT = join(import.meta.dir, "..");
const work = mkdtempSync(join(tmpdir(), "owl-bench-persist-"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const key = (i: number) => "key:" + String(i).padStart(12, "0"); // 16 bytes
const value = (i: number) => "v".repeat(20) + String(i).padStart(12, "0"); // 32 bytes

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

async function sh(cmd: string[], input?: Blob): Promise<string> {
  const proc = Bun.spawn(cmd, { stdin: input ?? "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed (${code}): ${err}`);
  return out;
}

/** ms from spawn until `ready()` answers. */
async function timeToServe(spawn: () => Bun.Subprocess, ready: () => Promise<boolean>): Promise<{ ms: number; proc: Bun.Subprocess }> {
  const started = performance.now();
  const proc = spawn();
  for (;;) {
    if (await ready().catch(() => false)) return { ms: performance.now() - started, proc };
    if (performance.now() - started > 120_000) throw new Error("server did not come up");
    await Bun.sleep(2);
  }
}

async function redisPing(port: number): Promise<boolean> {
  const out = await sh(["redis-cli", "-p", String(port), "ping"]).catch(() => "");
  return out.trim() === "PONG";
}

async function owlPing(port: number): Promise<boolean> {
  const { promise, resolve } = Promise.withResolvers<boolean>();
  let text = "";
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(s, chunk) {
        text += chunk.toString();
        if (text.includes("\n") && !text.includes("ping sent")) {
          text += "ping sent";
          s.write("ping\n");
        }
        if (text.includes("PONG")) resolve(true);
      },
      close: () => resolve(false),
      connectError: () => resolve(false),
    },
  }).catch(() => undefined);
  if (!socket) return false;
  const ok = await Promise.race([promise, Bun.sleep(2000).then(() => false)]);
  socket.end();
  return ok;
}

function owlArgs(dataDir: string, port: number, extra: Record<string, string | number> = {}): string[] {
  const set = { DBfile: dataDir, Logfile: join(work, "owl-log"), Tcpport: port, Httpport: 0, Respport: 0, Pass: "bench-password-1", Task_DataBackup: 600, ...extra };
  return ["taskset", "-c", "0", "bun", "run", join(ROOT, "src/main.ts"), "-config", join(work, "none.conf"), ...Object.entries(set).flatMap(([k, v]) => ["--set", `${k}=${v}`])];
}

writeFileSync(join(work, "none.conf"), "# bench\n");
console.error(`keys ${KEYS}, work dir ${work}`);

// 1. redis: load the keys, time SAVE three times.
const redisDir = join(work, "redis");
await sh(["mkdir", "-p", redisDir]);
const redisPort = await freePort();
const redisArgs = ["taskset", "-c", "0", "redis-server", "--port", String(redisPort), "--save", "", "--appendonly", "no", "--dir", redisDir, "--dbfilename", "dump.rdb"];
let redis = (await timeToServe(() => Bun.spawn(redisArgs, { stdout: "ignore", stderr: "ignore" }), () => redisPing(redisPort))).proc;
const resp: string[] = [];
for (let i = 0; i < KEYS; i++) resp.push(`*3\r\n$3\r\nSET\r\n$16\r\n${key(i)}\r\n$32\r\n${value(i)}\r\n`);
await sh(["taskset", "-c", "1", "redis-cli", "-p", String(redisPort), "--pipe"], new Blob([resp.join("")]));
resp.length = 0;
const saves: number[] = [];
for (let run = 0; run < 3; run++) {
  const t = performance.now();
  await sh(["redis-cli", "-p", String(redisPort), "save"]);
  saves.push(performance.now() - t);
}
await sh(["redis-cli", "-p", String(redisPort), "shutdown", "nosave"]).catch(() => "");
await redis.exited;

// 2. owlcache snapshot in-process (same keys), KEEP the data dir for the restart runs.
const snapOut = await sh(["env", `KEEP=1`, `BENCH_DIR=${work}`, "taskset", "-c", "0", "bun", join(ROOT, "bench/persistence-snapshot.ts"), String(KEYS)]);
const [snapJson, owlDir] = snapOut.trim().split("\n").slice(-2) as [string, string];
const snap = JSON.parse(snapJson) as Record<string, number>;

// 3. restart-to-serving, alternating.
const redisLoads: number[] = [];
const owlLoads: number[] = [];
for (let run = 0; run < 3; run++) {
  const r = await timeToServe(() => Bun.spawn(redisArgs, { stdout: "ignore", stderr: "ignore" }), () => redisPing(redisPort));
  redisLoads.push(r.ms);
  await sh(["redis-cli", "-p", String(redisPort), "shutdown", "nosave"]).catch(() => "");
  await r.proc.exited;
  const owlPort = await freePort();
  const o = await timeToServe(() => Bun.spawn(owlArgs(owlDir, owlPort), { stdout: "ignore", stderr: "ignore" }), () => owlPing(owlPort));
  owlLoads.push(o.ms);
  o.proc.kill(9);
  await o.proc.exited;
}

// 4. SET throughput with and without the append log (everysec), alternating. The server's CPU
// time per SET (from /proc) is reported too: on a shared machine it is steadier than throughput.
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
}
async function setThroughput(appendonly: number): Promise<{ ops: number; cpuUsPerOp: number }> {
  const dir = mkdtempSync(join(work, "aof-"));
  const port = await freePort();
  const proc = (await timeToServe(() => Bun.spawn(owlArgs(dir, port, { Appendonly: appendonly, Appendfsync: "everysec" }), { stdout: "ignore", stderr: "ignore" }), () => owlPing(port))).proc;
  const cpuBefore = cpuSeconds(proc.pid);
  const out = await sh(["taskset", "-c", "1", "/work/tools/loadgen", "--proto", "owl", "--port", String(port), "--skip-banner", "--get-ratio", "0", "--conns", "50", "--pipeline", "8", "--seconds", String(SECONDS), "--warmup", "0", "--check"]);
  const cpu = cpuSeconds(proc.pid) - cpuBefore;
  proc.kill(9);
  await proc.exited;
  rmSync(dir, { recursive: true, force: true });
  const ops = Number(/ops_per_sec=([\d.]+)/.exec(out)![1]);
  const total = Number(/ops=(\d+)/.exec(out)![1]);
  return { ops, cpuUsPerOp: (cpu / total) * 1e6 };
}
const plain: { ops: number; cpuUsPerOp: number }[] = [];
const logged: { ops: number; cpuUsPerOp: number }[] = [];
for (let run = 0; run < 3; run++) {
  plain.push(await setThroughput(0));
  logged.push(await setThroughput(1));
}
const plainOps = median(plain.map((r) => r.ops));
const loggedOps = median(logged.map((r) => r.ops));
const plainCpu = median(plain.map((r) => r.cpuUsPerOp));
const loggedCpu = median(logged.map((r) => r.cpuUsPerOp));

const r2 = (n: number) => Math.round(n * 100) / 100;
console.log(
  JSON.stringify(
    {
      keys: KEYS,
      snapshot: { owlMs: snap.totalMs, redisSaveMs: r2(median(saves)), ratio: r2(snap.totalMs! / median(saves)), captureMs: snap.captureMs, maxStallMs: snap.maxStallMs, idleStallMs: snap.idleStallMs, rssBeforeMB: snap.rssBeforeMB, peakRssMB: snap.peakRssMB, rssRatio: snap.rssRatio, fileMB: snap.fileMB },
      restart: { owlMs: r2(median(owlLoads)), redisMs: r2(median(redisLoads)), ratio: r2(median(owlLoads) / median(redisLoads)), owlRuns: owlLoads.map(r2), redisRuns: redisLoads.map(r2) },
      setThroughput: {
        withoutLog: plainOps,
        everysec: loggedOps,
        ratio: r2(loggedOps / plainOps),
        cpuUsPerSetWithout: r2(plainCpu),
        cpuUsPerSetEverysec: r2(loggedCpu),
        cpuRatio: r2(plainCpu / loggedCpu),
        withoutRuns: plain.map((r) => r.ops),
        everysecRuns: logged.map((r) => r.ops),
      },
    },
    null,
    2,
  ),
);
rmSync(work, { recursive: true, force: true });
