// The default store: byte keys in an open-addressing index over typed arrays, key and value bytes
// in a paged arena, times to live in the timer wheel by id, and MaxMemory eviction by sampling
// (approximate LRU, as Redis does). A 16-byte key with a 32-byte value costs ~70 bytes of RSS
// (~87 with a TTL).

import { ValueTooLargeError } from "./errors.ts";
import { ExpiryTable } from "./expiry-table.ts";
import { HashIndex, MIGRATE_STEP } from "./hash-index.ts";
import { hashBytes, SlotTable } from "./slots.ts";
import { CompactSnapshot } from "./compact-snapshot.ts";
import { Compactor } from "./compactor.ts";
import { SlotSampler } from "./sampler.ts";
import type { Clock, EntryView, ExpiredListener, KeyWalk, LoadBatch, Store, StoreSnapshot, StoreStats, ValueRef } from "./types.ts";

export interface CompactStoreOptions {
  /** bytes of keys + values held before eviction; 0 = unlimited */
  readonly maxMemory?: number;
  /** hash seed; random by default so that clients cannot aim keys at one bucket chain */
  readonly seed?: number;
}

/** Keys sampled per eviction (Redis's maxmemory-samples default). */
const EVICTION_SAMPLES = 5;
/** Buckets the expiry tick migrates when a resize is under way and traffic is quiet. */
const IDLE_MIGRATE_STEP = 64 * 1024;
/** `load` copies keys and values up to this long into reused arrays rather than making views. */
const LOAD_COPY_MAX = 64;
/** Most keys one `prefetch` call warms: about a pipelined chunk's worth. */
const PREFETCH_KEYS = 64;
/**
 * Below this many keys the store's tables and blocks mostly stay in the CPU's caches, and a
 * prefetch would only add its own work (~50 ns a request; bench/prefetch.ts).
 */
const PREFETCH_MIN_KEYS = 32 * 1024;
/** A key no stored key matches (keys are never empty): a probe with it only touches memory. */
const NO_KEY = new Uint8Array(0);

/**
 * `get` returns a fresh EntryView whose `value` is a view into the arena. It stays intact for the
 * rest of the current turn of the event loop (freed blocks are reused only from the next one), so
 * a command may read, write and then still send the value it read; to keep it longer, copy it.
 */
export class CompactStore implements Store {
  private readonly slots: SlotTable;
  private readonly index: HashIndex;
  private expiry: ExpiryTable;
  private readonly maxMemory: number;
  private readonly seed: number;
  private bytes = 0;
  private expired = 0;
  /** see Store.newestWrite */
  private newest = -Infinity;
  private evicted = 0;
  /** off while data files load (see Store.setEviction) */
  private evicting = true;
  /** see Store.onEvict */
  onEvict: ((key: Uint8Array) => void) | undefined = undefined;
  /** logical clock of accesses, for LRU sampling (wraps; ages are compared modulo 2^32) */
  private accessClock = 0;
  private readonly compactor: Compactor;
  private readonly sampler = new SlotSampler();
  private readonly samples = new Int32Array(EVICTION_SAMPLES);
  /** hash of the key `live` looked up last, so delete does not hash twice */
  private lastHash = 0;
  /** `load`'s reused arrays, by length: keys and values of up to LOAD_COPY_MAX bytes */
  private readonly loadKeys: Uint8Array[] = [];
  private readonly loadValues: Uint8Array[] = [];
  private loadHashes = new Uint32Array(64);
  /** where `load`'s early probes and `prefetch`'s loads leave their answers (not optimised away) */
  private probes = 0;
  /** `prefetch`'s stages: the keys' hashes, then their blocks' addresses; their slot ids */
  private readonly warmWords = new Uint32Array(PREFETCH_KEYS);
  private readonly warmSlots = new Int32Array(PREFETCH_KEYS);
  private expiredListener: ExpiredListener | undefined = undefined;

  constructor(
    private readonly clock: Clock,
    options: CompactStoreOptions = {},
  ) {
    this.maxMemory = options.maxMemory ?? 0;
    this.seed = options.seed ?? (Math.random() * 0x100000000) >>> 0;
    this.slots = new SlotTable(this.seed, this.maxMemory > 0, clock.now());
    this.index = new HashIndex(this.slots);
    this.compactor = new Compactor(this.slots);
    this.expiry = new ExpiryTable(clock.now());
  }

  get size(): number {
    return this.index.count;
  }

  get(key: Uint8Array): EntryView | undefined {
    const slot = this.live(key);
    if (slot < 0) return undefined;
    const slots = this.slots;
    const timer = slots.timerOf(slot);
    return {
      value: slots.valueOf(slot),
      writtenAt: slots.writtenAtOf(slot),
      expiresAt: timer < 0 ? 0 : this.expiry.deadlineOf(timer),
    };
  }

  /**
   * Pulls into the CPU cache what lookups of the keys at buf[at[2i], at[2i+1]) (i < count, up to
   * PREFETCH_KEYS) will read. A lookup is three dependent cache misses (index bucket, slot row,
   * key bytes); with keys spread over memory they are most of a pipelined GET's time, and one
   * request after another they are waited for one at a time. Here each stage runs over all keys
   * before the next, so the misses of different keys overlap (JavaScript has no prefetch
   * instruction: plain loads whose results are kept). Only a hint: nothing changes, a wrong or
   * missing key just warms the wrong lines.
   */
  prefetch(buf: Uint8Array, at: Int32Array, count: number): void {
    const n = Math.min(count, PREFETCH_KEYS);
    const { index, slots, warmWords, warmSlots } = this;
    let sink = 0;
    // Hashing first, apart: the loads of each stage then sit close enough together for the
    // processor to have many in flight.
    for (let i = 0; i < n; i++) warmWords[i] = hashBytes(buf, at[2 * i]!, at[2 * i + 1]!, this.seed);
    for (let i = 0; i < n; i++) sink ^= index.homeEntry(warmWords[i]!);
    for (let i = 0; i < n; i++) warmSlots[i] = index.probe(warmWords[i]!);
    for (let i = 0; i < n; i++) if (warmSlots[i]! >= 0) warmWords[i] = slots.addressOf(warmSlots[i]!);
    for (let i = 0; i < n; i++) if (warmSlots[i]! >= 0) sink ^= slots.keyByte(warmSlots[i]!, warmWords[i]!);
    this.probes = sink;
  }

  /** Whether prefetch hints pay: only once the store has outgrown the CPU caches. */
  get wantsPrefetch(): boolean {
    return this.index.count >= PREFETCH_MIN_KEYS;
  }

  read(key: Uint8Array, into: ValueRef): boolean {
    const slot = this.live(key);
    if (slot < 0) return false;
    const slots = this.slots;
    slots.valueRange(slot, into);
    into.writtenAt = slots.writtenAtOf(slot);
    const timer = slots.timerOf(slot);
    into.expiresAt = timer < 0 ? 0 : this.expiry.deadlineOf(timer);
    return true;
  }

  has(key: Uint8Array): boolean {
    return this.live(key) >= 0;
  }

  set(key: Uint8Array, value: Uint8Array, expiresAt: number, writtenAt: number): void {
    this.index.step(MIGRATE_STEP);
    const size = key.length + value.length;
    this.checkFits(key, size);
    const hash = hashBytes(key, 0, key.length, this.seed);
    const slots = this.slots;
    let slot = this.index.find(key, hash);
    if (slot >= 0) {
      const oldSize = slots.sizeOf(slot);
      if (this.maxMemory > 0) this.makeRoom(size - oldSize, slot);
      // A new block, never the old one in place: a view of the old value may still be in use.
      // Written before the old one is freed, so a full arena leaves the old value in place.
      const oldAddress = slots.addressOf(slot);
      slots.write(slot, key, value);
      slots.arena.free(oldAddress, oldSize);
      this.bytes -= oldSize;
    } else {
      if (this.maxMemory > 0) this.makeRoom(size, -1);
      slot = slots.take();
      slots.write(slot, key, value);
      this.index.insert(slot, hash);
    }
    slots.setWrittenAt(slot, writtenAt);
    if (writtenAt > this.newest) this.newest = writtenAt;
    this.bytes += size;
    this.touch(slot);
    this.applyExpiry(slot, expiresAt);
  }

  /**
   * `set` for each record of a data file being loaded, read from positions in the file's bytes
   * (short keys and values are copied into reused arrays: no object per key). The batch is
   * hashed, then probed, then inserted: an insert is mostly a cache miss on the index, and
   * probes that do not wait for one another let the misses overlap (JavaScript has no prefetch),
   * so the inserts find their buckets in cache. With MaxMemory, records go through `set`.
   */
  load(batch: LoadBatch): void {
    const { bytes, count, keyAt, keyLength, valueLength, expiresAt, writtenAt } = batch;
    const { index, slots, loadKeys, loadValues } = this;
    if (this.maxMemory > 0) {
      for (let i = 0; i < count; i++) {
        const keyEnd = keyAt[i]! + keyLength[i]!;
        this.set(copyOrView(loadKeys, bytes, keyAt[i]!, keyEnd), copyOrView(loadValues, bytes, keyEnd, keyEnd + valueLength[i]!), expiresAt[i]!, writtenAt[i]!);
      }
      return;
    }
    if (this.loadHashes.length < count) this.loadHashes = new Uint32Array(count);
    const hashes = this.loadHashes;
    for (let i = 0; i < count; i++) hashes[i] = hashBytes(bytes, keyAt[i]!, keyAt[i]! + keyLength[i]!, this.seed);
    let probes = 0;
    for (let i = 0; i < count; i++) probes ^= index.find(NO_KEY, hashes[i]!);
    this.probes = probes;
    index.step(MIGRATE_STEP * count);
    // The rest is `set` without eviction, with the hash already known.
    for (let i = 0; i < count; i++) {
      const keyEnd = keyAt[i]! + keyLength[i]!;
      const key = copyOrView(loadKeys, bytes, keyAt[i]!, keyEnd);
      const value = copyOrView(loadValues, bytes, keyEnd, keyEnd + valueLength[i]!);
      const hash = hashes[i]!;
      let slot = index.find(key, hash);
      if (slot >= 0) {
        const oldSize = slots.sizeOf(slot);
        const oldAddress = slots.addressOf(slot);
        slots.write(slot, key, value);
        slots.arena.free(oldAddress, oldSize);
        this.bytes -= oldSize;
      } else {
        slot = slots.take();
        slots.write(slot, key, value);
        index.insert(slot, hash);
      }
      slots.setWrittenAt(slot, writtenAt[i]!);
      if (writtenAt[i]! > this.newest) this.newest = writtenAt[i]!;
      this.bytes += key.length + value.length;
      this.applyExpiry(slot, expiresAt[i]!);
    }
  }

  settle(): void {
    this.slots.arena.settle();
  }

  reserve(keys: number): void {
    this.index.reserve(keys);
  }

  checkFits(key: Uint8Array, bytes: number, subject?: string): void {
    if (this.maxMemory > 0 && bytes > this.maxMemory) throw new ValueTooLargeError(bytes, this.maxMemory, key.slice(), subject);
  }

  setEviction(on: boolean): void {
    this.evicting = on;
  }

  evictToLimit(): number {
    const before = this.evicted;
    if (this.maxMemory > 0) this.makeRoom(0, -1);
    return this.evicted - before;
  }

  delete(key: Uint8Array): boolean {
    const slot = this.live(key);
    if (slot < 0) return false;
    this.remove(slot, this.lastHash);
    return true;
  }

  setExpiry(key: Uint8Array, expiresAt: number, writtenAt: number): boolean {
    const slot = this.live(key);
    if (slot < 0) return false;
    this.slots.setWrittenAt(slot, writtenAt);
    if (writtenAt > this.newest) this.newest = writtenAt;
    this.applyExpiry(slot, expiresAt);
    return true;
  }

  /** Also the store's periodic work: a step of the index's migration and a slice of compaction. */
  advance(now: number): number {
    this.index.step(IDLE_MIGRATE_STEP);
    const expired = this.expiry.advance(now, (slot) => {
      const listener = this.expiredListener;
      if (listener === undefined) {
        this.remove(slot);
        this.expired++;
        return;
      }
      // (read before the slot is freed; keyOf copies)
      const key = this.slots.keyOf(slot);
      const writtenAt = this.slots.writtenAtOf(slot);
      const expiresAt = this.expiresAt(slot);
      this.remove(slot);
      this.expired++;
      listener(key, writtenAt, expiresAt);
    });
    this.compactor.step();
    return expired;
  }

  onExpired(listener: ExpiredListener | undefined): void {
    this.expiredListener = listener;
  }

  clear(): void {
    this.index.clear();
    this.slots.clear();
    this.expiry.clear(this.clock.now());
    this.compactor.reset();
    this.bytes = 0;
    this.newest = -Infinity;
  }

  newestWrite(): number {
    return this.newest;
  }

  *entries(): IterableIterator<[Uint8Array, EntryView]> {
    // By slot id: ids never move, so this survives resizes; each step's views hold for its turn.
    for (let slot = 0; slot < this.slots.highWater; slot++) {
      if (!this.slots.isLive(slot)) continue;
      const expiresAt = this.expiresAt(slot);
      if (expiresAt !== 0 && expiresAt <= this.clock.now()) continue;
      yield [this.slots.keyOf(slot), { value: this.slots.valueOf(slot), writtenAt: this.slots.writtenAtOf(slot), expiresAt }];
    }
  }

  scan(cursor: number, count: number): { cursor: number; keys: Uint8Array[] } {
    // The cursor is a slot id: a key present for the whole scan is returned exactly once.
    const keys: Uint8Array[] = [];
    const now = this.clock.now();
    const end = this.slots.highWater;
    const wanted = Math.max(1, count);
    const budget = wanted * 16; // bounds the work on a sparse table
    let slot = Math.max(0, cursor);
    for (let visited = 0; slot < end && keys.length < wanted && visited < budget; slot++, visited++) {
      if (!this.slots.isLive(slot)) continue;
      const expiresAt = this.expiresAt(slot);
      if (expiresAt === 0 || expiresAt > now) keys.push(this.slots.keyOf(slot));
    }
    return { cursor: slot >= end ? 0 : slot, keys };
  }

  /** A cursor of slot ids is the store's walk already: nothing evicts it. */
  walk(): KeyWalk {
    let cursor = 0;
    return {
      next: (count) => {
        const page = this.scan(cursor, count);
        cursor = page.cursor;
        return { keys: page.keys, done: cursor === 0 };
      },
    };
  }

  /** Point-in-time view for persistence: copies slot rows only; the arena keeps freed bytes until release(). */
  snapshot(): StoreSnapshot {
    const slots = this.slots;
    const pages = slots.arena.hold();
    const view = new CompactSnapshot(slots.arena, pages, this.index.count);
    for (let slot = 0; slot < slots.highWater; slot++) {
      if (!slots.isLive(slot)) continue;
      view.add(slots.addressOf(slot), slots.keyLengthOf(slot), slots.sizeOf(slot), slots.writtenAtOf(slot), this.expiresAt(slot));
    }
    return view;
  }

  stats(): StoreStats {
    return { keys: this.index.count, expires: this.expiry.size, bytes: this.bytes, expired: this.expired, evicted: this.evicted };
  }

  /** Memory the store holds beyond the interface's figures, and the compactor's (benchmarks and tests). */
  footprint(): { arenaBytes: number; indexBuckets: number; slotCapacity: number; timers: number; sparsePages: number; movedBlocks: number } {
    return {
      sparsePages: this.compactor.sparsePages,
      movedBlocks: this.compactor.moved,
      arenaBytes: this.slots.arena.reservedBytes,
      indexBuckets: this.index.buckets,
      slotCapacity: this.slots.capacity,
      timers: this.expiry.size,
    };
  }

  /** The slot of a live key, or -1; an expired key is removed on sight. */
  private live(key: Uint8Array): number {
    this.index.step(MIGRATE_STEP);
    const hash = hashBytes(key, 0, key.length, this.seed);
    this.lastHash = hash;
    const slot = this.index.find(key, hash);
    if (slot < 0) return -1;
    const timer = this.slots.timerOf(slot);
    if (timer >= 0) {
      const expiresAt = this.expiry.deadlineOf(timer);
      if (expiresAt <= this.clock.now()) {
        const writtenAt = this.slots.writtenAtOf(slot);
        this.remove(slot, hash);
        this.expired++;
        this.expiredListener?.(key, writtenAt, expiresAt);
        return -1;
      }
    }
    this.touch(slot);
    return slot;
  }

  private touch(slot: number): void {
    if (this.maxMemory > 0) this.slots.setAccess(slot, this.accessClock++);
  }

  private expiresAt(slot: number): number {
    const timer = this.slots.timerOf(slot);
    return timer < 0 ? 0 : this.expiry.deadlineOf(timer);
  }

  private applyExpiry(slot: number, expiresAt: number): void {
    const timer = this.slots.timerOf(slot);
    if (expiresAt === 0) {
      if (timer >= 0) {
        this.expiry.release(timer);
        this.slots.setTimer(slot, -1);
      }
      return;
    }
    this.slots.setTimer(slot, this.expiry.schedule(timer, slot, expiresAt));
  }

  /** Removes a live slot; `hash` is recomputed from the key when the caller does not have it. */
  private remove(slot: number, hash = this.slots.hashOf(slot)): void {
    const slots = this.slots;
    const timer = slots.timerOf(slot);
    if (timer >= 0) this.expiry.release(timer);
    this.index.remove(slot, hash);
    this.bytes -= slots.sizeOf(slot);
    slots.freeBlock(slot);
    slots.release(slot);
  }

  /** Evicts sampled least-recently-used keys until `extra` more bytes fit; never `keep`. */
  private makeRoom(extra: number, keep: number): void {
    if (!this.evicting) return;
    while (this.bytes + extra > this.maxMemory && this.index.count > (keep >= 0 ? 1 : 0)) {
      const victim = this.sample(keep);
      if (victim < 0) return;
      this.onEvict?.(this.slots.keyView(victim)); // a view: valid during the call, as onEvict says
      this.remove(victim);
      this.evicted++;
    }
  }

  /** The least recently used of a few uniformly sampled live slots (-1 if none found). */
  private sample(keep: number): number {
    const slots = this.slots;
    const samples = this.samples;
    const found = this.sampler.draw(slots, keep, samples);
    let best = -1;
    let bestAge = -1;
    for (let i = 0; i < found; i++) {
      const slot = samples[i]!;
      const age = (this.accessClock - slots.accessOf(slot)) >>> 0;
      if (age > bestAge) {
        bestAge = age;
        best = slot;
      }
    }
    return best >= 0 ? best : this.sampler.anyLive(slots, keep);
  }
}

/** bytes[start, end) in the reused array of that length, or a view when longer than LOAD_COPY_MAX. */
function copyOrView(reused: Uint8Array[], bytes: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n > LOAD_COPY_MAX) return bytes.subarray(start, end);
  const out = (reused[n] ??= new Uint8Array(n));
  for (let i = 0; i < n; i++) out[i] = bytes[start + i]!;
  return out;
}
