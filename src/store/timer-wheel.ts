// A hierarchical timer wheel over integer ids (Kafka's TimingWheel, Linux's timer wheel).
// Stores schedule their entries by slot id, so set, reset, cancel and expiry are O(1) each and
// nothing ever scans the keyspace. Time is injected: `advance(now)` fires whatever is due.

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
/** `bucketOf` of an id that is not filed (buckets number LEVELS*SLOTS + 1, well below it) */
const UNFILED = 0xffff;
const TWO_32 = 0x100000000;
/** `dueHigh` of a due time kept aside whole: not a whole number of ms in [0, 0xffff * 2^32) */
const ASIDE = 0xffff;

export class TimerWheel {
  /** tick most recently processed */
  private current: number;
  private next = new Int32Array(1024).fill(NONE);
  private prev = new Int32Array(1024).fill(NONE);
  /** bucket index the id is filed in, or UNFILED (16 bits: an id costs 16 bytes in all) */
  private bucketOf = new Uint16Array(1024).fill(UNFILED);
  /**
   * Exact due time in ms, as given (its tick is the ceiling of dueMs / TICK_MS), in 48 bits:
   * the low 32 and the next 16, which reach the year 10889; any other value (later, negative,
   * fractional) is kept aside whole.
   */
  private dueLow = new Uint32Array(1024);
  private dueHigh = new Uint16Array(1024);
  private dueAside = new Map<number, number>();
  /** head id of each bucket: LEVELS*SLOTS buckets plus one "due now" bucket */
  private heads = new Int32Array(LEVELS * SLOTS + 1).fill(NONE);
  private readonly dueNow = LEVELS * SLOTS;
  private count = 0;
  /** ids filed per level (the due-now bucket counts as level 0): empty levels are skipped over */
  private levelCount = new Int32Array(LEVELS);

  constructor(now: number) {
    this.current = Math.floor(now / TICK_MS);
  }

  get size(): number {
    return this.count;
  }

  /** Files `id` to fire at `dueMs` (never earlier), replacing any earlier schedule of it. */
  schedule(id: number, dueMs: number): void {
    if (id >= this.next.length) this.grow(id);
    if (this.bucketOf[id] !== UNFILED) this.unlink(id);
    this.setDue(id, dueMs);
    this.file(id, this.dueTick(id));
    this.count++;
  }

  /** The due time `id` was last scheduled for, in ms (kept while it is filed, and after). */
  dueOf(id: number): number {
    const high = this.dueHigh[id]!;
    return high === ASIDE ? this.dueAside.get(id)! : high * TWO_32 + this.dueLow[id]!;
  }

  cancel(id: number): void {
    if (id < this.next.length && this.bucketOf[id] !== UNFILED) {
      this.unlink(id);
      this.count--;
    }
  }

  isScheduled(id: number): boolean {
    return id < this.next.length && this.bucketOf[id] !== UNFILED;
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
      this.bucketOf[id] = UNFILED;
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
    this.prev[id] = NONE;
    if (head !== NONE) this.prev[head] = id;
    this.heads[bucket] = id;
    this.bucketOf[id] = bucket;
    this.levelCount[level]!++;
  }

  private unlink(id: number): void {
    const bucket = this.bucketOf[id]!;
    this.levelCount[bucket >= this.dueNow ? 0 : bucket >> SLOT_BITS]!--;
    const before = this.prev[id]!;
    const after = this.next[id]!;
    if (before !== NONE) this.next[before] = after;
    else this.heads[bucket] = after;
    if (after !== NONE) this.prev[after] = before;
    this.next[id] = NONE;
    this.prev[id] = NONE;
    this.bucketOf[id] = UNFILED;
  }

  private dueTick(id: number): number {
    return Math.ceil(this.dueOf(id) / TICK_MS);
  }

  private setDue(id: number, dueMs: number): void {
    const high = Math.floor(dueMs / TWO_32);
    if (Number.isInteger(dueMs) && high >= 0 && high < ASIDE) {
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
    this.bucketOf = grown(this.bucketOf, size, UNFILED);
    this.dueLow = grown(this.dueLow, size);
    this.dueHigh = grown(this.dueHigh, size);
  }
}
