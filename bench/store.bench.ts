// mitata micro-benchmarks of the store hot paths, MapStore (before) beside CompactStore (after):
// lookup hit and miss, insert, overwrite, delete; then the longest single write while growing.
// Run: bun run bench/store.bench.ts

import { bench, do_not_optimize, group, run, summary } from "mitata";
import { CompactStore } from "../src/store/compact-store.ts";
import { MapStore } from "../src/store/map-store.ts";
import { ManualClock, type Store } from "../src/store/types.ts";

const KEYS = 100_000;
const clock = new ManualClock();
/** 16-byte keys and 32-byte values, as the memory target uses */
const key = (i: number, prefix = "k"): Uint8Array => new TextEncoder().encode(`${prefix}:${i.toString().padStart(14 - prefix.length + 1, "0")}`.slice(0, 16));
const hits = Array.from({ length: KEYS }, (_, i) => key(i));
const misses = Array.from({ length: KEYS }, (_, i) => key(i, "m"));
const value = new Uint8Array(32).fill(118);
// Lookups in a shuffled order so that neither store is flattered by sequential access.
const order = Array.from({ length: KEYS }, (_, i) => i).sort(() => Math.random() - 0.5);

/**
 * Freed arena blocks are reused from the next event-loop turn; a synchronous benchmark loop never
 * ends its turn, so every 256 operations this does what the turn's end would do.
 */
function endTurn(store: Store, i: number): void {
  if ((i & 255) === 0 && store instanceof CompactStore) (store as unknown as { slots: { arena: { reclaim(): void } } }).slots.arena.reclaim();
}

const stores: [string, () => Store][] = [
  ["MapStore (before)", () => new MapStore(clock)],
  ["CompactStore (after)", () => new CompactStore(clock)],
];

function filled(make: () => Store): Store {
  const store = make();
  for (let i = 0; i < KEYS; i++) store.set(hits[i]!, value, i % 2 ? clock.now() + 3_600_000 : 0, clock.now());
  return store;
}

for (const [what, keys] of [["lookup hit", hits], ["lookup miss", misses]] as const) {
  group(`${what} (${KEYS} keys)`, () => {
    summary(() => {
      for (const [name, make] of stores) {
        const store = filled(make);
        let i = 0;
        bench(name, () => {
          do_not_optimize(store.get(keys[order[i]!]!));
          i = i + 1 === KEYS ? 0 : i + 1;
        });
      }
    });
  });
}

group("insert (new 16-byte key, 32-byte value)", () => {
  summary(() => {
    for (const [name, make] of stores) {
      const fresh = Array.from({ length: 1_000_000 }, (_, i) => key(i, "n"));
      let store = make();
      let i = 0;
      bench(name, () => {
        store.set(fresh[i]!, value, 0, 0);
        endTurn(store, i);
        if (++i === fresh.length) {
          store = make();
          i = 0;
        }
      });
    }
  });
});

group("overwrite (existing key)", () => {
  summary(() => {
    for (const [name, make] of stores) {
      const store = filled(make);
      let i = 0;
      bench(name, () => {
        store.set(hits[order[i]!]!, value, 0, 0);
        endTurn(store, i);
        i = i + 1 === KEYS ? 0 : i + 1;
      });
    }
  });
});

group("delete (then re-insert, as a pair)", () => {
  summary(() => {
    for (const [name, make] of stores) {
      const store = filled(make);
      let i = 0;
      bench(name, () => {
        const k = hits[order[i]!]!;
        store.delete(k);
        store.set(k, value, 0, 0);
        endTurn(store, i);
        i = i + 1 === KEYS ? 0 : i + 1;
      });
    }
  });
});

// A pipelined chunk's lookups: 16 shuffled keys laid out back to back, looked up one after
// another as the servers do, without and with CompactStore.prefetch first (ns per 16 lookups).
group("16 pipelined lookups (shuffled keys), CompactStore", () => {
  summary(() => {
    const store = filled(() => new CompactStore(clock)) as CompactStore;
    const chunks: Uint8Array[] = [];
    for (let c = 0; c + 16 <= KEYS; c += 16) {
      const chunk = new Uint8Array(16 * 16);
      for (let j = 0; j < 16; j++) chunk.set(hits[order[c + j]!]!, 16 * j);
      chunks.push(chunk);
    }
    const at = Int32Array.from({ length: 32 }, (_, i) => 16 * (i >> 1) + (i & 1) * 16);
    for (const prefetch of [false, true]) {
      let c = 0;
      bench(prefetch ? "with prefetch" : "without prefetch", () => {
        const chunk = chunks[c]!;
        if (prefetch) store.prefetch(chunk, at, 16);
        for (let j = 0; j < 16; j++) do_not_optimize(store.get(chunk.subarray(16 * j, 16 * j + 16)));
        c = c + 1 === chunks.length ? 0 : c + 1;
      });
    }
  });
});

// The machine is shared and noisy: the table uses medians (p50), which preemption skews least.
const { benchmarks } = await run();
console.log("\n| operation | MapStore p50 | CompactStore p50 | ratio |\n|---|---|---|---|");
const groups = ["lookup hit", "lookup miss", "insert", "overwrite", "delete"];
const p50s = benchmarks.flatMap((t) => t.runs.map((r) => [t.alias, r.stats?.p50 ?? NaN] as const));
for (let g = 0; g < groups.length; g++) {
  const before = p50s[2 * g]?.[1] ?? NaN;
  const after = p50s[2 * g + 1]?.[1] ?? NaN;
  console.log(`| ${groups[g]} | ${before.toFixed(0)} ns | ${after.toFixed(0)} ns | ${(before / after).toFixed(2)}× |`);
}

const pipelined = p50s.slice(2 * groups.length);
console.log(`\n16 pipelined lookups (shuffled): ${pipelined[0]?.[1].toFixed(0)} ns without prefetch, ${pipelined[1]?.[1].toFixed(0)} ns with`);

// Growth: the longest single `set` while each store grows to 1.5 M keys (the Map rehashes all at
// once; the compact index migrates 64 buckets per operation, its slot columns copy once per doubling).
console.log("\n| growing to 1.5 M keys | longest single set | total |\n|---|---|---|");
for (const [name, make] of stores) {
  const store = make();
  const keys = Array.from({ length: 1_500_000 }, (_, i) => key(i, "g"));
  let longest = 0;
  const start = performance.now();
  for (const k of keys) {
    const t = performance.now();
    store.set(k, value, 0, 0);
    longest = Math.max(longest, performance.now() - t);
  }
  console.log(`| ${name} | ${longest.toFixed(2)} ms | ${(performance.now() - start).toFixed(0)} ms |`);
}
