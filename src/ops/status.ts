// The node's status as the status page shows it: who this node is, its keys and memory, its peers,
// its connections and read-through backends, and the recent operations-per-second series.

import type { Engine } from "../commands/engine.ts";
import type { BackendStats, ReadThroughLoader } from "../importers/read-through.ts";
import type { OpsRate, RateSeries } from "../metrics/ops-rate.ts";
import type { Store } from "../store/types.ts";

export interface PeerStatus {
  readonly address: string;
  /** answered its last request */
  readonly ok: boolean;
  readonly message?: string;
}

export interface NodeStatus {
  readonly node: { readonly address: string; readonly version: string; readonly startedAt: string; readonly uptimeSeconds: number };
  readonly keys: number;
  /** bytes of keys and values held */
  readonly bytesUsed: number;
  readonly memory: { readonly rss: number; readonly heapUsed: number; readonly heapTotal: number };
  readonly connections: Readonly<Record<string, number>>;
  readonly commands: number;
  readonly hits: number;
  readonly misses: number;
  readonly peers: readonly PeerStatus[];
  readonly readThrough: readonly BackendStats[];
  readonly opsPerSecond: RateSeries;
}

export interface StatusSources {
  readonly engine: Engine;
  readonly store: Store;
  readonly rate: OpsRate;
  readonly version: string;
  /** this node's address as peers know it (ResponseHost:Httpport; known once HTTP listens) */
  readonly address: () => string;
  readonly startedAt: number;
  readonly now: () => number;
  /** the cluster's peers and whether each answers; none on a single node */
  readonly peers?: () => readonly PeerStatus[];
  readonly connections?: () => Readonly<Record<string, number>>;
  readonly readThrough?: ReadThroughLoader;
}

/** Total commands run on every transport; what the ops-per-second series is made from. */
export function totalCommands(engine: Engine): number {
  let total = 0;
  for (const { counts } of engine.callsByTransport()) total += counts.tcp + counts.http + counts.resp;
  return total;
}

export function nodeStatus(sources: StatusSources): NodeStatus {
  const { engine, store } = sources;
  const stats = store.stats();
  const memory = process.memoryUsage();
  return {
    node: {
      address: sources.address(),
      version: sources.version,
      startedAt: new Date(sources.startedAt).toISOString(),
      uptimeSeconds: Math.floor((sources.now() - sources.startedAt) / 1000),
    },
    keys: stats.keys,
    bytesUsed: stats.bytes,
    memory: { rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal },
    connections: sources.connections?.() ?? {},
    commands: totalCommands(engine),
    hits: engine.hits,
    misses: engine.misses,
    peers: sources.peers?.() ?? [],
    readThrough: sources.readThrough?.stats() ?? [],
    opsPerSecond: sources.rate.series(),
  };
}
