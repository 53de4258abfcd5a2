// Group-read latency with 1, 2, 4 and 8 peers (separate processes): proof that peers are asked in
// parallel, p50 with 8 peers ≤ 2× p50 with 1. Run: bun run bench/cluster-latency.ts [requests]
// The machine is shared and noisy, so the four cases are measured side by side: four asking nodes
// (pinned to CPU 0) with 1, 2, 4 and 8 peers of the same 8 peer processes (not pinned), and one
// client (this process, pinned to CPU 1) that sends one request at a time to each asker in turn.
// Every case sees the same background load; only one request is ever in flight. Cache off, so
// every read is a real fan-out. Knobs: PIN_ASKERS=0 leaves the askers unpinned, PEER_CPU=N pins
// the peers to CPU N (both measured worse here than the default).

import { median, setKey, setPeers, startBenchNode, stopBenchNodes, type BenchNode } from "./cluster-lib.ts";

const requests = Number(process.argv[2] ?? 4000);
const PIN_ASKERS = process.env.PIN_ASKERS !== "0";
const PEER_CPU = process.env.PEER_CPU === undefined ? undefined : Number(process.env.PEER_CPU);
const COUNTS = [1, 2, 4, 8] as const;
const settings = { HttpClientRequestLocalCacheLifeTime: 0 };

Bun.spawnSync(["taskset", "-a", "-p", "-c", "1", String(process.pid)], { stdout: "ignore" });

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

const nodes: BenchNode[] = [];
try {
  const askers = await Promise.all(COUNTS.map(() => startBenchNode(settings, PIN_ASKERS ? 0 : undefined)));
  const peers = await Promise.all(Array.from({ length: 8 }, () => startBenchNode(settings, PEER_CPU)));
  nodes.push(...askers, ...peers);
  for (const [i, asker] of askers.entries()) {
    await setKey(asker, "k", `asker ${i}`);
    await setPeers(asker, peers.slice(0, COUNTS[i]));
  }
  for (const [i, peer] of peers.entries()) await setKey(peer, "k", `value of peer ${i}`);
  const urls = askers.map((a) => `${a.base}/group_data/?cmd=get&key=k`);
  for (const [i, url] of urls.entries()) {
    const check = (await (await fetch(url)).json()) as { Data: unknown[] };
    if (check.Data.length !== COUNTS[i]! + 1) throw new Error(`expected ${COUNTS[i]! + 1} values, got ${check.Data.length}`);
  }

  const samples: number[][] = COUNTS.map(() => []);
  // For comparison: the original's way, the same 8 peers asked one after another.
  const sequential: number[] = [];
  const peerUrls = peers.map((p) => `${p.base}/data/?cmd=get&key=k`);
  const round = async (record: boolean) => {
    for (const [i, url] of urls.entries()) {
      const started = performance.now();
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`status ${response.status}`);
      if (record) samples[i]!.push(performance.now() - started);
    }
    const started = performance.now();
    for (const url of peerUrls) await (await fetch(url)).arrayBuffer();
    if (record) sequential.push(performance.now() - started);
  };
  for (let r = 0; r < 300; r++) await round(false); // warm-up: connections, JIT
  for (let r = 0; r < requests; r++) await round(true);

  console.log(`${requests} requests per case, taking turns\n\npeers | p50 | p99 | p50 / p50 with 1 peer`);
  const p50s = samples.map((s) => median(s));
  for (const [i, n] of COUNTS.entries()) {
    const sorted = [...samples[i]!].sort((a, b) => a - b);
    console.log(`${n} | ${p50s[i]!.toFixed(3)} ms | ${percentile(sorted, 99).toFixed(3)} ms | ${(p50s[i]! / p50s[0]!).toFixed(2)}×`);
  }
  const seqSorted = [...sequential].sort((a, b) => a - b);
  console.log(`8, one after another (client-side, for comparison) | ${median(sequential).toFixed(3)} ms | ${percentile(seqSorted, 99).toFixed(3)} ms | ${(median(sequential) / p50s[0]!).toFixed(2)}×`);
} finally {
  await stopBenchNodes(nodes);
}
