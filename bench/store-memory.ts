// The compact store's own memory, without a server around it: fills a CompactStore with the keys
// of the RSS target (16-byte keys, 32-byte values, half with a one-hour TTL) in this process and
// prints the growth of anonymous RSS after a full GC, beside what the store's tables account for.
// Compare two source trees by running it from each (or pass the tree's root as the argument).
// Usage: bun bench/store-memory.ts [tree=.] [keys=1000000]

import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(process.argv[2] ?? ".");
const KEYS = Number(process.argv[3] ?? 1_000_000);
const { CompactStore } = await import(`${root}/src/store/compact-store.ts`);

const anonKiB = (): number => Number(/RssAnon:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]);

Bun.gc(true);
await Bun.sleep(1500); // the allocator gives freed memory back after a while
const before = anonKiB();
const now = Date.now();
const store = new CompactStore({ now: () => now });
const value = new Uint8Array(32).fill(118);
const key = new TextEncoder().encode("k:00000000000000"); // rewritten in place: no garbage per key
for (let i = 0; i < KEYS; i++) {
  for (let j = 15, x = i; j >= 2; j--, x = Math.floor(x / 10)) key[j] = 48 + (x % 10);
  store.set(key, value, i % 2 === 0 ? now + 3_600_000 : 0, now);
}
await Bun.sleep(3000);
Bun.gc(true);
const f = store.footprint();
console.log(
  `${root}: ${store.size} keys, anonymous RSS +${((anonKiB() - before) / 1024).toFixed(1)} MiB ` +
    `(arena ${(f.arenaBytes / 2 ** 20).toFixed(1)} MiB, ${f.indexBuckets} index buckets, ${f.slotCapacity} slot rows, ${f.timers} timers)`,
);
