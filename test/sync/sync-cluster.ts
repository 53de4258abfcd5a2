// Test helper: N real owlcache nodes with GroupDataSync 1 that list each other in their gossip
// lists (added through /server/ once the ports are known; the lists are saved for restarts).

import { removeDir, startNode, type NodeProcess, type StartOptions } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";

export const AUTH_KEY = "sync-test-key-0123456789";

export interface SyncMember {
  node: NodeProcess;
  client: OwlClient;
  readonly address: string;
  readonly dir: string;
}

export interface SyncCluster {
  members: SyncMember[];
  /** kill -9 (or stop) a member and start it again on the same ports and directory */
  restart(i: number, how: "kill" | "term", before?: () => Promise<void>): Promise<void>;
  stopAll(): Promise<void>;
}

export function syncSettings(extra: Record<string, string | number> = {}): Record<string, string | number> {
  return { GroupDataSync: 1, GossipDataSyncAuthKey: AUTH_KEY, GossipAntiEntropyInterval: 1, ...extra };
}

/** The node's HTTP base URL (https when it serves HTTPS). */
export function httpBase(node: NodeProcess): string {
  return `${node.banner.includes("https://") ? "https" : "http"}://127.0.0.1:${node.httpPort}`;
}

/** Adds peers to a node's gossip list through /server/ (with a token, as an operator would). */
export async function addGossipPeers(node: NodeProcess, addresses: readonly string[]): Promise<void> {
  const tls = { rejectUnauthorized: false };
  const base = httpBase(node);
  const pass = await fetch(`${base}/data/?cmd=pass&pass=test-password-123`, { tls } as RequestInit);
  const token = String(((await pass.json()) as { Data: unknown }).Data);
  for (const address of addresses) {
    const r = await fetch(`${base}/server/`, { method: "POST", body: new URLSearchParams({ cmd: "add", group_type: "gossip", address, token }), tls } as RequestInit);
    if (r.status !== 200) throw new Error(`adding gossip peer ${address}: ${r.status} ${await r.text()}`);
  }
}

/** A free loopback port (for servers whose port 0 means "off", like Respport). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

export async function startSyncCluster(n: number, options: StartOptions = {}, perNode: (i: number) => Record<string, string | number> = () => ({})): Promise<SyncCluster> {
  const nodes = await Promise.all(
    Array.from({ length: n }, (_, i) => startNode({ ...options, set: syncSettings({ ...(options.set as Record<string, string | number>), ...perNode(i) }) })),
  );
  const members: SyncMember[] = [];
  for (const node of nodes) {
    members.push({ node, client: await OwlClient.connect(node.tcpPort), address: `127.0.0.1:${node.httpPort}`, dir: node.dir });
  }
  for (const m of members) await addGossipPeers(m.node, members.filter((o) => o !== m).map((o) => o.address));
  return {
    members,
    async restart(i, how, before) {
      const m = members[i]!;
      m.client.close();
      if (how === "kill") {
        m.node.kill(9);
        await m.node.exited;
      } else await m.node.stop();
      await before?.();
      m.node = await startNode({
        ...options,
        dir: m.dir,
        set: syncSettings({ ...(options.set as Record<string, string | number>), Httpport: m.node.httpPort, Tcpport: m.node.tcpPort }),
      });
      m.client = await OwlClient.connect(m.node.tcpPort);
    },
    async stopAll() {
      for (const m of members) {
        m.client.close();
        m.node.kill("SIGCONT");
      }
      await Promise.all(members.map((m) => m.node.stop()));
      for (const m of members) removeDir(m.dir);
    },
  };
}

/** Polls `check` until it is true or `ms` passes; returns the time it took, or -1. */
export async function waitFor(check: () => Promise<boolean> | boolean, ms: number, stepMs = 10): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > ms) return -1;
    await Bun.sleep(stepMs);
  }
}

export interface SyncStatus {
  node: string;
  keys: number;
  tombstones: number;
  root: string;
  peers: { address: string; state: string; queueDepth: number; dropped: number; lastSuccessfulSync: string | null; digest: { state: string } }[];
}

export async function syncStatus(m: SyncMember): Promise<SyncStatus> {
  return (await (await fetch(`${httpBase(m.node)}/sync/status`, { tls: { rejectUnauthorized: false } } as RequestInit)).json()) as SyncStatus;
}

/** Waits until every member links to every other (the gossip files are re-read every 250 ms). */
export async function waitLinked(cluster: SyncCluster, ms = 10_000): Promise<void> {
  const want = cluster.members.length - 1;
  const took = await waitFor(async () => {
    for (const m of cluster.members) {
      const status = await syncStatus(m);
      if (status.peers.length !== want || status.peers.some((p) => p.digest.state === "pending")) return false;
    }
    return true;
  }, ms, 50);
  if (took < 0) throw new Error("sync peers did not link");
}

/** Waits until every member's digest root is the same; returns the time it took or -1. */
export async function waitConverged(members: readonly SyncMember[], ms: number): Promise<number> {
  return waitFor(async () => {
    const roots = await Promise.all(members.map(async (m) => (await syncStatus(m)).root));
    return roots.every((r) => r === roots[0]);
  }, ms, 25);
}

/** `get` of every key on a member: value (or null) and write time. */
export async function dumpKeys(m: SyncMember, keys: readonly string[]): Promise<Record<string, [unknown, string] | null>> {
  const out: Record<string, [unknown, string] | null> = {};
  for (const key of keys) {
    const r = await m.client.call(`get ${key}`);
    out[key] = r.Status === 200 ? [r.Data, r.KeyCreateTime] : null;
  }
  return out;
}
