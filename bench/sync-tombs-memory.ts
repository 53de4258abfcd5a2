// Memory and time of sync's tombstones (DigestState) without a node around them: lays N tombstones
// of 16-byte keys as the replica does (key as a binary string + its hash), prints heap and
// anonymous RSS per tombstone after a full GC, how long a full GC takes with them, the time to lay
// them and to expire them all in TOMB_EXPIRE_BATCH steps; then a steady churn (each round lays N/4
// and expires the oldest N/4) whose RSS should level off; then a burst among a trickle, and what
// RSS stays once the burst has expired and the trickle turned over.
// Compare two source trees by running it from each (or pass the tree's root as the argument).
// Usage: bun bench/sync-tombs-memory.ts [tree=.] [tombstones=1000000] [churn rounds=8]

import { heapStats } from "bun:jsc";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(process.argv[2] ?? ".");
const N = Number(process.argv[3] ?? 1_000_000);
const ROUNDS = Number(process.argv[4] ?? 8);
const { DigestState, bucketOfHash, keyHashOf } = await import(`${root}/src/cluster/sync/digest.ts`);
const { bytesToBinaryString } = await import(`${root}/src/store/bytes.ts`);

const anonKiB = (): number => Number(/RssAnon:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]);
const heap = (): number => heapStats().heapSize;
async function settle(): Promise<void> {
  Bun.gc(true);
  await Bun.sleep(1500); // the allocator gives freed memory back after a while
  Bun.gc(true);
}

const SLICE_MS = 84_375; // tombSliceMs of the default day
const GRACE = 86_400_000;
const key = new TextEncoder().encode("t:00000000000000"); // rewritten in place: no garbage per key
function lay(d: InstanceType<typeof DigestState>, i: number, at: number): void {
  for (let j = 15, x = i; j >= 2; j--, x = Math.floor(x / 10)) key[j] = 48 + (x % 10);
  const hash = keyHashOf(key);
  d.setTomb(bucketOfHash(hash), bytesToBinaryString(key), hash, at, "10.0.0.1:7731");
}

await settle();
const heap0 = heap();
const rss0 = anonKiB();
const d = new DigestState(SLICE_MS);
const t0 = 1_800_000_000_000;
let start = performance.now();
// 1,000 a second of write time: slices of ~84k tombstones, as a node deleting 1,000 keys a second
for (let i = 0; i < N; i++) lay(d, i, t0 + i);
const layMs = performance.now() - start;
await settle();
const heapPer = (heap() - heap0) / N;
const rssPer = ((anonKiB() - rss0) * 1024) / N;
start = performance.now();
Bun.gc(true); // a full collection marks every live cell: a Map entry and key string per tombstone, or none
const gcMs = performance.now() - start;

start = performance.now();
let expired = 0;
for (let n; (n = d.expireTombs(t0 + N + GRACE)) > 0; ) expired += n;
const expireMs = performance.now() - start;
await settle();
const heapLeft = heap() - heap0;
const rssLeft = (anonKiB() - rss0) * 1024;

// Steady churn: N/4 live tombstones, each round lays N/4 more and expires the oldest N/4.
const live = N / 4;
const churn = new DigestState(SLICE_MS);
let next = 0;
for (; next < live; next++) lay(churn, next, t0 + next);
const rounds: string[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const end = next + live;
  for (; next < end; next++) lay(churn, next, t0 + next);
  churn.expireTombs(t0 + next - live - 1, Infinity);
  await settle();
  rounds.push(`${(((anonKiB() - rss0) * 1024) / 2 ** 20).toFixed(0)}`);
}

// A burst of N in one slice among a trickle of N/100 spread over 100 slices: RSS once the burst
// has expired, and once the trickle has turned over twice (expiry keeps N/100 live).
await settle();
const rssB = anonKiB(); // (the churn's digest above is still alive: measured from here)
const burst = new DigestState(SLICE_MS);
const trickleAt = (j: number): number => t0 + 10 * SLICE_MS + j * (SLICE_MS / 100);
const few = N / 100;
for (let i = 0; i < N; i++) {
  lay(burst, i, t0);
  if (i % 100 === 0) lay(burst, N + i / 100, trickleAt(i / 100));
}
burst.expireTombs(t0 + 5 * SLICE_MS, Infinity);
await settle();
const afterBurst = (anonKiB() - rssB) * 1024;
for (let j = few; j < 3 * few; j++) {
  lay(burst, N + j, trickleAt(j));
  if (j % 100 === 0) burst.expireTombs(trickleAt(j - few), Infinity);
}
await settle();
const afterTurnover = (anonKiB() - rssB) * 1024;

const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
console.log(`${root}: ${N} tombstones of 16-byte keys`);
console.log(`  heap ${heapPer.toFixed(1)} B/tombstone, anonymous RSS ${rssPer.toFixed(1)} B/tombstone`);
console.log(`  full GC with them ${gcMs.toFixed(0)} ms`);
console.log(`  lay ${layMs.toFixed(0)} ms (${((layMs * 1e6) / N).toFixed(0)} ns each), expire ${expireMs.toFixed(0)} ms (${expired} freed)`);
console.log(`  after expiry: heap +${mib(heapLeft)} MiB, anonymous RSS +${mib(rssLeft)} MiB`);
console.log(`  burst of ${N} among ${few} (count ${burst.tombCount}): RSS +${mib(afterBurst)} MiB once it expired, +${mib(afterTurnover)} MiB once the rest turned over twice`);
console.log(`  churn, ${live} live (count ${churn.tombCount}), RSS MiB after each round: ${rounds.join(" ")}`);
