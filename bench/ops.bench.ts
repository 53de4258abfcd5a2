// mitata micro-benchmarks for issue 9: what the read-through hook and the per-transport command
// counters add to Engine.execute, and what one /metrics scrape costs.
// Run: bun bench/ops.bench.ts
import { bench, do_not_optimize, group, run } from "mitata";
import { PasswordAuthenticator } from "../src/auth/authenticator.ts";
import { AttemptThrottle } from "../src/auth/throttle.ts";
import { TokenService } from "../src/auth/tokens.ts";
import { Engine } from "../src/commands/engine.ts";
import type { KeyLoader, Session } from "../src/commands/spec.ts";
import { commandTable } from "../src/commands/table.ts";
import { silentLogger } from "../src/log/logger.ts";
import { EventLoopLag } from "../src/metrics/event-loop-lag.ts";
import { registerOwlMetrics } from "../src/metrics/owl-metrics.ts";
import { Metrics } from "../src/metrics/registry.ts";
import { Keyspace } from "../src/store/keyspace.ts";
import { MapStore } from "../src/store/map-store.ts";
import { systemClock } from "../src/store/types.ts";

const enc = new TextEncoder();
const auth = new PasswordAuthenticator(
  "bench-password-1",
  new TokenService({ secret: new Uint8Array(32), lifetimeSeconds: 0, password: "bench-password-1", clock: systemClock }),
  new AttemptThrottle(systemClock),
  silentLogger,
);
/** A loader whose backends are all skipped (down): the engine answers the miss at once. */
const downLoader: KeyLoader = { load: async () => false, available: () => false };

function engineWith(loader?: KeyLoader) {
  const db = new Keyspace(new MapStore(systemClock), systemClock);
  for (let i = 0; i < 10_000; i++) db.set(enc.encode(`key:${i}`), enc.encode("v".repeat(32)));
  return new Engine({ table: commandTable, db, limits: { maxKeyBytes: 4096, maxValueBytes: 1 << 20 }, auth, loader });
}

const session: Session = { dialect: "owl", transport: "tcp", client: "127.0.0.1", canRead: true, canWrite: true };
const hit = [enc.encode("key:42")];
const miss = [enc.encode("nope:42")];

group("Engine.execute get", () => {
  const plain = engineWith();
  const withLoader = engineWith(downLoader);
  const spec = plain.lookup("owl", "get")!;
  bench("hit, no loader", () => do_not_optimize(plain.execute(session, spec, "get", hit)));
  bench("hit, loader configured", () => do_not_optimize(withLoader.execute(session, spec, "get", hit)));
  bench("miss, no loader", () => do_not_optimize(plain.execute(session, spec, "get", miss)));
  bench("miss, loader with every backend down", () => do_not_optimize(withLoader.execute(session, spec, "get", miss)));
});

group("/metrics", () => {
  const engine = engineWith();
  const metrics = new Metrics();
  registerOwlMetrics(metrics, { engine, store: engine.db.store, lag: new EventLoopLag(), version: "bench", startedAt: Date.now(), now: Date.now });
  for (const spec of commandTable) engine.execute(session, spec, spec.name, []);
  bench("render one scrape", async () => do_not_optimize(await metrics.render()));
});

await run();
