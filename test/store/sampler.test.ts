// Eviction sampling over the slot table: candidates are drawn uniformly among live slots however
// the live ones cluster, and so a sampled LRU evicts the oldest keys of a table thinned by deletes.

import { describe, expect, test } from "bun:test";
import { CompactStore } from "../../src/store/compact-store.ts";
import { SlotSampler } from "../../src/store/sampler.ts";
import { SlotTable } from "../../src/store/slots.ts";
import { ManualClock } from "../../src/store/types.ts";
import { seededRandom } from "../helpers/random.ts";

const b = (s: string): Uint8Array => new TextEncoder().encode(s);


describe("SlotSampler", () => {
  test("draw - live slots are sampled uniformly, also when they come in runs between long gaps", () => {
    const random = seededRandom(2024);
    const slots = new SlotTable(1, true);
    const live: number[] = [];
    // Runs of 1–6 live slots between runs of 0–20 dead ones (about 1 slot in 4 live): the first
    // slot of a run follows a gap, the others follow a live slot.
    // (slots taken in order first, then the dead ones released: a released id is taken next)
    const dead: number[] = [];
    while (slots.highWater < 8192) {
      const run = 1 + Math.floor(random() * 6);
      for (let i = 0; i < run; i++) live.push(slots.highWater + i);
      const gap = Math.floor(random() * 21);
      for (let i = 0; i < gap; i++) dead.push(slots.highWater + run + i);
      for (let i = 0; i < run + gap; i++) {
        const slot = slots.take();
        slots.write(slot, b(`k${slot}`), b("v"));
      }
    }
    for (const slot of dead) {
      slots.freeBlock(slot);
      slots.release(slot);
    }
    for (let slot = 0; slot < slots.highWater; slot++) expect(slots.isLiveDrawn(slot)).toBe(slots.isLive(slot)); // the bitmap agrees
    const counts = new Map<number, number>(live.map((slot) => [slot, 0]));
    const sampler = new SlotSampler(7);
    const out = new Int32Array(5);
    const perSlot = 40;
    const draws = (live.length * perSlot) / out.length;
    for (let d = 0; d < draws; d++) {
      const found = sampler.draw(slots, -1, out);
      expect(found).toBe(out.length);
      for (let i = 0; i < found; i++) {
        expect(counts.has(out[i]!)).toBe(true); // live slots only
        counts.set(out[i]!, counts.get(out[i]!)! + 1);
      }
    }
    // Pearson's chi-square against the uniform distribution: about its degrees of freedom when
    // uniform (2,138 for 2,160 here); the old forward probe (a run's first slot drawn ~10 times as
    // often) gave ~179,000.
    const expected = (draws * out.length) / live.length;
    let chi = 0;
    for (const count of counts.values()) chi += (count - expected) ** 2 / expected;
    const df = live.length - 1;
    expect(chi).toBeLessThan(df + 5 * Math.sqrt(2 * df));
    // The first slots of runs get no more than their share.
    let firsts = 0;
    let firstDraws = 0;
    for (const slot of live) {
      if (slot > 0 && !slots.isLive(slot - 1)) {
        firsts++;
        firstDraws += counts.get(slot)!;
      }
    }
    expect(firstDraws / (firsts * expected)).toBeLessThan(1.1);
  });

  test("draw - a table with the live slots too far apart to draw still yields samples, never `keep`", () => {
    const slots = new SlotTable(1, false);
    for (let i = 0; i < 10_000; i++) slots.write(slots.take(), b(`k${i}`), b("v"));
    for (let i = 0; i < 10_000; i++) {
      if (i % 1000 === 0) continue;
      slots.freeBlock(i);
      slots.release(i);
    }
    const sampler = new SlotSampler(3);
    const out = new Int32Array(5);
    let total = 0;
    for (let d = 0; d < 100; d++) {
      const found = sampler.draw(slots, 0, out);
      for (let i = 0; i < found; i++) {
        expect(out[i]! % 1000).toBe(0);
        expect(out[i]).not.toBe(0);
      }
      total += found;
    }
    expect(total).toBeGreaterThan(0);
    expect(sampler.anyLive(slots, 0) % 1000).toBe(0);
  });
});

describe("CompactStore eviction in a thinned slot table", () => {
  test("set - the oldest keys are evicted first also where they sit right behind live slots", () => {
    const clock = new ManualClock();
    const pairs = 2000;
    const entry = 16; // 8-byte keys, 8-byte values
    const name = (prefix: string, i: number): Uint8Array => b(`${prefix}${i.toString().padStart(7, "0")}`);
    const value = new Uint8Array(8);
    const store = new CompactStore(clock, { maxMemory: 2 * pairs * entry, seed: 9 });
    // Slot ids are handed out in order: in each group of 16 slots, slot 0 follows 14 dead slots
    // and slot 1 follows slot 0. Slot 1's keys are the oldest; slot 0's are read after them.
    store.setEviction(false);
    for (let i = 0; i < 16 * pairs; i++) store.set(name("k", i), value, 0, clock.now());
    for (let i = 0; i < 16 * pairs; i++) if (i % 16 >= 2) store.delete(name("k", i));
    for (let i = 0; i < 16 * pairs; i += 16) store.get(name("k", i));
    store.setEviction(true);
    // Each new key evicts one (and takes its victim's slot, so the gaps stay): a perfect LRU would
    // evict exactly the `pairs` oldest keys.
    for (let i = 0; i < pairs; i++) store.set(name("n", i), value, 0, clock.now());
    expect(store.stats().evicted).toBe(pairs);
    let oldestLeft = 0;
    for (let i = 1; i < 16 * pairs; i += 16) if (store.has(name("k", i))) oldestLeft++;
    // Uniform sampling: 23 % are left; the forward probe drew slot 0 fifteen times as often as
    // slot 1, and 76 % of the oldest keys outlived the newer ones.
    expect(oldestLeft / pairs).toBeLessThan(0.3);
  });
});
