// Hot paths of persistence (mitata): appending a batch of writes to the log, encoding snapshot
// chunks, and decoding them. Usage: taskset -c 0 bun bench/persistence.bench.ts

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bench, do_not_optimize, run, summary } from "mitata";
import { AppendLog } from "../src/persistence/append-log.ts";
import { captureStore } from "../src/persistence/capture.ts";
import { decodeFile, SnapshotEncoder } from "../src/persistence/file-codec.ts";
import { SNAPSHOT_MAGIC } from "../src/persistence/frame.ts";
import { decodeRecords } from "../src/persistence/records.ts";
import { MapStore } from "../src/store/map-store.ts";
import { systemClock } from "../src/store/types.ts";

const dir = mkdtempSync(join(tmpdir(), "owl-bench-"));
const log = AppendLog.create(join(dir, "owlcache.aof"), 0, "no", systemClock, (e) => console.error(e), 1);
const key = new TextEncoder().encode("key:000000012345");
const value = new Uint8Array(32).fill(118);
const set = { type: "set" as const, key, value, expiresAt: 0, writtenAt: Date.now() };

const store = new MapStore(systemClock);
for (let i = 0; i < 10_000; i++) store.set(new TextEncoder().encode("key:" + String(i).padStart(12, "0")), value, 0, Date.now());
const encodeAll = (): Uint8Array => {
  const view = captureStore(store);
  const encoder = new SnapshotEncoder(view, 1, Date.now());
  const chunks: Uint8Array[] = [];
  for (let c = encoder.nextChunk(); c; c = encoder.nextChunk()) chunks.push(c.slice());
  return new Uint8Array(Buffer.concat(chunks));
};
const file = encodeAll();
const noop = { set() {}, expire() {}, delete() {}, flush() {} };

summary(() => {
  bench("append log: batch of 8 sets, one write(2)", () => {
    for (let i = 0; i < 8; i++) log.record(set);
    log.flush();
  });
  bench("snapshot: capture + encode 10k keys", () => do_not_optimize(encodeAll()));
  bench("snapshot: decode 10k records", () => decodeFile(file, SNAPSHOT_MAGIC, false, (p, c, b) => decodeRecords(p, c, b, noop, true)));
});

await run();
await log.close();
rmSync(dir, { recursive: true, force: true });
