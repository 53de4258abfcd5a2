// MaxMemory on the compact store: sampled LRU eviction, the bytes bound under a write flood, and
// the refusal of a single value larger than the limit.

import { describe, expect, test } from "bun:test";
import { PAGE_BYTES } from "../../src/store/arena.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { StoreLimitError, ValueTooLargeError } from "../../src/store/errors.ts";
import { ManualClock } from "../../src/store/types.ts";

/** Freed arena blocks are reused from the next turn of the event loop. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const b = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("CompactStore MaxMemory", () => {
  test("set - a write flood stays within MaxMemory + 5 % and counts evictions", async () => {
    const clock = new ManualClock();
    const maxMemory = 1_000_000;
    const store = new CompactStore(clock, { maxMemory, seed: 1 });
    let peak = 0;
    for (let i = 0; i < 200_000; i++) {
      store.set(b(`flood:${i}`), new Uint8Array(20 + (i % 200)), i % 3 ? 0 : clock.now() + 60_000, clock.now());
      peak = Math.max(peak, store.stats().bytes);
      if (i % 256 === 0) await nextTurn(); // a socket batch ends: freed blocks are reused
    }
    const stats = store.stats();
    expect(peak).toBeLessThanOrEqual(maxMemory * 1.05);
    expect(stats.evicted).toBeGreaterThan(150_000);
    expect(stats.keys + stats.evicted).toBe(200_000);
    // The arena does not grow without bound either: freed blocks are reused.
    expect(store.footprint().arenaBytes).toBeLessThan(maxMemory * 3);
  });

  test("set - when value sizes drift, pages the old sizes filled are let go: the arena follows the data, not every size ever stored", async () => {
    const clock = new ManualClock();
    const maxMemory = 4 * PAGE_BYTES;
    const store = new CompactStore(clock, { maxMemory, seed: 3 });
    const reserved: number[] = [];
    let n = 0;
    // Large values first, small ones last: each phase's writes evict every entry of the one before.
    // Each value is its key's number mod 251, repeated: a block handed out twice would show.
    for (const size of [3000, 1000, 300, 100]) {
      for (let i = 0; i < (maxMemory / size) * 6; i++, n++) {
        store.set(b(`drift:${n}`), new Uint8Array(size).fill(n % 251), 0, clock.now());
        if (i % 64 === 0) await nextTurn();
      }
      await nextTurn();
      reserved.push(store.footprint().arenaBytes);
    }
    // Free blocks of one size class cannot serve another: before, each phase kept the pages of
    // every earlier one (5, 9, 13, 17 MiB); now only its own (5 MiB each time).
    for (const bytes of reserved) expect(bytes).toBeLessThanOrEqual(maxMemory + 2 * PAGE_BYTES);
    // Every value held is intact (blocks of pages let go were never handed out again).
    let held = 0;
    for (const [key, entry] of store.entries()) {
      const number = Number(new TextDecoder().decode(key).slice("drift:".length));
      expect(entry.value.length).toBe(100);
      expect(entry.value.every((byte) => byte === number % 251)).toBe(true);
      held++;
    }
    expect(held).toBe(store.size);
  });

  test("set - eviction prefers keys not used recently", () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock, { maxMemory: 100 * 1000, seed: 7 });
    const value = new Uint8Array(90);
    for (let i = 0; i < 1000; i++) store.set(b(`old:${i.toString().padStart(4, "0")}`), value, 0, clock.now());
    expect(store.stats().evicted).toBe(0);
    const hot = Array.from({ length: 100 }, (_, i) => b(`old:${(i * 10).toString().padStart(4, "0")}`));
    for (let i = 0; i < 500; i++) {
      for (const key of hot) store.get(key);
      store.set(b(`new:${i.toString().padStart(4, "0")}`), value, 0, clock.now());
    }
    const hotLeft = hot.filter((key) => store.has(key)).length;
    let coldLeft = 0;
    for (let i = 0; i < 1000; i++) if (i % 10 !== 0 && store.has(b(`old:${i.toString().padStart(4, "0")}`))) coldLeft++;
    expect(hotLeft).toBeGreaterThanOrEqual(95);
    expect(coldLeft / 900).toBeLessThan(0.7);
    expect(store.stats().evicted).toBe(480); // 1000 keys of 98 bytes left room for 20 more
  });

  test("set - a key and value larger than MaxMemory is refused and changes nothing", () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock, { maxMemory: 1000 });
    store.set(b("k"), b("small"), 0, clock.now());
    store.set(b("other"), b("x"), 0, clock.now());
    const attempt = (): void => store.set(b("k"), new Uint8Array(1000), 0, clock.now());
    expect(attempt).toThrow(ValueTooLargeError);
    expect(attempt).toThrow(StoreLimitError);
    expect(new TextDecoder().decode(store.get(b("k"))!.value)).toBe("small");
    expect(store.stats()).toMatchObject({ keys: 2, evicted: 0 });
    store.set(b("k"), new Uint8Array(999), 0, clock.now()); // exactly the limit fits, by evicting
    expect(store.stats()).toMatchObject({ keys: 1, bytes: 1000, evicted: 1 });
  });

  test("set - growing a value evicts other keys, never the key being written", () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock, { maxMemory: 500 });
    for (let i = 0; i < 10; i++) store.set(b(`k${i}`), new Uint8Array(40), 0, clock.now());
    store.set(b("k0"), new Uint8Array(400), 0, clock.now());
    expect(store.get(b("k0"))!.value.length).toBe(400);
    expect(store.stats().bytes).toBeLessThanOrEqual(500);
  });

  test("set - eviction still finds victims in a table emptied by deletes", () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock, { maxMemory: 100_000, seed: 3 });
    for (let i = 0; i < 20_000; i++) store.set(b(`k${i}`), new Uint8Array(2), 0, clock.now());
    for (let i = 1; i < 19_999; i++) store.delete(b(`k${i}`));
    store.set(b("big1"), new Uint8Array(60_000), 0, clock.now());
    store.set(b("big2"), new Uint8Array(60_000), 0, clock.now());
    expect(store.stats().bytes).toBeLessThanOrEqual(100_000);
    expect(store.has(b("big2"))).toBe(true);
    expect(store.stats().evicted).toBeGreaterThanOrEqual(1);
  });

  test("random operations - under eviction the store holds a subset of the model, within the bound", async () => {
    const clock = new ManualClock();
    const maxMemory = 20_000;
    const store = new CompactStore(clock, { maxMemory, seed: 11 });
    const model = new Map<string, { value: Uint8Array; expiresAt: number }>();
    let x = 12345;
    const random = (): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 0x100000000;
    };
    for (let step = 0; step < 20_000; step++) {
      const key = b(`k${Math.floor(random() * 500)}`);
      const roll = random();
      if (roll < 0.5) {
        const value = new Uint8Array(Math.floor(random() ** 2 * 2000)).fill(step & 255);
        const expiresAt = random() < 0.3 ? clock.now() + 1 + Math.floor(random() * 2000) : 0;
        store.set(key, value, expiresAt, clock.now());
        model.set(`${key}`, { value, expiresAt });
      } else if (roll < 0.8) {
        const got = store.get(key);
        const want = model.get(`${key}`);
        if (got) {
          expect(want !== undefined && (want.expiresAt === 0 || want.expiresAt > clock.now())).toBe(true);
          expect(got.value).toEqual(want!.value);
        }
      } else if (roll < 0.9) {
        store.delete(key);
        model.delete(`${key}`);
      } else {
        clock.tick(Math.floor(random() * 300));
        store.advance(clock.now());
      }
      expect(store.stats().bytes).toBeLessThanOrEqual(maxMemory);
      if (step % 128 === 0) await nextTurn();
    }
    expect(store.stats().evicted).toBeGreaterThan(0);
  });

  test("set - MaxMemory 0 never evicts", () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock, { maxMemory: 0 });
    for (let i = 0; i < 10_000; i++) store.set(b(`k${i}`), new Uint8Array(100), 0, clock.now());
    expect(store.stats()).toMatchObject({ keys: 10_000, evicted: 0 });
  });

  test("onEvict - told each evicted key before it goes, and the store then fits; never the key being written", () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock, { maxMemory: 1000, seed: 5 });
    const told: string[] = [];
    store.onEvict = (key) => {
      expect(store.has(key)).toBe(true); // still there when told
      told.push(new TextDecoder().decode(key));
    };
    for (let i = 0; i < 30; i++) store.set(b(`k${i.toString().padStart(2, "0")}`), new Uint8Array(97), 0, clock.now());
    expect(told.length).toBe(20);
    expect(store.stats().evicted).toBe(20);
    for (const key of told) expect(store.has(b(key))).toBe(false);
    expect(told).not.toContain("k29");
  });

  test("setEviction(false) - writes never evict (loading); evictToLimit then evicts down to MaxMemory", () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock, { maxMemory: 1000, seed: 5 });
    let told = 0;
    store.onEvict = () => told++;
    store.setEviction(false);
    for (let i = 0; i < 30; i++) store.set(b(`k${i.toString().padStart(2, "0")}`), new Uint8Array(97), 0, clock.now());
    expect(store.stats()).toMatchObject({ keys: 30, bytes: 3000, evicted: 0 });
    // A single entry larger than MaxMemory is still refused: no eviction could make it fit.
    expect(() => store.set(b("huge"), new Uint8Array(1000), 0, clock.now())).toThrow(ValueTooLargeError);
    store.setEviction(true);
    expect(store.evictToLimit()).toBe(20);
    expect(told).toBe(20);
    expect(store.stats()).toMatchObject({ keys: 10, bytes: 1000, evicted: 20 });
    expect(store.evictToLimit()).toBe(0);
  });
});
