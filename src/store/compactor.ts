// Incremental compaction of the compact store's arena: pages that a few live blocks pin (value
// sizes drifted, most of their keys went) are emptied by moving those blocks elsewhere, a slice
// at a time, so that the pages are let go and the arena follows the data.

import { Arena } from "./arena.ts";
import { LARGE_BYTES } from "./size-classes.ts";
import type { SlotTable } from "./slots.ts";

/** A page is emptied below this share of live bytes: each moved page frees at least 3/4 of one. */
const SPARSE_UNITS = Arena.PAGE_UNITS / 4;
/** …once at least this many pages are that sparse (one page of slack is not worth a pass). */
const MIN_SPARSE_PAGES = 2;
/**
 * Work of one slice: slot rows looked at (a row is one sequential read, ~1–2 ns), blocks moved
 * (an alloc, a copy and a free each) and bytes copied, so that a slice stays under about a
 * millisecond however the data lies.
 */
const SLICE_SLOTS = 32 * 1024;
const SLICE_BLOCKS = 1024;
const SLICE_BYTES = 256 * 1024;

/**
 * Blocks are found by walking the slot table (a slot holds its block's address; a reverse map
 * would cost 4 bytes a block for a rare job), in slices of SLICE_SLOTS. A pass marks the sparse
 * pages as leaving first (the arena then hands none of their free blocks out again, so new
 * writes land on denser pages and nothing refills a page behind the walk); one walk over every
 * slot then moves each block on a leaving page, and its pages are let go once the moved blocks'
 * frees are filed. Moving is what an overwrite does: a new block, the old one freed through the
 * arena, whose bytes stay as they were for the rest of the turn (value views handed out in it stay
 * intact). While a snapshot holds the arena, nothing moves.
 */
export class Compactor {
  /** next slot of the walk under way; -1: no pass */
  private cursor = -1;
  /** blocks moved since the store was made (tests, benchmarks) */
  moved = 0;

  constructor(private readonly slots: SlotTable) {}

  /** One slice of work (bounded, see SLICE_SLOTS); the store's periodic tick calls it. */
  step(): void {
    const arena = this.slots.arena;
    if (arena.held) return;
    arena.tidy();
    if (this.cursor < 0 && !this.begin(arena)) return;
    const slots = this.slots;
    const end = Math.min(slots.highWater, this.cursor + SLICE_SLOTS);
    let copied = 0;
    let blocks = 0;
    let slot = this.cursor;
    for (; slot < end && copied < SLICE_BYTES && blocks < SLICE_BLOCKS; slot++) {
      if (!slots.isLive(slot)) continue;
      const size = slots.sizeOf(slot);
      // (a large block's address is its own array's number, not a page's)
      if (size > LARGE_BYTES || !arena.isLeaving(slots.addressOf(slot))) continue;
      this.move(slot, size);
      copied += size;
      blocks++;
    }
    this.cursor = slot >= slots.highWater ? -1 : slot;
  }

  /** Pages sparse enough to empty that no pass has taken on yet. */
  get sparsePages(): number {
    return this.slots.arena.sparsePages(SPARSE_UNITS).length;
  }

  /** Forgets the pass under way (the store was cleared, and the arena with it). */
  reset(): void {
    this.cursor = -1;
  }

  private begin(arena: Arena): boolean {
    const sparse = arena.sparsePages(SPARSE_UNITS);
    if (sparse.length < MIN_SPARSE_PAGES) return false;
    arena.evacuate(sparse);
    this.cursor = 0;
    return true;
  }

  /** Copies a slot's block to a new one (never on a leaving page) and frees the old one. */
  private move(slot: number, size: number): void {
    const slots = this.slots;
    const arena = slots.arena;
    const from = slots.addressOf(slot);
    const to = arena.alloc(size);
    const at = Arena.pageOffset(from);
    arena.page(to).set(arena.page(from).subarray(at, at + size), Arena.pageOffset(to));
    slots.moveTo(slot, to);
    arena.free(from, size);
    this.moved++;
  }
}
