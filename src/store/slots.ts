// The compact store's per-entry records, one typed-array column per field and one row ("slot")
// per key, ~21 bytes a row. Slot ids never move while a key lives, so the hash index, the timer
// table, SCAN cursors and eviction samples all refer to entries by a plain integer. Key and value
// bytes live together in one arena block.

import { Arena, LARGE_BYTES } from "./arena.ts";

/** `address` of a slot that holds no key. */
export const FREE = 0xffffffff;
/** `size` of a block with an allocation of its own: its length is the allocation's */
const LARGE = 0xffff;
/** `keyLength` of a key of 65535 bytes or more: the length is kept aside */
const LONG = 0xffff;
/**
 * Columns come in segments of 64 Ki rows: growing adds a segment (≈1.4 MB) instead of copying
 * every column, so no write ever pays for a copy of millions of rows. Below one segment, the
 * first segment doubles from FIRST_ROWS so that a small store stays small.
 */
const SEGMENT_BITS = 16;
const SEGMENT_ROWS = 1 << SEGMENT_BITS;
const ROW_MASK = SEGMENT_ROWS - 1;
const FIRST_ROWS = 1024;

/** FNV-1a over bytes[start, end) with a seed, then murmur3's finaliser so the low bits mix well. */
export function hashBytes(bytes: Uint8Array, start: number, end: number, seed: number): number {
  let h = (0x811c9dc5 ^ seed) | 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The top 8 bits of a hash, kept per slot: rules out 255 of 256 wrong probes without the arena. */
export const tagOf = (hash: number): number => hash >>> 24;

export class SlotTable {
  readonly arena = new Arena();
  private tags: Uint8Array[] = [new Uint8Array(FIRST_ROWS)];
  /** arena block holding key bytes then value bytes, or FREE */
  private addresses: Uint32Array[] = [new Uint32Array(FIRST_ROWS).fill(FREE)];
  private keyLengths: Uint16Array[] = [new Uint16Array(FIRST_ROWS)];
  /** key + value bytes of a block in the pages (≤ LARGE_BYTES), or LARGE */
  private sizes: Uint16Array[] = [new Uint16Array(FIRST_ROWS)];
  private written: Float64Array[] = [new Float64Array(FIRST_ROWS)];
  /** timer id while the key has a time to live, else -1 */
  private timers: Int32Array[] = [new Int32Array(FIRST_ROWS).fill(-1)];
  /** access clock of the last read or write; only kept when eviction needs it */
  private accesses: Uint32Array[] = [new Uint32Array(0)];
  private rows = FIRST_ROWS;
  /** ids below this have been handed out at least once */
  highWater = 0;
  private longKeys = new Map<number, number>();
  private freeIds = new Int32Array(64);
  private freeCount = 0;

  constructor(
    readonly seed: number,
    readonly trackAccess: boolean,
  ) {
    if (trackAccess) this.accesses = [new Uint32Array(FIRST_ROWS)];
  }

  get capacity(): number {
    return this.rows;
  }

  isLive(slot: number): boolean {
    return this.addresses[slot >>> SEGMENT_BITS]![slot & ROW_MASK] !== FREE;
  }

  tagAt(slot: number): number {
    return this.tags[slot >>> SEGMENT_BITS]![slot & ROW_MASK]!;
  }

  addressOf(slot: number): number {
    return this.addresses[slot >>> SEGMENT_BITS]![slot & ROW_MASK]!;
  }

  writtenAtOf(slot: number): number {
    return this.written[slot >>> SEGMENT_BITS]![slot & ROW_MASK]!;
  }

  setWrittenAt(slot: number, writtenAt: number): void {
    this.written[slot >>> SEGMENT_BITS]![slot & ROW_MASK] = writtenAt;
  }

  timerOf(slot: number): number {
    return this.timers[slot >>> SEGMENT_BITS]![slot & ROW_MASK]!;
  }

  setTimer(slot: number, timer: number): void {
    this.timers[slot >>> SEGMENT_BITS]![slot & ROW_MASK] = timer;
  }

  accessOf(slot: number): number {
    return this.accesses[slot >>> SEGMENT_BITS]![slot & ROW_MASK]!;
  }

  setAccess(slot: number, clock: number): void {
    this.accesses[slot >>> SEGMENT_BITS]![slot & ROW_MASK] = clock;
  }

  /** Key + value bytes of a live slot. */
  sizeOf(slot: number): number {
    const size = this.sizes[slot >>> SEGMENT_BITS]![slot & ROW_MASK]!;
    return size === LARGE ? this.arena.bytesOf(this.addressOf(slot), LARGE_BYTES + 1).length : size;
  }

  keyLengthOf(slot: number): number {
    const n = this.keyLengths[slot >>> SEGMENT_BITS]![slot & ROW_MASK]!;
    return n === LONG ? this.longKeys.get(slot)! : n;
  }

  /** Puts key and value in a new block of `slot` (the caller frees any old one afterwards). */
  write(slot: number, key: Uint8Array, value: Uint8Array, hash: number): void {
    const size = key.length + value.length;
    const arena = this.arena;
    const address = arena.alloc(size);
    const bytes = arena.bytesOf(address, size);
    const at = arena.offsetOf(address, size);
    bytes.set(key, at);
    bytes.set(value, at + key.length);
    const segment = slot >>> SEGMENT_BITS;
    const row = slot & ROW_MASK;
    this.addresses[segment]![row] = address;
    this.sizes[segment]![row] = size > LARGE_BYTES ? LARGE : size;
    const keyLengths = this.keyLengths[segment]!;
    if (key.length >= LONG) this.longKeys.set(slot, key.length);
    else if (keyLengths[row] === LONG) this.longKeys.delete(slot);
    keyLengths[row] = Math.min(key.length, LONG);
    this.tags[segment]![row] = tagOf(hash);
  }

  /** Gives the block back to the arena (reused from the next turn). */
  freeBlock(slot: number): void {
    this.arena.free(this.addressOf(slot), this.sizeOf(slot));
  }

  /** The key's hash, recomputed from its bytes (resizes and deletions need it; lookups do not). */
  hashOf(slot: number): number {
    const address = this.addressOf(slot);
    const size = this.sizeOf(slot);
    const at = this.arena.offsetOf(address, size);
    return hashBytes(this.arena.bytesOf(address, size), at, at + this.keyLengthOf(slot), this.seed);
  }

  /** Whether the key in `slot` is `key`, compared byte for byte from the end (shared prefixes are common). */
  matches(slot: number, key: Uint8Array): boolean {
    const n = key.length;
    if (this.keyLengthOf(slot) !== n) return false;
    const address = this.addressOf(slot);
    const size = this.sizeOf(slot);
    const bytes = this.arena.bytesOf(address, size);
    const at = this.arena.offsetOf(address, size);
    for (let i = n - 1; i >= 0; i--) if (bytes[at + i] !== key[i]) return false;
    return true;
  }

  keyOf(slot: number): Uint8Array {
    const address = this.addressOf(slot);
    const size = this.sizeOf(slot);
    const at = this.arena.offsetOf(address, size);
    return this.arena.bytesOf(address, size).slice(at, at + this.keyLengthOf(slot));
  }

  /** A view of the value inside the arena (see CompactStore on how long it stays valid). */
  valueOf(slot: number): Uint8Array {
    const address = this.addressOf(slot);
    const size = this.sizeOf(slot);
    const at = this.arena.offsetOf(address, size);
    return this.arena.bytesOf(address, size).subarray(at + this.keyLengthOf(slot), at + size);
  }

  /** A free id (the most recently freed first, it is likely still in cache). */
  take(): number {
    if (this.freeCount > 0) return this.freeIds[--this.freeCount]!;
    if (this.highWater === this.rows) this.grow();
    return this.highWater++;
  }

  release(slot: number): void {
    const segment = slot >>> SEGMENT_BITS;
    const row = slot & ROW_MASK;
    this.addresses[segment]![row] = FREE;
    this.timers[segment]![row] = -1;
    if (this.keyLengths[segment]![row] === LONG) this.longKeys.delete(slot);
    this.keyLengths[segment]![row] = 0;
    if (this.freeCount === this.freeIds.length) {
      const bigger = new Int32Array(this.freeIds.length * 2);
      bigger.set(this.freeIds);
      this.freeIds = bigger;
    }
    this.freeIds[this.freeCount++] = slot;
  }

  /** Forgets every entry at once (the columns keep their size). */
  clear(): void {
    this.arena.clear();
    for (const column of this.addresses) column.fill(FREE);
    for (const column of this.timers) column.fill(-1);
    for (const column of this.keyLengths) column.fill(0);
    this.longKeys.clear();
    this.highWater = 0;
    this.freeCount = 0;
  }

  /** One more segment, or a doubled first segment while the table is smaller than one. */
  private grow(): void {
    if (this.rows < SEGMENT_ROWS) {
      const rows = this.rows * 2;
      this.tags[0] = widen(this.tags[0]!, new Uint8Array(rows));
      this.addresses[0] = widen(this.addresses[0]!, new Uint32Array(rows).fill(FREE));
      this.keyLengths[0] = widen(this.keyLengths[0]!, new Uint16Array(rows));
      this.sizes[0] = widen(this.sizes[0]!, new Uint16Array(rows));
      this.written[0] = widen(this.written[0]!, new Float64Array(rows));
      this.timers[0] = widen(this.timers[0]!, new Int32Array(rows).fill(-1));
      if (this.trackAccess) this.accesses[0] = widen(this.accesses[0]!, new Uint32Array(rows));
      this.rows = rows;
      return;
    }
    this.tags.push(new Uint8Array(SEGMENT_ROWS));
    this.addresses.push(new Uint32Array(SEGMENT_ROWS).fill(FREE));
    this.keyLengths.push(new Uint16Array(SEGMENT_ROWS));
    this.sizes.push(new Uint16Array(SEGMENT_ROWS));
    this.written.push(new Float64Array(SEGMENT_ROWS));
    this.timers.push(new Int32Array(SEGMENT_ROWS).fill(-1));
    if (this.trackAccess) this.accesses.push(new Uint32Array(SEGMENT_ROWS));
    this.rows += SEGMENT_ROWS;
  }
}

function widen<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(old: T, bigger: T): T {
  bigger.set(old as ArrayLike<number>);
  return bigger;
}
