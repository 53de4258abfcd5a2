// The operational parts wired together for main.ts: metrics families, event-loop lag, the
// ops-per-second series, the collection after bursts, the memory log and the /metrics + status
// page plugin (imported, with Elysia, only when the HTTP server first needs its routes).

import type { AnyElysia } from "elysia";
import type { Engine } from "../commands/engine.ts";
import type { ReadThroughLoader } from "../importers/read-through.ts";
import type { Logger } from "../log/logger.ts";
import { EventLoopLag } from "../metrics/event-loop-lag.ts";
import { OpsRate } from "../metrics/ops-rate.ts";
import { registerOwlMetrics, type OwlMetrics } from "../metrics/owl-metrics.ts";
import type { Metrics } from "../metrics/registry.ts";
import type { Store } from "../store/types.ts";
import { IdleCollector } from "./idle-gc.ts";
import { startMemoryLog } from "./memory-log.ts";
import { nodeStatus, totalCommands, type PeerStatus } from "./status.ts";

export interface OpsOptions {
  readonly metrics: Metrics;
  readonly engine: Engine;
  readonly store: Store;
  readonly log: Logger;
  readonly version: string;
  readonly startedAt: number;
  readonly now: () => number;
  readonly memoryLogMinutes: number;
  readonly readThrough?: ReadThroughLoader;
}

export interface Ops {
  readonly owlMetrics: OwlMetrics;
  /** builds the Elysia plugin: /metrics, /ui, /ui/status.json, / → /ui */
  readonly routes: () => Promise<AnyElysia>;
  /** this node's address for the status page, once HTTP listens */
  setAddress(address: string): void;
  /** the cluster's peers for the status page (issue 5 wires it) */
  setPeers(peers: () => readonly PeerStatus[]): void;
  /** open connections of a server, for /metrics and the status page */
  addConnections(transport: string, count: () => number): void;
  stop(): void;
}

export function startOps(options: OpsOptions): Ops {
  const { engine, store } = options;
  const lag = new EventLoopLag();
  const rate = new OpsRate(() => totalCommands(engine));
  const owlMetrics = registerOwlMetrics(options.metrics, { ...options, lag });
  const connections = new Map<string, () => number>();
  let address = "";
  let peers: () => readonly PeerStatus[] = () => [];
  const routes = async (): Promise<AnyElysia> => {
    const { opsRoutes } = await import("./routes.ts");
    return opsRoutes({
      metrics: options.metrics,
      status: () =>
        nodeStatus({
          ...options,
          rate,
          address: () => address,
          peers: () => peers(),
          connections: () => Object.fromEntries([...connections].map(([transport, count]) => [transport, count()])),
        }),
    });
  };
  const idleGc = new IdleCollector(() => totalCommands(engine));
  lag.start();
  rate.start();
  idleGc.start();
  const stopMemoryLog = startMemoryLog(store, options.log, options.memoryLogMinutes);
  return {
    owlMetrics,
    routes,
    setAddress(value) {
      address = value;
    },
    setPeers(value) {
      peers = value;
    },
    addConnections(transport, count) {
      connections.set(transport, count);
      owlMetrics.addConnections(transport, count);
    },
    stop() {
      lag.stop();
      rate.stop();
      idleGc.stop();
      stopMemoryLog();
      options.readThrough?.close();
    },
  };
}
