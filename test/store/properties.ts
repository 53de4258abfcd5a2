// Property tests for every Store: random operation sequences (set, overwrite, delete, expire,
// clock moves, clear) checked step by step against a plain reference model. Seeded, so a failure
// reproduces; the seed and step are in the message.

import { describe, expect, test } from "bun:test";
import { TICK_MS } from "../../src/store/timer-wheel.ts";
import { ManualClock, type Store } from "../../src/store/types.ts";
import type { StoreFactory } from "./conformance.ts";

/** Freed arena blocks are reused from the next turn of the event loop. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface ModelEntry {
  value: Uint8Array;
  expiresAt: number;
  writtenAt: number;
}

/** The obviously-right model: a Map by hex key; an entry is visible while not past expiresAt. */
class Model {
  readonly map = new Map<string, ModelEntry>();
  constructor(private readonly clock: ManualClock) {}
  live(key: Uint8Array): ModelEntry | undefined {
    const entry = this.map.get(hex(key));
    if (entry && entry.expiresAt !== 0 && entry.expiresAt <= this.clock.now()) {
      this.map.delete(hex(key));
      return undefined;
    }
    return entry;
  }
  /** Keys a store still holds after advance(now): the wheel frees a key on the first tick at or after its time. */
  unfiredCount(): number {
    const tick = Math.floor(this.clock.now() / TICK_MS);
    let n = 0;
    for (const e of this.map.values()) if (e.expiresAt === 0 || Math.ceil(e.expiresAt / TICK_MS) > tick) n++;
    return n;
  }
  purgeExpired(): void {
    for (const [k, e] of this.map) if (e.expiresAt !== 0 && e.expiresAt <= this.clock.now()) this.map.delete(k);
  }
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Calls the store's prefetch hint with keys laid out back to back in one buffer, as in a chunk. */
function prefetch(store: Store, keys: Uint8Array[]): void {
  const buf = new Uint8Array(keys.reduce((n, k) => n + k.length + 2, 0));
  const at = new Int32Array(2 * keys.length);
  let offset = 0;
  keys.forEach((key, i) => {
    buf.set(key, offset);
    at[2 * i] = offset;
    at[2 * i + 1] = offset + key.length;
    offset += key.length + 2;
  });
  store.prefetch?.(buf, at, keys.length);
}

interface RunOptions {
  readonly steps: number;
  readonly keySpace: number;
  readonly maxValue: number;
}

async function run(make: StoreFactory, seed: number, options: RunOptions): Promise<void> {
  const random = rng(seed);
  const clock = new ManualClock();
  const store = make(clock);
  const model = new Model(clock);
  // Binary keys: random bytes including 0x00 and 0xff, lengths 0..24, from a bounded space so
  // that overwrites and deletes hit existing keys.
  const keys: Uint8Array[] = [];
  for (let i = 0; i < options.keySpace; i++) {
    const key = new Uint8Array(Math.floor(random() * 25));
    for (let j = 0; j < key.length; j++) key[j] = random() < 0.2 ? (random() < 0.5 ? 0 : 255) : Math.floor(random() * 256);
    keys.push(key);
  }
  const anyKey = (): Uint8Array => keys[Math.floor(random() * keys.length)]!;
  const where = (step: number, what: string): string => `seed ${seed} step ${step}: ${what}`;
  for (let step = 0; step < options.steps; step++) {
    const roll = random();
    const key = anyKey();
    if (roll < 0.45) {
      const size = random() < 0.1 ? 0 : Math.floor(random() ** 3 * options.maxValue);
      const value = new Uint8Array(size);
      for (let i = 0; i < size; i += 97) value[i] = Math.floor(random() * 256);
      const expiresAt = random() < 0.3 ? clock.now() + 1 + Math.floor(random() * 5000) : 0;
      store.set(key, value, expiresAt, clock.now());
      model.map.set(hex(key), { value: value.slice(), expiresAt, writtenAt: clock.now() });
    } else if (roll < 0.7) {
      const got = store.get(key);
      const want = model.live(key);
      if (!want) expect(got, where(step, "get of a missing key")).toBeUndefined();
      else {
        expect(got, where(step, "get of a present key")).toBeDefined();
        expect(sameBytes(got!.value, want.value), where(step, "value bytes")).toBe(true);
        expect(got!.expiresAt, where(step, "expiresAt")).toBe(want.expiresAt);
        expect(got!.writtenAt, where(step, "writtenAt")).toBe(want.writtenAt);
      }
    } else if (roll < 0.82) {
      const want = model.live(key) !== undefined;
      model.map.delete(hex(key));
      expect(store.delete(key), where(step, "delete")).toBe(want);
    } else if (roll < 0.9) {
      const want = model.live(key);
      const expiresAt = random() < 0.3 ? 0 : clock.now() + 1 + Math.floor(random() * 5000);
      if (want) {
        want.expiresAt = expiresAt;
        want.writtenAt = clock.now();
      }
      expect(store.setExpiry(key, expiresAt, clock.now()), where(step, "setExpiry")).toBe(want !== undefined);
    } else if (roll < 0.99) {
      clock.tick(Math.floor(random() * 400));
      store.advance(clock.now());
      expect(store.size, where(step, "size after advance")).toBe(model.unfiredCount());
    } else if (roll < 0.993) {
      store.clear();
      model.map.clear();
    } else {
      // Let freed blocks be reused: the store hands them back only after the current task.
      await nextTurn();
    }
    // A prefetch hint for a pipeline's worth of keys (present, missing, empty, with large
    // values, during resizes, sometimes more than a call takes) changes nothing the model sees.
    if (step % 7 === 0) prefetch(store, Array.from({ length: 1 + Math.floor(random() * 80) }, anyKey));
    if (step % 64 === 0) await nextTurn();
  }
  clock.tick(10_000);
  store.advance(clock.now());
  model.purgeExpired();
  expect(store.size, `seed ${seed}: final size`).toBe(model.map.size);
  let bytes = 0;
  for (const [key, entry] of model.map) bytes += key.length / 2 + entry.value.length;
  expect(store.stats().bytes, `seed ${seed}: final bytes`).toBe(bytes);
  const seen = new Set<string>();
  for (const [key, entry] of store.entries()) {
    const want = model.map.get(hex(key));
    expect(want && sameBytes(want.value, entry.value), `seed ${seed}: entries() ${hex(key)}`).toBe(true);
    seen.add(hex(key));
  }
  expect(seen.size).toBe(model.map.size);
}

export function storeProperties(name: string, make: StoreFactory): void {
  describe(`${name} properties`, () => {
    test("random operations - small key space, many overwrites and deletes", async () => {
      for (let seed = 1; seed <= 6; seed++) await run(make, seed, { steps: 4000, keySpace: 40, maxValue: 300 });
    });

    test("random operations - growth and resize with thousands of keys", async () => {
      for (let seed = 100; seed <= 102; seed++) await run(make, seed, { steps: 30_000, keySpace: 6000, maxValue: 40 });
    });

    test("random operations - values across the size classes and past a page", async () => {
      await run(make, 7, { steps: 3000, keySpace: 200, maxValue: 40_000 });
    });

    test("set - one 16 MiB value among small ones round-trips and frees", async () => {
      const clock = new ManualClock();
      const store = make(clock);
      const big = new Uint8Array(16 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4093) big[i] = i & 255;
      for (let i = 0; i < 100; i++) store.set(new Uint8Array([i, 0]), new Uint8Array(i), 0, clock.now());
      store.set(new Uint8Array([0xff]), big, 0, clock.now());
      expect(sameBytes(store.get(new Uint8Array([0xff]))!.value, big)).toBe(true);
      expect(store.stats().bytes).toBe(1 + big.length + 100 * 2 + (99 * 100) / 2);
      store.delete(new Uint8Array([0xff]));
      await nextTurn();
      for (let i = 0; i < 100; i++) expect(store.get(new Uint8Array([i, 0]))!.value.length).toBe(i);
      expect(store.stats().bytes).toBe(100 * 2 + (99 * 100) / 2);
    });
  });
}
