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
const FIRST_CAPACITY = 1024;

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
  tag = new Uint8Array(FIRST_CAPACITY);
  /** arena block holding key bytes then value bytes, or FREE */
  address = new Uint32Array(FIRST_CAPACITY).fill(FREE);
  keyLength = new Uint16Array(FIRST_CAPACITY);
  /** key + value bytes of a block in the pages (≤ LARGE_BYTES), or LARGE */
  size = new Uint16Array(FIRST_CAPACITY);
  writtenAt = new Float64Array(FIRST_CAPACITY);
  /** timer id while the key has a time to live, else -1 */
  timer = new Int32Array(FIRST_CAPACITY).fill(-1);
  /** access clock of the last read or write; only allocated when eviction needs it */
  access: Uint32Array;
  /** ids below this have been handed out at least once */
  highWater = 0;
  private longKeys = new Map<number, number>();
  private freeIds = new Int32Array(64);
  private freeCount = 0;

  constructor(
    readonly seed: number,
    readonly trackAccess: boolean,
  ) {
    this.access = new Uint32Array(trackAccess ? FIRST_CAPACITY : 0);
  }

  get capacity(): number {
    return this.address.length;
  }

  isLive(slot: number): boolean {
    return this.address[slot] !== FREE;
  }

  /** Key + value bytes of a live slot. */
  sizeOf(slot: number): number {
    const size = this.size[slot]!;
    return size === LARGE ? this.arena.bytesOf(this.address[slot]!, LARGE_BYTES + 1).length : size;
  }

  keyLengthOf(slot: number): number {
    const n = this.keyLength[slot]!;
    return n === LONG ? this.longKeys.get(slot)! : n;
  }

  /** Puts key and value in a new block of `slot` (the caller has freed any old one). */
  write(slot: number, key: Uint8Array, value: Uint8Array, hash: number): void {
    const size = key.length + value.length;
    const arena = this.arena;
    const address = arena.alloc(size);
    const bytes = arena.bytesOf(address, size);
    const at = arena.offsetOf(address, size);
    bytes.set(key, at);
    bytes.set(value, at + key.length);
    this.address[slot] = address;
    this.size[slot] = size > LARGE_BYTES ? LARGE : size;
    if (key.length >= LONG) this.longKeys.set(slot, key.length);
    else if (this.keyLength[slot] === LONG) this.longKeys.delete(slot);
    this.keyLength[slot] = Math.min(key.length, LONG);
    this.tag[slot] = tagOf(hash);
  }

  /** Gives the block back to the arena (reused after this turn). */
  freeBlock(slot: number): void {
    this.arena.free(this.address[slot]!, this.sizeOf(slot));
  }

  /** The key's hash, recomputed from its bytes (resizes and deletions need it; lookups do not). */
  hashOf(slot: number): number {
    const address = this.address[slot]!;
    const size = this.sizeOf(slot);
    const at = this.arena.offsetOf(address, size);
    return hashBytes(this.arena.bytesOf(address, size), at, at + this.keyLengthOf(slot), this.seed);
  }

  /** Whether the key in `slot` is `key`, compared byte for byte from the end (shared prefixes are common). */
  matches(slot: number, key: Uint8Array): boolean {
    const n = key.length;
    if (this.keyLengthOf(slot) !== n) return false;
    const address = this.address[slot]!;
    const size = this.sizeOf(slot);
    const bytes = this.arena.bytesOf(address, size);
    const at = this.arena.offsetOf(address, size);
    for (let i = n - 1; i >= 0; i--) if (bytes[at + i] !== key[i]) return false;
    return true;
  }

  keyOf(slot: number): Uint8Array {
    const address = this.address[slot]!;
    const size = this.sizeOf(slot);
    const at = this.arena.offsetOf(address, size);
    return this.arena.bytesOf(address, size).slice(at, at + this.keyLengthOf(slot));
  }

  /** A view of the value inside the arena (see CompactStore on how long it stays valid). */
  valueOf(slot: number): Uint8Array {
    const address = this.address[slot]!;
    const size = this.sizeOf(slot);
    const at = this.arena.offsetOf(address, size);
    return this.arena.bytesOf(address, size).subarray(at + this.keyLengthOf(slot), at + size);
  }

  /** A free id (the most recently freed first, it is likely still in cache). */
  take(): number {
    if (this.freeCount > 0) return this.freeIds[--this.freeCount]!;
    if (this.highWater === this.address.length) this.grow();
    return this.highWater++;
  }

  release(slot: number): void {
    this.address[slot] = FREE;
    this.timer[slot] = -1;
    if (this.keyLength[slot] === LONG) this.longKeys.delete(slot);
    this.keyLength[slot] = 0;
    if (this.freeCount === this.freeIds.length) {
      const bigger = new Int32Array(this.freeIds.length * 2);
      bigger.set(this.freeIds);
      this.freeIds = bigger;
    }
    this.freeIds[this.freeCount++] = slot;
  }

  /** Forgets every entry at once. */
  clear(): void {
    this.arena.clear();
    this.address.fill(FREE);
    this.timer.fill(-1);
    this.keyLength.fill(0);
    this.longKeys.clear();
    this.highWater = 0;
    this.freeCount = 0;
  }

  /**
   * Doubles every column. A copy of ~21 bytes a slot: tens of milliseconds at ten million keys,
   * far from the multi-second rehash the index avoids by migrating incrementally.
   */
  private grow(): void {
    const size = this.address.length * 2;
    this.tag = widen(this.tag, new Uint8Array(size));
    this.address = widen(this.address, new Uint32Array(size).fill(FREE));
    this.keyLength = widen(this.keyLength, new Uint16Array(size));
    this.size = widen(this.size, new Uint16Array(size));
    this.writtenAt = widen(this.writtenAt, new Float64Array(size));
    this.timer = widen(this.timer, new Int32Array(size).fill(-1));
    if (this.trackAccess) this.access = widen(this.access, new Uint32Array(size));
  }
}

function widen<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(old: T, bigger: T): T {
  bigger.set(old as ArrayLike<number>);
  return bigger;
}
