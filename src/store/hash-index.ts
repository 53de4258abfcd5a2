// The compact store's hash index: an open-addressing (linear probing) table of slot ids over an
// Int32Array. Keys are hashed and compared as bytes in the arena, never turned into strings.
// Growing allocates a table twice the size and migrates the old one a few buckets per operation
// (Redis's incremental rehash), so no single call pays for millions of keys.

import { tagOf, type SlotTable } from "./slots.ts";

const EMPTY = -1;
/** a migrated (or deleted) bucket of the old table: probing continues past it */
const MOVED = -2;
const FIRST_BUCKETS = 1024;
/** grow past 3/4 full: linear probing stays short (about 2.5 probes for a miss at 1/2) */
const MAX_LOAD = 0.75;
/** old buckets migrated per operation: a resize ends after oldSize/64 operations, well before the new table fills */
export const MIGRATE_STEP = 64;

export class HashIndex {
  private table = new Int32Array(FIRST_BUCKETS).fill(EMPTY);
  private mask = FIRST_BUCKETS - 1;
  /** the table being migrated away from, or null */
  private old: Int32Array<ArrayBuffer> | null = null;
  private oldMask = 0;
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
    let i = hash & this.mask;
    for (let s = table[i]!; s !== EMPTY; s = table[i]!) {
      if (slots.tagAt(s) === tag && slots.matches(s, key)) return s;
      i = (i + 1) & this.mask;
    }
    if (this.old === null) return -1;
    table = this.old;
    i = hash & this.oldMask;
    for (let s = table[i]!; s !== EMPTY; s = table[i]!) {
      if (s >= 0 && slots.tagAt(s) === tag && slots.matches(s, key)) return s;
      i = (i + 1) & this.oldMask;
    }
    return -1;
  }

  /** Files a slot whose key is not in the index yet (the caller looked). */
  insert(slot: number, hash: number): void {
    if (this.count + 1 > this.table.length * MAX_LOAD) {
      this.step(Infinity); // a resize still under way (only under a pathological rate) ends first
      this.startResize();
    }
    place(this.table, this.mask, slot, hash);
    this.count++;
  }

  /**
   * Grows the table at once to hold `keys` keys without another resize (a load that knows its
   * size): each key already filed is rehashed once, instead of at every doubling on the way.
   */
  reserve(keys: number): void {
    let buckets = this.table.length;
    while (keys > buckets * MAX_LOAD) buckets *= 2;
    if (buckets === this.table.length) return;
    this.step(Infinity);
    const old = this.table;
    this.table = new Int32Array(buckets).fill(EMPTY);
    this.mask = buckets - 1;
    for (let i = 0; i < old.length; i++) {
      const s = old[i]!;
      if (s >= 0) place(this.table, this.mask, s, this.slots.hashOf(s));
    }
  }

  /** Unfiles a slot that is in the index. */
  remove(slot: number, hash: number): void {
    const table = this.table;
    const mask = this.mask;
    let i = hash & mask;
    for (let s = table[i]!; s !== EMPTY; s = table[i]!) {
      if (s === slot) {
        this.shiftBack(i);
        this.count--;
        return;
      }
      i = (i + 1) & mask;
    }
    // Not migrated yet: mark its old bucket so probes for later keys of the cluster go on.
    const old = this.old!;
    i = hash & this.oldMask;
    while (old[i] !== slot) i = (i + 1) & this.oldMask;
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
        place(this.table, this.mask, s, this.slots.hashOf(s));
        old[i] = MOVED;
      }
    }
    this.cursor = end;
    if (end === old.length) this.old = null;
  }

  clear(): void {
    this.table = new Int32Array(FIRST_BUCKETS).fill(EMPTY);
    this.mask = FIRST_BUCKETS - 1;
    this.old = null;
    this.count = 0;
  }

  private startResize(): void {
    this.old = this.table;
    this.oldMask = this.mask;
    this.cursor = 0;
    this.table = new Int32Array(this.table.length * 2).fill(EMPTY);
    this.mask = this.table.length - 1;
  }

  /** Deletion without tombstones: pull later members of the cluster back over the hole. */
  private shiftBack(hole: number): void {
    const table = this.table;
    const mask = this.mask;
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const s = table[j]!;
      if (s === EMPTY) break;
      const home = this.slots.hashOf(s) & mask;
      // Move s into the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!stays) {
        table[hole] = s;
        hole = j;
      }
    }
    table[hole] = EMPTY;
  }
}

function place(table: Int32Array, mask: number, slot: number, hash: number): void {
  let i = hash & mask;
  while (table[i] !== EMPTY) i = (i + 1) & mask;
  table[i] = slot;
}
