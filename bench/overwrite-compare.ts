// The compact store's overwrite of existing keys in shuffled order (a SET load over a warm
// keyspace), for one or more source trees side by side, trees alternating in one process:
//   git worktree add /tmp/before <commit> && taskset -c 0 bun bench/overwrite-compare.ts /tmp/before .
// 100,000 keys of 16 bytes, 32-byte values; 1,000 sets per turn of the event loop (freed blocks
// are reused from the next turn, as in the server). Median and best of 12 rounds of 250 ms,
// nanoseconds per set. The tree loaded first tends to come out ahead: run both orders.

import { resolve } from "node:path";
import { sideBySide } from "./side-by-side.ts";

const roots = (process.argv.length > 2 ? process.argv.slice(2) : ["."]).map((r) => resolve(r));
const enc = new TextEncoder();
const N = 100_000;
const keys = Array.from({ length: N }, (_, i) => enc.encode(`key:${String(i).padStart(12, "0")}`));
const order = Array.from({ length: N }, (_, i) => i);
for (let i = N - 1; i > 0; i--) {
  const j = Math.floor(Math.random() * (i + 1));
  [order[i], order[j]] = [order[j]!, order[i]!];
}
const value = enc.encode("v".repeat(32));

interface RawStore {
  set(key: Uint8Array, value: Uint8Array, expiresAt: number, writtenAt: number): void;
}
const stores: [string, RawStore][] = [];
for (const root of roots) {
  const { CompactStore } = await import(`${root}/src/store/compact-store.ts`);
  const { systemClock } = await import(`${root}/src/store/types.ts`);
  const store: RawStore = new CompactStore(systemClock);
  for (let i = 0; i < N; i++) store.set(keys[i]!, value, 0, 1);
  stores.push([root, store]);
}
await sideBySide(
  stores.map(([name, store]) => [name, (n: number) => store.set(keys[order[n % N]!]!, value, 0, 2)]),
  { rounds: 12, ms: 250, perTurn: 1000, unit: "overwrite" },
);
process.exit(0);
