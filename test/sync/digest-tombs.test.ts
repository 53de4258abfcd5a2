// The digest's tombstones through its own interface (setTomb, tombOf, forget, expireTombs, the
// listings) against a plain Map model: bucket hashes, lookups and expiry by slice must not depend
// on how tombstones are stored (ids reused, versions replaced in place).
import { describe, expect, test } from "bun:test";
import { bucketOfHash, BUCKETS, DigestState, keyHashOf, type KeyVersion } from "../../src/cluster/sync/digest.ts";
import { binaryStringToBytes, bytesToBinaryString, utf8 } from "../../src/store/bytes.ts";
import { seededRandom } from "../helpers/random.ts";

const SLICE = 1000;

function at(d: DigestState, key: string): { bucket: number; k: string; hash: number } {
  const bytes = utf8(key);
  const hash = keyHashOf(bytes);
  return { bucket: bucketOfHash(hash), k: bytesToBinaryString(bytes), hash };
}

function tomb(d: DigestState, key: string, when: number, origin = "n1"): void {
  const { bucket, k, hash } = at(d, key);
  d.setTomb(bucket, k, hash, when, origin);
}

function tombOf(d: DigestState, key: string): { at: number; origin: string } | undefined {
  const { bucket, k } = at(d, key);
  return d.tombOf(bucket, k);
}

describe("digest tombstones", () => {
  test("digest - a key deleted again keeps one tombstone, freed with the slice of its newest version", () => {
    const d = new DigestState(SLICE);
    tomb(d, "a", 500);
    tomb(d, "a", 1_500, "n2");
    expect(d.tombCount).toBe(1);
    expect(tombOf(d, "a")).toEqual({ at: 1_500, origin: "n2" });
    // slice 0 is due: its entry for "a" finds the version of slice 1 and leaves it
    expect(d.expireTombs(1_600)).toBe(0);
    expect(tombOf(d, "a")).toEqual({ at: 1_500, origin: "n2" });
    expect(d.expireTombs(1_999)).toBe(1);
    expect(d.tombCount).toBe(0);
    expect(d.root()).toBe(new DigestState().root());
  });

  test("digest - a write revives a key (tombstone gone); the id its tombstone had, reused by a later one, stays until that one's slice", () => {
    const d = new DigestState(SLICE);
    tomb(d, "a", 100);
    const { bucket, k, hash } = at(d, "a");
    d.setLive(bucket, k, hash, { writtenAt: 200, expiresAt: 5_000, origin: "n1", tomb: false, valueHash: 1 });
    expect([d.tombCount, d.liveCount, d.hasTomb(bucket, k)]).toEqual([0, 1, false]);
    tomb(d, "b", 1_200); // takes the freed id; slice 0 still lists it
    // slice 0 is due, slice 1 is not wholly past: "b" stays although its write is before 1,500
    expect(d.expireTombs(1_500)).toBe(0);
    expect(tombOf(d, "b")).toEqual({ at: 1_200, origin: "n1" });
    expect(d.expireTombs(1_999)).toBe(1);
    expect(d.tombCount).toBe(0);
  });

  test("digest - expiry across slices in batches, and a tombstone dated in a freed slice goes with the next", () => {
    const d = new DigestState(SLICE);
    for (let i = 0; i < 5_000; i++) tomb(d, `k${i}`, i);
    expect(d.expireTombs(2_999, 1_200)).toBe(1_200);
    expect(d.expireTombs(2_999, 1_200)).toBe(1_200);
    expect(d.expireTombs(2_999, 1_200)).toBe(600);
    expect(d.tombCount).toBe(2_000);
    tomb(d, "late", 10); // its slice is gone: it is filed in slice 3, the next one due
    expect(d.expireTombs(3_998)).toBe(0);
    expect(d.expireTombs(3_999)).toBe(1_001);
    expect(tombOf(d, "late")).toBeUndefined();
    expect(d.expireTombs(4_999)).toBe(1_000);
    expect(d.root()).toBe(new DigestState().root());
  });

  test("digest - a copy of the tombstones (copyTombs) walks as they stood, whatever the digest does next", () => {
    const d = new DigestState(SLICE);
    // several pages of ids, keys of a few lengths, one longer than a key-slab chunk
    const want = new Map<string, { at: number; origin: string }>();
    for (let i = 0; i < 10_000; i++) {
      const key = i === 77 ? "L".repeat((1 << 20) + 3) : `key-${i}-${"x".repeat(i % 9)}`;
      tomb(d, key, 1_000 + i, `n${i % 3}`);
      want.set(bytesToBinaryString(utf8(key)), { at: 1_000 + i, origin: `n${i % 3}` });
    }
    const copy = d.copyTombs();
    // after the copy: some revived, some deleted again, new ones on reused ids, then all expired
    for (let i = 0; i < 10_000; i += 3) {
      const { bucket, k, hash } = at(d, `key-${i}-${"x".repeat(i % 9)}`);
      d.setLive(bucket, k, hash, { writtenAt: 20_000, expiresAt: 90_000, origin: "n1", tomb: false, valueHash: 1 });
    }
    for (let i = 1; i < 10_000; i += 3) tomb(d, `key-${i}-${"x".repeat(i % 9)}`, 30_000, "other");
    for (let i = 0; i < 2_000; i++) tomb(d, `new-${i}`, 40_000, "other");
    const walk = (parts: number, forEachInPart: (part: number, visit: (k: string, a: number, o: string) => void) => void) => {
      const seen = new Map<string, { at: number; origin: string }>();
      for (let part = 0; part < parts; part++) forEachInPart(part, (k, a, origin) => seen.set(k, { at: a, origin }));
      return seen;
    };
    expect(walk(copy.parts, copy.forEachInPart)).toEqual(want);
    while (d.expireTombs(100_000) > 0);
    expect(d.tombCount).toBe(0);
    expect(walk(copy.parts, copy.forEachInPart)).toEqual(want);
  });

  test("digest - a random run of tombstones, revivals, expiries and flushes agrees with a Map model (seeded)", () => {
    const seed = 120126;
    const random = seededRandom(seed);
    const d = new DigestState(SLICE);
    const tombs = new Map<string, { at: number; origin: string }>();
    const live = new Map<string, KeyVersion>();
    // (keys with 0x00 and 0xff bytes and of a few lengths, few enough to recur)
    const keys = Array.from({ length: 400 }, (_, i) => bytesToBinaryString(Uint8Array.from({ length: 1 + (i % 7) }, (_, j) => [0, 0xff, 65 + (i % 26), i >> 3][j % 4]!)));
    const origins = ["n1", "n2", "", "10.0.0.1:7731"];
    let now = 10_000;
    let nextSlice = -Infinity;
    const where = (k: string) => {
      const hash = keyHashOf(binaryStringToBytes(k));
      return { bucket: bucketOfHash(hash), hash };
    };
    const check = (label: string) => {
      const want = new Uint32Array(BUCKETS);
      for (const [k, t] of tombs) want[where(k).bucket]! ^= d.shareOf(where(k).hash, t.at, 0, 0, true);
      for (const [k, v] of live) want[where(k).bucket]! ^= d.shareOf(where(k).hash, v.writtenAt, v.expiresAt, v.valueHash, false);
      expect([...d.buckets], label).toEqual([...want]);
      const listed = new Map<string, { at: number; origin: string }>();
      for (let b = 0; b < BUCKETS; b++) {
        expect(new Set(d.tombKeys(b)), label).toEqual(new Set([...tombs.keys()].filter((k) => where(k).bucket === b)));
        expect(d.mayHaveTombs(b), label).toBe([...tombs.keys()].some((k) => where(k).bucket === b));
      }
      for (let part = 0; part < d.tombParts; part++) {
        d.forEachTombInPart(part, (k, a, origin) => {
          expect(listed.has(k), label).toBe(false);
          listed.set(k, { at: a, origin });
        });
      }
      expect(listed, label).toEqual(tombs);
    };
    for (let op = 0; op < 6_000; op++) {
      const label = `seed ${seed} op ${op}`;
      const k = keys[Math.floor(random() * keys.length)]!;
      const { bucket, hash } = where(k);
      const r = random();
      now += Math.floor(random() * 40);
      if (r < 0.45) {
        // mostly now, sometimes well in the past (an expiry of an old write, a peer's tombstone)
        const when = random() < 0.8 ? now : now - Math.floor(random() * 20_000);
        const origin = origins[Math.floor(random() * origins.length)]!;
        d.setTomb(bucket, k, hash, when, origin);
        tombs.set(k, { at: when, origin });
        live.delete(k);
      } else if (r < 0.6) {
        const v = { writtenAt: now, expiresAt: now + 60_000, origin: "n1", tomb: false, valueHash: op };
        d.setLive(bucket, k, hash, v);
        live.set(k, v);
        tombs.delete(k);
      } else if (r < 0.7) {
        d.forget(bucket, k, random() < 0.5 ? hash : undefined);
        tombs.delete(k);
        live.delete(k);
      } else if (r < 0.98) {
        const before = now - Math.floor(random() * 6_000);
        const last = Math.floor((before + 1) / SLICE) - 1;
        let want = 0;
        if (last >= nextSlice) {
          for (const [key, t] of tombs) if (Math.floor(t.at / SLICE) <= last) (tombs.delete(key), want++);
          nextSlice = last + 1;
        }
        const max = random() < 0.5 ? Infinity : 1 + Math.floor(random() * 20);
        let freed = 0;
        for (let n = max; n >= max; freed += n) n = d.expireTombs(before, max);
        expect(freed, label).toBe(want);
      } else {
        d.flush({ at: now, origin: "n1" });
        tombs.clear();
        live.clear();
        nextSlice = -Infinity;
      }
      expect(d.tombCount, label).toBe(tombs.size);
      expect(d.tombOf(bucket, k), label).toEqual(tombs.get(k));
      expect(d.hasTomb(bucket, k, hash), label).toBe(tombs.has(k));
      if (op % 500 === 499) check(label);
    }
    check("end");
  });
});
