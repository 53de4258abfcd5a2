// Sync's tombstones through a real Replica: 1M keys set in a CompactStore and deleted (each delete
// lays a tombstone), then how long a snapshot takes to walk them (captureTombs, part by part, as
// with Appendonly 1) and to hold them in its capture pause (walkedNow, as with Appendonly 0).
// Compare two source trees by running it from each (or pass the tree's root as the argument).
// Usage: bun bench/sync-tombs-snapshot.ts [tree=.] [keys=1000000]

import { resolve } from "node:path";

const root = resolve(process.argv[2] ?? ".");
const N = Number(process.argv[3] ?? 1_000_000);
const { Replica } = await import(`${root}/src/cluster/sync/replica.ts`);
const { Keyspace } = await import(`${root}/src/store/keyspace.ts`);
const { CompactStore } = await import(`${root}/src/store/compact-store.ts`);
const { walkedNow } = await import(`${root}/src/persistence/tombs.ts`);

let now = 1_800_000_000_000;
const clock = { now: () => now };
const keyspace = new Keyspace(new CompactStore(clock), clock);
const replica = new Replica(keyspace, () => "10.0.0.1:7731", 86_400_000, { put() {}, del() {}, flush() {} });
const key = new TextEncoder().encode("t:00000000000000"); // rewritten in place: no garbage per key
const value = new Uint8Array(32).fill(118);
const keyOf = (i: number): Uint8Array => {
  for (let j = 15, x = i; j >= 2; j--, x = Math.floor(x / 10)) key[j] = 48 + (x % 10);
  return key;
};
for (let i = 0; i < N; i++) keyspace.set(keyOf(i), value, 0, now++);
let start = performance.now();
for (let i = 0; i < N; i++) keyspace.delete(keyOf(i), now++);
console.log(`${root}: ${replica.digest.tombCount} tombstones laid by deletes in ${(performance.now() - start).toFixed(0)} ms`);
Bun.gc(true);

for (let round = 0; round < 3; round++) {
  let seen = 0;
  start = performance.now();
  const capture = replica.captureTombs();
  while (capture.more(() => seen++));
  const walkMs = performance.now() - start;
  start = performance.now();
  const held = walkedNow(replica.captureTombs());
  const pauseMs = performance.now() - start;
  while (held.more(() => seen++));
  console.log(`  walk ${walkMs.toFixed(0)} ms, walkedNow pause ${pauseMs.toFixed(0)} ms (${seen / 2} each)`);
}
