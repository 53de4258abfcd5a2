// The compact store's hash index: an open-addressing (linear probing) table of slot ids over an
// Int32Array. Keys are hashed and compared as bytes in the arena, never turned into strings.
// Growing allocates a table 1.5 times the size and migrates the old one a few buckets per
// operation (Redis's incremental rehash), so no single call pays for millions of keys.

import { tagOf, type SlotTable } from "./slots.ts";
import { release } from "./typed-arrays.ts";

const EMPTY = -1;
/** a migrated (or deleted) bucket of the old table: probing continues past it */
const MOVED = -2;
const FIRST_BUCKETS = 1024;
/** grow past 3/4 full: linear probing stays short (about 2.5 probes for a hit at 3/4) */
const MAX_LOAD = 0.75;
/**
 * 1.5 rather than 2: the table is between 1/2 and 3/4 full instead of 3/8 and 3/4 (4 bytes a
 * bucket: at a million keys 6 MB rather than 8). Sizes are then not powers of two, so a hash
 * is mapped to a bucket by multiplication (`home`), not by a mask.
 */
const GROWTH = 1.5;
/** old buckets migrated per operation: a resize ends after oldSize/64 operations, well before the new table fills */
export const MIGRATE_STEP = 64;
const TWO_32 = 0x100000000;

/**
 * The bucket a hash starts probing at: its low 24 bits on top (the top 8 are the slot's tag, so
 * neighbouring buckets do not share tags), scaled to the table's size.
 */
function home(hash: number, size: number): number {
  return Math.floor((((hash << 8) | (hash >>> 24)) >>> 0) * size / TWO_32);
}

export class HashIndex {
  private table = new Int32Array(FIRST_BUCKETS).fill(EMPTY);
  /** the table being migrated away from, or null */
  private old: Int32Array<ArrayBuffer> | null = null;
  private cursor = 0;
  /** keys in both tables */
  count = 0;

  constructor(private readonly slots: SlotTable) {}

  get buckets(): number {
    return this.table.length + (this.old?.length ?? 0);
  }

  get resizing(): boolean {
    return this.old !== null;
  }

  /** The slot holding `key`, or -1. */
  find(key: Uint8Array, hash: number): number {
    const slots = this.slots;
    const tag = tagOf(hash);
    let table = this.table;
    let size = table.length;
    let i = home(hash, size);
    for (let s = table[i]!; s !== EMPTY; s = table[i]!) {
      if (slots.tagAt(s) === tag && slots.matches(s, key)) return s;
      if (++i === size) i = 0;
    }
    if (this.old === null) return -1;
    table = this.old;
    size = table.length;
    i = home(hash, size);
    for (let s = table[i]!; s !== EMPTY; s = table[i]!) {
      if (s >= 0 && slots.tagAt(s) === tag && slots.matches(s, key)) return s;
      if (++i === size) i = 0;
    }
    return -1;
  }

  /** Files a slot whose key is not in the index yet (the caller looked). */
  insert(slot: number, hash: number): void {
    if (this.count + 1 > this.table.length * MAX_LOAD) {
      this.step(Infinity); // a resize still under way (only under a pathological rate) ends first
      this.startResize();
    }
    place(this.table, slot, hash);
    this.count++;
  }

  /**
   * Grows the table at once to hold `keys` keys without another resize (a load that knows its
   * size): each key already filed is rehashed once, instead of at every doubling on the way.
   */
  reserve(keys: number): void {
    let buckets = this.table.length;
    while (keys > buckets * MAX_LOAD) buckets = Math.ceil(buckets * GROWTH);
    if (buckets === this.table.length) return;
    this.step(Infinity);
    const old = this.table;
    this.table = new Int32Array(buckets).fill(EMPTY);
    for (let i = 0; i < old.length; i++) {
      const s = old[i]!;
      if (s >= 0) place(this.table, s, this.slots.hashOf(s));
    }
    release(old);
  }

  /** Unfiles a slot that is in the index. */
  remove(slot: number, hash: number): void {
    const table = this.table;
    const size = table.length;
    let i = home(hash, size);
    for (let s = table[i]!; s !== EMPTY; s = table[i]!) {
      if (s === slot) {
        this.shiftBack(i);
        this.count--;
        return;
      }
      if (++i === size) i = 0;
    }
    // Not migrated yet: mark its old bucket so probes for later keys of the cluster go on.
    const old = this.old!;
    i = home(hash, old.length);
    while (old[i] !== slot) if (++i === old.length) i = 0;
    old[i] = MOVED;
    this.count--;
  }

  /** Migrates up to `buckets` buckets of the old table; a no-op when not resizing. */
  step(buckets: number): void {
    const old = this.old;
    if (old === null) return;
    const end = Math.min(old.length, this.cursor + buckets);
    for (let i = this.cursor; i < end; i++) {
      const s = old[i]!;
      if (s >= 0) {
        place(this.table, s, this.slots.hashOf(s));
        old[i] = MOVED;
      }
    }
    this.cursor = end;
    if (end === old.length) {
      this.old = null;
      release(old);
    }
  }

  clear(): void {
    release(this.table);
    if (this.old !== null) release(this.old);
    this.table = new Int32Array(FIRST_BUCKETS).fill(EMPTY);
    this.old = null;
    this.count = 0;
  }

  private startResize(): void {
    this.old = this.table;
    this.cursor = 0;
    this.table = new Int32Array(Math.ceil(this.table.length * GROWTH)).fill(EMPTY);
  }

  /** Deletion without tombstones: pull later members of the cluster back over the hole. */
  private shiftBack(hole: number): void {
    const table = this.table;
    const size = table.length;
    let j = hole;
    for (;;) {
      if (++j === size) j = 0;
      const s = table[j]!;
      if (s === EMPTY) break;
      const at = home(this.slots.hashOf(s), size);
      // Move s into the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? hole < at && at <= j : hole < at || at <= j;
      if (!stays) {
        table[hole] = s;
        hole = j;
      }
    }
    table[hole] = EMPTY;
  }
}

function place(table: Int32Array, slot: number, hash: number): void {
  const size = table.length;
  let i = home(hash, size);
  while (table[i] !== EMPTY) if (++i === size) i = 0;
  table[i] = slot;
}
