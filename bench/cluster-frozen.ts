// Group reads with one peer frozen (SIGSTOP): once its breaker has tripped, p99 over 30 s must
// stay within 1.1× a healthy cluster's. Run: bun run bench/cluster-frozen.ts [seconds] [runs]
// The machine is shared and noisy, so both clusters are measured at the same time, side by side:
// asker H reads from two healthy peers, asker F from one healthy peer and one frozen one. Both
// askers are pinned to CPU 0, both wrk processes (4 connections each) to CPU 1; peers are not
// pinned. Default timeouts (HttpClientRequestTimeout 2700 ms, 2 failures, 2 s sleep), answer
// cache off so that every read fans out.

import { median, setKey, setPeers, startBenchNode, stopBenchNodes, wrk, type BenchNode } from "./cluster-lib.ts";

const seconds = Number(process.argv[2] ?? 30);
const runs = Number(process.argv[3] ?? 3);
const CONNS = 4;

const nodes: BenchNode[] = [];
try {
  const settings = { HttpClientRequestLocalCacheLifeTime: 0 };
  const [healthyAsker, frozenAsker, shared, second, frozen] = await Promise.all([
    startBenchNode(settings, 0),
    startBenchNode(settings, 0),
    startBenchNode(settings),
    startBenchNode(settings),
    startBenchNode(settings),
  ]);
  nodes.push(healthyAsker!, frozenAsker!, shared!, second!, frozen!);
  for (const n of nodes) await setKey(n, "k", `value on ${n.address}`);
  await setPeers(healthyAsker!, [shared!, second!]);
  await setPeers(frozenAsker!, [shared!, frozen!]);
  const healthyUrl = `${healthyAsker!.base}/group_data/?cmd=get&key=k`;
  const frozenUrl = `${frozenAsker!.base}/group_data/?cmd=get&key=k`;
  await Promise.all([wrk(healthyUrl, 2, CONNS), wrk(frozenUrl, 2, CONNS)]); // warm-up

  frozen!.node.kill("SIGSTOP");
  // Trip the breaker: HttpClient_Request_Max_Error_Number (2) timeouts in a row.
  for (let i = 0; i < 2; i++) await fetch(frozenUrl);
  const answer = (await (await fetch(frozenUrl)).json()) as { Data: { Status: number; Message?: string }[] };
  if (!answer.Data.some((e) => e.Message?.startsWith("skipped"))) throw new Error("breaker did not trip");

  const ratios: number[] = [];
  const healthyP99: number[] = [];
  const frozenP99: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const [h, f] = await Promise.all([wrk(healthyUrl, seconds, CONNS), wrk(frozenUrl, seconds, CONNS)]);
    healthyP99.push(h.p99Ms);
    frozenP99.push(f.p99Ms);
    ratios.push(f.p99Ms / h.p99Ms);
    console.log(
      `run ${run}  healthy p99 ${h.p99Ms.toFixed(2)} ms p50 ${h.p50Ms.toFixed(2)} ms (${h.rps.toFixed(0)} req/s)  ` +
        `one frozen p99 ${f.p99Ms.toFixed(2)} ms p50 ${f.p50Ms.toFixed(2)} ms (${f.rps.toFixed(0)} req/s)  ratio ${(f.p99Ms / h.p99Ms).toFixed(2)}`,
    );
  }
  console.log(`\nmedian p99: healthy ${median(healthyP99).toFixed(2)} ms, one peer frozen ${median(frozenP99).toFixed(2)} ms; median ratio ${median(ratios).toFixed(2)}`);
} finally {
  await stopBenchNodes(nodes);
}
