// The reference store: a JavaScript Map of binary-string keys to entry objects, with TTLs filed in
// the timer wheel by entry id. Simple and obviously right; the oracle for other implementations.
// Entries are replaced, never changed in place (but for their timer id), so a snapshot can hold
// on to the entry objects as a point-in-time view.

import { binaryStringToBytes, bytesToBinaryString, copyBytes, copyShort } from "./bytes.ts";
import { TimerWheel } from "./timer-wheel.ts";
import type { Clock, EntryView, ExpiredListener, KeyWalk, Store, StoreSnapshot, StoreStats } from "./types.ts";

interface MapEntry extends EntryView {
  readonly value: Uint8Array;
  readonly writtenAt: number;
  expiresAt: number;
  /** wheel id while a TTL is set, else -1 */
  timer: number;
}

/** Scans whose walks are kept (more at once restart from their position). */
const SCAN_WALKS = 16;
/** Cursors are position × SCAN_TAGS + a tag; tags rotate, so the kept walks' cursors differ. */
const SCAN_TAGS = 64;

export class MapStore implements Store {
  private readonly map = new Map<string, MapEntry>();
  private readonly wheel: TimerWheel;
  /** key of each wheel id, so a fired id finds its entry */
  private timerKeys: (string | undefined)[] = [];
  private freeTimers: number[] = [];
  private bytes = 0;
  private expired = 0;
  /** see Store.newestWrite */
  private newest = -Infinity;
  private expiredListener: ExpiredListener | undefined = undefined;
  /** the walks of the last SCAN_WALKS scans, by the cursor each returned */
  private readonly scanWalks = new Map<number, MapIterator<[string, MapEntry]>>();
  private scanTag = 0;

  constructor(private readonly clock: Clock) {
    this.wheel = new TimerWheel(clock.now());
  }

  get size(): number {
    return this.map.size;
  }

  get(key: Uint8Array): EntryView | undefined {
    return this.live(bytesToBinaryString(key));
  }

  has(key: Uint8Array): boolean {
    return this.live(bytesToBinaryString(key)) !== undefined;
  }

  set(key: Uint8Array, value: Uint8Array, expiresAt: number, writtenAt: number): void {
    const k = bytesToBinaryString(key);
    const copy = copyBytes(value);
    const old = this.map.get(k);
    if (writtenAt > this.newest) this.newest = writtenAt;
    if (old) {
      this.bytes += copy.length - old.value.length;
      const entry: MapEntry = { value: copy, writtenAt, expiresAt: old.expiresAt, timer: old.timer };
      this.map.set(k, entry);
      this.applyExpiry(k, entry, expiresAt);
      return;
    }
    const entry: MapEntry = { value: copy, writtenAt, expiresAt: 0, timer: -1 };
    this.map.set(k, entry);
    this.bytes += k.length + copy.length;
    this.applyExpiry(k, entry, expiresAt);
  }

  delete(key: Uint8Array): boolean {
    const k = bytesToBinaryString(key);
    const entry = this.live(k);
    if (!entry) return false;
    this.remove(k, entry);
    return true;
  }

  setExpiry(key: Uint8Array, expiresAt: number, writtenAt: number): boolean {
    const k = bytesToBinaryString(key);
    const old = this.live(k);
    if (!old) return false;
    const entry: MapEntry = { value: old.value, writtenAt, expiresAt: old.expiresAt, timer: old.timer };
    this.map.set(k, entry);
    this.applyExpiry(k, entry, expiresAt);
    if (writtenAt > this.newest) this.newest = writtenAt;
    return true;
  }

  advance(now: number): number {
    return this.wheel.advance(now, (id) => {
      const k = this.timerKeys[id];
      const entry = k === undefined ? undefined : this.map.get(k);
      if (k !== undefined && entry) {
        this.remove(k, entry);
        this.expired++;
        this.expiredListener?.(binaryStringToBytes(k), entry.writtenAt, entry.expiresAt);
      }
    });
  }

  onExpired(listener: ExpiredListener | undefined): void {
    this.expiredListener = listener;
  }

  clear(): void {
    for (const [k, entry] of this.map) this.remove(k, entry);
    this.newest = -Infinity;
  }

  newestWrite(): number {
    return this.newest;
  }

  *entries(): IterableIterator<[Uint8Array, EntryView]> {
    const now = this.clock.now();
    for (const [k, entry] of this.map) {
      if (entry.expiresAt !== 0 && entry.expiresAt <= now) continue;
      yield [binaryStringToBytes(k), entry];
    }
  }

  scan(cursor: number, count: number): { cursor: number; keys: Uint8Array[] } {
    // A cursor is where a walk stopped (its position, times SCAN_TAGS, plus a tag telling walks
    // that stopped at the same position apart). The walks of the last SCAN_WALKS scans are kept:
    // a Map's iterator stays valid while the Map changes, so a scan that goes on with its own
    // visits every key present from its start to its end once, whatever is deleted meanwhile,
    // and a whole pass is linear. A cursor whose walk is gone restarts from its position (keys
    // deleted before it then shift, and a few may be missed: a long pass takes a `walk`).
    let walk = cursor === 0 ? undefined : this.scanWalks.get(cursor);
    let position = Math.floor(cursor / SCAN_TAGS);
    if (walk !== undefined) this.scanWalks.delete(cursor);
    else {
      walk = this.map.entries();
      for (let skipped = 0; skipped < position && !walk.next().done; skipped++);
    }
    const page = this.page(walk, count);
    if (page.done) return { cursor: 0, keys: page.keys };
    position += page.visited;
    this.scanTag = (this.scanTag % (SCAN_TAGS - 1)) + 1;
    const next = position * SCAN_TAGS + this.scanTag;
    if (this.scanWalks.size >= SCAN_WALKS) this.scanWalks.delete(this.scanWalks.keys().next().value!);
    this.scanWalks.set(next, walk);
    return { cursor: next, keys: page.keys };
  }

  /** A Map iterator of its own: valid while the Map changes, and no scan's walk pushes it out. */
  walk(): KeyWalk {
    const walk = this.map.entries();
    return { next: (count) => this.page(walk, count) };
  }

  /** Up to `count` live keys from `walk`, and how many entries it went past. */
  private page(walk: MapIterator<[string, MapEntry]>, count: number): { keys: Uint8Array[]; done: boolean; visited: number } {
    const keys: Uint8Array[] = [];
    const now = this.clock.now();
    let visited = 0;
    for (let next = walk.next(); !next.done; next = walk.next()) {
      const [k, entry] = next.value;
      visited++;
      if (entry.expiresAt === 0 || entry.expiresAt > now) keys.push(binaryStringToBytes(k));
      if (keys.length >= count) return { keys, done: false, visited };
    }
    return { keys, done: true, visited };
  }

  /** Two array copies of references (~20 ms for a million keys); entries are never changed in place. */
  snapshot(): StoreSnapshot {
    return new MapStoreSnapshot(Array.from(this.map.keys()), Array.from(this.map.values()));
  }

  stats(): StoreStats {
    return { keys: this.map.size, expires: this.wheel.size, bytes: this.bytes, expired: this.expired, evicted: 0 };
  }

  /** The entry if present and not past its time; an expired one is removed on sight. */
  private live(k: string): MapEntry | undefined {
    const entry = this.map.get(k);
    if (entry && entry.expiresAt !== 0 && entry.expiresAt <= this.clock.now()) {
      this.remove(k, entry);
      this.expired++;
      this.expiredListener?.(binaryStringToBytes(k), entry.writtenAt, entry.expiresAt);
      return undefined;
    }
    return entry;
  }

  private applyExpiry(k: string, entry: MapEntry, expiresAt: number): void {
    entry.expiresAt = expiresAt;
    if (expiresAt === 0) {
      if (entry.timer !== -1) this.releaseTimer(entry);
      return;
    }
    if (entry.timer === -1) {
      entry.timer = this.freeTimers.pop() ?? this.timerKeys.length;
      this.timerKeys[entry.timer] = k;
    }
    this.wheel.schedule(entry.timer, expiresAt);
  }

  private releaseTimer(entry: MapEntry): void {
    this.wheel.cancel(entry.timer);
    this.timerKeys[entry.timer] = undefined;
    this.freeTimers.push(entry.timer);
    entry.timer = -1;
  }

  private remove(k: string, entry: MapEntry): void {
    if (entry.timer !== -1) this.releaseTimer(entry);
    this.map.delete(k);
    this.bytes -= k.length + entry.value.length;
  }
}

class MapStoreSnapshot implements StoreSnapshot {
  constructor(
    private keys: string[],
    private items: MapEntry[],
  ) {}

  get length(): number {
    return this.keys.length;
  }

  keyLength(i: number): number {
    return this.keys[i]!.length;
  }

  copyKey(i: number, target: Uint8Array, offset: number): void {
    const k = this.keys[i]!;
    const n = k.length;
    if (n < 64) {
      for (let j = 0; j < n; j++) target[offset + j] = k.charCodeAt(j);
      return;
    }
    Buffer.from(target.buffer, target.byteOffset, target.length).write(k, offset, "latin1");
  }

  value(i: number): Uint8Array {
    return this.items[i]!.value;
  }

  valueLength(i: number): number {
    return this.items[i]!.value.length;
  }

  copyValue(i: number, target: Uint8Array, offset: number): void {
    copyShort(target, offset, this.items[i]!.value);
  }

  writtenAt(i: number): number {
    return this.items[i]!.writtenAt;
  }

  expiresAt(i: number): number {
    return this.items[i]!.expiresAt;
  }

  release(): void {
    this.keys = [];
    this.items = [];
  }
}
