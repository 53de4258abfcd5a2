// The keyspace the commands see: a Store plus the clock and a change feed. Every accepted write
// goes through here, so the append log and replication subscribe in one place.

import type { Clock, EntryView, ExpiredListener, Store, ValueRef } from "./types.ts";

export type Mutation =
  | { readonly type: "set"; readonly key: Uint8Array; readonly value: Uint8Array; readonly expiresAt: number; readonly writtenAt: number }
  | { readonly type: "expire"; readonly key: Uint8Array; readonly expiresAt: number; readonly writtenAt: number }
  | { readonly type: "delete"; readonly key: Uint8Array; readonly writtenAt: number }
  | { readonly type: "flush"; readonly writtenAt: number };

/** Listeners run synchronously; the byte views in a mutation are only valid during the call. */
export type MutationListener = (mutation: Mutation) => void;

/**
 * Runs synchronously just before a set, expire or delete reaches the store, with the key's byte
 * view (valid during the call), so a listener can read the entry about to be replaced (sync's
 * digest takes the old version's share out of its bucket hash without keeping a map per key).
 * It runs even when the write then changes nothing (a delete or expire of a missing key).
 */
export type BeforeWriteListener = (key: Uint8Array) => void;

/**
 * A key the store evicted for MaxMemory, told during the write that made room (or after a load
 * over the limit), with the key's bytes (valid during the call) and the time. Apart from the
 * mutations on purpose: evictions are local to the node, the append log records them, sync does
 * not replicate them.
 */
export type EvictionListener = (key: Uint8Array, at: number) => void;

export class Keyspace {
  private listeners: MutationListener[] = [];
  private before: BeforeWriteListener[] = [];
  private evictions: EvictionListener[] = [];
  private expired: ExpiredListener[] = [];
  /** bumped on every change; persistence snapshots only when it moved */
  version = 0;
  /**
   * While sync sweeps a peer's flush by slices (cluster/sync/flush-sweep.ts), what the flush
   * covers and the sweep has not deleted yet is hidden: entries written before `hiddenBefore`,
   * and those written at that very millisecond that `hiddenAt` says are covered (the flush's
   * origin decides). `get`, `read`, `has`, `expire` and `delete` take them for missing.
   * -Infinity when no sweep runs: nothing is hidden, for the cost of one comparison per read.
   */
  hiddenBefore = -Infinity;
  hiddenAt: (key: Uint8Array) => boolean = () => false;
  /**
   * `now` is never earlier than this: sync raises it just past each flush it takes, a peer's
   * included, so a client's write made after a flush is newer than it even when this node's
   * clock is behind the flushing node's (its own set is seen right after, here and on peers).
   */
  writeFloor = -Infinity;

  constructor(
    readonly store: Store,
    readonly clock: Clock,
  ) {
    store.onEvict = (key) => this.evicted(key);
  }

  onMutation(listener: MutationListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  onBeforeWrite(listener: BeforeWriteListener): () => void {
    this.before.push(listener);
    return () => {
      this.before = this.before.filter((l) => l !== listener);
    };
  }

  onEvict(listener: EvictionListener): () => void {
    this.evictions.push(listener);
    return () => {
      this.evictions = this.evictions.filter((l) => l !== listener);
    };
  }

  /** After a load over MaxMemory (it was lowered): evicts down to it, telling the listeners; how many keys. */
  evictToLimit(): number {
    return this.store.evictToLimit?.() ?? 0;
  }

  /**
   * Listens for keys whose time to live ran out (see ExpiredListener): not a write, so not in the
   * mutation feed, but sync must know which version went. The store is told only while someone
   * listens, so a node without sync pays nothing for it.
   */
  onExpired(listener: ExpiredListener): () => void {
    this.expired.push(listener);
    this.store.onExpired(this.dispatchExpired);
    return () => {
      this.expired = this.expired.filter((l) => l !== listener);
      if (this.expired.length === 0) this.store.onExpired(undefined);
    };
  }

  private readonly dispatchExpired: ExpiredListener = (key, writtenAt, expiresAt) => {
    for (const listener of this.expired) listener(key, writtenAt, expiresAt);
  };

  /** The time a command acts at and stamps its writes with: the clock, or `writeFloor` past it. */
  now(): number {
    const now = this.clock.now();
    return now > this.writeFloor ? now : this.writeFloor;
  }

  get(key: Uint8Array): EntryView | undefined {
    const entry = this.store.get(key);
    return entry === undefined || this.shows(key, entry.writtenAt) ? entry : undefined;
  }

  /** Whether an entry written at `writtenAt` is seen (see `hiddenBefore`). */
  private shows(key: Uint8Array, writtenAt: number): boolean {
    return writtenAt > this.hiddenBefore || (writtenAt === this.hiddenBefore && !this.hiddenAt(key));
  }

  get wantsPrefetch(): boolean {
    return this.store.wantsPrefetch === true;
  }

  /** A hint that these keys are looked up next (see Store.prefetch); fewer than two are ignored. */
  prefetch(buf: Uint8Array, at: Int32Array, count: number): void {
    if (count > 1) this.store.prefetch?.(buf, at, count);
  }

  /** `get` into `into` (see ValueRef); false when the key is missing, expired or hidden. */
  read(key: Uint8Array, into: ValueRef): boolean {
    const store = this.store;
    if (store.read !== undefined) return store.read(key, into) && this.shows(key, into.writtenAt);
    return this.readStored(key, into) && this.shows(key, into.writtenAt);
  }

  /** `read` of what the store holds, an entry `hiddenBefore` hides included (sync's digest upkeep). */
  readStored(key: Uint8Array, into: ValueRef): boolean {
    const store = this.store;
    if (store.read !== undefined) return store.read(key, into);
    const entry = store.get(key);
    if (entry === undefined) return false;
    into.bytes = entry.value;
    into.start = 0;
    into.length = entry.value.length;
    into.writtenAt = entry.writtenAt;
    into.expiresAt = entry.expiresAt;
    return true;
  }

  has(key: Uint8Array): boolean {
    return this.hiddenBefore === -Infinity ? this.store.has(key) : this.get(key) !== undefined;
  }

  set(key: Uint8Array, value: Uint8Array, expiresAt = 0, writtenAt = this.now()): void {
    this.beforeWrite(key);
    this.store.set(key, value, expiresAt, writtenAt);
    this.emit({ type: "set", key, value, expiresAt, writtenAt });
  }

  /**
   * Throws what `set` would throw for `bytes` of keys and values (MaxMemory), changing nothing:
   * one entry's size, or the total of a command that stores several (`subject` names it).
   */
  checkFits(key: Uint8Array, bytes: number, subject?: string): void {
    this.store.checkFits?.(key, bytes, subject);
  }

  delete(key: Uint8Array, writtenAt = this.now()): boolean {
    if (this.hiddenBefore !== -Infinity && this.get(key) === undefined) return false;
    return this.deleteStored(key, writtenAt);
  }

  /**
   * `delete` of what the store holds, an entry `hiddenBefore` hides included: the sweep's own
   * deletes, and a peer's delete newer than the flush (its digest upkeep must see the key go).
   */
  deleteStored(key: Uint8Array, writtenAt: number): boolean {
    this.beforeWrite(key);
    if (!this.store.delete(key)) return false;
    this.emit({ type: "delete", key, writtenAt });
    return true;
  }

  /** expiresAt 0 removes the time to live. */
  expire(key: Uint8Array, expiresAt: number, writtenAt = this.now()): boolean {
    // (a hidden entry given a new write time would outlive the flush that covers it)
    if (this.hiddenBefore !== -Infinity && this.get(key) === undefined) return false;
    this.beforeWrite(key);
    if (!this.store.setExpiry(key, expiresAt, writtenAt)) return false;
    this.emit({ type: "expire", key, expiresAt, writtenAt });
    return true;
  }

  flush(writtenAt = this.now()): void {
    this.store.clear();
    this.emit({ type: "flush", writtenAt });
  }

  private beforeWrite(key: Uint8Array): void {
    const before = this.before;
    for (let i = 0; i < before.length; i++) before[i]!(key);
  }

  private evicted(key: Uint8Array): void {
    this.version++;
    if (this.evictions.length === 0) return;
    const at = this.clock.now();
    for (const listener of this.evictions) listener(key, at);
  }

  private emit(mutation: Mutation): void {
    this.version++;
    for (const listener of this.listeners) listener(mutation);
  }
}
