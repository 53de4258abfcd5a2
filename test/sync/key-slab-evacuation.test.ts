// Key chunks left holding few keys are emptied and given back: after a burst of tombstones of one
// key length has expired, a trickle of other lengths no longer keeps the burst's chunks; keys keep
// their exact bytes while they move, and copies and walks taken meanwhile still read them right.
import { describe, expect, test } from "bun:test";
import { murmur3Binary } from "../../src/common/murmur3.ts";
import { BUCKETS } from "../../src/cluster/sync/digest.ts";
import { KEY_CHUNK_BYTES } from "../../src/cluster/sync/key-slab.ts";
import { TombTable } from "../../src/cluster/sync/tomb-table.ts";
import { seededRandom } from "../helpers/random.ts";

const SEED = 0x5eed;
const bucketOfKey = (key: string): number => murmur3Binary(key, SEED) >>> (32 - Math.log2(BUCKETS));
const binary = (bytes: number[]): string => String.fromCharCode(...bytes);
const find = (t: TombTable, key: string): number => t.find(bucketOfKey(key), key);
const MiB = 1024 * 1024;
/**
 * Each test here lays and expires hundreds of thousands of keys: ~2 s alone, over bun's 5 s
 * default on a loaded machine (they timed out under the full suite). The checks are unchanged.
 */
const SLOW_TEST_MS = 30_000;

/** Tombstones freed `grace` after they were laid, in that order (as the digest's slices free
 * them), the table trimmed after each pass as `expireTombs` does; a Map of what is held. */
class Expiring {
  readonly t = new TombTable(BUCKETS, SEED);
  readonly model = new Map<string, number>();
  private readonly laid: { key: string; at: number }[] = [];
  private head = 0;
  constructor(private readonly grace: number) {}

  /** (`expires` false: held until the end of the test) */
  lay(key: string, at: number, expires = true): void {
    this.t.add(bucketOfKey(key), key, murmur3Binary(key, SEED), at, 1, 7);
    this.model.set(key, at);
    if (expires) this.laid.push({ key, at });
  }

  expire(now: number): void {
    while (this.head < this.laid.length && this.laid[this.head]!.at <= now - this.grace) {
      const { key } = this.laid[this.head++]!;
      this.t.remove(find(this.t, key));
      this.model.delete(key);
    }
    this.t.trim();
  }

  /** Every held key found, with its exact bytes and write time; none else listed. */
  check(label: string): void {
    const t = this.t;
    expect(t.count, label).toBe(this.model.size);
    for (const [key, at] of this.model) {
      const id = find(t, key);
      expect(id >= 0 && t.key(id) === key && t.at(id) === at, `${label}: ${JSON.stringify(key.slice(0, 40))}`).toBe(true);
    }
  }
}

/** A key of `length` bytes, unique by its serial (at its start, in decimal). */
const keyOf = (serial: number, length: number, fill = "x"): string => `${serial}:`.padEnd(length, fill).slice(0, Math.max(length, `${serial}:`.length));

describe("key slab evacuation", () => {
  test("key slab - after a burst of one key length expires, a trickle of many lengths gives its chunks back", () => {
    const e = new Expiring(10_000);
    const random = seededRandom(4242);
    let serial = 0;
    let now = 1_000_000;
    const trickle = (): void => {
      for (let i = 0; i < 500; i++) e.lay(keyOf(serial++, 8 + Math.floor(random() * 40)), now);
    };
    for (let s = 0; s < 12; s++) (trickle(), (now += 1_000), e.expire(now));
    const before = e.t.footprint;
    for (let i = 0; i < 200_000; i++) e.lay(keyOf(serial++, 24, "y"), now);
    expect(e.t.footprint).toBeGreaterThan(before + 4 * MiB);
    // the burst is due 10 passes on: its memory is back 2 passes later (the trickle's keys in its
    // chunks moved, not waiting for them to expire too), and stays back
    for (let s = 0; s < 40; s++) {
      trickle();
      now += 1_000;
      e.expire(now);
      // (without emptying, the burst's chunks each keep a key or a few of the trickle's: ~5 MiB)
      if (s >= 11) expect(e.t.footprint, `pass ${s}`).toBeLessThan(before + KEY_CHUNK_BYTES / 2);
    }
    e.check("after the burst");
  }, SLOW_TEST_MS);

  test("key slab - keys of random lengths and bytes moved among chunks answer as a Map does, in lookups and walks (seeded)", () => {
    const seed = 777_001;
    const random = seededRandom(seed);
    const e = new Expiring(5_000);
    let serial = 0;
    let now = 0;
    let peak = 0;
    let lowest = Infinity;
    const randomKey = (): string => {
      const length = random() < 0.01 ? 1_000 + Math.floor(random() * 3_000) : 1 + Math.floor(random() * 60);
      const bytes = [...`${serial++}:`].map((c) => c.charCodeAt(0));
      while (bytes.length < length) bytes.push(random() < 0.3 ? (random() < 0.5 ? 0x00 : 0xff) : Math.floor(random() * 256));
      return binary(bytes);
    };
    for (let s = 0; s < 60; s++) {
      const label = `seed ${seed} second ${s}`;
      // now and then a burst of one length; always a trickle of all lengths
      if (s % 15 === 3) {
        const length = 4 + Math.floor(random() * 40);
        for (let i = 0; i < 60_000; i++) e.lay(keyOf(serial++, length, String.fromCharCode(Math.floor(random() * 256))), now);
      }
      for (let i = 0; i < 300; i++) e.lay(randomKey(), now);
      peak = Math.max(peak, e.t.footprint);
      now += 1_000;
      e.expire(now);
      // a walk in id order with passes between its parts: each key read is the bytes of its own
      if (s % 5 === 4) {
        for (let part = 0; part < e.t.pageCount; part++) {
          for (const id of e.t.idsOfPage(part)) {
            const key = e.t.key(id);
            expect(e.model.get(key) === e.t.at(id) && find(e.t, key) === id, label).toBe(true);
          }
          e.expire(now);
        }
      }
      e.check(label);
      if (s % 15 === 14) lowest = Math.min(lowest, e.t.footprint);
    }
    expect(peak).toBeGreaterThan(4 * MiB);
    // ~1,500 trickle keys of ~40 bytes left after each burst has gone: one chunk and a page or two
    expect(lowest).toBeLessThan(1.5 * MiB);
  }, SLOW_TEST_MS);

  test("key slab - empty, 0x00, 0xff and long keys (over 1 KiB, over 1 MiB) keep their bytes through the moves", () => {
    const e = new Expiring(10_000);
    const odd = [
      "",
      binary([0]),
      binary([0, 0, 0, 0, 0]),
      binary([0xff]),
      binary(Array(17).fill(0xff)),
      binary([...Array(256).keys()]),
      binary(Array.from({ length: 1_500 }, (_, i) => (i * 7) % 256)),
      "w".repeat((1 << 20) + 5),
    ];
    let serial = 0;
    let now = 1_000_000;
    // the odd keys laid (and kept) in the middle of a burst of one length, then a trickle
    const trickle = (): void => {
      for (let i = 0; i < 200; i++) e.lay(keyOf(serial++, 5 + (i % 50), "\xff"), now);
    };
    trickle();
    for (let i = 0; i < 150_000; i++) {
      e.lay(keyOf(serial++, 20, "\0"), now);
      if (i === 100_000) for (const key of odd) e.lay(key, now, false);
    }
    const peak = e.t.footprint;
    // (150,000 ids are looked at a few thousand per pass: ~40 passes once the burst is gone)
    for (let s = 0; s < 60; s++) {
      now += 1_000;
      e.expire(now);
      trickle();
      e.check(`second ${s}`);
    }
    for (const key of odd) expect(e.t.key(find(e.t, key))).toBe(key);
    // the burst's three chunks less the one the trickle fills (the key over 1 MiB holds two chunks
    // of its own, and the kept keys' ids hold the burst's pages of ids)
    expect(e.t.footprint).toBeLessThan(peak - 1.5 * MiB);
  }, SLOW_TEST_MS);

  test("key slab - a copy taken before keys move, or while they move, still reads each key as it was", () => {
    const e = new Expiring(10_000);
    let serial = 0;
    let now = 1_000_000;
    const trickle = (): void => {
      for (let i = 0; i < 300; i++) e.lay(keyOf(serial++, 6 + (i % 37), "t"), now);
    };
    trickle();
    // a burst with a key of another length that stays laid among every 200 of it
    for (let i = 0; i < 150_000; i++) {
      e.lay(keyOf(serial++, 28, "b"), now);
      if (i % 200 === 0) e.lay(keyOf(serial++, 9 + (i % 23), "k"), now, false);
    }
    for (let s = 0; s < 10; s++) (trickle(), (now += 1_000), e.expire(now));
    // the burst is gone: the kept keys are moved out of its chunks, a few thousand ids per pass
    const copies: { copy: TombTable; model: Map<string, number> }[] = [];
    for (let s = 0; s < 50; s++) {
      if (s % 10 === 0) copies.push({ copy: e.t.clone(), model: new Map(e.model) });
      trickle();
      now += 1_000;
      e.expire(now);
    }
    for (const { copy, model } of copies) {
      let walked = 0;
      for (let part = 0; part < copy.pageCount; part++) {
        for (const id of copy.idsOfPage(part)) {
          const key = copy.key(id);
          expect(model.get(key)).toBe(copy.at(id));
          expect(copy.find(bucketOfKey(key), key)).toBe(id);
          walked++;
        }
      }
      expect(walked).toBe(model.size);
    }
    e.check("original");
    // the original gave the burst's chunks back meanwhile; the first copy still holds them
    expect(e.t.footprint).toBeLessThan(copies[0]!.copy.footprint - 2 * MiB);
  }, SLOW_TEST_MS);
});
