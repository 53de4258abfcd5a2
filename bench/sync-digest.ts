// Issue 8: cost of anti-entropy at equilibrium with 1,000,000 keys — bytes and CPU per round
// with one peer — plus a round where one key differs, the housekeeping sweep, and the memory the
// digest adds per key. In-process (two real Keyspaces + SyncNodes joined by a loop transport), so
// the bytes are request + answer bodies; HTTP adds ~400 bytes of headers per request.
// Usage: bun run bench/sync-digest.ts [keys=1000000]   (STORE=compact for the server's CompactStore;
// the default is the reference MapStore)

import { antiEntropyRound } from "../src/cluster/sync/anti-entropy.ts";
import { SyncNode } from "../src/cluster/sync/node.ts";
import type { PeerTransport } from "../src/cluster/sync/types.ts";
import { silentLogger } from "../src/log/logger.ts";
import { utf8 } from "../src/store/bytes.ts";
import { Keyspace } from "../src/store/keyspace.ts";
import { CompactStore } from "../src/store/compact-store.ts";
import { MapStore } from "../src/store/map-store.ts";
import { systemClock } from "../src/store/types.ts";

const KEYS = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = 50;
const responders = new Map<string, SyncNode>();
let bytes = 0;
let requests = 0;
const transport: PeerTransport = {
  async request(peer, path, body) {
    const answer = await responders.get(peer)!.responder.answer(path, body);
    bytes += body.length + answer.length;
    requests++;
    return answer;
  },
};

function member(name: string, keyspace: Keyspace): SyncNode {
  const node = new SyncNode({ keyspace, self: () => name, peers: { list: () => [] }, transport, log: silentLogger, antiEntropyMs: 1e9, tombstoneTtlMs: 86_400_000 });
  responders.set(name, node);
  return node;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const rss = (): number => {
  Bun.gc(true);
  return process.memoryUsage().rss;
};

// Both nodes hold the same writes (same times); keys loaded before sync starts are seeded into
// the digest, which is also how the digest's memory is measured.
const value = utf8("v".repeat(32));
const now = Date.now();
const rss0 = rss();
const stores = [0, 1].map(() => {
  const keyspace = new Keyspace(process.env.STORE === "compact" ? new CompactStore(systemClock) : new MapStore(systemClock), systemClock);
  for (let i = 0; i < KEYS; i++) keyspace.set(utf8(`key:${String(i).padStart(7, "0")}`), value, 0, now);
  return keyspace;
});
const rss1 = rss();
let t = performance.now();
const a = { keyspace: stores[0]!, node: member("127.0.0.1:7001", stores[0]!) };
const seedMs = performance.now() - t;
const rss2 = rss();
const b = { keyspace: stores[1]!, node: member("127.0.0.1:7002", stores[1]!) };
console.log(`${KEYS} keys (32-byte values) on each of two nodes, ${process.env.STORE === "compact" ? "CompactStore" : "MapStore"}`);
console.log(
  `memory: store ${((rss1 - rss0) / 2 / KEYS).toFixed(0)} B/key RSS; the sync digest adds ${((rss2 - rss1) / KEYS).toFixed(0)} B/key; seeding it from the store took ${(seedMs / 1000).toFixed(2)} s`,
);

const limits = { tombTtlMs: 86_400_000, pushBytes: 1 << 20, confirm: async () => {} };
// equilibrium: roots equal
bytes = 0;
requests = 0;
let c0 = cpuMs();
t = performance.now();
for (let r = 0; r < ROUNDS; r++) {
  const result = await antiEntropyRound(a.node.replica, transport, "127.0.0.1:7002", limits);
  if (!result.equal) throw new Error("not at equilibrium");
}
console.log(
  `equilibrium round: ${(bytes / ROUNDS).toFixed(0)} bytes in ${requests / ROUNDS} request, CPU ${((cpuMs() - c0) / ROUNDS).toFixed(3)} ms (both sides), wall ${((performance.now() - t) / ROUNDS).toFixed(3)} ms`,
);

// one key differs: two digest exchanges with all bucket hashes, one bucket listed, one fetch
/** One anti-entropy round of b against a: what it cost in bytes, requests, CPU and wall time. */
async function repairRound() {
  bytes = 0;
  requests = 0;
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const result = await antiEntropyRound(b.node.replica, transport, "127.0.0.1:7001", limits);
  return { result, bytes, requests, cpuMs: cpuMs() - cpu0, wallMs: performance.now() - t0 };
}

a.keyspace.set(utf8("key:0000001"), utf8("changed"));
const one = await repairRound();
console.log(
  `one key differs: ${one.bytes} bytes in ${one.requests} requests (differing buckets ${one.result.differingBuckets}, pulled ${one.result.pulled}), CPU ${one.cpuMs.toFixed(1)} ms, wall ${one.wallMs.toFixed(1)} ms`,
);

// many keys differ (1 in 100, every bucket): all 4096 buckets listed in 32 listings per side
const changed = Math.floor(KEYS / 100);
for (let i = 0; i < changed; i++) a.keyspace.set(utf8(`key:${String(i * 100).padStart(7, "0")}`), utf8("changed again"));
const many = await repairRound();
console.log(
  `${changed} keys differ: ${(many.bytes / 1e6).toFixed(1)} MB in ${many.requests} requests (differing buckets ${many.result.differingBuckets}, pulled ${many.result.pulled}), CPU ${many.cpuMs.toFixed(0)} ms, wall ${many.wallMs.toFixed(0)} ms`,
);

// housekeeping: the expired-key sweep of 16 buckets every 250 ms
c0 = cpuMs();
for (let i = 0; i < 256; i++) a.node.replica.sweep(16);
console.log(`housekeeping sweep: ${((cpuMs() - c0) / 256).toFixed(3)} ms CPU per 250 ms tick (${(((cpuMs() - c0) / 256) * 4).toFixed(2)} ms/s)`);
process.exit(0);
