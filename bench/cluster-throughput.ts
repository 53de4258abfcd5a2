// Group-read throughput against a 3-node cluster with the answer cache on and off, next to a
// single-node /data/ get, all in one run. Run: bun run bench/cluster-throughput.ts [seconds] [rounds]
// Every owlcache process is pinned to CPU 0 (the whole cluster shares one core, so a cache-off
// group read pays for three nodes' work), wrk to CPU 1 with 32 connections. Reads go to 100 keys
// in turn (bench/cluster-keys.lua) so that concurrent reads rarely share one fan-out; a last case
// reads one hot key with the cache off, where single flight shares the fan-outs. The machine is shared
// and noisy: the three cases take turns in short slices, round after round, and the medians per
// case are compared.

import { median, setKey, setPeers, startBenchNode, stopBenchNodes, wrk, type BenchNode } from "./cluster-lib.ts";

const seconds = Number(process.argv[2] ?? 3);
const runs = Number(process.argv[3] ?? 7);
const CONNS = 32;
const SPREAD = new URL("./cluster-keys.lua", import.meta.url).pathname;
const HOT = new URL("./cluster-hot.lua", import.meta.url).pathname;

const nodes: BenchNode[] = [];
try {
  const [cacheOff, cacheOn, peer1, peer2] = await Promise.all([
    startBenchNode({ HttpClientRequestLocalCacheLifeTime: 0 }, 0),
    startBenchNode({ HttpClientRequestLocalCacheLifeTime: 5000 }, 0),
    startBenchNode({}, 0),
    startBenchNode({}, 0),
  ]);
  nodes.push(cacheOff!, cacheOn!, peer1!, peer2!);
  for (const [i, n] of nodes.entries()) for (let k = 0; k < 100; k++) await setKey(n, `k${k}`, `value ${k} on node ${i}`);
  await setPeers(cacheOff!, [peer1!, peer2!]);
  await setPeers(cacheOn!, [peer1!, peer2!]);

  const cases = [
    ["single-node /data/ get", `${cacheOff!.base}/data/?cmd=get&key=k`, SPREAD],
    ["group read, cache on (5000 ms)", `${cacheOn!.base}/group_data/?cmd=get&key=k`, SPREAD],
    ["group read, cache off", `${cacheOff!.base}/group_data/?cmd=get&key=k`, SPREAD],
    ["group read, cache off, one hot key (single flight)", `${cacheOff!.base}/group_data/?cmd=get&key=k0`, HOT],
  ] as const;
  const rps = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  const p99 = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  for (const [, url, script] of cases) await wrk(url, 1, CONNS, script); // warm-up
  for (let run = 1; run <= runs; run++) {
    for (const [name, url, script] of cases) {
      const r = await wrk(url, seconds, CONNS, script);
      if (r.non2xx > 0) throw new Error(`${name}: ${r.non2xx} non-2xx answers`);
      rps.get(name)!.push(r.rps);
      p99.get(name)!.push(r.p99Ms);
      console.log(`run ${run}  ${name}: ${r.rps.toFixed(0)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms`);
    }
  }
  const base = median(rps.get(cases[0][0])!);
  console.log("\ncase | req/s (median of rounds) | p99 ms | ratio to /data/ get");
  for (const [name] of cases) {
    const m = median(rps.get(name)!);
    console.log(`${name} | ${m.toFixed(0)} | ${median(p99.get(name)!).toFixed(2)} | ${(m / base).toFixed(2)}`);
  }
} finally {
  await stopBenchNodes(nodes);
}
