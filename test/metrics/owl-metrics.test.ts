// /metrics content: the owl_* families read the engine, store and read-through at scrape time.

import { testAuthenticator } from "../ops/auth.ts";
import { expect, test } from "bun:test";
import { Engine } from "../../src/commands/engine.ts";
import type { Session } from "../../src/commands/spec.ts";
import { commandTable } from "../../src/commands/table.ts";
import { EventLoopLag } from "../../src/metrics/event-loop-lag.ts";
import { registerOwlMetrics } from "../../src/metrics/owl-metrics.ts";
import { Metrics } from "../../src/metrics/registry.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock } from "../../src/store/types.ts";
import { parseExposition } from "./exposition.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function node() {
  const clock = new ManualClock(1_800_000_000_000);
  const db = new Keyspace(new MapStore(clock), clock);
  const engine = new Engine({ table: commandTable, db, limits: { maxKeyBytes: 4096, maxValueBytes: 1 << 20 }, auth: testAuthenticator() });
  const metrics = new Metrics();
  const lag = new EventLoopLag();
  const owl = registerOwlMetrics(metrics, { engine, store: db.store, lag, version: "9.9.9", startedAt: clock.now() - 5000, now: () => clock.now() });
  const session = (transport: Session["transport"]): Session => ({ dialect: "owl", transport, client: "127.0.0.1", canRead: true, canWrite: true });
  const run = (transport: Session["transport"], name: string, ...args: string[]) => engine.execute(session(transport), engine.lookup("owl", name), name, args.map(enc));
  const scrape = async () => parseExposition(await metrics.render());
  return { clock, db, engine, metrics, owl, run, scrape };
}

test("metrics - commands are counted by name and transport, hits and misses by get", async () => {
  const n = node();
  n.run("tcp", "set", "a", "1");
  n.run("tcp", "get", "a");
  n.run("http", "get", "a");
  n.run("http", "get", "missing");
  n.run("tcp", "exist", "a");
  const m = await n.scrape();
  expect(m.types.get("owl_commands_total")).toBe("counter");
  expect(m.value("owl_commands_total", { command: "set", transport: "tcp" })).toBe(1);
  expect(m.value("owl_commands_total", { command: "get", transport: "tcp" })).toBe(1);
  expect(m.value("owl_commands_total", { command: "get", transport: "http" })).toBe(2);
  expect(m.value("owl_commands_total", { command: "delete", transport: "tcp" })).toBeUndefined();
  expect(m.value("owl_keyspace_hits_total")).toBe(2);
  expect(m.value("owl_keyspace_misses_total")).toBe(1);
  n.run("tcp", "get", "a");
  expect((await n.scrape()).value("owl_commands_total", { command: "get", transport: "tcp" })).toBe(2);
  expect(n.engine.calls.get("get")).toBe(4); // the summed view other code reads
});

test("metrics - keys, bytes, expired and evicted keys come from the store", async () => {
  const n = node();
  n.run("tcp", "set", "k1", "hello");
  n.run("tcp", "set", "k2", "x");
  n.db.set(enc("short"), enc("v"), n.clock.now() + 1000);
  let m = await n.scrape();
  expect(m.value("owl_keys")).toBe(3);
  expect(m.value("owl_memory_used_bytes")).toBe(2 + 5 + 2 + 1 + 5 + 1);
  n.clock.tick(1500);
  n.db.store.advance(n.clock.now());
  m = await n.scrape();
  expect(m.value("owl_keys")).toBe(2);
  expect(m.value("owl_expired_keys_total")).toBe(1);
  expect(m.value("owl_evicted_keys_total")).toBe(0);
  expect(m.value("owl_uptime_seconds")).toBe(6.5);
  expect(m.value("owl_build_info", { version: "9.9.9" })).toBe(1);
});

test("metrics - other parts push auth failures, peer failures, snapshots and connections", async () => {
  const n = node();
  let open = 3;
  n.owl.addConnections("tcp", () => open);
  n.owl.authFailures.inc({ reason: "token" });
  n.owl.peerFailures.inc({ peer: "127.0.0.1:7723" }, 2);
  let m = await n.scrape();
  expect(m.value("owl_snapshot_age_seconds")).toBe(5); // since the start, like Redis's LASTSAVE
  expect(m.value("owl_snapshot_last_success_timestamp_seconds")).toBe(0);
  n.owl.recordSnapshot({ ok: true, durationMs: 250, bytes: 4096, at: n.clock.now() - 10_000 });
  n.owl.recordSnapshot({ ok: false, durationMs: 12, bytes: 0, at: n.clock.now() });
  open = 1;
  m = await n.scrape();
  expect(m.value("owl_connections", { transport: "tcp" })).toBe(1);
  expect(m.value("owl_auth_failures_total", { reason: "token" })).toBe(1);
  expect(m.value("owl_peer_failures_total", { peer: "127.0.0.1:7723" })).toBe(2);
  expect(m.value("owl_snapshots_total", { result: "ok" })).toBe(1);
  expect(m.value("owl_snapshots_total", { result: "failed" })).toBe(1);
  expect(m.value("owl_snapshot_age_seconds")).toBe(10);
  expect(m.value("owl_snapshot_duration_seconds")).toBe(0.012);
  expect(m.value("owl_snapshot_size_bytes")).toBe(4096);
  expect(n.metrics.counter("owl_peer_failures_total", "again")).toBe(n.owl.peerFailures); // one counter per name
});

test("metrics - process metrics and event-loop lag are exposed", async () => {
  const n = node();
  const m = await n.scrape();
  expect(m.value("process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
  expect(m.types.get("owl_event_loop_lag_seconds")).toBe("gauge");
  expect(m.value("owl_event_loop_lag_seconds")).toBe(0);
});
