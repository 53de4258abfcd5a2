// The [start, end) offsets of the elements of a RESP request read so far, in one Int32Array that
// doubles as needed: 8 bytes an element, where a JavaScript array of numbers costs twice that and
// more, and what a request holds is known (`heldBytes`), so the input limits can count it.

/** Entries (two per element) kept between requests; a larger table is let go after its request. */
const SMALL_ENTRIES = 256;

export class OffsetTable {
  private entries = new Int32Array(SMALL_ENTRIES);
  /** entries in use (two per element) */
  length = 0;

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
    if (this.entries.length > SMALL_ENTRIES) this.entries = new Int32Array(SMALL_ENTRIES);
  }

  /** Bytes held beyond the small table every connection keeps (the cost of a request's elements). */
  get heldBytes(): number {
    return this.entries.length > SMALL_ENTRIES ? this.entries.byteLength : 0;
  }
}
