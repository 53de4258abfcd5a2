// Snapshot of 1,000,000 keys (16-byte keys, 32-byte values) in-process: total time, the capture
// pause, the longest event-loop stall seen by a 1 ms timer probe, and peak RSS against RSS before.
// Also times a cold load of the written file. Usage: taskset -c 0 bun bench/persistence-snapshot.ts [keys]

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../src/log/logger.ts";
import { loadData } from "../src/persistence/loader.ts";
import { Persistence } from "../src/persistence/persistence.ts";
import { ReplayClock } from "../src/persistence/replay-clock.ts";
import { Keyspace } from "../src/store/keyspace.ts";
import { CompactStore } from "../src/store/compact-store.ts";
import { MapStore } from "../src/store/map-store.ts";
import { systemClock } from "../src/store/types.ts";

const KEYS = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "owl-snap-"));
const clock = new ReplayClock(systemClock);
// STORE=map measures the reference Map store; the default is the default store.
const keyspace = new Keyspace(process.env.STORE === "map" ? new MapStore(clock) : new CompactStore(clock), clock);
const value = new TextEncoder().encode("v".repeat(20));
for (let i = 0; i < KEYS; i++) {
  const key = new TextEncoder().encode("key:" + String(i).padStart(12, "0"));
  const v = new Uint8Array(32);
  v.set(value);
  v.set(new TextEncoder().encode(String(i).padStart(12, "0")), 20);
  keyspace.set(key, v);
}
const persistence = new Persistence({
  dir,
  keyspace,
  clock,
  engine: { onBeforeReply() {} },
  log: silentLogger,
  appendonly: false,
  appendfsync: "everysec",
  intervalMs: 3_600_000,
  repair: false,
  onFatal: () => {},
});
await persistence.open();
Bun.gc(true);
await Bun.sleep(200);

const rss = () => process.memoryUsage().rss;
/** The same probe for a second with no snapshot: the stalls the machine and GC cause anyway. */
async function idleStall(): Promise<number> {
  let last = performance.now();
  let maxGap = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  await Bun.sleep(1000);
  clearInterval(probe);
  return maxGap;
}
const results: Record<string, number>[] = [];
for (let run = 0; run < 3; run++) {
  keyspace.version++; // something changed
  const rssBefore = rss();
  let peak = rssBefore;
  let last = performance.now();
  let maxGap = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    peak = Math.max(peak, rss());
  }, 1);
  const started = performance.now();
  const result = await persistence.snapshot(false);
  const total = performance.now() - started;
  clearInterval(probe);
  peak = Math.max(peak, rss());
  const idleMs = await idleStall();
  results.push({ idleStallMs: idleMs, totalMs: total, captureMs: result!.captureMs, maxStallMs: maxGap, rssBeforeMB: rssBefore / 2 ** 20, peakRssMB: peak / 2 ** 20, rssRatio: peak / rssBefore, fileMB: result!.bytes / 2 ** 20 });
  await Bun.sleep(300);
}
const loadStore = new MapStore(clock);
const t = performance.now();
const loaded = loadData({ dir, store: loadStore, clock, repair: false });
const loadMs = performance.now() - t;
const median = (k: string) => results.map((r) => r[k]!).sort((a, b) => a - b)[1]!;
const out = Object.fromEntries(Object.keys(results[0]!).map((k) => [k, Math.round(median(k) * 100) / 100]));
console.log(JSON.stringify({ keys: KEYS, ...out, loadMs: Math.round(loadMs), loadedKeys: loaded.keys, file: statSync(join(dir, "owlcache.db")).size }));
if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true }); else console.log(dir);
process.exit(0);
