// mitata micro-benchmarks of a `set` under MaxMemory (each one evicts a sampled LRU key), in a
// dense slot table and in a sparse one (7 of 8 slots freed by deletes), where sampling works hardest;
// then with value sizes drifting and a few hot keys pinning pages, the store's tick every 1,000
// sets (where compaction runs, when the store has it).
// Run: bun run bench/store-maxmemory.bench.ts

import { bench, group, run, summary } from "mitata";
import { CompactStore } from "../src/store/compact-store.ts";
import { ManualClock } from "../src/store/types.ts";

const KEYS = 100_000;
const clock = new ManualClock();
const key = (i: number, prefix: string): Uint8Array => new TextEncoder().encode(`${prefix}:${i.toString().padStart(13, "0")}`.slice(0, 16));
const value = new Uint8Array(32).fill(118);
const fresh = Array.from({ length: 1_000_000 }, (_, i) => key(i, "n"));

/** What the end of an event-loop turn does (a synchronous loop never ends its turn). */
function endTurn(store: CompactStore, i: number): void {
  if ((i & 255) === 0) store.settle();
}

/** A store at its MaxMemory of KEYS entries, whose slot table holds `spread` slots per live key. */
function full(spread: number): CompactStore {
  const store = new CompactStore(clock, { maxMemory: KEYS * 48, seed: 1 });
  store.setEviction(false);
  for (let i = 0; i < KEYS * spread; i++) store.set(key(i, "f"), value, 0, 0);
  for (let i = 0; i < KEYS * spread; i++) if (i % spread !== 0) store.delete(key(i, "f"));
  store.setEviction(true);
  store.settle();
  return store;
}

group(`set under MaxMemory (${KEYS} keys of 48 bytes, each set evicts one)`, () => {
  summary(() => {
    for (const [name, spread] of [["dense slot table", 1], ["sparse slot table (1 in 8 live)", 8]] as const) {
      const store = full(spread);
      let i = 0;
      bench(name, () => {
        store.set(fresh[i]!, value, 0, 0);
        endTurn(store, i);
        i = i + 1 === fresh.length ? 0 : i + 1;
      });
    }
  });
});

const SIZES = [3000, 1000, 300, 100];
group("set under MaxMemory 4 MiB, sizes 3000 → 1000 → 300 → 100 bytes (every 20,000 sets), 1 key in 50 kept hot, a tick every 1,000", () => {
  const store = new CompactStore(clock, { maxMemory: 4 << 20, seed: 2 });
  const values = SIZES.map((size) => new Uint8Array(size).fill(7));
  const hot: Uint8Array[] = [];
  let i = 0;
  bench("drifting sizes", () => {
    const k = fresh[i % fresh.length]!;
    store.set(k, values[Math.floor(i / 20_000) % SIZES.length]!, 0, 0);
    if (i % 50 === 0) {
      hot.push(k);
      if (hot.length > 400) hot.shift();
    }
    if ((i & 255) === 0) for (const h of hot) store.get(h);
    if (i % 1000 === 0) store.advance(0);
    endTurn(store, i);
    i++;
  });
});

const { benchmarks } = await run();
console.log("\n| set under MaxMemory | p50 | avg |\n|---|---|---|");
for (const t of benchmarks) for (const r of t.runs) console.log(`| ${t.alias} | ${r.stats?.p50.toFixed(0)} ns | ${r.stats?.avg.toFixed(0)} ns |`);
