// The loader's bulk path: set records handed over in batches by position (RecordVisitor.sets,
// Store.load) must leave a store exactly as `set` one record at a time does, in the same order
// relative to the other records, and damage must still stop at the same offset.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOG_FILE } from "../../src/persistence/append-log.ts";
import { END_BLOCK_BYTES, SnapshotEncoder, statedRecordCount } from "../../src/persistence/file-codec.ts";
import { encodeFileHeader, FormatError, LOG_MAGIC } from "../../src/persistence/frame.ts";
import { loadData, SNAPSHOT_FILE } from "../../src/persistence/loader.ts";
import { BATCH_RECORDS, BlockWriter, decodeRecords, type RecordVisitor } from "../../src/persistence/records.ts";
import { ReplayClock } from "../../src/persistence/replay-clock.ts";
import { bytesToBinaryString } from "../../src/store/bytes.ts";
import { PAGE_BYTES } from "../../src/store/arena.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock, type LoadBatch, type Store } from "../../src/store/types.ts";
import { dec, enc } from "./helpers.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const NOW = 1_800_000_000_000;

function contents(store: Store): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, view] of store.entries()) out.set(bytesToBinaryString(key), `${Buffer.from(view.value).toString("hex")} ${view.expiresAt} ${view.writtenAt}`);
  return out;
}

/** A snapshot of `source` and one append log after it, written into a fresh data directory. */
function dataDir(source: Store, log: (w: BlockWriter) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "owl-bulk-"));
  dirs.push(dir);
  const encoder = new SnapshotEncoder(source.snapshot!(), 1, NOW);
  const chunks: Uint8Array[] = [];
  for (let c = encoder.nextChunk(); c; c = encoder.nextChunk()) chunks.push(c.slice());
  writeFileSync(join(dir, SNAPSHOT_FILE), Buffer.concat(chunks));
  const w = new BlockWriter();
  log(w);
  writeFileSync(join(dir, LOG_FILE), Buffer.concat([encodeFileHeader(LOG_MAGIC, 1, NOW), w.sealed()]));
  return dir;
}

function load(dir: string, store: Store, clock: ReplayClock) {
  return loadData({ dir, store, clock, repair: false });
}

describe("bulk load", () => {
  test("load - replaying a log that rewrites the same keys reuses the memory it frees: the arena holds about the live data, not every record replayed", () => {
    // 1,000 keys of 1,000 bytes, rewritten 40 times over as many log blocks (group commits), a
    // tenth deleted and set again in each: 40 MB of records for 1 MB of live data.
    const source = new CompactStore(new ManualClock(NOW), { seed: 3 });
    for (let i = 0; i < 1000; i++) source.set(enc(`key:${i}`), new Uint8Array(1000), 0, NOW);
    const dir = dataDir(source, (w) => {
      for (let round = 1; round <= 40; round++) {
        w.beginBlock(NOW + round);
        for (let i = 0; i < 1000; i++) {
          if (i % 10 === round % 10) w.delete(enc(`key:${i}`), NOW + round);
          w.set(enc(`key:${i}`), new Uint8Array(1000).fill(round), 0, NOW + round);
        }
        w.sealBlock();
      }
    });
    for (const maxMemory of [0, 1 << 30]) {
      const clock = new ReplayClock(new ManualClock(NOW + 1000));
      const store = new CompactStore(clock, { seed: 3, maxMemory });
      expect(load(dir, store, clock).keys).toBe(1000);
      expect(store.get(enc("key:7"))!.value).toEqual(new Uint8Array(1000).fill(40));
      // 1 MB live; a page or two more for the blocks freed by the block being replayed
      expect(store.footprint().arenaBytes).toBeLessThanOrEqual(4 * PAGE_BYTES);
    }
  });

  test("load - a CompactStore loaded in batches holds what a MapStore loaded record by record holds", () => {
    const source = new CompactStore(new ManualClock(NOW), { seed: 1 });
    for (let i = 0; i < 5000; i++) {
      const value = new Uint8Array(i % 7 === 0 ? 100 + (i % 300) : i % 40).fill(i & 0xff);
      // a third with a TTL, some of them already past at load time
      const expiresAt = i % 3 === 0 ? NOW + (i % 2 === 0 ? 60_000 : 10) : 0;
      source.set(enc(`key:${i}`), value, expiresAt, NOW - i);
    }
    source.set(new Uint8Array(70).fill(7), enc("a key longer than the reused arrays"), 0, NOW);
    const dir = dataDir(source, (w) => {
      w.beginBlock(NOW + 1);
      for (let i = 0; i < 3 * BATCH_RECORDS; i++) w.set(enc(`key:${i}`), enc(`new ${i}`), 0, NOW + 1); // overwrites
      w.delete(enc("key:5"), NOW + 1);
      w.set(enc("key:5"), enc("back"), 0, NOW + 1); // a set after a delete in the same block
      w.expire(enc("key:6"), NOW + 90_000, NOW + 1);
      w.set(enc("key:6"), enc("set again: no TTL"), 0, NOW + 1);
      w.sealBlock();
      w.beginBlock(NOW + 2);
      w.set(enc("before flush"), enc("x"), 0, NOW + 2);
      w.flush(NOW + 2);
      for (let i = 0; i < 2000; i++) w.set(enc(`after:${i}`), enc(`v${i}`), i % 2 === 0 ? NOW + 100_000 : 0, NOW + 2);
      w.sealBlock();
    });
    const now = NOW + 1000;
    const mapClock = new ReplayClock(new ManualClock(now));
    const map = new MapStore(mapClock);
    const expected = load(dir, map, mapClock);
    const compactClock = new ReplayClock(new ManualClock(now));
    const compact = new CompactStore(compactClock);
    let batches = 0;
    const loadBatch = compact.load.bind(compact);
    compact.load = (batch: LoadBatch) => (batches++, loadBatch(batch));
    const result = load(dir, compact, compactClock);
    expect(batches).toBeGreaterThan(0);
    expect(result.keys).toBe(expected.keys);
    expect(result.expired).toBe(expected.expired);
    expect(result.snapshotRecords).toBe(expected.snapshotRecords);
    expect(result.logRecords).toBe(expected.logRecords);
    expect(contents(compact)).toEqual(contents(map));
    expect(compact.size).toBe(2000);
    expect(compact.stats().bytes).toBe(map.stats().bytes);
  });

  test("load - with MaxMemory nothing is evicted while loading (the log holds the evictions); evictToLimit comes after", () => {
    const source = new MapStore(new ManualClock(NOW));
    for (let i = 0; i < 1000; i++) source.set(enc(`key:${String(i).padStart(4, "0")}`), new Uint8Array(92), 0, NOW);
    const dir = dataDir(source, () => {});
    const clock = new ReplayClock(new ManualClock(NOW));
    const store = new CompactStore(clock, { maxMemory: 100 * 500 });
    load(dir, store, clock);
    expect(store.size).toBe(1000);
    expect(store.stats().evicted).toBe(0);
    expect(store.evictToLimit()).toBe(500);
    expect(store.stats().bytes).toBeLessThanOrEqual(100 * 500);
    // Eviction is back on for writes.
    store.set(enc("one more"), new Uint8Array(92), 0, NOW);
    expect(store.stats().bytes).toBeLessThanOrEqual(100 * 500);
  });

  test("reserve - keys already in the index are found after it grows, and growth goes on past it", () => {
    const clock = new ManualClock(NOW);
    const store = new CompactStore(clock, { seed: 3 });
    for (let i = 0; i < 3000; i++) store.set(enc(`k${i}`), enc(`v${i}`), 0, NOW);
    store.reserve(100_000);
    store.reserve(10); // smaller than it is: nothing happens
    for (let i = 3000; i < 120_000; i++) store.set(enc(`k${i}`), enc(`v${i}`), 0, NOW);
    for (let i = 0; i < 120_000; i += 7) expect(dec(store.get(enc(`k${i}`))!.value)).toBe(`v${i}`);
    for (let i = 0; i < 120_000; i += 2) expect(store.delete(enc(`k${i}`))).toBe(true);
    expect(store.size).toBe(60_000);
    expect(store.get(enc("k1"))).toBeDefined();
  });

  test("statedRecordCount - reads a whole snapshot's end block, and nothing else", () => {
    const w = new BlockWriter();
    w.beginBlock();
    w.set(enc("k"), enc("v"), 0, NOW);
    w.end(1);
    const file = w.sealed();
    expect(statedRecordCount(file.subarray(file.length - END_BLOCK_BYTES))).toBe(1);
    expect(statedRecordCount(file.subarray(file.length - END_BLOCK_BYTES - 1, file.length - 1))).toBeUndefined();
    expect(statedRecordCount(file.subarray(0, 3))).toBeUndefined();
  });
});

describe("decodeRecords with a batch visitor", () => {
  function block(write: (w: BlockWriter) => void): Uint8Array {
    const w = new BlockWriter();
    w.beginBlock();
    write(w);
    w.sealBlock();
    return w.sealed().subarray(16); // the payload
  }

  function recorder(): { seen: string[]; visitor: RecordVisitor } {
    const seen: string[] = [];
    const visitor: RecordVisitor = {
      set: () => seen.push("unbatched set"),
      sets: (batch) => {
        for (let i = 0; i < batch.count; i++) {
          const at = batch.keyAt[i]!;
          const end = at + batch.keyLength[i]!;
          seen.push(`set ${dec(batch.bytes.subarray(at, end))}=${dec(batch.bytes.subarray(end, end + batch.valueLength[i]!))} ${batch.expiresAt[i]} ${batch.writtenAt[i]}`);
        }
        seen.push(`| ${batch.count}`);
      },
      expire: (k, e, t) => seen.push(`expire ${dec(k)} ${e} ${t}`),
      delete: (k, t) => seen.push(`delete ${dec(k)} ${t}`),
      flush: (t) => seen.push(`flush ${t}`),
    };
    return { seen, visitor };
  }

  test("sets - batches are handed over in order, before every other record and at the end of the block", () => {
    const payload = block((w) => {
      w.set(enc("a"), enc("1"), 5, 6);
      w.set(enc("b"), enc(""), 0, 7);
      w.delete(enc("a"), 8);
      w.set(enc("c"), enc("3"), 0, 9);
      w.expire(enc("c"), 10, 11);
      w.flush(12);
      for (let i = 0; i < BATCH_RECORDS + 1; i++) w.set(enc(`n${i}`), enc("x"), 0, 13);
    });
    const { seen, visitor } = recorder();
    decodeRecords(payload, 6 + BATCH_RECORDS + 1, 100, visitor, false);
    expect(seen.slice(0, 9)).toEqual(["set a=1 5 6", "set b= 0 7", "| 2", "delete a 8", "set c=3 0 9", "| 1", "expire c 10 11", "flush 12", "set n0=x 0 13"]);
    expect(seen.filter((s) => s.startsWith("|")).slice(2)).toEqual([`| ${BATCH_RECORDS}`, "| 1"]);
    expect(seen).not.toContain("unbatched set");
  });

  test("sets - a record running past its block is reported at its offset, after the records before it", () => {
    const payload = block((w) => {
      w.set(enc("a"), enc("1"), 0, 1);
      w.set(enc("b"), enc("2"), 0, 2);
    });
    const { seen, visitor } = recorder();
    let error: unknown;
    try {
      decodeRecords(payload, 3, 1000, visitor, true);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FormatError);
    expect((error as FormatError).offset).toBe(1000 + payload.length);
    expect(seen).toEqual(["set a=1 0 1", "set b=2 0 2", "| 2"]);
    // the next block starts with an empty batch
    const next = recorder();
    decodeRecords(block((w) => w.set(enc("z"), enc("9"), 0, 3)), 1, 0, next.visitor, true);
    expect(next.seen).toEqual(["set z=9 0 3", "| 1"]);
  });
});
