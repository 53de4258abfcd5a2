// The compact store's per-entry records: one 16-byte row ("slot") per key. Slot ids never move
// while a key lives, so the hash index, the timer table, SCAN cursors and eviction samples all
// refer to entries by a plain integer. Key and value bytes live together in one arena block.

import { Arena } from "./arena.ts";
import { LARGE_BYTES } from "./size-classes.ts";
import { copyShort } from "./bytes.ts";
import { FAR, fromHighByte, highByte } from "./high-byte.ts";
import { LiveBits } from "./live-bits.ts";
import { fmix32 } from "../common/murmur3.ts";
import { grown, release } from "./typed-arrays.ts";
import type { ValueRef } from "./types.ts";

/** `address` of a slot that holds no key. */
export const FREE = 0xffffffff;
/** `size` of a block with an allocation of its own: its length is the allocation's */
const LARGE = 0xffff;
/** `keyLength` of a key of 255 bytes or more: the length is kept aside */
const LONG = 0xff;
/**
 * Columns come in segments of 16 Ki rows: growing adds a segment (≈300 KB) instead of copying
 * every column, so no write ever pays for a copy of millions of rows, and at most one segment's
 * rows wait unused. Below one segment, the first segment doubles from FIRST_ROWS so that a small
 * store stays small.
 */
const SEGMENT_BITS = 14;
const SEGMENT_ROWS = 1 << SEGMENT_BITS;
const ROW_MASK = SEGMENT_ROWS - 1;
const FIRST_ROWS = 1024;

/** FNV-1a over bytes[start, end) with a seed, then murmur3's finaliser so the low bits mix well. */
export function hashBytes(bytes: Uint8Array, start: number, end: number, seed: number): number {
  let h = (0x811c9dc5 ^ seed) | 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return fmix32(h) >>> 0;
}

/**
 * Words in a row: address; key length (8 bits) | size (16 bits) << 8 | the time of write's high
 * byte << 24; timer id; time of write (low 32 bits). The high byte is 0 for 0, else
 * 1 + (high - base), up to 254, with base 64 units of 2^32 ms (≈ 8.7 years) before the store was
 * made, so it covers about 26 years after it; any other time (FAR) is kept aside whole.
 */
const STRIDE = 4;
const TWO_32 = 0x100000000;
const HIGH_BACK = 64;

export class SlotTable {
  readonly arena = new Arena();
  /**
   * One row of STRIDE uint32 words per slot, so that a hit reads one cache line rather than one
   * per field: the arena address (FREE when the slot is unused), key length, block size and the
   * write time's high byte (LONG / LARGE / FAR mean "look aside"), timer id (-1: no TTL) and the
   * low 32 bits of the time of the last write in integer milliseconds.
   */
  private rowWords: Uint32Array<ArrayBuffer>[] = [newRows(FIRST_ROWS)];
  private readonly highBase: number;
  /** access clock of the last read or write; only kept when eviction needs it */
  private accesses: Uint32Array<ArrayBuffer>[] = [new Uint32Array(0)];
  /** which slots hold a key, for eviction's random draws; only kept when eviction needs it */
  private readonly liveBits: LiveBits | undefined;
  private rows = FIRST_ROWS;
  /** ids below this have been handed out at least once */
  highWater = 0;
  private longKeys = new Map<number, number>();
  private farTimes = new Map<number, number>();
  private freeIds = new Int32Array(64);
  /** valueOf's reused ValueRef */
  private readonly range: ValueRef = { bytes: new Uint8Array(0), start: 0, length: 0, writtenAt: 0, expiresAt: 0 };
  private freeCount = 0;

  constructor(
    readonly seed: number,
    readonly trackAccess: boolean,
    /** the clock's time now: the write times of the store's life are near it */
    now = 0,
  ) {
    this.highBase = Math.max(0, Math.floor(now / TWO_32) - HIGH_BACK);
    if (trackAccess) this.accesses = [new Uint32Array(FIRST_ROWS)];
    this.liveBits = trackAccess ? new LiveBits(FIRST_ROWS) : undefined;
  }

  get capacity(): number {
    return this.rows;
  }

  isLive(slot: number): boolean {
    return this.rowWords[slot >>> SEGMENT_BITS]![(slot & ROW_MASK) * STRIDE] !== FREE;
  }

  /** isLive, from the bitmap when there is one (it stays in cache under random draws). */
  isLiveDrawn(slot: number): boolean {
    return this.liveBits !== undefined ? this.liveBits.has(slot) : this.isLive(slot);
  }

  addressOf(slot: number): number {
    return this.rowWords[slot >>> SEGMENT_BITS]![(slot & ROW_MASK) * STRIDE]!;
  }

  /**
   * The first and last byte of a live slot's block (key, then value), given the address just read
   * from its row: loads that pull the block into cache ahead of a lookup (CompactStore.prefetch);
   * a block may span two cache lines.
   */
  keyByte(slot: number, address: number): number {
    const size = (this.rowWords[slot >>> SEGMENT_BITS]![(slot & ROW_MASK) * STRIDE + 1]! >>> 8) & 0xffff;
    if (size === LARGE) return this.arena.bytesOf(address, LARGE_BYTES + 1)[0] ?? 0;
    const page = this.arena.page(address);
    const at = Arena.pageOffset(address);
    return page[at]! ^ (size > 0 ? page[at + size - 1]! : 0);
  }

  /** Milliseconds; stored as an integer (times are Date.now() values). */
  writtenAtOf(slot: number): number {
    const words = this.rowWords[slot >>> SEGMENT_BITS]!;
    const row = (slot & ROW_MASK) * STRIDE;
    const high = words[row + 1]! >>> 24;
    return high === FAR ? this.farTimes.get(slot)! : fromHighByte(high, this.highBase, words[row + 3]!);
  }

  setWrittenAt(slot: number, writtenAt: number): void {
    const words = this.rowWords[slot >>> SEGMENT_BITS]!;
    const row = (slot & ROW_MASK) * STRIDE;
    const ms = writtenAt > 0 ? Math.floor(writtenAt) : 0;
    const high = highByte(Math.floor(ms / TWO_32), this.highBase);
    const meta = words[row + 1]!;
    if (high === FAR) this.farTimes.set(slot, ms);
    else if (meta >>> 24 === FAR) this.farTimes.delete(slot);
    words[row + 1] = (meta & 0xffffff) | (high << 24);
    words[row + 3] = ms >>> 0;
  }

  timerOf(slot: number): number {
    return this.rowWords[slot >>> SEGMENT_BITS]![(slot & ROW_MASK) * STRIDE + 2]! | 0;
  }

  setTimer(slot: number, timer: number): void {
    this.rowWords[slot >>> SEGMENT_BITS]![(slot & ROW_MASK) * STRIDE + 2] = timer;
  }

  accessOf(slot: number): number {
    return this.accesses[slot >>> SEGMENT_BITS]![slot & ROW_MASK]!;
  }

  setAccess(slot: number, clock: number): void {
    this.accesses[slot >>> SEGMENT_BITS]![slot & ROW_MASK] = clock;
  }

  /** Key + value bytes of a live slot. */
  sizeOf(slot: number): number {
    const size = (this.rowWords[slot >>> SEGMENT_BITS]![(slot & ROW_MASK) * STRIDE + 1]! >>> 8) & 0xffff;
    return size === LARGE ? this.arena.bytesOf(this.addressOf(slot), LARGE_BYTES + 1).length : size;
  }

  keyLengthOf(slot: number): number {
    const n = this.rowWords[slot >>> SEGMENT_BITS]![(slot & ROW_MASK) * STRIDE + 1]! & LONG;
    return n === LONG ? this.longKeys.get(slot)! : n;
  }

  /** Puts key and value in a new block of `slot` (the caller frees any old one afterwards). */
  write(slot: number, key: Uint8Array, value: Uint8Array): void {
    const size = key.length + value.length;
    const arena = this.arena;
    const address = arena.alloc(size);
    const bytes = arena.bytesOf(address, size);
    const at = arena.offsetOf(address, size);
    // by loop when short: TypedArray#set's fixed cost is more than a key's or small value's copy
    copyShort(bytes, at, key);
    copyShort(bytes, at + key.length, value);
    const segment = slot >>> SEGMENT_BITS;
    const words = this.rowWords[segment]!;
    const row = (slot & ROW_MASK) * STRIDE;
    words[row] = address;
    this.liveBits?.set(slot);
    const meta = words[row + 1]!;
    if (key.length >= LONG) this.longKeys.set(slot, key.length);
    else if ((meta & LONG) === LONG) this.longKeys.delete(slot);
    // the time's high byte stays: the caller sets the time next
    words[row + 1] = (meta & 0xff000000) | Math.min(key.length, LONG) | ((size > LARGE_BYTES ? LARGE : size) << 8);
  }

  /** Points a live slot at a copy of its block (the compactor moves blocks off sparse pages). */
  moveTo(slot: number, address: number): void {
    this.rowWords[slot >>> SEGMENT_BITS]![(slot & ROW_MASK) * STRIDE] = address;
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

  /**
   * Whether the key in `slot` is `key`, compared byte for byte from the end (shared prefixes are
   * common). The lookup path: one read of the row, then the key's bytes.
   */
  matches(slot: number, key: Uint8Array): boolean {
    const words = this.rowWords[slot >>> SEGMENT_BITS]!;
    const row = (slot & ROW_MASK) * STRIDE;
    const meta = words[row + 1]!;
    const n = key.length;
    if ((meta & LONG) !== (n < LONG ? n : LONG) || (n >= LONG && this.longKeys.get(slot) !== n)) return false;
    const address = words[row]!;
    let bytes: Uint8Array;
    let at = 0;
    if (((meta >>> 8) & 0xffff) === LARGE) bytes = this.arena.bytesOf(address, LARGE_BYTES + 1);
    else {
      bytes = this.arena.page(address);
      at = Arena.pageOffset(address);
    }
    for (let i = n - 1; i >= 0; i--) if (bytes[at + i] !== key[i]) return false;
    return true;
  }

  keyOf(slot: number): Uint8Array {
    return this.keyView(slot).slice();
  }

  /** A view of the key inside the arena, valid until the slot changes (no copy). */
  keyView(slot: number): Uint8Array {
    const address = this.addressOf(slot);
    const size = this.sizeOf(slot);
    const at = this.arena.offsetOf(address, size);
    return this.arena.bytesOf(address, size).subarray(at, at + this.keyLengthOf(slot));
  }

  /** A view of the value inside the arena (see CompactStore on how long it stays valid). */
  valueOf(slot: number): Uint8Array {
    const range = this.range;
    this.valueRange(slot, range);
    return range.bytes.subarray(range.start, range.start + range.length);
  }

  /** Where the value is inside the arena, into `into` (valueOf without a view). */
  valueRange(slot: number, into: ValueRef): void {
    const words = this.rowWords[slot >>> SEGMENT_BITS]!;
    const row = (slot & ROW_MASK) * STRIDE;
    const meta = words[row + 1]!;
    const address = words[row]!;
    let keyLength = meta & LONG;
    if (keyLength === LONG) keyLength = this.longKeys.get(slot)!;
    const size = (meta >>> 8) & 0xffff;
    if (size === LARGE) {
      const own = this.arena.bytesOf(address, LARGE_BYTES + 1);
      into.bytes = own;
      into.start = keyLength;
      into.length = own.length - keyLength;
      return;
    }
    into.bytes = this.arena.page(address);
    into.start = Arena.pageOffset(address) + keyLength;
    into.length = size - keyLength;
  }

  /** A free id (the most recently freed first, it is likely still in cache). */
  take(): number {
    if (this.freeCount > 0) return this.freeIds[--this.freeCount]!;
    if (this.highWater === this.rows) this.grow();
    return this.highWater++;
  }

  release(slot: number): void {
    const words = this.rowWords[slot >>> SEGMENT_BITS]!;
    const row = (slot & ROW_MASK) * STRIDE;
    const meta = words[row + 1]!;
    if ((meta & LONG) === LONG) this.longKeys.delete(slot);
    if (meta >>> 24 === FAR) this.farTimes.delete(slot);
    words[row] = FREE;
    words[row + 1] = 0;
    words[row + 2] = -1;
    this.liveBits?.unset(slot);
    if (this.freeCount === this.freeIds.length) this.freeIds = grown(this.freeIds, this.freeIds.length * 2);
    this.freeIds[this.freeCount++] = slot;
  }

  /** Forgets every entry at once (the columns keep their size). */
  clear(): void {
    this.arena.clear();
    for (const words of this.rowWords) freeRows(words);
    this.longKeys.clear();
    this.farTimes.clear();
    this.liveBits?.clear();
    this.highWater = 0;
    this.freeCount = 0;
  }

  /** One more segment, or a doubled first segment while the table is smaller than one. */
  private grow(): void {
    if (this.rows < SEGMENT_ROWS) {
      const rows = this.rows * 2;
      this.rowWords[0] = widen(this.rowWords[0]!, newRows(rows));
      if (this.trackAccess) this.accesses[0] = grown(this.accesses[0]!, rows);
      this.rows = rows;
      this.liveBits?.grow(rows);
      return;
    }
    this.rowWords.push(newRows(SEGMENT_ROWS));
    if (this.trackAccess) this.accesses.push(new Uint32Array(SEGMENT_ROWS));
    this.rows += SEGMENT_ROWS;
    this.liveBits?.grow(this.rows);
  }
}

/** Rows of unused slots: address FREE, timer -1. */
function newRows(rows: number): Uint32Array<ArrayBuffer> {
  return freeRows(new Uint32Array(rows * STRIDE));
}

function freeRows(words: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> {
  for (let at = 0; at < words.length; at += STRIDE) {
    words[at] = FREE;
    words[at + 1] = 0;
    words[at + 2] = 0xffffffff;
  }
  return words;
}

/** `bigger` with the rows of `old`, whose memory goes back at once. */
function widen(old: Uint32Array<ArrayBuffer>, bigger: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> {
  bigger.set(old);
  release(old);
  return bigger;
}
