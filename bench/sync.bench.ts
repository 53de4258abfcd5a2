// mitata micro-benchmarks of sync's hot paths: what a write costs with sync on (digest update,
// record copies, queueing to two peers), batch encoding/decoding, and signing. Run:
// bun run bench/sync.bench.ts
import { bench, do_not_optimize, group, run } from "mitata";
import { RequestVerifier, sign } from "../src/cluster/sync/auth.ts";
import { decodeBatch, encodeBatch } from "../src/cluster/sync/codec.ts";
import { SyncNode } from "../src/cluster/sync/node.ts";
import type { SyncRecord } from "../src/cluster/sync/records.ts";
import { silentLogger } from "../src/log/logger.ts";
import { Keyspace } from "../src/store/keyspace.ts";
import { MapStore } from "../src/store/map-store.ts";
import { systemClock } from "../src/store/types.ts";

const enc = new TextEncoder();
const N = 100_000;
const keys = Array.from({ length: N }, (_, i) => enc.encode(`key:${String(i).padStart(7, "0")}`));
const value = enc.encode("v".repeat(32));

group("a set, with and without sync", () => {
  const plain = new Keyspace(new MapStore(systemClock), systemClock);
  let i = 0;
  bench("keyspace.set, no sync", () => plain.set(keys[i++ % N]!, value));
  const synced = new Keyspace(new MapStore(systemClock), systemClock);
  // two peers whose requests answer at once: the queue drains, batches are encoded and signed
  const node = new SyncNode({
    keyspace: synced,
    self: () => "127.0.0.1:7721",
    peers: { list: () => ["127.0.0.1:7731", "127.0.0.1:7741"] },
    transport: { request: async (_peer, path, body) => (sign("bench-key-0123456789", path, body, Date.now()), new Uint8Array()) },
    log: silentLogger,
    antiEntropyMs: 1e9,
    tombstoneTtlMs: 86_400_000,
  });
  node.refreshPeers();
  let j = 0;
  bench("keyspace.set, sync to 2 peers (digest + queue; batches leave on timers)", () => synced.set(keys[j++ % N]!, value));
});

group("sync batches (1024 records of 32-byte values)", () => {
  const records: SyncRecord[] = keys.slice(0, 1024).map((key) => ({ kind: "put", key, value, writtenAt: Date.now(), expiresAt: 0, origin: "127.0.0.1:7721" }));
  const body = encodeBatch(records, true);
  bench("encodeBatch", () => do_not_optimize(encodeBatch(records, true)));
  bench("decodeBatch", () => do_not_optimize(decodeBatch(body)));
  bench("sign (HMAC-SHA256)", () => do_not_optimize(sign("bench-key-0123456789", "/sync/batch", body, Date.now())));
  const verifier = new RequestVerifier("bench-key-0123456789", systemClock);
  bench("sign + verify", () => do_not_optimize(verifier.verify("/sync/batch", body, sign("bench-key-0123456789", "/sync/batch", body, Date.now()))));
});

await run();
process.exit(0);
