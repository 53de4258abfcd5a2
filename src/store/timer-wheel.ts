// A hierarchical timer wheel over integer ids (Kafka's TimingWheel, Linux's timer wheel).
// Stores schedule their entries by slot id, so set, reset, cancel and expiry are O(1) each and
// nothing ever scans the keyspace. Time is injected: `advance(now)` fires whatever is due.

import { FAR, fromHighByte, highByte } from "./high-byte.ts";
import { grown } from "./typed-arrays.ts";

/**
 * 10 ms per tick: fine enough that a key is freed well within the one second SPEC §4 allows,
 * coarse enough that a one-hour TTL passes through at most three cascades.
 */
export const TICK_MS = 10;

const SLOT_BITS = 8;
const SLOTS = 1 << SLOT_BITS; // 256 slots a level
const LEVELS = 4; // 256^4 ticks of 10 ms ≈ 497 days; later deadlines are parked and re-filed
const MASK = SLOTS - 1;
const NONE = -1;
/**
 * `prev` of an id says where it is filed, so no column of buckets is needed: NONE when it is not
 * filed; for the head of a bucket, HEAD - bucket (≤ -2); otherwise the id before it, with the
 * bucket's level in the top bits (ids stay below 2^ID_BITS), for the per-level counts.
 */
const HEAD = -2;
const ID_BITS = 29;
const ID_MASK = (1 << ID_BITS) - 1;
const TWO_32 = 0x100000000;
/**
 * `dueHigh` holds bits 32 and up of a due time in one byte: 0 for 0, else 1 + (high - base) up
 * to 254, where base is the construction time's high bits, so due times up to ≈ 34 years after
 * it fit (high-byte.ts). ASIDE: kept whole in a Map (a later, earlier, negative or fractional time).
 */
const ASIDE = FAR;

export class TimerWheel {
  /** tick most recently processed */
  private current: number;
  private next = new Int32Array(1024).fill(NONE);
  /** where the id is filed (see HEAD): an id costs 13 bytes in all */
  private prev = new Int32Array(1024).fill(NONE);
  /**
   * Exact due time in ms, as given (its tick is the ceiling of dueMs / TICK_MS): the low 32 bits
   * and one byte for the rest (see ASIDE); any other value is kept aside whole.
   */
  private dueLow = new Uint32Array(1024);
  private dueHigh = new Uint8Array(1024);
  private readonly highBase: number;
  private dueAside = new Map<number, number>();
  /** head id of each bucket: LEVELS*SLOTS buckets plus one "due now" bucket */
  private heads = new Int32Array(LEVELS * SLOTS + 1).fill(NONE);
  private readonly dueNow = LEVELS * SLOTS;
  private count = 0;
  /** ids filed per level (the due-now bucket counts as level 0): empty levels are skipped over */
  private levelCount = new Int32Array(LEVELS);

  constructor(now: number) {
    this.current = Math.floor(now / TICK_MS);
    this.highBase = Math.max(0, Math.floor(now / TWO_32));
  }

  get size(): number {
    return this.count;
  }

  /** Files `id` to fire at `dueMs` (never earlier), replacing any earlier schedule of it. */
  schedule(id: number, dueMs: number): void {
    if (id > ID_MASK) throw new RangeError(`timer id ${id} past ${ID_MASK}`);
    if (id >= this.next.length) this.grow(id);
    // A reschedule moves an id already counted; only a new one adds to the count.
    if (this.prev[id] !== NONE) this.unlink(id);
    else this.count++;
    this.setDue(id, dueMs);
    this.file(id, this.dueTick(id));
  }

  /** The due time `id` was last scheduled for, in ms (kept while it is filed, and after). */
  dueOf(id: number): number {
    const high = this.dueHigh[id]!;
    return high === ASIDE ? this.dueAside.get(id)! : fromHighByte(high, this.highBase, this.dueLow[id]!);
  }

  cancel(id: number): void {
    if (id < this.next.length && this.prev[id] !== NONE) {
      this.unlink(id);
      this.count--;
    }
  }

  isScheduled(id: number): boolean {
    return id < this.next.length && this.prev[id] !== NONE;
  }

  /** Moves time to `now`; calls `fire(id)` for every id whose due time has passed, once. */
  advance(now: number, fire: (id: number) => void): number {
    const target = Math.floor(now / TICK_MS);
    let fired = this.drain(this.dueNow, fire);
    while (this.current < target) {
      if (this.count === 0) {
        this.current = target;
        break;
      }
      if (this.levelCount[0] === 0) {
        // Nothing can fire before the lowest non-empty level cascades: jump to just before it.
        let level = 1;
        while (level < LEVELS - 1 && this.levelCount[level] === 0) level++;
        const span = SLOTS ** level;
        const boundary = (Math.floor(this.current / span) + 1) * span;
        this.current = Math.min(target, boundary - 1);
        if (this.current >= target) break;
      }
      this.current++;
      this.cascade();
      fired += this.drain(this.current & MASK, fire);
    }
    return fired;
  }

  private cascade(): void {
    // When a lower level wraps, the matching slot of the level above is re-filed downwards,
    // highest level first so that what comes down from level 3 is re-filed through level 1 too.
    let wrapped = 0;
    let tick = this.current;
    while (wrapped < LEVELS - 1 && (tick & MASK) === 0) {
      wrapped++;
      tick = Math.floor(tick / SLOTS);
    }
    for (let level = wrapped; level >= 1; level--) {
      const bucket = level * SLOTS + (Math.floor(this.current / SLOTS ** level) & MASK);
      let id = this.heads[bucket]!;
      this.heads[bucket] = NONE;
      while (id !== NONE) {
        const following = this.next[id]!;
        this.next[id] = NONE;
        this.prev[id] = NONE;
        this.levelCount[level]!--;
        this.file(id, this.dueTick(id), true);
        id = following;
      }
    }
  }

  private drain(bucket: number, fire: (id: number) => void): number {
    let fired = 0;
    let id = this.heads[bucket]!;
    this.heads[bucket] = NONE;
    while (id !== NONE) {
      const following = this.next[id]!;
      this.next[id] = NONE;
      this.prev[id] = NONE;
      this.levelCount[0]!--;
      if (this.dueTick(id) <= this.current) {
        this.count--;
        fired++;
        fire(id);
      } else {
        this.file(id, this.dueTick(id), true); // not yet due: file again
      }
      id = following;
    }
    return fired;
  }

  /**
   * Files an id by how far away it is. Due now: from a cascade it goes to this tick's slot, which
   * is drained right after; from `schedule`, this tick's slot is already drained, so it waits in
   * the due-now bucket for the next advance.
   */
  private file(id: number, due: number, cascading = false): void {
    const delta = due - this.current;
    let bucket: number;
    let level = 0;
    if (delta < 0 || (delta === 0 && !cascading)) bucket = this.dueNow;
    else if (delta < SLOTS) bucket = due & MASK;
    else {
      level = 1;
      let span = SLOTS * SLOTS;
      while (level < LEVELS - 1 && delta >= span) {
        level++;
        span *= SLOTS;
      }
      const capped = delta >= span ? this.current + span - 1 : due;
      bucket = level * SLOTS + (Math.floor(capped / SLOTS ** level) & MASK);
    }
    const head = this.heads[bucket]!;
    this.next[id] = head;
    this.prev[id] = HEAD - bucket;
    if (head !== NONE) this.prev[head] = id | (level << ID_BITS);
    this.heads[bucket] = id;
    this.levelCount[level]!++;
  }

  private unlink(id: number): void {
    const where = this.prev[id]!;
    const after = this.next[id]!;
    if (where <= HEAD) {
      // the head of its bucket: the next id (if any) becomes the head
      const bucket = HEAD - where;
      this.levelCount[bucket >= this.dueNow ? 0 : bucket >> SLOT_BITS]!--;
      this.heads[bucket] = after;
      if (after !== NONE) this.prev[after] = where;
    } else {
      this.levelCount[where >>> ID_BITS]!--;
      this.next[where & ID_MASK] = after;
      if (after !== NONE) this.prev[after] = where;
    }
    this.next[id] = NONE;
    this.prev[id] = NONE;
  }

  private dueTick(id: number): number {
    return Math.ceil(this.dueOf(id) / TICK_MS);
  }

  private setDue(id: number, dueMs: number): void {
    const high = Number.isInteger(dueMs) && dueMs >= 0 ? highByte(Math.floor(dueMs / TWO_32), this.highBase) : ASIDE;
    if (high !== ASIDE) {
      if (this.dueHigh[id] === ASIDE) this.dueAside.delete(id);
      this.dueHigh[id] = high;
      this.dueLow[id] = dueMs >>> 0;
    } else {
      this.dueHigh[id] = ASIDE;
      this.dueAside.set(id, dueMs);
    }
  }

  private grow(id: number): void {
    let size = this.next.length;
    while (size <= id) size *= 2;
    this.next = grown(this.next, size, NONE);
    this.prev = grown(this.prev, size, NONE);
    this.dueLow = grown(this.dueLow, size);
    this.dueHigh = grown(this.dueHigh, size);
  }
}
