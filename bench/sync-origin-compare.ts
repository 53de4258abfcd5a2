// Issue 8: what a local write costs with sync on, in process, for one or more source trees side by
// side (trees alternate in one process, so the machine's drift hits them alike):
//   git worktree add /tmp/before <commit> && taskset -c 0 bun bench/sync-origin-compare.ts /tmp/before .
// Per tree: a set without sync ("plain"), with sync and no peers (the digest's upkeep: capture,
// hashes, shares) and with two peers whose transport answers at once (plus the outbox and the
// links). Keys in write order, 500 sets per turn of the event loop. Median and best of ROUNDS
// (default 10) rounds of 300 ms, nanoseconds per set. The tree loaded first tends to come out
// ~5 % ahead: run both orders. NOPLAIN=1 skips the plain store.

import { resolve } from "node:path";
import { sideBySide } from "./side-by-side.ts";

const roots = (process.argv.length > 2 ? process.argv.slice(2) : ["."]).map((r) => resolve(r));
const enc = new TextEncoder();
const N = 100_000;
const keys = Array.from({ length: N }, (_, i) => enc.encode(`key:${String(i).padStart(7, "0")}`));
const value = enc.encode("v".repeat(32));

interface Settable {
  set(key: Uint8Array, value: Uint8Array): void;
}
const variants: [string, Settable][] = [];
for (const root of roots) {
  const { SyncNode } = await import(`${root}/src/cluster/sync/node.ts`);
  const { silentLogger } = await import(`${root}/src/log/logger.ts`);
  const { Keyspace } = await import(`${root}/src/store/keyspace.ts`);
  const { CompactStore } = await import(`${root}/src/store/compact-store.ts`);
  const { systemClock } = await import(`${root}/src/store/types.ts`);
  const synced = (peers: string[]): Settable => {
    const keyspace = new Keyspace(new CompactStore(systemClock), systemClock);
    const node = new SyncNode({
      keyspace,
      self: () => "127.0.0.1:7721",
      peers: { list: () => peers },
      transport: { request: async () => new Uint8Array() },
      log: silentLogger,
      antiEntropyMs: 1e9,
      tombstoneTtlMs: 86_400_000,
    });
    node.refreshPeers();
    return keyspace;
  };
  if (!process.env.NOPLAIN) variants.push([`${root} plain`, new Keyspace(new CompactStore(systemClock), systemClock)]);
  variants.push([`${root} sync, no peers`, synced([])], [`${root} sync, 2 peers`, synced(["127.0.0.1:7731", "127.0.0.1:7741"])]);
}

await sideBySide(
  variants.map(([name, keyspace]) => [name, (n: number) => keyspace.set(keys[n % N]!, value)]),
  { rounds: Number(process.env.ROUNDS ?? 10), ms: 300, perTurn: 500, unit: "set" },
);
process.exit(0);
