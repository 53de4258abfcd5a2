// One behaviour suite for every Store implementation (Hono's router common.case.test.ts is the
// model): each implementation's test file calls `storeConformance` with a factory.

import { describe, expect, test } from "bun:test";
import { Keyspace } from "../../src/store/keyspace.ts";
import { ManualClock, type Store, type ValueRef } from "../../src/store/types.ts";

export type StoreFactory = (clock: ManualClock) => Store;

const enc = new TextEncoder();
export const b = (s: string): Uint8Array => enc.encode(s);
const text = (bytes: Uint8Array | undefined): string | undefined => (bytes ? new TextDecoder().decode(bytes) : undefined);

function setup(make: StoreFactory): { clock: ManualClock; store: Store } {
  const clock = new ManualClock();
  return { clock, store: make(clock) };
}

export function storeConformance(name: string, make: StoreFactory): void {
  describe(`${name} conformance`, () => {
    test("get - a missing key is undefined", () => {
      const { store } = setup(make);
      expect(store.get(b("nope"))).toBeUndefined();
      expect(store.has(b("nope"))).toBe(false);
    });

    test("read - fills a ValueRef as get would (through the Keyspace, with or without Store.read)", () => {
      const { clock, store } = setup(make);
      const keyspace = new Keyspace(store, clock);
      const big = new Uint8Array(70_000).map((_, i) => i % 251);
      store.set(b("small"), b("hello"), clock.now() + 5000, clock.now());
      store.set(b("big"), big, 0, clock.now() - 7);
      store.set(b("k".repeat(300)), b("long key"), 0, clock.now());
      store.set(b("gone"), b("x"), clock.now() + 10, clock.now());
      clock.tick(10);
      const ref: ValueRef = { bytes: new Uint8Array(0), start: 0, length: 0, writtenAt: 0, expiresAt: 0 };
      const valueOf = (r: ValueRef): Uint8Array => r.bytes.subarray(r.start, r.start + r.length);
      for (const key of [b("small"), b("big"), b("k".repeat(300))]) {
        const entry = store.get(key)!;
        expect(keyspace.read(key, ref)).toBe(true);
        expect(valueOf(ref)).toEqual(entry.value);
        expect([ref.writtenAt, ref.expiresAt]).toEqual([entry.writtenAt, entry.expiresAt]);
      }
      expect(keyspace.read(b("gone"), ref)).toBe(false);
      expect(keyspace.read(b("never"), ref)).toBe(false);
    });

    test("set - stores copies of key and value", () => {
      const { clock, store } = setup(make);
      const key = b("k1");
      const value = b("hello");
      store.set(key, value, 0, clock.now());
      key[0] = 120;
      value[0] = 120;
      const entry = store.get(b("k1"));
      expect(text(entry?.value)).toBe("hello");
      expect(entry?.writtenAt).toBe(clock.now());
      expect(entry?.expiresAt).toBe(0);
      expect(store.get(b("x1"))).toBeUndefined();
    });

    test("set - overwriting replaces value and time of write", () => {
      const { clock, store } = setup(make);
      store.set(b("k"), b("first value"), 0, clock.now());
      clock.tick(5);
      store.set(b("k"), b("2nd"), 0, clock.now());
      const entry = store.get(b("k"));
      expect(text(entry?.value)).toBe("2nd");
      expect(entry?.writtenAt).toBe(clock.now());
      expect(store.size).toBe(1);
      expect(store.stats().bytes).toBe(1 + 3);
    });

    test("set - times of write are kept to the millisecond across the whole Date range", () => {
      const { store } = setup(make);
      // around the clock's time (2027) too: 9 years back, 25 and 31 years ahead
      const times = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 1_800_000_000_123, 8.64e15, 1.5e12 + 7, 2.6e12 + 9, 2.8e12 + 11];
      times.forEach((t, i) => store.set(b(`t${i}`), b("v"), 0, t));
      times.forEach((t, i) => expect(store.get(b(`t${i}`))?.writtenAt).toBe(t));
    });

    test("set - the empty value is kept and is not the same as missing", () => {
      const { clock, store } = setup(make);
      store.set(b("empty"), new Uint8Array(0), 0, clock.now());
      expect(store.get(b("empty"))?.value.length).toBe(0);
      expect(store.has(b("empty"))).toBe(true);
    });

    test("set - binary keys compare byte for byte", () => {
      const { clock, store } = setup(make);
      const keys = [
        new Uint8Array([0]),
        new Uint8Array([0, 0]),
        new Uint8Array([255, 254, 0, 10, 13]),
        new Uint8Array([0x80, 0x9f]),
        b("ab"),
        b("abc"),
        b("abd"),
        new Uint8Array(0),
      ];
      keys.forEach((key, i) => store.set(key, b(`v${i}`), 0, clock.now()));
      expect(store.size).toBe(keys.length);
      keys.forEach((key, i) => expect(text(store.get(key)?.value)).toBe(`v${i}`));
      expect(store.get(new Uint8Array([0, 0, 0]))).toBeUndefined();
    });

    test("set - values of every size round-trip, up to several MiB", () => {
      const { clock, store } = setup(make);
      const sizes = [0, 1, 7, 8, 9, 255, 256, 257, 4095, 16 * 1024 - 3, 16 * 1024 + 1, 100_000, 3 * 1024 * 1024];
      for (const size of sizes) {
        const value = new Uint8Array(size);
        for (let i = 0; i < size; i++) value[i] = (i * 31 + size) & 255;
        store.set(b(`size:${size}`), value, 0, clock.now());
      }
      for (const size of sizes) {
        const value = store.get(b(`size:${size}`))!.value;
        expect(value.length).toBe(size);
        let ok = true;
        for (let i = 0; i < size; i++) if (value[i] !== ((i * 31 + size) & 255)) ok = false;
        expect(ok).toBe(true);
      }
    });

    test("set - keys around 255 bytes, 64 KiB and beyond are kept whole", () => {
      const { clock, store } = setup(make);
      const lengths = [254, 255, 256, 1000, 65534, 65535, 65536, 70_000];
      const keyOf = (n: number): Uint8Array => new Uint8Array(n).fill(n & 255).fill(1, n - 1);
      for (const n of lengths) store.set(keyOf(n), b(`len${n}`), 0, clock.now());
      for (const n of lengths) expect(text(store.get(keyOf(n))?.value)).toBe(`len${n}`);
      store.set(keyOf(70_000), b("again"), 0, clock.now());
      expect(text(store.get(keyOf(70_000))?.value)).toBe("again");
      // a long key and a short one with the same leading bytes are different keys
      expect(store.get(keyOf(255).subarray(0, 254))).toBeUndefined();
      store.set(keyOf(256), b("x".repeat(300)), 0, 8.64e15); // long key, far time, bigger value
      expect(store.get(keyOf(256))).toMatchObject({ writtenAt: 8.64e15 });
      expect(text(store.get(keyOf(256))?.value)).toBe("x".repeat(300));
      store.set(keyOf(256), b("short"), 0, clock.now());
      expect(store.get(keyOf(256))).toMatchObject({ writtenAt: clock.now() });
      const seen = [...store.entries()].map(([key]) => key.length).sort((x, y) => x - y);
      expect(seen).toEqual(lengths);
      for (const n of lengths) expect(store.delete(keyOf(n))).toBe(true);
      expect(store.stats()).toMatchObject({ keys: 0, bytes: 0 });
    });

    test("get - a value read stays intact when the key is overwritten in the same turn", () => {
      const { clock, store } = setup(make);
      store.set(b("k"), b("old-value"), 0, clock.now());
      const seen = store.get(b("k"))!.value;
      store.set(b("k"), b("new-value"), 0, clock.now());
      store.delete(b("k"));
      for (let i = 0; i < 100; i++) store.set(b(`other${i}`), b("xxxxxxxxx"), 0, clock.now());
      expect(text(seen)).toBe("old-value");
    });

    test("delete - true once, then false", () => {
      const { clock, store } = setup(make);
      store.set(b("k"), b("v"), 0, clock.now());
      expect(store.delete(b("k"))).toBe(true);
      expect(store.delete(b("k"))).toBe(false);
      expect(store.get(b("k"))).toBeUndefined();
      expect(store.stats()).toMatchObject({ keys: 0, bytes: 0 });
    });

    test("setExpiry - sets, replaces and removes a time to live", () => {
      const { clock, store } = setup(make);
      expect(store.setExpiry(b("missing"), clock.now() + 10, clock.now())).toBe(false);
      store.set(b("k"), b("v"), 0, clock.now());
      expect(store.setExpiry(b("k"), clock.now() + 1000, clock.now() + 1)).toBe(true);
      expect(store.get(b("k"))).toMatchObject({ expiresAt: clock.now() + 1000, writtenAt: clock.now() + 1 });
      expect(store.setExpiry(b("k"), 0, clock.now())).toBe(true);
      clock.tick(5000);
      store.advance(clock.now());
      expect(store.get(b("k"))?.expiresAt).toBe(0);
    });

    test("expiry - an expired key is never returned, even before the wheel runs", () => {
      const { clock, store } = setup(make);
      store.set(b("k"), b("v"), clock.now() + 100, clock.now());
      clock.tick(99);
      expect(store.has(b("k"))).toBe(true);
      clock.tick(1);
      expect(store.get(b("k"))).toBeUndefined();
      expect(store.has(b("k"))).toBe(false);
      expect(store.delete(b("k"))).toBe(false);
      expect(store.setExpiry(b("k"), 0, clock.now())).toBe(false);
      expect(store.stats().expired).toBe(1);
    });

    test("advance - frees due keys, counts them, leaves the rest", () => {
      const { clock, store } = setup(make);
      for (let i = 0; i < 50; i++) store.set(b(`t${i}`), b("v"), clock.now() + 1000 + i * 100, clock.now());
      store.set(b("forever"), b("v"), 0, clock.now());
      clock.tick(3500);
      expect(store.advance(clock.now())).toBe(26);
      expect(store.size).toBe(25);
      expect(store.stats()).toMatchObject({ keys: 25, expired: 26 });
      clock.tick(100_000);
      expect(store.advance(clock.now())).toBe(24);
      expect(store.size).toBe(1);
      expect(store.has(b("forever"))).toBe(true);
    });

    test("onExpired - told of each key whose time ran out, by the wheel or on sight, with its times", () => {
      const { clock, store } = setup(make);
      const told: [string, number, number][] = [];
      const present: boolean[] = [];
      store.onExpired((key, writtenAt, expiresAt) => {
        told.push([text(key)!, writtenAt, expiresAt]);
        present.push(store.has(key));
      });
      const t = clock.now();
      store.set(b("wheel"), b("v"), t + 100, t - 1);
      store.set(b("read"), b("v"), t + 100, t - 2);
      store.set(b("deleted"), b("v"), t + 100, t);
      store.set(b("overwritten"), b("v"), t + 100, t);
      store.set(b("cleared-ttl"), b("v"), t + 100, t);
      store.set(b("forever"), b("v"), 0, t);
      store.delete(b("deleted"));
      store.set(b("overwritten"), b("w"), 0, t + 1);
      store.setExpiry(b("cleared-ttl"), 0, t + 1);
      clock.tick(100);
      expect(store.get(b("read"))).toBeUndefined();
      expect(told).toEqual([["read", t - 2, t + 100]]);
      expect(store.advance(clock.now())).toBe(1);
      expect(told).toEqual([["read", t - 2, t + 100], ["wheel", t - 1, t + 100]]);
      store.set(b("late"), b("v"), clock.now() + 10, clock.now());
      store.onExpired(undefined);
      clock.tick(10);
      expect(store.has(b("late"))).toBe(false);
      expect(told.length).toBe(2);
      // the key is gone when the listener hears of it
      expect(present).toEqual([false, false]);
      expect(store.stats()).toMatchObject({ keys: 3, expired: 3 });
    });

    test("set - a write without a time to live clears the old one", () => {
      const { clock, store } = setup(make);
      store.set(b("k"), b("v"), clock.now() + 10, clock.now());
      store.set(b("k"), b("w"), 0, clock.now());
      clock.tick(1000);
      expect(store.advance(clock.now())).toBe(0);
      expect(text(store.get(b("k"))?.value)).toBe("w");
    });

    test("clear - removes everything; the store works afterwards", () => {
      const { clock, store } = setup(make);
      for (let i = 0; i < 3000; i++) store.set(b(`k${i}`), b(`v${i}`), i % 2 ? clock.now() + 50 : 0, clock.now());
      store.clear();
      expect(store.stats()).toMatchObject({ keys: 0, bytes: 0 });
      expect(store.get(b("k1"))).toBeUndefined();
      clock.tick(100);
      expect(store.advance(clock.now())).toBe(0);
      store.set(b("k1"), b("again"), 0, clock.now());
      expect(text(store.get(b("k1"))?.value)).toBe("again");
    });

    test("newestWrite - the newest write time held, kept by set, expire and load, forgotten by clear", () => {
      const { clock, store } = setup(make);
      const t = clock.now();
      expect(store.newestWrite()).toBe(-Infinity);
      store.set(b("a"), b("1"), 0, t - 50);
      store.set(b("b"), b("2"), t + 3600_000, t + 20);
      store.set(b("c"), b("3"), 0, t - 10); // an older write after a newer one
      expect(store.newestWrite()).toBe(t + 20);
      expect(store.setExpiry(b("a"), 0, t + 40)).toBe(true);
      expect(store.newestWrite()).toBe(t + 40);
      expect(store.setExpiry(b("missing"), 0, t + 90)).toBe(false);
      expect(store.newestWrite()).toBe(t + 40);
      // never older than an entry held: a delete may leave it newer than all that is left
      store.delete(b("a"));
      expect(store.newestWrite()).toBeGreaterThanOrEqual(Math.max(...[...store.entries()].map(([, e]) => e.writtenAt)));
      store.clear();
      expect(store.newestWrite()).toBe(-Infinity);
      store.set(b("d"), b("4"), 0, t + 1);
      expect(store.newestWrite()).toBe(t + 1);
      if (store.load) {
        // one record: key "e", value "55", written at t + 70
        const bytes = b("e55");
        const at = (n: number) => Float64Array.of(n);
        store.load({ bytes, count: 1, keyAt: Uint32Array.of(0), keyLength: Uint32Array.of(1), valueLength: Uint32Array.of(2), expiresAt: at(0), writtenAt: at(t + 70) });
        expect(text(store.get(b("e"))?.value)).toBe("55");
        expect(store.newestWrite()).toBe(t + 70);
      }
    });

    test("entries - live entries with fresh key copies", () => {
      const { clock, store } = setup(make);
      store.set(b("a"), b("1"), 0, clock.now());
      store.set(b("b"), b("2"), clock.now() + 10, clock.now());
      store.set(b("c"), b("3"), clock.now() + 1000, clock.now());
      clock.tick(10);
      const seen = new Map<string, string>();
      for (const [key, entry] of store.entries()) seen.set(text(key)!, text(entry.value)!);
      expect(Object.fromEntries(seen)).toEqual({ a: "1", c: "3" });
    });

    test("scan - visits every key exactly once while keys are added", () => {
      const { clock, store } = setup(make);
      for (let i = 0; i < 5000; i++) store.set(b(`k${i}`), b("v"), 0, clock.now());
      const seen = new Map<string, number>();
      let cursor = 0;
      let rounds = 0;
      do {
        const page = store.scan(cursor, 100);
        for (const key of page.keys) seen.set(text(key)!, (seen.get(text(key)!) ?? 0) + 1);
        cursor = page.cursor;
        if (rounds === 3) for (let i = 5000; i < 9000; i++) store.set(b(`k${i}`), b("v"), 0, clock.now());
        rounds++;
      } while (cursor !== 0 && rounds < 10_000);
      for (let i = 0; i < 5000; i++) expect(seen.get(`k${i}`)).toBe(1);
      for (const count of seen.values()) expect(count).toBe(1);
    });

    test("scan - two scans taking turns each visit every key that stays, once; deletes on the way lose nothing else", () => {
      const { clock, store } = setup(make);
      for (let i = 0; i < 3000; i++) store.set(b(`k${i}`), b("v"), 0, clock.now());
      const seen = [new Map<string, number>(), new Map<string, number>()];
      const cursors = [0, 0];
      const done = [false, false];
      for (let round = 0; !(done[0] && done[1]) && round < 10_000; round++) {
        const which = round % 2;
        if (done[which]) continue;
        const page = store.scan(cursors[which]!, which === 0 ? 70 : 130);
        for (const key of page.keys) seen[which]!.set(text(key)!, (seen[which]!.get(text(key)!) ?? 0) + 1);
        cursors[which] = page.cursor;
        if (page.cursor === 0) done[which] = true;
        if (round === 6) for (let i = 0; i < 3000; i += 7) store.delete(b(`k${i}`)); // some seen already, some not
      }
      expect(done).toEqual([true, true]);
      for (const counts of seen) {
        for (let i = 0; i < 3000; i++) if (i % 7 !== 0) expect(counts.get(`k${i}`)).toBe(1);
        for (const count of counts.values()) expect(count).toBe(1);
      }
    });

    test("walk - visits every key that stays once, whatever is deleted on the way and however many scans run meanwhile", () => {
      const { clock, store } = setup(make);
      for (let i = 0; i < 3000; i++) store.set(b(`k${i}`), b("v"), 0, clock.now());
      const seen = new Map<string, number>();
      const walk = store.walk();
      for (let page = walk.next(100), round = 0; ; page = walk.next(100), round++) {
        for (const key of page.keys) {
          seen.set(text(key)!, (seen.get(text(key)!) ?? 0) + 1);
          store.delete(key); // as a flush's sweep does
        }
        for (let i = 0; i < 40; i++) store.scan(0, 10); // clients' SCANs
        if (round === 6) for (let i = 0; i < 3000; i += 7) store.delete(b(`k${i}`));
        if (page.done) break;
      }
      for (let i = 0; i < 3000; i++) if (i % 7 !== 0) expect(seen.get(`k${i}`)).toBe(1);
      for (const count of seen.values()) expect(count).toBe(1);
      expect(store.size).toBe(0);
    });

    test("stats - expires counts the keys with a time to live", () => {
      const { clock, store } = setup(make);
      store.set(b("a"), b("1"), clock.now() + 1000, clock.now());
      store.set(b("b"), b("1"), clock.now() + 5000, clock.now());
      store.set(b("c"), b("1"), 0, clock.now());
      expect(store.stats().expires).toBe(2);
      store.set(b("b"), b("2"), 0, clock.now()); // overwritten without a TTL
      expect(store.stats().expires).toBe(1);
      store.set(b("c"), b("2"), clock.now() + 5000, clock.now());
      store.delete(b("c"));
      expect(store.stats().expires).toBe(1);
      clock.tick(1001);
      store.advance(clock.now());
      expect(store.get(b("a"))).toBeUndefined();
      expect(store.stats()).toMatchObject({ keys: 1, expires: 0 });
    });

    test("stats - expires counts a key once however often its time to live is reset (EXPIRE, SET EX churn)", () => {
      const { clock, store } = setup(make);
      store.set(b("k"), b("1"), clock.now() + 1000, clock.now());
      for (let i = 0; i < 50; i++) store.setExpiry(b("k"), clock.now() + 2000 + i, clock.now());
      for (let i = 0; i < 50; i++) store.set(b("k"), b("2"), clock.now() + 3000 + i, clock.now());
      expect(store.stats().expires).toBe(1);
      store.delete(b("k"));
      expect(store.stats()).toMatchObject({ keys: 0, expires: 0 });
    });

    test("stats - bytes follow sets, overwrites and deletes", () => {
      const { clock, store } = setup(make);
      store.set(b("key"), b("12345"), 0, clock.now());
      store.set(b("k2"), b(""), 0, clock.now());
      expect(store.stats()).toEqual({ keys: 2, expires: 0, bytes: 3 + 5 + 2, expired: 0, evicted: 0 });
      store.set(b("key"), b("1"), 0, clock.now());
      expect(store.stats().bytes).toBe(3 + 1 + 2);
      store.delete(b("k2"));
      expect(store.stats().bytes).toBe(4);
    });

    test("set - 50,000 keys survive growth; deleting half leaves the other half", () => {
      const { clock, store } = setup(make);
      const n = 50_000;
      for (let i = 0; i < n; i++) store.set(b(`key:${i}`), b(`value:${i}`), 0, clock.now());
      expect(store.size).toBe(n);
      for (let i = 0; i < n; i += 2) expect(store.delete(b(`key:${i}`))).toBe(true);
      let ok = true;
      for (let i = 0; i < n; i++) {
        const value = text(store.get(b(`key:${i}`))?.value);
        if (value !== (i % 2 ? `value:${i}` : undefined)) ok = false;
      }
      expect(ok).toBe(true);
      expect(store.size).toBe(n / 2);
    });
  });
}
