// The [start, end) offsets of the elements of a RESP request read so far, in one Int32Array that
// doubles as needed: 8 bytes an element, where a JavaScript array of numbers costs twice that and
// more. What a request holds, and what its elements will cost once handed out as arguments, is
// known (`heldBytes`), so the input limits can count it while the request is incomplete.

import { SMALL_ARG_BYTES } from "../store/bytes.ts";

/** Entries (two per element) kept between requests; a larger table is let go after its request. */
const SMALL_ENTRIES = 256;

/**
 * What one element costs once the request is handed out: its Uint8Array (a view, or a copy of up
 * to 16 bytes) and its slot in the arguments array. Measured with bun:jsc heapStats on Bun 1.4.5:
 * 72 bytes each for a million views or 1-16 byte copies, 88 for 32-byte copies, 120 for 64-byte ones.
 */
export const ARGUMENT_BYTES = 72;
/** A copied argument's bytes up to this many live inside its ARGUMENT_BYTES. */
const INLINE_COPY_BYTES = 16;

export class OffsetTable {
  private entries = new Int32Array(SMALL_ENTRIES);
  /** entries in use (two per element) */
  length = 0;
  /** entries whose elements' argument cost is in `argumentCost` */
  private costed = 0;
  private argumentCost = 0;

  push(start: number, end: number): void {
    if (this.length + 2 > this.entries.length) {
      const bigger = new Int32Array(2 * this.entries.length);
      bigger.set(this.entries);
      this.entries = bigger;
    }
    this.entries[this.length++] = start;
    this.entries[this.length++] = end;
  }

  at(index: number): number {
    return this.entries[index]!;
  }

  /** Empties the table for the next request, letting a big one's memory go. */
  clear(): void {
    this.length = 0;
    this.costed = 0;
    this.argumentCost = 0;
    if (this.entries.length > SMALL_ENTRIES) this.entries = new Int32Array(SMALL_ENTRIES);
  }

  /**
   * Bytes a request's elements read so far hold or will hold: the table beyond the small one
   * every connection keeps, and each element's argument (ARGUMENT_BYTES, plus what a copy holds
   * past it). Only elements not yet costed are looked at, so asking after every chunk of a long
   * request costs O(its elements) in all; a request complete in one chunk never asks.
   */
  get heldBytes(): number {
    const entries = this.entries;
    let cost = this.argumentCost;
    for (let e = this.costed; e < this.length; e += 2) {
      const length = entries[e + 1]! - entries[e]!;
      cost += length > INLINE_COPY_BYTES && length <= SMALL_ARG_BYTES ? ARGUMENT_BYTES - INLINE_COPY_BYTES + length : ARGUMENT_BYTES;
    }
    this.costed = this.length;
    this.argumentCost = cost;
    return (entries.length > SMALL_ENTRIES ? entries.byteLength : 0) + cost;
  }
}
