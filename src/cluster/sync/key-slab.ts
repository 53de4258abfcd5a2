// The key bytes of sync's tombstones, packed into 1 MiB chunks instead of one JS string per key
// (a string costs ~32 bytes of header and padding beside a 16-byte key, and a GC cell to trace).
// Each key takes a slot of its length rounded up to 4 bytes; a freed slot goes on a free list of
// its size and is taken again by a later key of that size, so a steady churn reuses its slots.

/** slots are whole 4-byte units: a free slot holds the link to the next one of its size */
const UNIT_SHIFT = 2;
/** units per chunk (1 MiB); a slot's place ("loc") is chunk index << CHUNK_SHIFT | unit */
const CHUNK_SHIFT = 18;
const CHUNK_UNITS = 1 << CHUNK_SHIFT;
const UNIT_MASK = CHUNK_UNITS - 1;
/** bytes of one chunk */
export const KEY_CHUNK_BYTES = CHUNK_UNITS << 2;
/** locs are Uint32: at most this many chunks (16 GiB of keys, past any machine's tombstones) */
const MAX_CHUNKS = Math.floor((2 ** 32 - 1) / CHUNK_UNITS);
/** sizes up to this many units (1 KiB keys) keep their free lists' ends in typed arrays */
const SMALL_UNITS = 256;
/** no slot (end of a free list); never a real loc, which MAX_CHUNKS keeps below it */
const NONE = 0xffffffff;

export class KeySlab {
  /** per chunk index: its bytes (a key longer than a chunk spans several indexes: views of one
   * array); Buffers, whose latin1 decoding makes a key's binary string without a view per key */
  private chunks: Buffer[] = [];
  /** the same memory as 32-bit words, for the free-list links */
  private words: Uint32Array[] = [];
  /** per chunk index: units in slots handed out (0: the chunk can go, see `trim`) */
  private used: number[] = [];
  /** next unused unit of the last chunk, and where that chunk ends (both locs) */
  private top = 0;
  private end = 0;
  /**
   * Free lists per size, first in first out: after a burst of keys laid in address order and
   * freed in about that order, later keys take the lowest slots first and the chunks at the end
   * empty out, so `trim` can give them back.
   */
  private readonly smallHead = new Uint32Array(SMALL_UNITS + 1).fill(NONE);
  private readonly smallTail = new Uint32Array(SMALL_UNITS + 1).fill(NONE);
  private readonly bigHead = new Map<number, number>();
  private readonly bigTail = new Map<number, number>();

  /** Bytes held by chunks (used or free). */
  get bytes(): number {
    return this.chunks.length * CHUNK_UNITS * (1 << UNIT_SHIFT);
  }

  /** A slot for a key of `length` bytes (an empty key needs none: its loc means nothing). */
  alloc(length: number): number {
    const units = (length + 3) >>> UNIT_SHIFT;
    if (units === 0) return 0;
    let loc = this.popFree(units);
    if (loc === NONE) {
      if (this.top + units > this.end) this.addChunk(units);
      loc = this.top;
      this.top += units;
    }
    this.used[loc >>> CHUNK_SHIFT]! += units;
    return loc;
  }

  /** Gives back the slot of a key of `length` bytes. */
  free(loc: number, length: number): void {
    const units = (length + 3) >>> UNIT_SHIFT;
    if (units === 0) return;
    this.used[loc >>> CHUNK_SHIFT]! -= units;
    this.pushFree(loc, units);
  }

  /**
   * Gives back the chunks at the end that hold no key, once they are at least half of all chunks
   * (so that the walk of the free lists it takes is paid for by the frees that emptied them).
   */
  trim(): void {
    let keep = this.chunks.length;
    while (keep > 0 && this.used[keep - 1] === 0) keep--;
    if (keep === this.chunks.length || (this.chunks.length - keep) * 2 < this.chunks.length) return;
    const limit = keep * CHUNK_UNITS;
    for (let units = 1; units <= SMALL_UNITS; units++) if (this.smallHead[units] !== NONE) this.dropFreeFrom(units, limit);
    for (const units of [...this.bigHead.keys()]) this.dropFreeFrom(units, limit);
    this.chunks.length = keep;
    this.words.length = keep;
    this.used.length = keep;
    this.top = this.end = limit;
  }

  /** Writes a binary string's bytes into its slot. */
  write(loc: number, key: string): void {
    const chunk = this.chunks[loc >>> CHUNK_SHIFT]!;
    const at = (loc & UNIT_MASK) << UNIT_SHIFT;
    for (let i = 0; i < key.length; i++) chunk[at + i] = key.charCodeAt(i);
  }

  /** Whether the slot holds the binary string `key` (whose length the caller checked). */
  equals(loc: number, key: string): boolean {
    if (key.length === 0) return true;
    const chunk = this.chunks[loc >>> CHUNK_SHIFT]!;
    const at = (loc & UNIT_MASK) << UNIT_SHIFT;
    for (let i = 0; i < key.length; i++) if (chunk[at + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  /** The slot's key as a binary string. */
  read(loc: number, length: number): string {
    if (length === 0) return "";
    const at = (loc & UNIT_MASK) << UNIT_SHIFT;
    return this.chunks[loc >>> CHUNK_SHIFT]!.toString("latin1", at, at + length);
  }

  /** An independent copy (a snapshot walks one while the original goes on changing). */
  clone(): KeySlab {
    const copy = new KeySlab();
    // a key longer than a chunk has several chunk indexes viewing one array: copied once
    const copies = new Map<ArrayBufferLike, ArrayBuffer>();
    for (const chunk of this.chunks) {
      let buffer = copies.get(chunk.buffer);
      if (buffer === undefined) copies.set(chunk.buffer, (buffer = chunk.buffer.slice(0) as ArrayBuffer));
      copy.chunks.push(Buffer.from(buffer, chunk.byteOffset, chunk.length));
      copy.words.push(new Uint32Array(buffer, chunk.byteOffset, chunk.length >>> UNIT_SHIFT));
    }
    copy.used = this.used.slice();
    copy.top = this.top;
    copy.end = this.end;
    copy.smallHead.set(this.smallHead);
    copy.smallTail.set(this.smallTail);
    for (const [units, loc] of this.bigHead) copy.bigHead.set(units, loc);
    for (const [units, loc] of this.bigTail) copy.bigTail.set(units, loc);
    return copy;
  }

  /** Drops every chunk (no key is held any more). */
  clear(): void {
    this.chunks = [];
    this.words = [];
    this.used = [];
    this.top = this.end = 0;
    this.smallHead.fill(NONE);
    this.smallTail.fill(NONE);
    this.bigHead.clear();
    this.bigTail.clear();
  }

  private addChunk(units: number): void {
    // the unused tail of the last chunk becomes a free slot of its size
    if (this.end > this.top) this.pushFree(this.top, this.end - this.top);
    const spans = Math.ceil(units / CHUNK_UNITS);
    const index = this.chunks.length;
    if (index + spans > MAX_CHUNKS) throw new RangeError("sync tombstone keys exceed 16 GiB");
    const bytes = new Uint8Array(spans * CHUNK_UNITS * (1 << UNIT_SHIFT));
    for (let i = 0; i < spans; i++) {
      const start = i * CHUNK_UNITS * (1 << UNIT_SHIFT);
      const view = Buffer.from(bytes.buffer, start, bytes.length - start);
      this.chunks.push(view);
      this.words.push(new Uint32Array(view.buffer, view.byteOffset, view.length >>> UNIT_SHIFT));
      this.used.push(0);
    }
    this.top = index * CHUNK_UNITS;
    this.end = this.top + spans * CHUNK_UNITS;
  }

  private link(loc: number): number {
    return this.words[loc >>> CHUNK_SHIFT]![loc & UNIT_MASK]!;
  }

  private setLink(loc: number, next: number): void {
    this.words[loc >>> CHUNK_SHIFT]![loc & UNIT_MASK] = next;
  }

  private headOf(units: number): number {
    return units <= SMALL_UNITS ? this.smallHead[units]! : (this.bigHead.get(units) ?? NONE);
  }

  private setEnds(units: number, head: number, tail: number): void {
    if (units <= SMALL_UNITS) {
      this.smallHead[units] = head;
      this.smallTail[units] = tail;
    } else if (head === NONE) {
      this.bigHead.delete(units);
      this.bigTail.delete(units);
    } else {
      this.bigHead.set(units, head);
      this.bigTail.set(units, tail);
    }
  }

  /** The oldest free slot of this size, taken off its list, or NONE. */
  private popFree(units: number): number {
    const head = this.headOf(units);
    if (head === NONE) return NONE;
    const next = this.link(head);
    if (units <= SMALL_UNITS) {
      this.smallHead[units] = next;
      if (next === NONE) this.smallTail[units] = NONE;
    } else this.setEnds(units, next, next === NONE ? NONE : this.bigTail.get(units)!);
    return head;
  }

  /** Puts a slot at the end of its size's free list. */
  private pushFree(loc: number, units: number): void {
    this.setLink(loc, NONE);
    const tail = units <= SMALL_UNITS ? this.smallTail[units]! : (this.bigTail.get(units) ?? NONE);
    if (tail === NONE) this.setEnds(units, loc, loc);
    else {
      this.setLink(tail, loc);
      if (units <= SMALL_UNITS) this.smallTail[units] = loc;
      else this.bigTail.set(units, loc);
    }
  }

  /** Drops the free slots at or past `limit` (chunks given back) from a size's list. */
  private dropFreeFrom(units: number, limit: number): void {
    let head = NONE;
    let tail = NONE;
    for (let loc = this.headOf(units); loc !== NONE; ) {
      const next = this.link(loc);
      if (loc < limit) {
        if (tail === NONE) head = loc;
        else this.setLink(tail, loc);
        tail = loc;
      }
      loc = next;
    }
    if (tail !== NONE) this.setLink(tail, NONE);
    this.setEnds(units, head, tail);
  }
}
