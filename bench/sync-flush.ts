// A peer's flush at a million keys (Replica.applyFlush, src/cluster/sync/flush-sweep.ts): the
// fast path (a flush newer than everything held: all at once), the sliced sweep (one key newer
// than the flush: every other key deleted by slices, with a turn of the event loop between them)
// and, for comparison, the one-shot pass it replaced (test/sync/flush-at-once.ts). 1M keys of 16
// bytes with 32-byte values on a CompactStore, 100k tombstones beside them. Then what the read
// path pays for hiding what a sweep covers: Keyspace.read against Keyspace.readStored (the read
// as it was), interleaved, best of many rounds.
// Usage: bun run bench/sync-flush.ts [runs=3] [keys=1000000]

import { Replica } from "../src/cluster/sync/replica.ts";
import { CompactStore } from "../src/store/compact-store.ts";
import { Keyspace } from "../src/store/keyspace.ts";
import { ManualClock, type ValueRef } from "../src/store/types.ts";
import { flushAtOnce } from "../test/sync/flush-at-once.ts";

const RUNS = Number(process.argv[2] ?? 3);
const KEYS = Number(process.argv[3] ?? 1_000_000);
const TOMBS = Math.floor(KEYS / 10);
const NOW = 1_800_000_000_000;
const enc = new TextEncoder();
// (made as needed, not kept: a million live Uint8Arrays would make every GC in the sweep mark them)
const keyOf = (i: number): Uint8Array => enc.encode(`key:${String(i).padStart(12, "0")}`);
const value = enc.encode("v".repeat(32));
const sink = { put: () => {}, del: () => {}, flush: () => {} };

/** KEYS keys and TOMBS tombstones, all written before NOW; `late`: one key written after. */
function build(late: boolean) {
  const clock = new ManualClock(NOW + 1_000);
  const keyspace = new Keyspace(new CompactStore(clock), clock);
  const replica = new Replica(keyspace, () => "127.0.0.1:7721", 86_400_000, sink);
  for (let i = 0; i < KEYS + TOMBS; i++) keyspace.set(keyOf(i), value, 0, NOW - 1 - (i % 1000));
  for (let i = KEYS; i < KEYS + TOMBS; i++) keyspace.delete(keyOf(i), NOW - 1);
  if (late) keyspace.set(enc.encode("late"), value, 0, NOW + 1);
  Bun.gc(true);
  return { keyspace, replica };
}

const watermark = { at: NOW, origin: "127.0.0.1:7731" };
const ms = (x: number): string => x.toFixed(1);
const quantile = (xs: number[], q: number): number => xs.toSorted((a, b) => a - b)[Math.floor((xs.length - 1) * q)]!;

for (let run = 1; run <= RUNS; run++) {
  {
    const { keyspace, replica } = build(false);
    const t = performance.now();
    replica.applyFlush(watermark);
    console.log(`run ${run} fast path: ${ms(performance.now() - t)} ms (keys left ${keyspace.store.size}, tombstones ${replica.digest.tombCount})`);
  }
  {
    const { keyspace, replica } = build(true);
    const slices: number[] = [];
    let counted = 0;
    replica.flushSweep.onSlice = (count, took) => {
      slices.push(took);
      counted += count;
    };
    const t = performance.now();
    replica.applyFlush(watermark);
    await replica.flushSweep.idle();
    const wall = performance.now() - t;
    const busy = slices.reduce((a, b) => a + b, 0);
    console.log(
      `run ${run} sliced: ${slices.length} slices, median ${ms(quantile(slices, 0.5))} ms, p99 ${ms(quantile(slices, 0.99))} ms, max ${ms(Math.max(...slices))} ms, ` +
        `${ms(busy)} ms in slices, ${ms(wall)} ms wall, ${Math.round(counted / slices.length)} keys/slice (keys left ${keyspace.store.size}, tombstones ${replica.digest.tombCount})`,
    );
  }
  {
    const { keyspace, replica } = build(true);
    const t = performance.now();
    flushAtOnce(replica, watermark);
    console.log(`run ${run} one-shot (before): ${ms(performance.now() - t)} ms in one turn (keys left ${keyspace.store.size}, tombstones ${replica.digest.tombCount})`);
  }
}

// The read path: the check that hides what a sweep covers, against the read without it.
{
  const clock = new ManualClock(NOW);
  const keyspace = new Keyspace(new CompactStore(clock), clock);
  const n = 100_000;
  const keys = Array.from({ length: n }, (_, i) => keyOf(i));
  for (let i = 0; i < n; i++) keyspace.set(keys[i]!, value, 0, NOW);
  const ref: ValueRef = { bytes: new Uint8Array(0), start: 0, length: 0, writtenAt: 0, expiresAt: 0 };
  const reads: Record<string, () => number> = {
    "Keyspace.read (hides what a sweep covers)": () => {
      let found = 0;
      for (let i = 0; i < n; i++) if (keyspace.read(keys[i]!, ref)) found++;
      return found;
    },
    "Keyspace.readStored (the read before)": () => {
      let found = 0;
      for (let i = 0; i < n; i++) if (keyspace.readStored(keys[i]!, ref)) found++;
      return found;
    },
  };
  const best: Record<string, number> = {};
  for (let round = 0; round < 100; round++) {
    for (const [name, read] of Object.entries(reads)) {
      const t = performance.now();
      read();
      best[name] = Math.min(best[name] ?? Infinity, ((performance.now() - t) / n) * 1e6);
    }
  }
  for (const [name, ns] of Object.entries(best)) console.log(`${name}: ${ns.toFixed(1)} ns a hit (best of 100 rounds of ${n})`);
}
