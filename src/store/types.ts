// The keyspace contract. Every store implementation satisfies it; keys and values arrive as byte
// views straight from the parsers, so an implementation must copy whatever it keeps.

/** Milliseconds since the Unix epoch. Injected everywhere time matters so tests never sleep. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private current = 1_800_000_000_000) {}
  now(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms;
  }
  tick(ms: number): void {
    this.current += ms;
  }
}

/** No expiry. */
export const NO_EXPIRY = 0;

/**
 * What a read sees. `expiresAt` is an absolute time in ms, 0 for none. An implementation may
 * reuse the object it returns: the view is valid until the next call on the store.
 */
export interface EntryView {
  readonly value: Uint8Array;
  readonly writtenAt: number;
  readonly expiresAt: number;
}

/**
 * Where a stored value is, for readers that copy it out at once (reply encoders): bytes
 * [start, start + length) of `bytes`, valid as long as a view from `get` is. Filled by
 * `Store.read`, which so makes no view object per read (a typed-array view costs JavaScriptCore
 * about as much as the rest of a lookup).
 */
export interface ValueRef {
  bytes: Uint8Array;
  start: number;
  length: number;
  writtenAt: number;
  expiresAt: number;
}

/** Store.walk: pages of up to about `count` live keys (fresh copies); `done` once past the last key. */
export interface KeyWalk {
  next(count: number): { keys: Uint8Array[]; done: boolean };
}

export interface StoreStats {
  /** live keys */
  keys: number;
  /** keys with a time to live (INFO's `expires`) */
  expires: number;
  /** bytes of keys + values held */
  bytes: number;
  /** keys removed because their time to live ran out */
  expired: number;
  /** keys removed to stay under MaxMemory */
  evicted: number;
}

/**
 * A point-in-time view of a store, taken in one short pause and read later at leisure while the
 * store keeps changing (snapshots). Index i runs over 0..length-1; entries that had expired when
 * the view was taken may be present (readers filter by expiresAt).
 */
export interface StoreSnapshot {
  readonly length: number;
  keyLength(i: number): number;
  /** copies key i into target at offset (no allocation: a snapshot of millions of keys) */
  copyKey(i: number, target: Uint8Array, offset: number): void;
  /** must stay unchanged until release() */
  value(i: number): Uint8Array;
  valueLength(i: number): number;
  /** copies value i into target at offset (no view made per value: a snapshot of millions of keys) */
  copyValue(i: number, target: Uint8Array, offset: number): void;
  writtenAt(i: number): number;
  expiresAt(i: number): number;
  /** the view is no longer needed: the store may drop what it kept for it */
  release(): void;
}

/**
 * Set records of a data file being loaded, by position instead of as views (no object per
 * record): record i's key is bytes[keyAt[i], keyAt[i] + keyLength[i]) and its value follows
 * right after the key. Valid only during the `Store.load` call it is passed to.
 */
export interface LoadBatch {
  readonly bytes: Uint8Array;
  readonly count: number;
  readonly keyAt: Uint32Array;
  readonly keyLength: Uint32Array;
  readonly valueLength: Uint32Array;
  readonly expiresAt: Float64Array;
  readonly writtenAt: Float64Array;
}

/**
 * Told of a key removed because its time to live ran out, found by `advance` (the timer wheel)
 * or on sight by a read, after it is gone: its bytes (a view valid during the call), the time of
 * its last write and its expiry. Never for a delete, an overwrite, an eviction or `clear`. The
 * listener must not change the store (it runs in the middle of a read or of `advance`).
 */
export type ExpiredListener = (key: Uint8Array, writtenAt: number, expiresAt: number) => void;

export interface Store {
  readonly size: number;
  /** The live entry, or undefined when missing or expired (an expired key is removed on sight). */
  get(key: Uint8Array): EntryView | undefined;
  has(key: Uint8Array): boolean;
  /** Optional: `get` into a caller's ValueRef, without making a view; false when missing or expired. */
  read?(key: Uint8Array, into: ValueRef): boolean;
  /** Stores copies of key and value. */
  set(key: Uint8Array, value: Uint8Array, expiresAt: number, writtenAt: number): void;
  /**
   * Optional, for stores with a MaxMemory: throws the error `set` would throw for `bytes` of key
   * and value (a ValueTooLargeError), without changing anything; a command that stores several
   * entries checks each and their total first, so that a refusal leaves none of them stored.
   */
  checkFits?(key: Uint8Array, bytes: number, subject?: string): void;
  delete(key: Uint8Array): boolean;
  /** Changes the expiry (0 removes it) and the time of last write; false when the key is missing. */
  setExpiry(key: Uint8Array, expiresAt: number, writtenAt: number): boolean;
  /** Frees every key whose time has come; returns how many. Called by the expiry scheduler. */
  advance(now: number): number;
  /**
   * Sets the one ExpiredListener, or removes it (undefined). Sync sets it to turn an expiry into a
   * tombstone; with none set, an expiry costs one check more.
   */
  onExpired(listener: ExpiredListener | undefined): void;
  clear(): void;
  /**
   * The newest write time of any entry held, in O(1): kept up to date by `set`, `setExpiry` and
   * `load`, forgotten by `clear`; -Infinity when nothing was written since. It is not lowered when
   * the newest entry goes (a delete, an expiry, an eviction), so it may be newer than every entry
   * left, never older: no entry held was written after it. (Sync takes a peer's flush at once when
   * every entry is older than it.)
   */
  newestWrite(): number;
  /** Live entries; keys are fresh copies, views as in `get`. Do not mutate the store while iterating. */
  entries(): IterableIterator<[Uint8Array, EntryView]>;
  /**
   * Cursor iteration for KEYS/SCAN and snapshots: returns up to about `count` live keys after
   * `cursor` and the next cursor (0 when done). Keys set during a scan may or may not be seen.
   */
  scan(cursor: number, count: number): { cursor: number; keys: Uint8Array[] };
  /**
   * A walk of its own over the keys, for a pass that changes the store as it goes over many turns
   * (sync's flush sweep, its listings): a key present from its start to its end is handed over
   * once, deletes on the way lose no other, and no number of SCANs meanwhile moves it (a scan's
   * cursor may be one the store keeps only so long).
   */
  walk(): KeyWalk;
  stats(): StoreStats;
  /**
   * Optional fast point-in-time capture for persistence (target: < 50 ms for a million keys).
   * Without it, persistence copies everything through `entries()`, which pauses longer.
   */
  snapshot?(): StoreSnapshot;
  /** Optional fast path for loading data files at start: the same as `set` for each record, in order. */
  load?(batch: LoadBatch): void;
  /**
   * Optional hint, called before a pipelined batch runs: the keys at buf[at[2i], at[2i+1]) for
   * i < count are about to be looked up. Changes nothing; an implementation may warm its caches.
   */
  prefetch?(buf: Uint8Array, at: Int32Array, count: number): void;
  /** Whether `prefetch` hints are worth their cost now (e.g. the store has outgrown the CPU caches). */
  readonly wantsPrefetch?: boolean;
  /**
   * Optional, for loading at start: nothing holds a view of the store's values, so memory freed so
   * far may be reused at once rather than from the next turn of the event loop. A load runs in one
   * turn; without this, every record a log overwrites or deletes would stay allocated.
   */
  settle?(): void;
  /** Optional: room for this many keys in all, made at once, before a load of known size. */
  reserve?(keys: number): void;
  /**
   * Optional, for stores that evict (MaxMemory): told of each key evicted, just before it goes
   * (the view is valid during the call). The keyspace sets it, to pass evictions to the append
   * log: a log that lacks them brings evicted keys back on replay.
   */
  onEvict?: ((key: Uint8Array) => void) | undefined;
  /**
   * Optional: turns eviction off (false) or back on. Loading turns it off: the evictions of the
   * run that wrote the files are in its log, and evicting again would drop other keys than it did.
   */
  setEviction?(on: boolean): void;
  /** Optional: evicts until the bytes held fit MaxMemory (after a load over it); returns how many keys. */
  evictToLimit?(): number;
}
