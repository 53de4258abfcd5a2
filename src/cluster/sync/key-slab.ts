// The key bytes of sync's tombstones, packed into 1 MiB chunks instead of one JS string per key
// (a string costs ~32 bytes of header and padding beside a 16-byte key, and a GC cell to trace).
// Each key takes a slot of its length rounded up to 4 bytes; a freed slot goes on a free list of
// its size and is taken again by a later key of that size, so a steady churn reuses its slots.
// Chunks left holding few keys (a burst gone, the odd key of another size still in its slots) are
// emptied: their keys move to new slots elsewhere (`evacuate`, `relocate`) and the chunks go.

import { NONE, SlotFreeLists } from "./slot-free-lists.ts";

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
/** a chunk index given back while later ones are held: the next new chunk takes it */
const HOLE = Buffer.from(new ArrayBuffer(0));
const HOLE_WORDS = new Uint32Array(0);
/** a chunk is emptied once its keys fill under 1/SPARSE_RATIO of the units it handed out... */
const SPARSE_RATIO = 4;
/** ...and such chunks are at least 1/EMPTY_SHARE of all (the free-list walk that starts it is then
 * paid for by the frees that emptied them) */
const EMPTY_SHARE = 8;

export class KeySlab {
  /** per chunk index: its bytes (a key longer than a chunk spans several indexes: views of one
   * array); Buffers, whose latin1 decoding makes a key's binary string without a view per key */
  private chunks: Buffer[] = [];
  /** the same memory as 32-bit words, for the free-list links */
  private words: Uint32Array[] = [];
  /** per chunk index: units in slots handed out (0: the chunk can go, see `trim`) */
  private used: number[] = [];
  /** next unused unit of the newest chunk, and where that chunk ends (both locs) */
  private top = 0;
  private end = 0;
  /**
   * Free lists per size, first in first out: after a burst of keys laid in address order and
   * freed in about that order, later keys take the lowest slots first and the chunks at the end
   * empty out, so `trim` can give them back.
   */
  private readonly freeSlots = new SlotFreeLists(
    (loc) => this.words[loc >>> CHUNK_SHIFT]![loc & UNIT_MASK]!,
    (loc, next) => void (this.words[loc >>> CHUNK_SHIFT]![loc & UNIT_MASK] = next),
  );
  /** chunk indexes being emptied: none of their slots is handed out or put on a free list */
  private readonly moving = new Set<number>();

  /** Bytes held by chunks (used or free). */
  get bytes(): number {
    let held = 0;
    for (const chunk of this.chunks) if (chunk !== HOLE) held++;
    return held * KEY_CHUNK_BYTES;
  }

  /** A slot for a key of `length` bytes (an empty key needs none: its loc means nothing). */
  alloc(length: number): number {
    const units = (length + 3) >>> UNIT_SHIFT;
    if (units === 0) return 0;
    let loc = this.freeSlots.pop(units);
    if (loc === NONE) loc = this.bump(units);
    this.used[loc >>> CHUNK_SHIFT]! += units;
    return loc;
  }

  /** Gives back the slot of a key of `length` bytes. */
  free(loc: number, length: number): void {
    const units = (length + 3) >>> UNIT_SHIFT;
    if (units === 0) return;
    this.used[loc >>> CHUNK_SHIFT]! -= units;
    if (this.moving.size === 0 || !this.moving.has(loc >>> CHUNK_SHIFT)) this.freeSlots.push(loc, units);
  }

  /**
   * Gives back the chunks at the end that hold no key, once they are at least half of all chunks
   * (so that the walk of the free lists it takes is paid for by the frees that emptied them).
   */
  trim(): void {
    if (this.moving.size > 0) return; // (`endEvacuation` gives them back)
    let keep = this.chunks.length;
    while (keep > 0 && this.used[keep - 1] === 0) keep--;
    if (keep === this.chunks.length || (this.chunks.length - keep) * 2 < this.chunks.length) return;
    const limit = keep * CHUNK_UNITS;
    this.freeSlots.dropWhere((loc) => loc >= limit);
    this.cut(keep);
  }

  /** Whether chunks are being emptied (`relocate` each key, then `endEvacuation`). */
  get evacuating(): boolean {
    return this.moving.size > 0;
  }

  /**
   * Starts emptying the chunks that hold few keys, if there are enough of them (SPARSE_RATIO,
   * EMPTY_SHARE): from now on none of their slots is handed out. Returns whether keys must move;
   * when none has to, the chunks are given back at once.
   */
  evacuate(): boolean {
    const bumping = this.end > this.top ? this.top >>> CHUNK_SHIFT : -1;
    let held = 0;
    let live = 0;
    for (let index = 0; index < this.chunks.length; index++) {
      const chunk = this.chunks[index]!;
      if (chunk === HOLE) continue;
      held++;
      // (a chunk that is part of a longer key's array stays: its key is not moved)
      if (chunk.buffer.byteLength !== KEY_CHUNK_BYTES) continue;
      // the newest chunk only counts what it handed out so far (it is not sparse for being new),
      // and once that is half of it (a few keys turning over would otherwise have it emptied into
      // a new chunk every few calls)
      const handed = index === bumping ? this.top - index * CHUNK_UNITS : CHUNK_UNITS;
      if (this.used[index]! * SPARSE_RATIO < handed && handed * 2 >= CHUNK_UNITS) (this.moving.add(index), (live += this.used[index]!));
    }
    if (this.moving.size * EMPTY_SHARE < held) {
      this.moving.clear();
      return false;
    }
    // keys moved out of the newest chunk go to a new one (its unused end goes with it)
    if (this.moving.has(bumping)) this.top = this.end = 0;
    this.freeSlots.dropWhere((loc) => this.moving.has(loc >>> CHUNK_SHIFT));
    if (live > 0) return true;
    this.endEvacuation();
    return false;
  }

  /**
   * While evacuating: moves a key out of a chunk being emptied into a slot elsewhere and returns
   * its new loc (`loc` itself if it is not in such a chunk). The bytes are in place before the
   * caller points its key at them; the old slot is never handed out again.
   */
  relocate(loc: number, length: number): number {
    const units = (length + 3) >>> UNIT_SHIFT;
    if (units === 0 || !this.moving.has(loc >>> CHUNK_SHIFT)) return loc;
    let to = this.freeSlots.pop(units);
    if (to === NONE) to = this.bump(units);
    const from = (loc & UNIT_MASK) << UNIT_SHIFT;
    this.chunks[loc >>> CHUNK_SHIFT]!.copy(this.chunks[to >>> CHUNK_SHIFT]!, (to & UNIT_MASK) << UNIT_SHIFT, from, from + length);
    this.used[to >>> CHUNK_SHIFT]! += units;
    this.used[loc >>> CHUNK_SHIFT]! -= units;
    return to;
  }

  /** Ends an evacuation (every key relocated once): the chunks emptied are given back. */
  endEvacuation(): void {
    for (const index of this.moving) {
      // (one still holding a key, which a caller's missed relocate would leave, is kept; its free
      // slots are lost until it is given back empty)
      if (this.used[index] !== 0) continue;
      this.chunks[index] = HOLE;
      this.words[index] = HOLE_WORDS;
    }
    this.moving.clear();
    let keep = this.chunks.length;
    while (keep > 0 && this.chunks[keep - 1] === HOLE) keep--;
    this.cut(keep);
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
      if (chunk === HOLE) {
        copy.chunks.push(HOLE);
        copy.words.push(HOLE_WORDS);
        continue;
      }
      let buffer = copies.get(chunk.buffer);
      if (buffer === undefined) copies.set(chunk.buffer, (buffer = chunk.buffer.slice(0) as ArrayBuffer));
      copy.chunks.push(Buffer.from(buffer, chunk.byteOffset, chunk.length));
      copy.words.push(new Uint32Array(buffer, chunk.byteOffset, chunk.length >>> UNIT_SHIFT));
    }
    copy.used = this.used.slice();
    copy.top = this.top;
    copy.end = this.end;
    copy.freeSlots.copyFrom(this.freeSlots);
    for (const index of this.moving) copy.moving.add(index);
    return copy;
  }

  /** Drops every chunk (no key is held any more). */
  clear(): void {
    this.chunks = [];
    this.words = [];
    this.used = [];
    this.top = this.end = 0;
    this.freeSlots.clear();
    this.moving.clear();
  }

  /** A slot past the last handed out in the newest chunk, or at the start of a new one. */
  private bump(units: number): number {
    if (this.top + units > this.end) this.addChunk(units);
    const loc = this.top;
    this.top += units;
    return loc;
  }

  private addChunk(units: number): void {
    // the unused tail of the newest chunk becomes a free slot of its size
    if (this.end > this.top) this.freeSlots.push(this.top, this.end - this.top);
    const spans = Math.ceil(units / CHUNK_UNITS);
    // (a chunk index given back in the middle is taken first; a longer key's array goes last)
    let index = spans === 1 ? this.chunks.indexOf(HOLE) : -1;
    if (index < 0) index = this.chunks.length;
    if (index + spans > MAX_CHUNKS) throw new RangeError("sync tombstone keys exceed 16 GiB");
    const bytes = new Uint8Array(spans * KEY_CHUNK_BYTES);
    for (let i = 0; i < spans; i++) {
      const view = Buffer.from(bytes.buffer, i * KEY_CHUNK_BYTES, bytes.length - i * KEY_CHUNK_BYTES);
      this.chunks[index + i] = view;
      this.words[index + i] = new Uint32Array(view.buffer, view.byteOffset, view.length >>> UNIT_SHIFT);
      this.used[index + i] = 0;
    }
    this.top = index * CHUNK_UNITS;
    this.end = this.top + spans * CHUNK_UNITS;
  }

  /** Keeps the first `keep` chunk indexes (the rest hold no key and no listed free slot). */
  private cut(keep: number): void {
    if (keep === this.chunks.length) return;
    this.chunks.length = keep;
    this.words.length = keep;
    this.used.length = keep;
    // (the next slot past the last one handed out starts a new chunk if that one went)
    if (this.end > keep * CHUNK_UNITS) this.top = this.end = 0;
  }
}
