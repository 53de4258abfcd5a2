// An engine, store, metrics and status source wired as main.ts wires them, for the ops tests.

import { testAuthenticator } from "./auth.ts";
import { Engine } from "../../src/commands/engine.ts";
import type { Session } from "../../src/commands/spec.ts";
import { commandTable } from "../../src/commands/table.ts";
import { EventLoopLag } from "../../src/metrics/event-loop-lag.ts";
import { OpsRate } from "../../src/metrics/ops-rate.ts";
import { registerOwlMetrics } from "../../src/metrics/owl-metrics.ts";
import { Metrics } from "../../src/metrics/registry.ts";
import { nodeStatus, totalCommands, type PeerStatus } from "../../src/ops/status.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { systemClock } from "../../src/store/types.ts";

export function opsNode(peers: PeerStatus[] = []) {
  const db = new Keyspace(new MapStore(systemClock), systemClock);
  const engine = new Engine({ table: commandTable, db, limits: { maxKeyBytes: 4096, maxValueBytes: 1 << 20 }, auth: testAuthenticator() });
  const metrics = new Metrics();
  const startedAt = Date.now() - 65_000;
  registerOwlMetrics(metrics, { engine, store: db.store, lag: new EventLoopLag(), version: "0.1.0", startedAt, now: Date.now });
  const rate = new OpsRate(() => totalCommands(engine));
  const status = () => nodeStatus({ engine, store: db.store, rate, version: "0.1.0", address: () => "127.0.0.1:7721", startedAt, now: Date.now, peers: () => peers });
  const session: Session = { dialect: "owl", transport: "http", client: "127.0.0.1", canRead: true, canWrite: true };
  const run = (name: string, ...args: string[]) => engine.execute(session, engine.lookup("owl", name), name, args.map((a) => new TextEncoder().encode(a)));
  return { db, engine, metrics, rate, status, run };
}
