// Arena compaction in the compact store: blocks moved off sparse pages keep their bytes, times and
// times to live; the pages are let go; a snapshot taken meanwhile is written as it was captured.

import { describe, expect, test } from "bun:test";
import { captureStore } from "../../src/persistence/capture.ts";
import { decodeFile, SnapshotEncoder } from "../../src/persistence/file-codec.ts";
import { SNAPSHOT_MAGIC } from "../../src/persistence/frame.ts";
import { decodeRecords, type RecordVisitor } from "../../src/persistence/records.ts";
import { Arena, PAGE_BYTES } from "../../src/store/arena.ts";
import { bytesToBinaryString } from "../../src/store/bytes.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { ManualClock } from "../../src/store/types.ts";
import { seededRandom } from "../helpers/random.ts";

/** Freed arena blocks are filed (and emptied pages let go) at the end of a turn of the event loop. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const b = (s: string): Uint8Array => new TextEncoder().encode(s);


/** A value whose every byte depends on its key's number and its version: a mix-up shows. */
function valueFor(n: number, version: number, size: number): Uint8Array {
  const value = new Uint8Array(size);
  for (let i = 0; i < size; i++) value[i] = (n * 31 + version * 7 + i) & 255;
  return value;
}

/**
 * Values of `sizes` one phase after another, three turnovers of MaxMemory each, one key in 50 of
 * each phase read again every 256 writes (so that it survives eviction and pins its page); ticks
 * every 1,000 writes when `ticking`. Returns the hot keys.
 */
async function drift(store: CompactStore, clock: ManualClock, maxMemory: number, sizes: number[], ticking: boolean): Promise<Uint8Array[]> {
  const hot: Uint8Array[] = [];
  let n = 0;
  for (const size of sizes) {
    for (let i = 0; i < (maxMemory / size) * 3; i++, n++) {
      const key = b(`drift:${n}`);
      store.set(key, valueFor(n, 0, size), 0, clock.now());
      if (i < maxMemory / size && i % 50 === 0) hot.push(key);
      if (i % 256 === 0) for (const k of hot) store.get(k);
      if (i % 64 === 0) await nextTurn();
      if (ticking && i % 1000 === 0) store.advance(clock.now());
    }
    await nextTurn();
  }
  return hot;
}

/** Ticks until a tick moves nothing and the arena stops shrinking (bounded). */
async function settleCompaction(store: CompactStore, clock: ManualClock): Promise<void> {
  for (let quiet = 0, t = 0; quiet < 3 && t < 500; t++) {
    const before = [store.footprint().movedBlocks, store.footprint().arenaBytes];
    clock.tick(100);
    store.advance(clock.now());
    await nextTurn();
    quiet = store.footprint().movedBlocks === before[0] && store.footprint().arenaBytes === before[1] ? quiet + 1 : 0;
  }
}

describe("CompactStore compaction", () => {
  test("advance - pages pinned by a few hot keys after value sizes drift are emptied and let go", async () => {
    const clock = new ManualClock();
    const maxMemory = 4 * PAGE_BYTES;
    const store = new CompactStore(clock, { maxMemory, seed: 3 });
    const hot = await drift(store, clock, maxMemory, [3000, 1000, 300, 100], false);
    // Without ticks nothing moves: every phase's hot keys pin pages of their size (17 MiB).
    const pinned = store.footprint().arenaBytes;
    expect(pinned).toBeGreaterThanOrEqual(12 * PAGE_BYTES);
    await settleCompaction(store, clock);
    expect(store.footprint().movedBlocks).toBeGreaterThan(0);
    expect(store.footprint().arenaBytes).toBeLessThanOrEqual(maxMemory + 2 * PAGE_BYTES);
    for (const key of hot) {
      const n = Number(new TextDecoder().decode(key).slice("drift:".length));
      const entry = store.get(key);
      expect(entry).toBeDefined(); // hot keys were never evicted
      expect(entry!.value).toEqual(valueFor(n, 0, entry!.value.length));
    }
  }, 30_000);

  test("advance - with ticks while values shrink and grow again, the arena stays near the data", async () => {
    const clock = new ManualClock();
    const maxMemory = 4 * PAGE_BYTES;
    const store = new CompactStore(clock, { maxMemory, seed: 4 });
    let most = 0;
    for (const sizes of [[3000, 1000], [300, 100], [300, 1000, 3000]]) {
      await drift(store, clock, maxMemory, sizes, true);
      await settleCompaction(store, clock);
      most = Math.max(most, store.footprint().arenaBytes);
    }
    expect(most).toBeLessThanOrEqual(maxMemory + 2 * PAGE_BYTES); // 17 MiB without compaction
  }, 30_000);

  test("random operations - set, delete, evict, expire and compaction steps keep every value byte for byte (seeded, against a Map)", async () => {
    const clock = new ManualClock();
    const maxMemory = 3 * PAGE_BYTES;
    const store = new CompactStore(clock, { maxMemory, seed: 21 });
    const random = seededRandom(99);
    const model = new Map<string, { n: number; version: number; size: number; expiresAt: number; writtenAt: number }>();
    store.onEvict = (key) => {
      expect(model.delete(bytesToBinaryString(key))).toBe(true);
    };
    const check = (): void => {
      const now = clock.now();
      let live = 0;
      for (const [k, want] of model) {
        if (want.expiresAt !== 0 && want.expiresAt <= now) continue;
        live++;
        const entry = store.get(b(k));
        expect(entry).toBeDefined();
        expect(entry!.value).toEqual(valueFor(want.n, want.version, want.size));
        expect(entry!.expiresAt).toBe(want.expiresAt);
        expect(entry!.writtenAt).toBe(want.writtenAt);
      }
      expect([...store.entries()].length).toBe(live); // (size still counts keys expired but not yet swept)
    };
    let version = 0;
    // Sizes drift phase by phase (and keys of earlier phases linger), so pages go sparse.
    for (const base of [2400, 700, 160, 40, 900, 60, 2000, 100, 500, 30]) {
      for (let step = 0; step < 6000; step++) {
        const n = Math.floor(random() * 4000);
        const key = `k${n}`;
        const roll = random();
        if (roll < 0.7) {
          const size = Math.max(1, Math.floor(base * (0.5 + random())));
          const expiresAt = random() < 0.2 ? clock.now() + 1 + Math.floor(random() * 5000) : 0;
          version++;
          store.set(b(key), valueFor(n, version, size), expiresAt, clock.now());
          model.set(key, { n, version, size, expiresAt, writtenAt: clock.now() });
        } else if (roll < 0.85) {
          store.delete(b(key));
          model.delete(key);
        } else if (roll < 0.95) {
          const want = model.get(key);
          const entry = store.get(b(key));
          if (want === undefined || (want.expiresAt !== 0 && want.expiresAt <= clock.now())) expect(entry).toBeUndefined();
          else expect(entry!.value).toEqual(valueFor(want.n, want.version, want.size));
        } else {
          clock.tick(Math.floor(random() * 100));
          store.advance(clock.now());
        }
        if (step % 64 === 0) await nextTurn();
        if (step % 2000 === 0) check();
      }
      check();
      await settleCompaction(store, clock);
      check();
      expect(store.footprint().sparsePages).toBeLessThan(2); // what a pass leaves undone
    }
        expect(store.footprint().movedBlocks).toBeGreaterThan(100);
  }, 30_000);

  test("advance - moved keys keep their time to live and expire on time", async () => {
    const clock = new ManualClock();
    const maxMemory = 4 * PAGE_BYTES;
    const store = new CompactStore(clock, { maxMemory, seed: 8 });
    // Big values with a TTL, then most of them deleted: their pages are left sparse.
    const deadline = clock.now() + 60_000;
    for (let i = 0; i < 1300; i++) store.set(b(`ttl:${i}`), valueFor(i, 1, 3000), i % 2 ? deadline + i : 0, clock.now());
    for (let i = 0; i < 1300; i++) if (i % 20 !== 0 && i % 20 !== 1) store.delete(b(`ttl:${i}`));
    await nextTurn();
    const before = store.footprint().arenaBytes;
    await settleCompaction(store, clock);
    expect(store.footprint().movedBlocks).toBeGreaterThan(0);
    expect(store.footprint().arenaBytes).toBeLessThan(before);
    const kept = Array.from({ length: 1300 }, (_, i) => i).filter((i) => i % 20 < 2);
    for (const i of kept) {
      const entry = store.get(b(`ttl:${i}`))!;
      expect(entry.value).toEqual(valueFor(i, 1, 3000));
      expect(entry.expiresAt).toBe(i % 2 ? deadline + i : 0);
    }
    clock.set(deadline + 1300);
    store.advance(clock.now());
    for (const i of kept) expect(store.has(b(`ttl:${i}`))).toBe(i % 2 === 0);
    expect(store.stats().expired).toBe(kept.length / 2);
  }, 30_000);

  test("advance - a value read earlier in the turn is intact after its block moves", async () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock, { seed: 2 });
    for (let i = 0; i < 1400; i++) store.set(b(`v:${i}`), valueFor(i, 0, 2000), 0, clock.now());
    for (let i = 0; i < 1400; i++) if (i % 25 !== 0) store.delete(b(`v:${i}`));
    await nextTurn();
    const views = [0, 25, 50, 1375].map((i) => [i, store.get(b(`v:${i}`))!.value] as const);
    for (let t = 0; t < 5; t++) store.advance(clock.now()); // same turn: the moved blocks' old bytes stay
    expect(store.footprint().movedBlocks).toBeGreaterThan(0);
    for (const [i, view] of views) expect(view).toEqual(valueFor(i, 0, 2000));
  }, 30_000);

  test("snapshot - taken while a compaction pass is under way, it is written as captured; compaction resumes after", async () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock, { seed: 6 });
    // 60,000 slots (two slices of the walk) over pages left sparse by deletes.
    for (let i = 0; i < 60_000; i++) store.set(b(`s:${i}`), valueFor(i, 0, 60 + (i % 7) * 40), i % 3 ? 0 : clock.now() + 3_600_000, clock.now());
    for (let i = 0; i < 60_000; i++) if (i % 16 !== 0) store.delete(b(`s:${i}`));
    await nextTurn();
    store.advance(clock.now());
    const movedBeforeCapture = store.footprint().movedBlocks;
    expect(movedBeforeCapture).toBeGreaterThan(0); // the pass is under way, not done
    const expected = new Map<string, { value: Uint8Array; expiresAt: number }>();
    for (const [key, entry] of store.entries()) expected.set(bytesToBinaryString(key), { value: entry.value.slice(), expiresAt: entry.expiresAt });
    const view = captureStore(store);
    const encoder = new SnapshotEncoder(view, 1, clock.now());
    const chunks: Uint8Array[] = [];
    // While the snapshot is written a chunk per turn: overwrites, deletes, new keys and ticks.
    for (let round = 0; ; round++) {
      for (let j = 0; j < 200; j++) {
        const i = 16 * ((round * 200 + j) % 3750);
        if (j % 3 === 0) store.delete(b(`s:${i}`));
        else store.set(b(`s:${i}`), valueFor(i, round + 1, 50 + j), 0, clock.now());
        store.set(b(`new:${round}:${j}`), valueFor(j, round, 300), 0, clock.now());
      }
      store.advance(clock.now());
      const chunk = encoder.nextChunk();
      if (!chunk) break;
      chunks.push(chunk.slice());
      await nextTurn();
    }
    expect(store.footprint().movedBlocks).toBe(movedBeforeCapture); // nothing moves under a snapshot
    view.release();
    const written = new Map<string, { value: Uint8Array; expiresAt: number }>();
    const visitor: RecordVisitor = {
      set: (key, value, expiresAt) => written.set(bytesToBinaryString(key), { value: value.slice(), expiresAt }),
      expire: () => {},
      delete: () => {},
      flush: () => {},
    };
    decodeFile(new Uint8Array(Buffer.concat(chunks)), SNAPSHOT_MAGIC, false, (payload, count, base) => decodeRecords(payload, count, base, visitor, true));
    expect(written.size).toBe(expected.size);
    for (const [key, want] of expected) expect(written.get(key)).toEqual(want);
    // Released, the pass goes on and lets pages go.
    const held = store.footprint().arenaBytes;
    await settleCompaction(store, clock);
    expect(store.footprint().movedBlocks).toBeGreaterThan(movedBeforeCapture);
    expect(store.footprint().arenaBytes).toBeLessThan(held);
  }, 30_000);
});

test("arena - an allocation drops at most a few free blocks of pages being emptied, however many sit on top of its stack", () => {
  // Most free blocks of a class can be on leaving pages (they are under a quarter full); one SET
  // that dropped them all held the event loop for milliseconds.
  const arena = new Arena();
  const perPage = PAGE_BYTES / 8;
  const blocks: number[] = [];
  for (let i = 0; i < perPage * 3 + 10; i++) blocks.push(arena.alloc(8));
  const onPage = (address: number) => Arena.pageIndex(address);
  // the third page's blocks freed first, so the first two pages' are on top of the stack
  for (const address of blocks) if (onPage(address) === 2 && address % 2 === 0) arena.free(address, 8);
  for (const address of blocks) if (onPage(address) < 2 && address % 10 !== 0) arena.free(address, 8);
  arena.settle();
  arena.evacuate([0, 1]);
  const before = arena.freeCount();
  expect(before).toBeGreaterThan(200_000);
  const address = arena.alloc(8);
  expect(arena.isLeaving(address)).toBe(false);
  expect(before - arena.freeCount()).toBeLessThanOrEqual(64);
  // later allocations go on dropping them, a few at a time, and never hand one out
  for (let i = 0; i < 10_000; i++) expect(arena.isLeaving(arena.alloc(8))).toBe(false);
});
