// What sync knows about every key, kept up to date from the mutation feed: each key's share of a
// bucket hash; tombstones of deleted keys; the flush watermark. Bucket hashes are XORs of per-key
// hashes, so a change costs O(1) and comparing two nodes costs one array of BUCKETS numbers —
// never a scan of the keyspace.
//
// Most live keys are "implicit": nothing is kept per key. Their version is the store's entry
// (write time, expiry, value) and their origin is their bucket's default origin (or unknown for
// keys that were in the store before sync started), so a write takes the old share out by
// recomputing it from the entry it replaces (read just before the write) and only counts per
// bucket change. A key is "tracked" in a per-bucket Map (share, origin) when that is not enough:
// it has a time to live (it can vanish behind sync's back; the sweep must find it), its origin
// differs from its bucket's default, or the store may evict keys (`trackAll`).
import { fmix32 as mix, murmur3 } from "../../common/murmur3.ts";
import { TombSlices } from "./tomb-slices.ts";
import { TombTable } from "./tomb-table.ts";
import { coveredBy, NO_WATERMARK, type Version, type Watermark } from "./version.ts";

/** 4096 buckets: 16 KiB of hashes; with a million keys a differing bucket lists ~250 keys. */
export const BUCKETS = 4096;
const BUCKET_SHIFT = 32 - Math.log2(BUCKETS);
const ORIGIN_SLOTS = 65536;
/** packed live entry: share * SHARE_UNIT + (has a TTL) * ORIGIN_SLOTS + origin index (< 2^49) */
const SHARE_UNIT = ORIGIN_SLOTS * 2;
/** the seed of a key's hash (keyHashOf) */
const KEY_SEED = 0x5eed;

export interface Tombstone {
  readonly at: number;
  readonly origin: string;
}

/** What a node lists for one key of a differing bucket. */
export type KeyVersion = Version;

/** The key's hash: the key's part of its share (DigestState.shareOf), and its bucket (the top
 * bits, bucketOfHash), so that a write hashes its key once. */
export function keyHashOf(key: Uint8Array): number {
  return murmur3(key, 0, key.length, KEY_SEED);
}

export function bucketOfHash(keyHash: number): number {
  return keyHash >>> BUCKET_SHIFT;
}

export function bucketOf(key: Uint8Array): number {
  return bucketOfHash(keyHashOf(key));
}

/** tombstones freed per `expireTombs` call at most: a few milliseconds of the event loop */
export const TOMB_EXPIRE_BATCH = 10_000;

/**
 * The slice of time tombstones are freed by, for a grace period (GossipTombstoneTTL) of `graceMs`:
 * about a thousandth of it (a tombstone outlives its grace by at most that), and never so fine
 * that a slice's two arrays cost more than the few tombstones in it.
 */
export function tombSliceMs(graceMs: number): number {
  return Math.max(1000, Math.floor(graceMs / 1024));
}

/** The tombstones of one page of `tombs` (origins by their index in `origins`). */
function visitTombPart(tombs: TombTable, origins: readonly string[], part: number, visit: (key: string, at: number, origin: string) => void): void {
  for (const id of tombs.idsOfPage(part)) visit(tombs.key(id), tombs.at(id), origins[tombs.origin(id)]!);
}

export class DigestState {
  /**
   * `tombSliceMs`: tombstones are freed by slices of this many ms of their write time, a slice
   * once all of it is past the grace period, so one outlives its grace by less than a slice. The
   * slices are aligned to the epoch, so every node frees a tombstone at the same moment.
   */
  constructor(tombSliceMs = 1000) {
    this.tombSlices = new TombSlices(tombSliceMs);
  }

  readonly buckets = new Uint32Array(BUCKETS);
  /** per bucket: key (binary string) → packed share, TTL flag and origin index (filled with
   * undefined rather than left holey: JSC reads a hole through a slow path, on every write) */
  private readonly live: (Map<string, number> | undefined)[] = new Array(BUCKETS).fill(undefined);
  /** per bucket: live keys with a time to live (only those buckets need an expiry sweep) */
  readonly ttlKeys = new Uint32Array(BUCKETS);
  /** per bucket: implicit live keys (not in `live`; their share is recomputed from the store) */
  readonly implicit = new Uint32Array(BUCKETS);
  /** per bucket: implicit keys written after `seededBefore`, whose origin is the bucket's default */
  private readonly onDefault = new Uint32Array(BUCKETS);
  /** per bucket: origin index of its implicit keys written after `seededBefore` (-1: none yet) */
  private readonly defaultOrigin = new Int32Array(BUCKETS).fill(-1);
  /**
   * Implicit keys written at or before this time came from the store before sync started and have
   * an unknown origin (""); any later-labelled version that old is tracked. -1 when none.
   */
  seededBefore = -1;
  /** every live key goes into `live` (a store that evicts: keys may vanish without a TTL) */
  trackAll = false;
  /** tombstones: key → write time, origin index and share, no object or string per tombstone */
  private readonly tombs = new TombTable(BUCKETS, KEY_SEED);
  /** tombstone ids by the slice of time of the write they stand for, for expiry without a scan */
  private readonly tombSlices: TombSlices;
  private readonly origins: string[] = [];
  private readonly originIds = new Map<string, number>();
  private lastOrigin: string | undefined;
  private lastOriginId = 0;
  watermark: Watermark = NO_WATERMARK;
  liveCount = 0;
  /** see `newestTomb` */
  private newestTombAt = -Infinity;

  get tombCount(): number {
    return this.tombs.count;
  }

  /**
   * The newest write time a tombstone stands for, in O(1); -Infinity when none was laid since the
   * last flush or since the last one went. Not lowered when the newest goes while others stay: it
   * may be newer than every tombstone held, never older (a peer's flush older than it and than
   * the store's newest write covers everything at once: FlushSweep).
   */
  newestTomb(): number {
    return this.newestTombAt;
  }

  /** The origin recorded for a live key, undefined when sync has not seen it. */
  originOf(bucket: number, key: string): string | undefined {
    const packed = this.live[bucket]?.get(key);
    return packed === undefined ? undefined : this.origins[packed % ORIGIN_SLOTS];
  }

  /** The origin of an implicit key of this bucket written at `writtenAt`. */
  implicitOrigin(bucket: number, writtenAt: number): string {
    if (writtenAt <= this.seededBefore) return "";
    const id = this.defaultOrigin[bucket]!;
    return id < 0 ? "" : this.origins[id]!;
  }

  /** Whether a bucket has tracked live keys (false means every live key in it is implicit). */
  hasTracked(bucket: number): boolean {
    const map = this.live[bucket];
    return map !== undefined && map.size > 0;
  }

  isTracked(bucket: number, key: string): boolean {
    return this.live[bucket]?.has(key) ?? false;
  }

  /** Whether a live version can be implicit (its origin follows from bucket and write time). */
  wantsImplicit(bucket: number, v: KeyVersion): boolean {
    if (v.expiresAt !== 0 || this.trackAll) return false;
    if (v.writtenAt <= this.seededBefore) return v.origin === "";
    return this.onDefault[bucket] === 0 || this.defaultOrigin[bucket] === this.originId(v.origin);
  }

  /** Adds an implicit key (call only when `wantsImplicit` said so and the key is in no Map). */
  addImplicit(bucket: number, keyHash: number, v: KeyVersion): void {
    this.buckets[bucket]! ^= this.shareOf(keyHash, v.writtenAt, v.expiresAt, v.valueHash, false);
    this.implicit[bucket]!++;
    if (v.writtenAt > this.seededBefore) {
      if (this.onDefault[bucket] === 0) this.defaultOrigin[bucket] = this.originId(v.origin);
      this.onDefault[bucket]!++;
    }
    this.liveCount++;
  }

  /** Removes an implicit key whose share and write time were read from the store. */
  dropImplicit(bucket: number, share: number, writtenAt: number): void {
    this.buckets[bucket]! ^= share;
    this.implicit[bucket]!--;
    if (writtenAt > this.seededBefore) this.onDefault[bucket]!--;
    this.liveCount--;
  }

  /** Whether a bucket holds tombstones (false: no lookup needed). */
  mayHaveTombs(bucket: number): boolean {
    return this.tombs.inBucket[bucket] !== 0;
  }

  /** (`keyHash`: keyHashOf the key, when the caller has it: saves hashing the string again) */
  hasTomb(bucket: number, key: string, keyHash?: number): boolean {
    return this.tombs.inBucket[bucket] !== 0 && this.tombs.find(bucket, key, keyHash) >= 0;
  }

  tombOf(bucket: number, key: string, keyHash?: number): Tombstone | undefined {
    if (this.tombs.inBucket[bucket] === 0) return undefined;
    const id = this.tombs.find(bucket, key, keyHash);
    return id < 0 ? undefined : { at: this.tombs.at(id), origin: this.origins[this.tombs.origin(id)]! };
  }

  /** Puts a tracked live key (replacing its tracked entry or tombstone; never an implicit one). */
  setLive(bucket: number, key: string, keyHash: number, v: KeyVersion): void {
    // An existing entry is overwritten in place (a Map delete and re-insert costs about twice as
    // much), and tombstones are looked at only when the bucket has any.
    if (this.tombs.inBucket[bucket] !== 0) this.forgetTomb(bucket, key, keyHash);
    let map = this.live[bucket];
    if (!map) map = this.live[bucket] = new Map();
    const old = map.get(key);
    if (old !== undefined) {
      this.buckets[bucket]! ^= Math.floor(old / SHARE_UNIT);
      if (old % SHARE_UNIT >= ORIGIN_SLOTS) this.ttlKeys[bucket]!--;
    } else this.liveCount++;
    const share = this.shareOf(keyHash, v.writtenAt, v.expiresAt, v.valueHash, v.tomb);
    this.buckets[bucket]! ^= share;
    const ttl = v.expiresAt !== 0 ? 1 : 0;
    map.set(key, share * SHARE_UNIT + ttl * ORIGIN_SLOTS + this.originId(v.origin));
    this.ttlKeys[bucket]! += ttl;
  }

  setTomb(bucket: number, key: string, keyHash: number, at: number, origin: string): void {
    this.forgetLive(bucket, key);
    const tombs = this.tombs;
    if (at > this.newestTombAt) this.newestTombAt = at;
    const share = this.shareOf(keyHash, at, 0, 0, true);
    this.buckets[bucket]! ^= share;
    // The key deleted again: its tombstone takes the new version in place (the slice that filed
    // the old version finds a write time of a later slice there and leaves it).
    let id = tombs.inBucket[bucket] === 0 ? -1 : tombs.find(bucket, key, keyHash);
    if (id >= 0) {
      this.buckets[bucket]! ^= tombs.share(id);
      tombs.update(id, at, this.originId(origin), share);
    } else id = tombs.add(bucket, key, keyHash, at, this.originId(origin), share);
    this.tombSlices.file(id, at);
  }

  /** Drops whatever is tracked about a key (about to be replaced, or its tombstone freed). */
  forget(bucket: number, key: string, keyHash?: number): void {
    this.forgetLive(bucket, key);
    if (this.tombs.inBucket[bucket] !== 0) this.forgetTomb(bucket, key, keyHash);
  }

  /** Drops a tracked live key (evicted, or expired past its tombstone's grace); keeps a tombstone. */
  forgetLive(bucket: number, key: string): void {
    const live = this.live[bucket];
    const packed = live?.get(key);
    if (packed !== undefined) {
      this.buckets[bucket]! ^= Math.floor(packed / SHARE_UNIT);
      if (packed % SHARE_UNIT >= ORIGIN_SLOTS) this.ttlKeys[bucket]!--;
      live!.delete(key);
      this.liveCount--;
    }
  }

  forgetTomb(bucket: number, key: string, keyHash?: number): void {
    const id = this.tombs.find(bucket, key, keyHash);
    if (id >= 0) this.dropTomb(id);
  }

  /** Forgets everything (a flush) and raises the watermark. */
  flush(watermark: Watermark): void {
    this.buckets.fill(0);
    this.ttlKeys.fill(0);
    this.implicit.fill(0);
    this.onDefault.fill(0);
    this.defaultOrigin.fill(-1);
    this.seededBefore = -1;
    this.live.fill(undefined);
    this.tombs.clear();
    this.tombSlices.clear();
    this.newestTombAt = -Infinity;
    this.liveCount = 0;
    this.watermark = watermark;
  }

  /** The tracked live keys of a bucket (implicit ones are found in the store). */
  liveKeys(bucket: number): IterableIterator<string> {
    return (this.live[bucket] ?? new Map<string, number>()).keys();
  }

  /** How many parts `forEachTombInPart` walks the tombstones in (a snapshot saves them part by part). */
  get tombParts(): number {
    return this.tombs.pageCount;
  }

  /**
   * The tombstones of one part: key as a binary string, write time, origin. Parts follow the
   * order tombstones are stored in (the fastest walk); a tombstone laid or dropped during a walk
   * of several parts may be seen or not, and a key deleted again during it may be seen twice
   * (its new tombstone can take a free id in a part not walked yet; a load keeps the newest).
   */
  forEachTombInPart(part: number, visit: (key: string, at: number, origin: string) => void): void {
    visitTombPart(this.tombs, this.origins, part, visit);
  }

  /**
   * The tombstones as they stand now, walked later as `forEachTombInPart` walks them: a copy of
   * their arrays, far quicker to take than a walk when a snapshot must hold them in its pause.
   */
  copyTombs(): { readonly parts: number; forEachInPart(part: number, visit: (key: string, at: number, origin: string) => void): void } {
    const tombs = this.tombs.clone();
    const origins = this.origins.slice();
    return {
      parts: tombs.pageCount,
      forEachInPart: (part, visit) => visitTombPart(tombs, origins, part, visit),
    };
  }

  tombKeys(bucket: number): IterableIterator<string> {
    return this.tombs.idsIn(bucket).map((id) => this.tombs.key(id)).values();
  }

  /**
   * Removes the tombstones of writes at or before `before`, a slice of time once all of it is
   * (at most `max` per call, the rest at the next); returns how many.
   */
  expireTombs(before: number, max = TOMB_EXPIRE_BATCH): number {
    const freed = this.tombSlices.expire(before, max, this.tombAt, this.dropTomb);
    // (memory left by a burst goes back once it has expired: see TombTable.trim)
    this.tombs.trim();
    return freed;
  }

  /**
   * Drops the tombstones `watermark` covers among ids [from, from + max), for a flush swept by
   * slices (FlushSweep); returns the id to go on from, or -1 once every id was looked at. An id
   * freed and handed out again meanwhile holds a later tombstone, judged as it stands.
   */
  dropCoveredTombs(watermark: Watermark, from: number, max: number): number {
    const tombs = this.tombs;
    const end = Math.min(tombs.idEnd, from + max);
    for (let id = from; id < end; id++) {
      const at = tombs.at(id);
      // (NaN: a free id; the last one dropped may clear the table, and ids past its end read NaN)
      if (at === at && coveredBy(watermark, at, this.origins[tombs.origin(id)]!)) this.dropTomb(id);
    }
    return end >= tombs.idEnd ? -1 : end;
  }

  private readonly tombAt = (id: number): number => this.tombs.at(id);

  /** Removes tombstone `id`, taking its share out of its bucket. */
  private readonly dropTomb = (id: number): void => {
    const share = this.tombs.share(id);
    this.buckets[this.tombs.remove(id)]! ^= share;
    if (this.tombs.count === 0) this.newestTombAt = -Infinity;
  };

  /** One number that changes when any bucket or the watermark changes. */
  root(): number {
    let h = Bun.hash.murmur32v3(new Uint8Array(this.buckets.buffer), 7);
    h ^= Bun.hash.murmur32v3(`${this.watermark.at}|${this.watermark.origin}`, 11);
    return h >>> 0;
  }

  private originId(origin: string): number {
    // Nearly every write carries this node's own address: skip the Map for a repeat.
    if (origin === this.lastOrigin) return this.lastOriginId;
    let id = this.originIds.get(origin);
    if (id === undefined) {
      // Addresses are few (the cluster's nodes); the cap only guards against a flood of fakes,
      // which authentication already keeps out.
      if (this.origins.length >= ORIGIN_SLOTS) throw new Error("too many distinct sync origins");
      id = this.origins.length;
      this.origins.push(origin);
      this.originIds.set(origin, id);
    }
    this.lastOrigin = origin;
    this.lastOriginId = id;
    return id;
  }

  /**
   * A key's share of its bucket hash: the key's hash (keyHashOf) mixed with its write time,
   * expiry, value hash and deletion. The origin is left out on purpose: two nodes holding the same
   * value from the same write agree whatever label each has for it (keys loaded from a snapshot
   * have none), so a restart costs no listing.
   */
  shareOf(keyHash: number, writtenAt: number, expiresAt: number, valueHash: number, tomb: boolean): number {
    let h = mix(keyHash ^ (writtenAt % 0x100000000));
    h = mix(h ^ Math.floor(writtenAt / 0x100000000));
    const expiry = tomb ? 0 : expiresAt;
    h = mix(h ^ (expiry % 0x100000000));
    h = mix(h ^ Math.floor(expiry / 0x100000000));
    h = mix(h ^ valueHash);
    return mix(h ^ (tomb ? 0x7f4a7c15 : 0x1b873593)) >>> 0;
  }
}

