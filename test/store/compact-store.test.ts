// The compact store through the shared store suite, unlimited and with a MaxMemory too large to
// evict (so the eviction bookkeeping runs on every path without changing results).

import { describe, expect, test } from "bun:test";
import { PAGE_BYTES } from "../../src/store/arena.ts";
import { LARGE_BYTES } from "../../src/store/size-classes.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { ManualClock } from "../../src/store/types.ts";
import { storeConformance } from "./conformance.ts";
import { storeProperties } from "./properties.ts";

/** Freed arena blocks are reused from the next turn of the event loop. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

storeConformance("CompactStore", (clock) => new CompactStore(clock));
storeProperties("CompactStore", (clock) => new CompactStore(clock, { seed: 42 }));
storeConformance("CompactStore with MaxMemory", (clock) => new CompactStore(clock, { maxMemory: 1 << 30 }));

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const turn = nextTurn;

describe("CompactStore internals", () => {
  test("scan - a key present for the whole scan is seen once, despite deletions and growth", () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock);
    for (let i = 0; i < 5000; i++) store.set(b(`k${i}`), b("v"), 0, clock.now());
    const seen = new Map<string, number>();
    let cursor = 0;
    let rounds = 0;
    do {
      const page = store.scan(cursor, 100);
      for (const key of page.keys) {
        const k = new TextDecoder().decode(key);
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
      cursor = page.cursor;
      if (rounds === 3) for (let i = 5000; i < 9000; i++) store.set(b(`k${i}`), b("v"), 0, clock.now());
      if (rounds === 5) for (let i = 0; i < 5000; i += 7) store.delete(b(`k${i}`));
      rounds++;
    } while (cursor !== 0);
    for (let i = 0; i < 5000; i++) if (i % 7 !== 0) expect(seen.get(`k${i}`)).toBe(1);
    for (const count of seen.values()) expect(count).toBe(1);
  });

  test("get - a value read stays intact through promise continuations of the same turn", async () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock);
    store.set(b("k"), b("original"), 0, clock.now());
    const seen = store.get(b("k"))!.value;
    store.set(b("k"), b("replaced"), 0, clock.now()); // frees the block `seen` points into
    await Promise.resolve(); // an HTTP handler's `await engine.execute(...)`
    for (let i = 0; i < 100; i++) store.set(b(`x${i}`), b("zzzzzzzz"), 0, clock.now());
    await Promise.resolve();
    expect(new TextDecoder().decode(seen)).toBe("original");
    await turn();
    expect(new TextDecoder().decode(store.get(b("k"))!.value)).toBe("replaced");
  });

  test("snapshot - a point-in-time view survives overwrites, deletes and reuse until release", async () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock);
    const big = new Uint8Array(40_000).fill(9);
    for (let i = 0; i < 2000; i++) store.set(b(`k${i}`), b(`value${i}`), i % 2 ? clock.now() + 5000 : 0, clock.now() + i);
    store.set(b("big"), big, 0, clock.now());
    store.set(b("medium"), new Uint8Array(100).fill(5), 0, clock.now());
    const view = store.snapshot();
    expect(view.length).toBe(2002);
    for (let i = 0; i < 2000; i++) store.set(b(`k${i}`), b(`changed${i}`), 0, clock.now());
    store.delete(b("big"));
    await turn();
    for (let i = 0; i < 4000; i++) store.set(b(`new${i}`), b(`xxxxxxxxxxxx${i}`), 0, clock.now());
    store.clear();
    const seen = new Map<string, [string, number, number]>();
    for (let i = 0; i < view.length; i++) {
      const key = new Uint8Array(view.keyLength(i));
      view.copyKey(i, key, 0);
      const value = view.value(i);
      // copyValue (what the snapshot writer uses) gives the same bytes, wherever they land
      const copied = new Uint8Array(view.valueLength(i) + 3);
      view.copyValue(i, copied, 3);
      expect(Buffer.compare(copied.subarray(3), value)).toBe(0);
      seen.set(new TextDecoder().decode(key), [value.length > 100 ? `big:${value[39_999]}` : new TextDecoder().decode(value), view.writtenAt(i), view.expiresAt(i)]);
    }
    for (let i = 0; i < 2000; i++) expect(seen.get(`k${i}`)).toEqual([`value${i}`, clock.now() + i, i % 2 ? clock.now() + 5000 : 0]);
    expect(seen.get("big")![0]).toBe("big:9");
    expect(seen.get("medium")![0]).toBe("\x05".repeat(100));
    view.release();
    view.release(); // twice is harmless
    await turn();
    store.set(b("after"), b("release"), 0, clock.now());
    expect(new TextDecoder().decode(store.get(b("after"))!.value)).toBe("release");
  });

  test("set - overwrites and delete/re-insert churn reuse freed blocks instead of growing", async () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock);
    const value = new Uint8Array(100);
    for (let i = 0; i < 5000; i++) store.set(b(`key:${i}`), value, 0, clock.now());
    await turn();
    const settled = store.footprint().arenaBytes;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 5000; i++) {
        if (round % 2) store.set(b(`key:${i}`), value, 0, clock.now());
        else if (store.delete(b(`key:${i}`))) store.set(b(`key:${i}`), value.subarray(0, 90), 0, clock.now());
      }
      await turn();
    }
    // One round's worth of blocks may be in flight (freed this turn); nothing accumulates.
    expect(store.footprint().arenaBytes).toBeLessThanOrEqual(settled * 2 + PAGE_BYTES);
    expect(store.size).toBe(5000);
  });

  test("set - large blocks (over a page class) for keys and values are released on delete", async () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock);
    const bigKey = new Uint8Array(LARGE_BYTES + 10).fill(7);
    store.set(bigKey, new Uint8Array(5).fill(1), 0, clock.now());
    expect(store.get(bigKey.slice())?.value).toEqual(new Uint8Array(5).fill(1));
    for (let i = 0; i < 20; i++) {
      store.set(b(`big${i}`), new Uint8Array(1 << 20), 0, clock.now());
      store.delete(b(`big${i}`));
    }
    await turn();
    expect(store.footprint().arenaBytes).toBeLessThan(4 * PAGE_BYTES);
  });

  test("set - 150,000 keys span several column segments; ids in every segment work", async () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock);
    const n = 150_000;
    for (let i = 0; i < n; i++) store.set(b(`s${i}`), b(`${i}`), i % 3 ? 0 : clock.now() + 1000 + i, clock.now() + i);
    expect(store.footprint().slotCapacity).toBe(10 * 16384); // whole segments of 16 Ki rows
    for (let i = 0; i < n; i += 2) store.delete(b(`s${i}`));
    await turn();
    for (let i = 0; i < n; i += 2) store.set(b(`t${i}`), b(`t${i}`), 0, clock.now());
    expect(store.footprint().slotCapacity).toBe(10 * 16384); // freed ids are reused
    let ok = true;
    for (let i = 0; i < n; i++) {
      const odd = store.get(b(`s${i}`));
      if (i % 2 ? odd?.writtenAt !== clock.now() + i || new TextDecoder().decode(odd.value) !== `${i}` : odd !== undefined) ok = false;
      if (i % 2 === 0 && new TextDecoder().decode(store.get(b(`t${i}`))?.value) !== `t${i}`) ok = false;
    }
    expect(ok).toBe(true);
    clock.tick(1000 + n);
    expect(store.advance(clock.now())).toBe(25_000); // odd multiples of 3 below n
    expect(store.size).toBe(n - 25_000);
  });

  test("set - a time of write after the year 10889 is kept aside, and forgotten on overwrite and delete", () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock);
    const far = 8.64e15; // the last Date
    store.set(b("a"), b("1"), 0, far);
    store.set(b("b"), b("2"), 0, far - 1);
    expect(store.get(b("a"))!.writtenAt).toBe(far);
    store.set(b("a"), b("3"), 0, 1_800_000_000_123);
    expect(store.get(b("a"))!.writtenAt).toBe(1_800_000_000_123);
    store.delete(b("b"));
    store.set(b("c"), b("4"), 0, 2 ** 47 + 5); // reuses b's slot
    expect(store.get(b("c"))!.writtenAt).toBe(2 ** 47 + 5);
    expect(store.setExpiry(b("c"), 0, far)).toBe(true);
    expect(store.get(b("c"))!.writtenAt).toBe(far);
  });

  test("delete - keys deleted and overwritten while a resize migrates stay deleted and overwritten", () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock);
    const first = store.footprint().indexBuckets;
    let n = 0;
    while (store.footprint().indexBuckets === first) store.set(b(`d${n++}`), b(`${n}`), 0, clock.now());
    // Mid-migration: every third key goes, every third+1 gets a new value (both tables are hit:
    // early keys of the old table migrate first, later ones are still in it).
    for (let i = n - 1; i >= 0; i -= 3) expect(store.delete(b(`d${i}`))).toBe(true);
    for (let i = n - 2; i >= 0; i -= 3) store.set(b(`d${i}`), b(`new${i}`), 0, clock.now());
    let ok = true;
    for (let i = 0; i < n; i++) {
      const value = store.get(b(`d${i}`))?.value;
      const want = (n - 1 - i) % 3 === 0 ? undefined : (n - 2 - i) % 3 === 0 ? `new${i}` : `${i + 1}`;
      if ((value && new TextDecoder().decode(value)) !== want) ok = false;
    }
    expect(ok).toBe(true);
    expect(store.size).toBe(n - Math.ceil(n / 3));
  });

  test("set - growing past a resize keeps every key reachable while the old table drains", () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock);
    let n = 0;
    const first = store.footprint().indexBuckets;
    // Fill until a resize starts, then check lookups of keys on both sides of the migration.
    while (n < 100_000 && store.footprint().indexBuckets === first) {
      store.set(b(`r${n}`), b(`${n}`), 0, clock.now());
      n++;
    }
    const grown = Math.ceil(first * 1.5); // grows by half
    expect(store.footprint().indexBuckets).toBe(first + grown); // old + new table
    for (let i = 0; i < n; i++) expect(new TextDecoder().decode(store.get(b(`r${i}`))!.value)).toBe(`${i}`);
    expect(store.footprint().indexBuckets).toBe(grown); // migration done
  });

  test("prefetch - a hint over present, missing and large-valued keys, in any state, changes nothing", () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock);
    const keys = [b("big-1"), b("big-2"), b("missing"), b("")];
    const chunk = (list: Uint8Array[]): [Uint8Array, Int32Array] => {
      const buf = new Uint8Array(list.reduce((n, k) => n + k.length, 0));
      const at = new Int32Array(2 * list.length);
      let offset = 0;
      list.forEach((key, i) => {
        buf.set(key, offset);
        at.set([offset, offset + key.length], 2 * i);
        offset += key.length;
      });
      return [buf, at];
    };
    const hint = (list: Uint8Array[]): void => store.prefetch(...chunk(list), list.length);
    hint(keys); // an empty store
    // Only values past LARGE_BYTES: their blocks live outside the arena's pages (there are none).
    const big = new Uint8Array(LARGE_BYTES + 100).fill(7);
    store.set(keys[0]!, big, 0, clock.now());
    store.set(keys[1]!, big, clock.now() + 60_000, clock.now());
    hint(keys);
    // Mid-resize (keys still in the old table) and more keys than one call takes.
    const first = store.footprint().indexBuckets;
    const many: Uint8Array[] = [];
    for (let n = 0; store.footprint().indexBuckets === first; n++) {
      many.push(b(`m${n}`));
      store.set(many[many.length - 1]!, b(`${n}`), 0, clock.now());
    }
    hint([...keys, ...many.slice(0, 100)]);
    expect(store.get(keys[0]!)!.value).toEqual(big);
    expect(store.get(keys[1]!)!.expiresAt).toBe(clock.now() + 60_000);
    expect(store.get(keys[2]!)).toBeUndefined();
    expect(store.size).toBe(2 + many.length);
    many.forEach((key, n) => expect(new TextDecoder().decode(store.get(key)!.value)).toBe(`${n}`));
  });

  test("wantsPrefetch - only once the store outgrows the CPU caches (tens of thousands of keys)", () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock);
    for (let n = 0; n < 1000; n++) store.set(b(`w${n}`), b("v"), 0, clock.now());
    expect(store.wantsPrefetch).toBe(false);
    for (let n = 1000; n < 40_000; n++) store.set(b(`w${n}`), b("v"), 0, clock.now());
    expect(store.wantsPrefetch).toBe(true);
  });
});
