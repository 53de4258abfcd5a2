// Eviction candidates for the compact store's sampled LRU: live slots drawn uniformly at random,
// so that every key has the same chance of being looked at wherever it sits in the slot table.

import type { SlotTable } from "./slots.ts";

/**
 * Positions drawn per wanted sample before giving up on drawing: a sample takes 1/density draws
 * on average, so down to about 1 live slot in 10 the samples are all uniform draws.
 */
const DRAWS_PER_SAMPLE = 16;
/** Slots the very-sparse fallback walks forward from a random position. */
const PROBE_SLOTS = 64;

export class SlotSampler {
  private random: number;

  constructor(seed = 0x9e3779b9) {
    this.random = seed >>> 0 || 1; // xorshift never leaves 0
  }

  /**
   * Fills `out` with live slots other than `keep` (with replacement) and says how many: fewer only
   * when the table is very sparse. A drawn position that is not live is drawn again (rejection),
   * so each live slot has the same chance; walking forward to the next live slot instead, as
   * before, gave a slot after a run of n dead ones n + 1 times the chance of one after a live one,
   * and in a table thinned by deletes old keys behind live neighbours escaped eviction.
   */
  draw(slots: SlotTable, keep: number, out: Int32Array): number {
    const end = slots.highWater;
    const wanted = out.length;
    let found = 0;
    if (end === 0) return 0;
    for (let draws = wanted * DRAWS_PER_SAMPLE; found < wanted && draws > 0; draws--) {
      const slot = this.next() % end;
      if (slot !== keep && slots.isLiveDrawn(slot)) out[found++] = slot;
    }
    // A very sparse table (a mass delete left few keys far apart): probing forward finds victims
    // where drawing would take too long, at the cost of the bias above, for the missing samples.
    for (let tries = 0; found < wanted && tries < wanted * 8; tries++) {
      let slot = this.next() % end;
      for (let n = 0; n < PROBE_SLOTS && (slot === keep || !slots.isLiveDrawn(slot)); n++) slot = slot + 1 === end ? 0 : slot + 1;
      if (slot !== keep && slots.isLiveDrawn(slot)) out[found++] = slot;
    }
    return found;
  }

  /** The first live slot other than `keep` from a random position (-1 if none): the last resort. */
  anyLive(slots: SlotTable, keep: number): number {
    const end = slots.highWater;
    if (end === 0) return -1;
    for (let n = 0, slot = this.next() % end; n < end; n++, slot = slot + 1 === end ? 0 : slot + 1) {
      if (slots.isLiveDrawn(slot) && slot !== keep) return slot;
    }
    return -1;
  }

  private next(): number {
    // xorshift32: cheap, and good enough to pick sample positions
    let x = this.random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.random = x >>> 0;
    return this.random;
  }
}
