// Group-read latency with 1, 2, 4 and 8 peers (separate processes): proof that peers are asked in
// parallel, p50 with 8 peers ≤ 2× p50 with 1. Run: bun run bench/cluster-latency.ts [seconds] [rounds]
// The asking node is pinned to CPU 0 and wrk (one connection, sequential requests) to CPU 1; the
// peers are not pinned. The answer cache is off so every read is a real fan-out.

import { fmt, median, setKey, setPeers, startBenchNode, stopBenchNodes, wrk, type BenchNode } from "./cluster-lib.ts";

// Short slices, many rounds: on a shared machine, load from others drifts; taking turns spreads it.
const seconds = Number(process.argv[2] ?? 2);
const runs = Number(process.argv[3] ?? 7);
const COUNTS = [1, 2, 4, 8] as const;
const settings = { HttpClientRequestLocalCacheLifeTime: 0 };

const nodes: BenchNode[] = [];
try {
  const asker = await startBenchNode(settings, 0);
  nodes.push(asker);
  const peers = await Promise.all(Array.from({ length: 8 }, () => startBenchNode(settings)));
  nodes.push(...peers);
  await setKey(asker, "k", "asker's value");
  for (const [i, peer] of peers.entries()) await setKey(peer, "k", `value of peer ${i}`);
  const url = `${asker.base}/group_data/?cmd=get&key=k`;

  const results = new Map<number, { p50: number[]; p99: number[] }>(COUNTS.map((n) => [n, { p50: [], p99: [] }]));
  for (let run = 1; run <= runs; run++) {
    for (const n of COUNTS) {
      await setPeers(asker, peers.slice(0, n));
      const check = (await (await fetch(url)).json()) as { Data: unknown[] };
      if (check.Data.length !== n + 1) throw new Error(`expected ${n + 1} values, got ${check.Data.length}`);
      await wrk(url, 1, 1); // warm-up: connections to the peers, JIT
      const r = await wrk(url, seconds, 1);
      if (r.non2xx > 0) throw new Error(`${r.non2xx} non-2xx answers`);
      results.get(n)!.p50.push(r.p50Ms);
      results.get(n)!.p99.push(r.p99Ms);
      console.log(`run ${run}  peers ${n}: p50 ${fmt(r.p50Ms)}  p99 ${fmt(r.p99Ms)}  ${r.rps.toFixed(0)} req/s`);
    }
  }
  console.log("\npeers | p50 (median of runs) | p99 (median of runs) | p50 / p50 with 1 peer");
  const base = median(results.get(1)!.p50);
  for (const n of COUNTS) {
    const { p50, p99 } = results.get(n)!;
    console.log(`${n} | ${fmt(median(p50))} | ${fmt(median(p99))} | ${(median(p50) / base).toFixed(2)}×`);
  }
} finally {
  await stopBenchNodes(nodes);
}
