// Every owl_* metric family in one place: what the engine, store, servers and read-through
// already count is read at scrape time; what other parts (auth, cluster, persistence) report is
// pushed through the counters and `recordSnapshot` returned here, wired in main.ts.

import type { Engine } from "../commands/engine.ts";
import type { ReadThroughLoader } from "../importers/read-through.ts";
import type { Store } from "../store/types.ts";
import type { EventLoopLag } from "./event-loop-lag.ts";
import type { Counter, Labels, Metrics } from "./registry.ts";

export interface OwlMetricSources {
  readonly engine: Engine;
  readonly store: Store;
  readonly lag: EventLoopLag;
  readonly version: string;
  /** ms since the epoch */
  readonly startedAt: number;
  readonly now: () => number;
  readonly readThrough?: ReadThroughLoader;
}

export interface SnapshotReport {
  readonly ok: boolean;
  readonly durationMs: number;
  /** size of the file written; 0 when it failed */
  readonly bytes: number;
  /** when it finished, ms since the epoch */
  readonly at: number;
}

export interface OwlMetrics {
  /** owl_auth_failures_total{reason}: password (wrong), throttled, token (bad or expired: issue 3 increments) */
  readonly authFailures: Counter;
  /** owl_peer_failures_total{peer}: a cluster request that failed or timed out (issue 5) */
  readonly peerFailures: Counter;
  /** a finished snapshot, good or bad (issue 4) */
  recordSnapshot(report: SnapshotReport): void;
  /** open connections of a server, read at scrape time (main registers each server) */
  addConnections(transport: string, count: () => number): void;
}

export const AUTH_FAILURES = "owl_auth_failures_total";

/** The auth-failure counter; main.ts needs it before the engine (and so these metrics) exist. */
export function authFailureCounter(metrics: Metrics): Counter {
  return metrics.counter(AUTH_FAILURES, "Refused authentications, by reason: password (wrong), throttled, token (bad or expired).", ["reason"]);
}

export function registerOwlMetrics(metrics: Metrics, sources: OwlMetricSources): OwlMetrics {
  const { engine, store, lag, readThrough } = sources;

  metrics.pulledGauge("owl_build_info", "Version of this owlcache node (always 1).", ["version"], () => [[{ version: sources.version }, 1]]);
  metrics.pulledGauge("owl_uptime_seconds", "Seconds since this node started.", [], () => (sources.now() - sources.startedAt) / 1000);

  metrics.pulledCounter("owl_commands_total", "Commands run, by command and transport.", ["command", "transport"], function* () {
    for (const { name, counts } of engine.callsByTransport()) {
      for (const transport of ["tcp", "http", "resp"] as const) {
        if (counts[transport] > 0) yield [{ command: name, transport }, counts[transport]] as const;
      }
    }
  });
  metrics.pulledCounter("owl_keyspace_hits_total", "Key reads (get) that found the key locally.", [], () => engine.hits);
  metrics.pulledCounter("owl_keyspace_misses_total", "Key reads (get) that did not find the key locally (before read-through).", [], () => engine.misses);

  metrics.pulledGauge("owl_keys", "Keys held.", [], () => store.stats().keys);
  metrics.pulledGauge("owl_memory_used_bytes", "Bytes of keys and values held (what MaxMemory limits).", [], () => store.stats().bytes);
  metrics.pulledCounter("owl_expired_keys_total", "Keys removed because their time to live ran out.", [], () => store.stats().expired);
  metrics.pulledCounter("owl_evicted_keys_total", "Keys removed to stay under MaxMemory.", [], () => store.stats().evicted);

  const connections = new Map<string, () => number>();
  metrics.pulledGauge("owl_connections", "Open client connections, by transport.", ["transport"], () =>
    [...connections].map(([transport, count]): [Labels, number] => [{ transport }, count()]),
  );

  const authFailures = authFailureCounter(metrics);
  const peerFailures = metrics.counter("owl_peer_failures_total", "Cluster requests to a peer that failed or timed out, by peer.", ["peer"]);

  const snapshots = metrics.counter("owl_snapshots_total", "Snapshots written, by result.", ["result"]);
  let lastSnapshot: SnapshotReport | undefined;
  let lastGoodAt = 0;
  let lastGoodBytes = 0;
  metrics.pulledGauge("owl_snapshot_last_success_timestamp_seconds", "When the last good snapshot finished (0: none yet).", [], () => lastGoodAt / 1000);
  // Like Redis's LASTSAVE, the age counts from the start until the first snapshot: what was loaded
  // at start is on disk already. (prom-client shows an unset gauge as 0, so "absent" is not an option.)
  metrics.pulledGauge("owl_snapshot_age_seconds", "Seconds since the last good snapshot (since the start before the first).", [], () =>
    (sources.now() - (lastGoodAt || sources.startedAt)) / 1000,
  );
  metrics.pulledGauge("owl_snapshot_duration_seconds", "How long the last snapshot took (0: none yet).", [], () => (lastSnapshot?.durationMs ?? 0) / 1000);
  metrics.pulledGauge("owl_snapshot_size_bytes", "Size of the last good snapshot file (0: none yet).", [], () => lastGoodBytes);

  metrics.pulledGauge("owl_event_loop_lag_seconds", "How late the last event-loop timer fired (sampled every 500 ms).", [], () => lag.last / 1000);
  metrics.pulledGauge("owl_event_loop_lag_max_seconds", "Largest event-loop lag over the last 30 s.", [], () => lag.max / 1000);

  if (readThrough) {
    const perBackend = (pick: (s: ReturnType<ReadThroughLoader["stats"]>[number]) => number) => () =>
      readThrough.stats().map((s): [Labels, number] => [{ backend: s.name }, pick(s)]);
    metrics.pulledCounter("owl_readthrough_requests_total", "Read-through requests sent to a backend.", ["backend"], perBackend((s) => s.requests));
    metrics.pulledCounter("owl_readthrough_hits_total", "Read-through requests the backend answered with a value.", ["backend"], perBackend((s) => s.hits));
    metrics.pulledCounter("owl_readthrough_failures_total", "Read-through requests that failed or timed out (backend failures).", ["backend"], perBackend((s) => s.failures));
    metrics.pulledCounter("owl_readthrough_skipped_total", "Read-through requests not sent because the backend was down.", ["backend"], perBackend((s) => s.skipped));
    metrics.pulledGauge("owl_readthrough_backend_up", "1 while the backend is answering, 0 while it is skipped after failures.", ["backend"], perBackend((s) => (s.state === "down" ? 0 : 1)));
    metrics.pulledCounter("owl_readthrough_imports_total", "Values imported into the cache by read-through.", [], () => readThrough.imports);
  }

  return {
    authFailures,
    peerFailures,
    recordSnapshot(report) {
      snapshots.inc({ result: report.ok ? "ok" : "failed" });
      lastSnapshot = report;
      if (report.ok) {
        lastGoodAt = report.at;
        lastGoodBytes = report.bytes;
      }
    },
    addConnections(transport, count) {
      connections.set(transport, count);
    },
  };
}
