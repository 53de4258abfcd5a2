// The compact store's per-entry records, one typed-array column per field and one row ("slot")
// per key. Slot ids never move while a key lives, so the hash index, the timer table, SCAN
// cursors and eviction samples all refer to entries by a plain integer.

/** `address` of a slot that holds no key. */
export const FREE = 0xffffffff;
const FIRST_CAPACITY = 1024;

export class SlotTable {
  /** hash of the key (kept so that resizing the index never rereads keys) */
  hash = new Uint32Array(FIRST_CAPACITY);
  /** arena block holding key bytes then value bytes, or FREE */
  address = new Uint32Array(FIRST_CAPACITY).fill(FREE);
  keyLength = new Uint32Array(FIRST_CAPACITY);
  valueLength = new Uint32Array(FIRST_CAPACITY);
  writtenAt = new Float64Array(FIRST_CAPACITY);
  /** timer id while the key has a time to live, else -1 */
  timer = new Int32Array(FIRST_CAPACITY).fill(-1);
  /** access clock of the last read or write; only allocated when eviction needs it */
  access: Uint32Array;
  /** ids below this have been handed out at least once */
  highWater = 0;
  private freeIds = new Int32Array(64);
  private freeCount = 0;

  constructor(readonly trackAccess: boolean) {
    this.access = new Uint32Array(trackAccess ? FIRST_CAPACITY : 0);
  }

  get capacity(): number {
    return this.address.length;
  }

  isLive(slot: number): boolean {
    return this.address[slot] !== FREE;
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
    if (this.freeCount === this.freeIds.length) {
      const bigger = new Int32Array(this.freeIds.length * 2);
      bigger.set(this.freeIds);
      this.freeIds = bigger;
    }
    this.freeIds[this.freeCount++] = slot;
  }

  /**
   * Doubles every column. A copy of ~28 bytes a slot: tens of milliseconds at ten million keys,
   * far from the multi-second rehash the index avoids by migrating incrementally.
   */
  private grow(): void {
    const size = this.address.length * 2;
    this.hash = widen(this.hash, new Uint32Array(size));
    this.address = widen(this.address, new Uint32Array(size).fill(FREE));
    this.keyLength = widen(this.keyLength, new Uint32Array(size));
    this.valueLength = widen(this.valueLength, new Uint32Array(size));
    this.writtenAt = widen(this.writtenAt, new Float64Array(size));
    this.timer = widen(this.timer, new Int32Array(size).fill(-1));
    if (this.trackAccess) this.access = widen(this.access, new Uint32Array(size));
  }
}

function widen<T extends Uint32Array | Int32Array | Float64Array>(old: T, bigger: T): T {
  bigger.set(old as ArrayLike<number>);
  return bigger;
}
