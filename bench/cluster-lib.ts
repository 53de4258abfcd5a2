// Shared parts of the cluster load runs: real owlcache processes (optionally pinned to a CPU),
// peer lists through /server/, and wrk runs parsed into p50/p99/requests per second.

import { removeDir, startNode, type NodeProcess } from "../test/helpers/node-process.ts";

export interface BenchNode {
  readonly node: NodeProcess;
  readonly address: string;
  readonly base: string;
  readonly token: string;
}

export async function startBenchNode(set: Record<string, string | number>, cpu?: number): Promise<BenchNode> {
  const node = await startNode({ set });
  // All threads of the process (Bun has a few) go to that CPU.
  if (cpu !== undefined) Bun.spawnSync(["taskset", "-a", "-p", "-c", String(cpu), String(node.proc.pid)], { stdout: "ignore" });
  const base = `http://127.0.0.1:${node.httpPort}`;
  const pass = (await (await fetch(`${base}/data/?cmd=pass&pass=test-password-123`)).json()) as { Data: string };
  return { node, address: `127.0.0.1:${node.httpPort}`, base, token: pass.Data };
}

export async function stopBenchNodes(nodes: readonly BenchNode[]): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      n.node.kill("SIGCONT");
      await n.node.stop();
      removeDir(n.node.dir);
    }),
  );
}

async function post(node: BenchNode, path: string, fields: Record<string, string>): Promise<{ Status: number }> {
  const r = await fetch(`${node.base}${path}`, { method: "POST", body: new URLSearchParams({ ...fields, token: node.token }) });
  return (await r.json()) as { Status: number };
}

export async function setKey(node: BenchNode, key: string, value: string): Promise<void> {
  const r = await post(node, "/data/", { cmd: "set", key, valuedata: value });
  if (r.Status !== 200) throw new Error(`set failed on ${node.address}`);
}

/** Makes `node`'s owlcache list exactly `peers`. */
export async function setPeers(node: BenchNode, peers: readonly BenchNode[]): Promise<void> {
  const all = (await (await fetch(`${node.base}/server/?cmd=getall&token=${node.token}`)).json()) as { Data: { Address: string }[] };
  for (const entry of all.Data) await post(node, "/server/", { cmd: "delete", address: entry.Address });
  for (const peer of peers) await post(node, "/server/", { cmd: "add", address: peer.address });
}

export interface WrkResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : n;
}

/** wrk pinned to CPU 1 (`taskset -c 1`), one thread, `conns` connections, with --latency. */
export async function wrk(url: string, seconds: number, conns: number, script?: string): Promise<WrkResult> {
  const args = ["taskset", "-c", "1", "wrk", "-t1", `-c${conns}`, `-d${seconds}s`, "--latency", "--timeout", "10s"];
  if (script) args.push("-s", script);
  const proc = Bun.spawn([...args, url], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const latency = (pct: string) => {
    const m = new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
    if (!m) throw new Error(`no ${pct}% in wrk output:\n${out}`);
    return toMs(m[1]!, m[2]!);
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors:.*/.exec(out)?.[0];
  if (errors) console.error(`wrk ${url}: ${errors}`);
  return { rps, p50Ms: latency("50"), p99Ms: latency("99"), non2xx };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export const fmt = (ms: number) => `${ms.toFixed(3)} ms`;
