// The compact store's hash index: an open-addressing (linear probing) table of slot ids over an
// Int32Array. Keys are hashed and compared as bytes in the arena, never turned into strings.
// Each bucket also holds a tag of its key's hash in the bits its slot id does not need, so a
// probe rules out a wrong key without touching the slot's memory.
// Growing allocates a table 1.5 times the size and migrates the old one a few buckets per
// operation (Redis's incremental rehash), so no single call pays for millions of keys.

import type { SlotTable } from "./slots.ts";
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

/** The bucket a hash starts probing at: its top bits, scaled to the table's size. */
function home(hash: number, size: number): number {
  return Math.floor((hash * size) / TWO_32);
}

/**
 * How a table of `size` buckets splits a bucket's 31 bits: the slot id in the low `shift` bits
 * (slot ids stay below the table's size: the table grows before its keys reach 3/4 of it), the
 * hash's low bits above them as the tag (`home` uses the top bits, so the two do not overlap).
 */
const shiftFor = (size: number): number => 32 - Math.clz32(size - 1);
const tagOf = (hash: number, shift: number): number => hash & ((1 << (31 - shift)) - 1);

export class HashIndex {
  private table = new Int32Array(FIRST_BUCKETS).fill(EMPTY);
  private shift = shiftFor(FIRST_BUCKETS);
  /** the table being migrated away from, or null, and its shift */
  private old: Int32Array<ArrayBuffer> | null = null;
  private oldShift = 0;
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

  /** The entry in a hash's home bucket of the current table: one load, to start a prefetch early. */
  homeEntry(hash: number): number {
    const table = this.table;
    return table[home(hash, table.length)]!;
  }

  /**
   * The first slot in the current table whose tag matches the hash, or -1: most likely the key's
   * slot, without comparing keys (a prefetch's guess; a key still in the old table is not found).
   */
  probe(hash: number): number {
    const table = this.table;
    const size = table.length;
    const shift = this.shift;
    const tag = tagOf(hash, shift);
    let i = home(hash, size);
    for (let e = table[i]!; e !== EMPTY; e = table[i]!) {
      if (e >>> shift === tag) return e & ((1 << shift) - 1);
      if (++i === size) i = 0;
    }
    return -1;
  }

  /** The slot holding `key`, or -1. */
  find(key: Uint8Array, hash: number): number {
    const slots = this.slots;
    let table = this.table;
    let size = table.length;
    let shift = this.shift;
    let tag = tagOf(hash, shift);
    let i = home(hash, size);
    for (let e = table[i]!; e !== EMPTY; e = table[i]!) {
      if (e >>> shift === tag) {
        const s = e & ((1 << shift) - 1);
        if (slots.matches(s, key)) return s;
      }
      if (++i === size) i = 0;
    }
    if (this.old === null) return -1;
    table = this.old;
    size = table.length;
    shift = this.oldShift;
    tag = tagOf(hash, shift);
    i = home(hash, size);
    // MOVED (negative) never passes the tag test: its top bits are all ones.
    for (let e = table[i]!; e !== EMPTY; e = table[i]!) {
      if (e >>> shift === tag) {
        const s = e & ((1 << shift) - 1);
        if (slots.matches(s, key)) return s;
      }
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
    place(this.table, this.shift, slot, hash);
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
    const oldMask = (1 << this.shift) - 1;
    this.table = new Int32Array(buckets).fill(EMPTY);
    this.shift = shiftFor(buckets);
    for (let i = 0; i < old.length; i++) {
      const e = old[i]!;
      if (e >= 0) place(this.table, this.shift, e & oldMask, this.slots.hashOf(e & oldMask));
    }
    release(old);
  }

  /** Unfiles a slot that is in the index. */
  remove(slot: number, hash: number): void {
    const table = this.table;
    const size = table.length;
    const mask = (1 << this.shift) - 1;
    let i = home(hash, size);
    for (let e = table[i]!; e !== EMPTY; e = table[i]!) {
      if ((e & mask) === slot) {
        this.shiftBack(i);
        this.count--;
        return;
      }
      if (++i === size) i = 0;
    }
    // Not migrated yet: mark its old bucket so probes for later keys of the cluster go on.
    const old = this.old!;
    const oldMask = (1 << this.oldShift) - 1;
    i = home(hash, old.length);
    while (old[i]! < 0 || (old[i]! & oldMask) !== slot) if (++i === old.length) i = 0;
    old[i] = MOVED;
    this.count--;
  }

  /** Migrates up to `buckets` buckets of the old table; a no-op when not resizing. */
  step(buckets: number): void {
    const old = this.old;
    if (old === null) return;
    const end = Math.min(old.length, this.cursor + buckets);
    const oldMask = (1 << this.oldShift) - 1;
    for (let i = this.cursor; i < end; i++) {
      const e = old[i]!;
      if (e >= 0) {
        place(this.table, this.shift, e & oldMask, this.slots.hashOf(e & oldMask));
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
    this.shift = shiftFor(FIRST_BUCKETS);
    this.old = null;
    this.count = 0;
  }

  private startResize(): void {
    this.old = this.table;
    this.oldShift = this.shift;
    this.cursor = 0;
    this.table = new Int32Array(Math.ceil(this.table.length * GROWTH)).fill(EMPTY);
    this.shift = shiftFor(this.table.length);
  }

  /** Deletion without tombstones: pull later members of the cluster back over the hole. */
  private shiftBack(hole: number): void {
    const table = this.table;
    const size = table.length;
    const mask = (1 << this.shift) - 1;
    let j = hole;
    for (;;) {
      if (++j === size) j = 0;
      const e = table[j]!;
      if (e === EMPTY) break;
      const at = home(this.slots.hashOf(e & mask), size);
      // Move e into the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? hole < at && at <= j : hole < at || at <= j;
      if (!stays) {
        table[hole] = e;
        hole = j;
      }
    }
    table[hole] = EMPTY;
  }
}

function place(table: Int32Array, shift: number, slot: number, hash: number): void {
  if (slot >>> shift !== 0) throw new RangeError(`slot ${slot} does not fit a table of ${table.length}`);
  const size = table.length;
  let i = home(hash, size);
  while (table[i] !== EMPTY) if (++i === size) i = 0;
  table[i] = slot | (tagOf(hash, shift) << shift);
}
