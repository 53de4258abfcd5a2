// Sync's tombstones filed by the slice of time of the write they stand for, so that they are
// freed after their grace without a scan: per slice a list of tombstone ids in Int32Array blocks.

/** ids per block of a slice past its first (the first grows from FIRST_BLOCK by doubling) */
const BLOCK_SHIFT = 12;
const BLOCK = 1 << BLOCK_SHIFT;
const BLOCK_MASK = BLOCK - 1;
const FIRST_BLOCK = 16;

interface Slice {
  readonly blocks: Int32Array[];
  length: number;
  /** entries before this one are done (a slice may take several `expire` calls) */
  head: number;
}

/**
 * A slice keeps the id a tombstone had when it was filed. The id may since have been freed and
 * handed to another tombstone, or its tombstone given a later version (the key deleted again,
 * filed again in that version's slice), so a slice's entry only says "look at this id": what is
 * there is freed when the slice of its own write time is due, never earlier, so that every node
 * frees it at the same moment whatever became of the id meanwhile.
 */
export class TombSlices {
  /**
   * Not a queue in the order they were laid: a key that expires lays a tombstone dated at its
   * write, earlier than deletes laid before it, and so do tombstones pulled from peers.
   */
  private slices = new Map<number, Slice>();
  /** slices before this one are freed (a tombstone dated in one goes with this one) */
  private nextSlice = -Infinity;

  /** `sliceMs`: aligned to the epoch, so every node frees a tombstone at the same moment. */
  constructor(private readonly sliceMs: number) {}

  /** Files tombstone `id`, dated `at`. */
  file(id: number, at: number): void {
    // (one dated in a slice already freed is past its grace: it goes with the next)
    const index = Math.max(Math.floor(at / this.sliceMs), this.nextSlice);
    let slice = this.slices.get(index);
    if (slice === undefined) this.slices.set(index, (slice = { blocks: [new Int32Array(FIRST_BLOCK)], length: 0, head: 0 }));
    const { blocks, length } = slice;
    let block = blocks[length >>> BLOCK_SHIFT];
    if (block === undefined) blocks.push((block = new Int32Array(BLOCK)));
    else if ((length & BLOCK_MASK) === block.length) {
      // only the first block is ever short: it doubles up to a full block
      const grown = new Int32Array(block.length * 2);
      grown.set(block);
      blocks[0] = block = grown;
    }
    block[length & BLOCK_MASK] = id;
    slice.length = length + 1;
  }

  /**
   * Frees (`free`) the tombstones whose write time (`atOf`: NaN for an id that holds none) lies in
   * a slice wholly at or before `before`, at most `max` of them, in slice order; returns how many.
   * The rest go at the next call.
   */
  expire(before: number, max: number, atOf: (id: number) => number, free: (id: number) => void): number {
    let freed = 0;
    // slices up to `last` lie wholly at or before `before`
    const last = Math.floor((before + 1) / this.sliceMs) - 1;
    if (this.nextSlice > last) return 0;
    // Every slice from nextSlice on is looked up, unless that is a longer run than there are
    // slices (the first call, or after an idle spell): then the slices that are due, in order.
    const due =
      last - this.nextSlice <= this.slices.size
        ? Array.from({ length: last - this.nextSlice + 1 }, (_, i) => this.nextSlice + i)
        : [...this.slices.keys()].filter((i) => i <= last).sort((a, b) => a - b);
    for (const index of due) {
      const slice = this.slices.get(index);
      if (slice === undefined) continue;
      const { blocks } = slice;
      for (; slice.head < slice.length; slice.head++) {
        if (freed >= max) {
          this.nextSlice = index;
          return freed;
        }
        const id = blocks[slice.head >>> BLOCK_SHIFT]![slice.head & BLOCK_MASK]!;
        // (NaN, a free id, is never due)
        if (Math.floor(atOf(id) / this.sliceMs) <= last) {
          free(id);
          freed++;
        }
      }
      this.slices.delete(index);
    }
    this.nextSlice = last + 1;
    return freed;
  }

  /** Forgets every slice (a flush). */
  clear(): void {
    this.slices = new Map();
    this.nextSlice = -Infinity;
  }
}
