// Issue 8: replication lag under a steady write load on loopback. Node A (core 0) takes a
// steady stream of sets from one pipelining client; every 20th set writes a probe key, and a
// poller on node B (core 1) reads it until it appears: lag = appeared on B − sent to A.
// Usage: bun run bench/sync-lag.ts [writes-per-second=5000] [seconds=10]

import { startSyncCluster, waitLinked } from "../test/sync/sync-cluster.ts";
import { OwlClient } from "../test/helpers/owl-client.ts";

const RATE = Number(process.argv[2] ?? 5000);
const SECONDS = Number(process.argv[3] ?? 10);
const TICK_MS = 2;
const PROBE_EVERY = 20;

const cluster = await startSyncCluster(2);
try {
  await waitLinked(cluster);
  const [a, b] = cluster.members as [(typeof cluster.members)[0], (typeof cluster.members)[0]];
  Bun.spawnSync(["taskset", "-a", "-cp", "0", String(a.node.proc.pid)]);
  Bun.spawnSync(["taskset", "-a", "-cp", "1", String(b.node.proc.pid)]);
  const writer = await OwlClient.connect(a.node.tcpPort);
  const poller = await OwlClient.connect(b.node.tcpPort);
  const lags: number[] = [];
  const probes: { key: string; sentAt: number }[] = [];
  let polling = false;
  const poll = async (): Promise<void> => {
    polling = true;
    while (probes.length > 0) {
      const probe = probes[0]!;
      const r = await poller.call(`get ${probe.key}`);
      if (r.Status === 200) {
        lags.push(performance.now() - probe.sentAt);
        probes.shift();
      }
    }
    polling = false;
  };
  let n = 0;
  let replies = 0;
  const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
  const start = performance.now();
  let next = start;
  while (performance.now() - start < SECONDS * 1000) {
    let batch = "";
    for (let i = 0; i < perTick; i++, n++) {
      if (n % PROBE_EVERY === 0) {
        const key = `probe:${n}`;
        batch += `set ${key} x\n`;
        probes.push({ key, sentAt: performance.now() });
      } else batch += `set load:${n % 100000} some-value-of-32-bytes-0123456\n`;
    }
    writer.write(batch);
    for (let i = 0; i < perTick; i++) await writer.reply();
    replies += perTick;
    if (!polling && probes.length > 0) void poll();
    next += TICK_MS;
    const wait = next - performance.now();
    if (wait > 0) await Bun.sleep(wait);
  }
  while (probes.length > 0) await Bun.sleep(10);
  lags.sort((x, y) => x - y);
  const q = (p: number): string => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))]!.toFixed(2);
  const elapsed = (performance.now() - start) / 1000;
  console.log(`steady ${(replies / elapsed).toFixed(0)} sets/s on A for ${elapsed.toFixed(1)} s; ${lags.length} probes: replication lag A→B p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${lags[lags.length - 1]!.toFixed(2)} ms`);
  writer.close();
  poller.close();
} finally {
  await cluster.stopAll();
}
