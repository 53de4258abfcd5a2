// Issue 8: what sync costs the sending node per write, in CPU, without sockets to clients or a
// load tool in the way. This process (pin it: `taskset -c 0`) drives its own Keyspace as a busy
// server's event loop would (TICK sets per macrotask), first without sync, then with a real
// SyncNode sending to two real peer processes (started here, on core 1) over HTTP with fetch.
// It reports process CPU (every thread: JS, GC, the HTTP client) per set, alternating runs.
// Sets come at a fixed rate (default 40,000/s, about what the real server takes under loadgen),
// in ticks of up to TICK sets, so the peers keep up as they do in bench/sync-throughput.sh.
// Usage: taskset -c 0 bun run bench/sync-cpu.ts [seconds=3] [runs=3] [sets-per-second=40000] [sets-per-tick=50]

import { cpuUsage } from "node:process";
import { createSync } from "../src/cluster/sync/wire.ts";
import { loadConfig } from "../src/config/load.ts";
import { silentLogger } from "../src/log/logger.ts";
import { CompactStore } from "../src/store/compact-store.ts";
import { Keyspace } from "../src/store/keyspace.ts";
import { systemClock } from "../src/store/types.ts";
import { startNode, type NodeProcess } from "../test/helpers/node-process.ts";

const SECONDS = Number(process.argv[2] ?? 3);
const RUNS = Number(process.argv[3] ?? 3);
const RATE = Number(process.argv[4] ?? 40_000);
const TICK = Number(process.argv[5] ?? 50);
const KEY = "bench-sync-key-0123456789";
const N = 100_000;
const enc = new TextEncoder();
const keys = Array.from({ length: N }, (_, i) => enc.encode(`key:${String(i).padStart(7, "0")}`));
const value = enc.encode("v".repeat(32));

const peers: NodeProcess[] = await Promise.all(
  [0, 1].map(() => startNode({ set: { GroupDataSync: 1, GossipDataSyncAuthKey: KEY } })),
);
for (const p of peers) Bun.spawnSync(["taskset", "-a", "-cp", "1", String(p.proc.pid)]);

/** sets for SECONDS, TICK per macrotask; → [sets, CPU µs] */
async function drive(keyspace: Keyspace): Promise<[number, number]> {
  let n = 0;
  const c0 = cpuUsage();
  const start = performance.now();
  const end = start + SECONDS * 1000;
  for (let now = start; now < end; now = performance.now()) {
    const due = Math.min(TICK, Math.floor(((now - start) * RATE) / 1000) - n);
    if (due <= 0) {
      await Bun.sleep(1);
      continue;
    }
    for (let i = 0; i < due; i++, n++) keyspace.set(keys[n % N]!, value);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const c = cpuUsage(c0);
  return [n, c.user + c.system];
}

const { config } = loadConfig({ argv: ["--set", "GroupDataSync=1", "--set", `GossipDataSyncAuthKey=${KEY}`], env: {}, readFile: () => undefined });
const plainKs = new Keyspace(new CompactStore(systemClock), systemClock);
const syncKs = new Keyspace(new CompactStore(systemClock), systemClock);
const list = peers.map((p) => `127.0.0.1:${p.httpPort}`);
const sync = createSync(config, syncKs, { list: () => list }, silentLogger);
sync.start(1);

const plain: number[] = [];
const synced: number[] = [];
try {
  await drive(plainKs); // warm-up (JIT)
  await drive(syncKs);
  for (let r = 0; r < RUNS; r++) {
    const [pn, pc] = await drive(plainKs);
    plain.push(pc / pn);
    const [sn, sc] = await drive(syncKs);
    synced.push(sc / sn);
    console.log(`run ${r + 1}: plain ${(pn / SECONDS).toFixed(0)} sets/s ${(pc / pn).toFixed(2)} µs CPU/set | sync ${(sn / SECONDS).toFixed(0)} sets/s ${(sc / sn).toFixed(2)} µs CPU/set`);
  }
  await Bun.sleep(500);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const h = sync.health().peers.map((p) => `${p.address} sent ${p.sent} in ${p.batches} batches, dropped ${p.dropped}, depth ${p.queueDepth}`);
  console.log(`median CPU per set: plain ${median(plain).toFixed(2)} µs, sync ${median(synced).toFixed(2)} µs, extra ${(median(synced) - median(plain)).toFixed(2)} µs`);
  console.log(h.join("\n"));
} finally {
  sync.stop();
  await Promise.all(peers.map((p) => p.stop()));
}
process.exit(0);
