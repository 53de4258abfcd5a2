// The key bytes of sync's tombstones, packed into 1 MiB chunks instead of one JS string per key
// (a string costs ~32 bytes of header and padding beside a 16-byte key, and a GC cell to trace).
// Each key takes a slot of its length rounded up to 4 bytes; a freed slot goes on a free list of
// its size and is taken again by the next key of that size, so a steady churn reuses its slots.

/** slots are whole 4-byte units: a free slot holds the link to the next one of its size */
const UNIT_SHIFT = 2;
/** units per chunk (1 MiB); a slot's place ("loc") is chunk index << CHUNK_SHIFT | unit */
const CHUNK_SHIFT = 18;
const CHUNK_UNITS = 1 << CHUNK_SHIFT;
const UNIT_MASK = CHUNK_UNITS - 1;
/** locs are Uint32: at most this many chunks (16 GiB of keys, past any machine's tombstones) */
const MAX_CHUNKS = Math.floor((2 ** 32 - 1) / CHUNK_UNITS);
/** sizes up to this many units (1 KiB keys) keep their free-list heads in a typed array */
const SMALL_UNITS = 256;
/** no slot (end of a free list); never a real loc, which MAX_CHUNKS keeps below it */
const NONE = 0xffffffff;

export class KeySlab {
  /** per chunk index: its bytes (a key longer than a chunk spans several indexes: views of one
   * array); Buffers, whose latin1 decoding makes a key's binary string without a view per key */
  private chunks: Buffer[] = [];
  /** the same memory as 32-bit words, for the free-list links */
  private words: Uint32Array[] = [];
  /** next unused unit of the last chunk, and where that chunk ends (both locs) */
  private top = 0;
  private end = 0;
  private readonly smallFree = new Uint32Array(SMALL_UNITS + 1).fill(NONE);
  private readonly bigFree = new Map<number, number>();

  /** Bytes held by chunks (used or free). */
  get bytes(): number {
    return this.chunks.length * CHUNK_UNITS * (1 << UNIT_SHIFT);
  }

  /** A slot for a key of `length` bytes (an empty key needs none: its loc means nothing). */
  alloc(length: number): number {
    const units = (length + 3) >>> UNIT_SHIFT;
    if (units === 0) return 0;
    const head = units <= SMALL_UNITS ? this.smallFree[units]! : (this.bigFree.get(units) ?? NONE);
    if (head !== NONE) {
      const next = this.words[head >>> CHUNK_SHIFT]![head & UNIT_MASK]!;
      if (units <= SMALL_UNITS) this.smallFree[units] = next;
      else if (next === NONE) this.bigFree.delete(units);
      else this.bigFree.set(units, next);
      return head;
    }
    if (this.top + units > this.end) this.addChunk(units);
    const loc = this.top;
    this.top += units;
    return loc;
  }

  /** Gives back the slot of a key of `length` bytes. */
  free(loc: number, length: number): void {
    const units = (length + 3) >>> UNIT_SHIFT;
    if (units === 0) return;
    const words = this.words[loc >>> CHUNK_SHIFT]!;
    if (units <= SMALL_UNITS) {
      words[loc & UNIT_MASK] = this.smallFree[units]!;
      this.smallFree[units] = loc;
    } else {
      words[loc & UNIT_MASK] = this.bigFree.get(units) ?? NONE;
      this.bigFree.set(units, loc);
    }
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
    copy.top = this.top;
    copy.end = this.end;
    copy.smallFree.set(this.smallFree);
    for (const [units, head] of this.bigFree) copy.bigFree.set(units, head);
    return copy;
  }

  /** Drops every chunk (no key is held any more). */
  clear(): void {
    this.chunks = [];
    this.words = [];
    this.top = this.end = 0;
    this.smallFree.fill(NONE);
    this.bigFree.clear();
  }

  private addChunk(units: number): void {
    // the unused tail of the last chunk becomes a free slot of its size
    if (this.end > this.top) this.free(this.top, (this.end - this.top) << UNIT_SHIFT);
    const spans = Math.ceil(units / CHUNK_UNITS);
    const index = this.chunks.length;
    if (index + spans > MAX_CHUNKS) throw new RangeError("sync tombstone keys exceed 16 GiB");
    const bytes = new Uint8Array(spans * CHUNK_UNITS * (1 << UNIT_SHIFT));
    for (let i = 0; i < spans; i++) {
      const start = i * CHUNK_UNITS * (1 << UNIT_SHIFT);
      const view = Buffer.from(bytes.buffer, start, bytes.length - start);
      this.chunks.push(view);
      this.words.push(new Uint32Array(view.buffer, view.byteOffset, view.length >>> UNIT_SHIFT));
    }
    this.top = index * CHUNK_UNITS;
    this.end = this.top + spans * CHUNK_UNITS;
  }
}
