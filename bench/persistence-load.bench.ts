// The start-up load path (mitata): decoding a snapshot of 100,000 keys (16-byte keys, 32-byte
// values) held in memory, and loading it into a fresh store record by record (`set`, the path
// MapStore takes) or in batches by position (`Store.load` after `reserve`, the CompactStore's).
// Usage: taskset -c 0 bun bench/persistence-load.bench.ts

import { bench, do_not_optimize, run, summary } from "mitata";
import { captureStore } from "../src/persistence/capture.ts";
import { decodeFile, SnapshotEncoder } from "../src/persistence/file-codec.ts";
import { SNAPSHOT_MAGIC } from "../src/persistence/frame.ts";
import { decodeRecords, type RecordVisitor } from "../src/persistence/records.ts";
import { CompactStore } from "../src/store/compact-store.ts";
import { MapStore } from "../src/store/map-store.ts";
import { systemClock, type Store } from "../src/store/types.ts";

const KEYS = 100_000;
const source = new CompactStore(systemClock);
const enc = new TextEncoder();
for (let i = 0; i < KEYS; i++) {
  source.set(enc.encode("key:" + String(i).padStart(12, "0")), enc.encode("v".repeat(20) + String(i).padStart(12, "0")), 0, Date.now());
}
const view = captureStore(source);
const encoder = new SnapshotEncoder(view, 1, Date.now());
const chunks: Uint8Array[] = [];
for (let c = encoder.nextChunk(); c; c = encoder.nextChunk()) chunks.push(c.slice());
view.release();
const file = new Uint8Array(Buffer.concat(chunks));

function load(store: Store, batched: boolean): Store {
  const visitor: RecordVisitor = {
    set: (key, value, expiresAt, writtenAt) => store.set(key, value, expiresAt, writtenAt),
    sets: batched ? (batch) => store.load!(batch) : undefined,
    expire() {},
    delete() {},
    flush() {},
  };
  if (batched) store.reserve!(KEYS);
  decodeFile(file, SNAPSHOT_MAGIC, false, (payload, count, base) => decodeRecords(payload, count, base, visitor, true));
  return store;
}

const noop: RecordVisitor = { set() {}, sets() {}, expire() {}, delete() {}, flush() {} };

summary(() => {
  bench("decode 100k records (checksums, headers; no store)", () => decodeFile(file, SNAPSHOT_MAGIC, false, (p, c, b) => decodeRecords(p, c, b, noop, true)));
  bench("MapStore: set record by record", () => do_not_optimize(load(new MapStore(systemClock), false)));
  bench("CompactStore: set record by record", () => do_not_optimize(load(new CompactStore(systemClock), false)));
  bench("CompactStore: reserve + load in batches", () => do_not_optimize(load(new CompactStore(systemClock), true)));
});

await run();
