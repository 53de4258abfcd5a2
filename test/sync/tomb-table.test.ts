// The compact tombstone table (ids in typed columns, key bytes in a KeySlab, a probe table per
// bucket): found by key whatever its bytes and length, ids and key slots reused after a removal,
// memory bounded under churn, and the same answers as a Map on a long random run.
import { describe, expect, test } from "bun:test";
import { murmur3Binary } from "../../src/common/murmur3.ts";
import { BUCKETS } from "../../src/cluster/sync/digest.ts";
import { TombTable } from "../../src/cluster/sync/tomb-table.ts";
import { seededRandom } from "../helpers/random.ts";

const SEED = 0x5eed;
/** the bucket of a key in a table of `buckets` */
const bucketOfKey = (key: string, buckets = BUCKETS): number => murmur3Binary(key, SEED) >>> (32 - Math.log2(buckets));
const binary = (bytes: number[]): string => String.fromCharCode(...bytes);

function add(t: TombTable, key: string, at: number, origin = 1, share = 7, buckets = BUCKETS): number {
  return t.add(bucketOfKey(key, buckets), key, murmur3Binary(key, SEED), at, origin, share);
}

function find(t: TombTable, key: string, buckets = BUCKETS): number {
  return t.find(bucketOfKey(key, buckets), key);
}

/** ~3 s alone; under a loaded machine past bun's 5 s default. */
const SLOW_TEST_MS = 30_000;

describe("tomb table", () => {
  test("tomb table - a quiet node going between none and one tombstone keeps its first page and chunk instead of making them again each time", () => {
    const t = new TombTable(BUCKETS, SEED);
    t.remove(add(t, "first", 1_000));
    const held = t.footprint; // a page of ids and a 1 MiB chunk of key bytes (no bucket table)
    expect(held).toBeGreaterThan(1024 * 1024);
    for (let i = 0; i < 100; i++) {
      const again = add(t, `key${i}`, 2_000 + i);
      expect(t.key(again)).toBe(`key${i}`);
      expect(find(t, `key${i}`)).toBe(again);
      t.remove(again);
      expect([t.count, t.footprint]).toEqual([0, held]);
    }
  });

  test("tomb table - a tombstone offered under a bucket that is not its key hash's is refused, not left where removal would never find it", () => {
    const t = new TombTable(BUCKETS, SEED);
    const key = "k";
    const wrong = (bucketOfKey(key) + 1) % BUCKETS;
    expect(() => t.add(wrong, key, murmur3Binary(key, SEED), 1_000, 1, 7)).toThrow("is not the key hash's");
    expect(t.count).toBe(0);
    const id = add(t, key, 1_000);
    expect(t.remove(id)).toBe(bucketOfKey(key));
    expect(t.count).toBe(0);
  });

  test("tomb table - 20,000 tombstones of one bucket: found with their fields through its resizes, listed, removed", () => {
    // (a table of 2 buckets: half of all keys fall in the first)
    const t = new TombTable(2, SEED);
    const keys = [...Array(40_000).keys()].map((i) => `k${i}`).filter((k) => bucketOfKey(k, 2) === 0).slice(0, 20_000);
    const bucket = 0;
    keys.forEach((k, i) => add(t, k, 1_000 + i, i % 5, i * 3, 2));
    expect(t.count).toBe(20_000);
    expect(t.inBucket[bucket]).toBe(20_000);
    keys.forEach((k, i) => {
      const id = find(t, k, 2);
      expect([t.at(id), t.origin(id), t.share(id), t.key(id)]).toEqual([1_000 + i, i % 5, i * 3, k]);
    });
    expect(new Set(t.idsIn(bucket).map((id) => t.key(id)))).toEqual(new Set(keys));
    expect(find(t, "absent", 2)).toBe(-1);
    // every other one removed: the rest are still found (the probe runs were mended)
    keys.forEach((k, i) => i % 2 === 0 && t.remove(find(t, k, 2)));
    keys.forEach((k, i) => expect(find(t, k, 2) >= 0).toBe(i % 2 === 1));
    keys.forEach((k, i) => i % 2 === 1 && t.remove(find(t, k, 2)));
    expect([t.count, t.inBucket[bucket], t.idsIn(bucket).length, t.footprint]).toEqual([0, 0, 0, 0]);
  });

  test("tomb table - a removed tombstone's id is handed to the next one; memory stops growing under churn", () => {
    const t = new TombTable(BUCKETS, SEED);
    for (let i = 0; i < 10_000; i++) add(t, `key:${i}`, i);
    const removed = [find(t, "key:17"), find(t, "key:9000")];
    removed.forEach((id) => t.remove(id));
    expect(t.at(removed[0]!)).toBeNaN();
    // the free list gives back the first freed id first
    expect(add(t, "fresh:a", 1)).toBe(removed[0]!);
    expect(add(t, "fresh:b", 2)).toBe(removed[1]!);
    expect(t.key(removed[1]!)).toBe("fresh:b");
    // churn: 10,000 live, each round removes the oldest 5,000 and adds 5,000 new (same lengths)
    const live = [...Array(10_000).keys()].map((i) => `key:${i}`).filter((k) => find(t, k) >= 0);
    let next = 10_000;
    const footprints: number[] = [];
    for (let round = 0; round < 20; round++) {
      for (const k of live.splice(0, 5_000)) t.remove(find(t, k));
      for (let i = 0; i < 5_000; i++, next++) {
        const k = `key:${next % 90_000}`; // same length as the first ones: slots of the same size
        add(t, k, next);
        live.push(k);
      }
      footprints.push(t.footprint);
    }
    expect(t.count).toBe(live.length + 2);
    // Without reuse each round would add 5,000 ids (130 KB of columns) and 80 KB of key slots;
    // what moves is the odd bucket table doubling or halving as its count wanders.
    expect(Math.max(...footprints.slice(2))).toBeLessThanOrEqual(footprints[1]! + 32 * 1024);
    for (const k of live) expect(t.key(find(t, k))).toBe(k);
  });

  test("tomb table - after a burst, a trickle turning over moves to the first ids and slots: the rest is given back", () => {
    const t = new TombTable(BUCKETS, SEED);
    const trickle: string[] = [];
    let next = 0;
    const lay = (): void => {
      const k = `trickle:${String(next++).padStart(8, "0")}`;
      add(t, k, next);
      trickle.push(k);
    };
    // a burst of 200,000 with a trickle of 2,000 laid among it
    for (let i = 0; i < 200_000; i++) {
      add(t, `burst:${String(i).padStart(10, "0")}`, i);
      if (i % 100 === 0) lay();
    }
    const peak = t.footprint;
    for (let i = 0; i < 200_000; i++) t.remove(find(t, `burst:${String(i).padStart(10, "0")}`));
    t.trim();
    expect(t.footprint).toBeGreaterThan(peak / 2); // the trickle still holds ids and slots all over
    // the trickle turns over three times, a quarter at a time (its oldest removed, as many laid;
    // never empty, which would give everything back at once), trimmed as expiry does
    for (let step = 0; step < 12; step++) {
      for (const k of trickle.splice(0, 500)) t.remove(find(t, k));
      expect(t.count).toBe(1_500);
      for (let i = 0; i < 500; i++) lay();
      t.trim();
    }
    expect(t.count).toBe(2_000);
    expect(t.footprint).toBeLessThan(peak / 4);
    for (const k of trickle) expect(t.key(find(t, k))).toBe(k);
    // ids given back read as free (a slice may still list them); new ones are found as ever
    expect(t.at(150_000)).toBeNaN();
    for (let i = 0; i < 1_000; i++) lay();
    for (const k of trickle) expect(t.key(find(t, k))).toBe(k);
  });

  test("tomb table - keys of any bytes: 0x00, 0xff, empty, 1 KiB, 64 KiB, longer than a slab chunk", () => {
    const t = new TombTable(BUCKETS, SEED);
    const keys = [
      "",
      binary([0]),
      binary([0, 0, 0, 0, 0]),
      binary([0xff]),
      binary(Array(17).fill(0xff)),
      binary([0x80, 0x9f, 0x00, 0xff, 0x0a]),
      binary([...Array(256).keys()]), // every byte value (0x80-0x9f are not windows-1252's here)
      "x".repeat(1024),
      binary(Array.from({ length: 1500 }, (_, i) => i % 256)),
      "y".repeat(65_536),
      "z".repeat((1 << 20) + 5),
      "after a big one",
    ];
    keys.forEach((k, i) => add(t, k, i));
    keys.forEach((k, i) => {
      const id = find(t, k);
      expect(t.at(id)).toBe(i);
      expect(t.key(id)).toBe(k);
    });
    // a key and its prefix or its extension are different keys
    expect(find(t, binary([0, 0, 0, 0]))).toBe(-1);
    expect(find(t, "x".repeat(1023))).toBe(-1);
    expect(find(t, `${"x".repeat(1024)}\0`)).toBe(-1);
    for (const k of keys) t.remove(find(t, k));
    expect([t.count, t.footprint]).toEqual([0, 0]);
  });

  test("tomb table - a random run answers as a Map does (seeded)", () => {
    const seed = 20261201;
    const random = seededRandom(seed);
    const t = new TombTable(BUCKETS, SEED);
    const model = new Map<string, { at: number; origin: number; share: number }>();
    // few short keys over a few byte values, so that keys recur, collide in buckets and differ
    // only in length; a few long ones
    const alphabet = [0x00, 0x01, 0x61, 0x80, 0xff];
    const randomKey = (): string => {
      if (random() < 0.02) return "L".repeat(200 + Math.floor(random() * 3_000));
      return binary(Array.from({ length: Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]!));
    };
    for (let op = 0; op < 20_000; op++) {
      const key = randomKey();
      const id = find(t, key);
      const want = model.get(key);
      expect(id >= 0, `seed ${seed} op ${op}`).toBe(want !== undefined);
      if (want) expect([t.at(id), t.origin(id), t.share(id), t.key(id)], `seed ${seed} op ${op}`).toEqual([want.at, want.origin, want.share, key]);
      const r = random();
      const fields = { at: op, origin: Math.floor(random() * 65_536), share: Math.floor(random() * 2 ** 32) };
      if (r < 0.45 && id < 0) {
        add(t, key, fields.at, fields.origin, fields.share);
        model.set(key, fields);
      } else if (r < 0.6 && id >= 0) {
        t.update(id, fields.at, fields.origin, fields.share);
        model.set(key, fields);
      } else if (r < 0.95 && id >= 0) {
        t.remove(id);
        model.delete(key);
      }
      expect(t.count).toBe(model.size);
      if (op % 50 === 49) t.trim();
      if (op % 1_000 === 999) {
        const listed = new Map<string, number>();
        for (let b = 0; b < BUCKETS; b++) for (const i of t.idsIn(b)) listed.set(t.key(i), t.at(i));
        expect(listed, `seed ${seed} op ${op}`).toEqual(new Map([...model].map(([k, v]) => [k, v.at])));
      }
    }
  });

  test("tomb table - bursts laid and freed in any order, trimmed between: every key still answers as a Map does (seeded)", () => {
    const seed = 31337;
    const random = seededRandom(seed);
    const t = new TombTable(BUCKETS, SEED);
    const model = new Map<string, number>();
    let order: string[] = [];
    let serial = 0;
    let peakPages = 0;
    for (let phase = 0; phase < 24; phase++) {
      const label = `seed ${seed} phase ${phase}`;
      if (random() < 0.5) {
        // a burst: keys of 1 to 120 bytes, enough of them to fill several pages and key chunks
        const n = 1_000 + Math.floor(random() * 60_000);
        for (let i = 0; i < n; i++) {
          const k = `${serial++}:`.padEnd(1 + Math.floor(random() * 120), String.fromCharCode(Math.floor(random() * 256)));
          add(t, k, serial);
          model.set(k, serial);
          order.push(k);
        }
      } else {
        // a removal: mostly the oldest (as expiry frees them), some at random
        const n = Math.floor(random() * order.length);
        const gone = new Set(order.slice(0, n));
        for (let i = 0; i < n / 10; i++) gone.add(order[Math.floor(random() * order.length)]!);
        for (const k of gone) {
          t.remove(find(t, k));
          model.delete(k);
        }
        order = order.filter((k) => !gone.has(k));
      }
      t.trim();
      peakPages = Math.max(peakPages, t.pageCount);
      expect(t.count, label).toBe(model.size);
      for (const [k, at] of model) expect(t.at(find(t, k)), label).toBe(at);
      let listed = 0;
      for (let part = 0; part < t.pageCount; part++) for (const id of t.idsOfPage(part)) (listed++, expect(model.get(t.key(id)), label).toBe(t.at(id)));
      expect(listed, label).toBe(model.size);
    }
    expect(peakPages).toBeGreaterThan(10);
  }, SLOW_TEST_MS);
});
