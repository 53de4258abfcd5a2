// The local side of sync: turns local writes from the mutation feed into records and digest
// updates, and applies remote records to the keyspace when they are newer (last writer wins).
// Remote writes go through the Keyspace (so the append log keeps them) but are not sent on.

import { nextTurn, Slicer, type NextTurn } from "../../common/slicer.ts";
import { yieldCpu } from "../../common/yield-cpu.ts";
import { captureTombs, type LoadedTombs, type TombCapture, type TombJournal, type TombVisit } from "../../persistence/tombs.ts";
import { binaryStringToBytes, bytesToBinaryString } from "../../store/bytes.ts";
import type { Keyspace, Mutation } from "../../store/keyspace.ts";
import type { ValueRef } from "../../store/types.ts";
import { forEachRecord, type KeyPrefetch } from "./codec.ts";
import { bucketOf, bucketOfHash, DigestState, keyHashOf, tombSliceMs, type KeyVersion } from "./digest.ts";
import { FlushSweep } from "./flush-sweep.ts";
import { ImplicitKeys, type ListingIndex } from "./listing.ts";
import { DEFAULT_LINK_LIMITS } from "./peer-link.ts";
import type { RecordSink, SyncRecord } from "./records.ts";
import { coveredBy, newerWatermark, NO_WATERMARK, replaces, valueHash, valueHashOf, type Watermark } from "./version.ts";

export interface ApplyCounts {
  applied: number;
  ignored: number;
}

/** A Version the replica fills in place for each write: the digest reads it and keeps none. */
type ScratchVersion = { -readonly [K in keyof KeyVersion]: KeyVersion[K] };

/**
 * While a batch is smaller than a full one (its sender is keeping up), the peer offers the CPU to
 * other processes every this many records (`applyBatch`).
 */
export const YIELD_EVERY = 128;
/**
 * A batch this large means the peer is behind: it is applied without yielding. A sender cuts a
 * batch at batchRecords records or, for large values, somewhere between half and all of
 * batchBytes (Outbox.cut halves an oversized batch), so either counts as full.
 */
export const FULL_BATCH = DEFAULT_LINK_LIMITS.batchRecords;
export const FULL_BATCH_BYTES = DEFAULT_LINK_LIMITS.batchBytes / 2;

/** keys a listing looks up per turn of the event loop (a few ms: each reads the store and hashes the value) */
export const LIST_SLICE = 1_000;

/** What the key of the write under way held just before it (see `capture`). */
const NONE = 0;
const IMPLICIT = 1;
const TRACKED = 2;

export class Replica {
  readonly digest: DigestState;
  /** a peer's flush, taken at once or by slices */
  readonly flushSweep: FlushSweep;
  /** the oldest write time in the store when sync started (a sweep cut short by a restart: restoreTombs) */
  private seededOldest = Infinity;
  /** the live keys the digest keeps no entry for, found in the store when a round lists them */
  private readonly implicitKeys: ImplicitKeys;
  /** set while a remote record is being written, so the feed does not send it back out */
  private applying = false;
  private readonly unsubscribe: () => void;
  private readonly unsubscribeBefore: () => void;
  private readonly unsubscribeExpired: () => void;
  /** where captures and rivalOf read the store's entry in place (no view, no object per read) */
  private readonly entry: ValueRef = { bytes: new Uint8Array(0), start: 0, length: 0, writtenAt: 0, expiresAt: 0 };
  // The key of the write under way, read just before the store changes (Keyspace.onBeforeWrite).
  private capBucket = 0;
  private capHash = 0;
  /** NONE, IMPLICIT (capShare/capWrittenAt are its share and write time) or TRACKED */
  private capState = NONE;
  private capShare = 0;
  private capWrittenAt = 0;
  /** the key as a binary string when capture needed it, else undefined */
  private capK: string | undefined = undefined;
  /** the next write's capture is done already (applyOne, from its own lookup) */
  private held = false;
  /** set by `onExpired`: the store read under way found its key expired */
  private expiredNow = false;
  /**
   * Where each tombstone and watermark is reported as it is laid (the append log, with sync on),
   * so a node killed before its next snapshot still has them.
   */
  journal: TombJournal | undefined = undefined;
  /** what listings await between their slices: a turn of the event loop (SyncNode: its Timers') */
  turn: NextTurn = nextTurn;
  /** the version of the write under way (onLocal, applyRecord): one object, refilled per write */
  private readonly version: ScratchVersion = { writtenAt: 0, expiresAt: 0, origin: "", tomb: false, valueHash: 0 };

  constructor(
    readonly keyspace: Keyspace,
    private readonly self: () => string,
    private readonly tombstoneTtlMs: number,
    /** receives every local write, in write order; its byte views die after the call */
    private readonly sink: RecordSink,
    /** the store may evict keys without a TTL (MaxMemory): track every key in the digest's Maps */
    trackAll = false,
    /** offers the CPU to other processes during a batch's apply (see `applyBatch`) */
    private readonly pause: () => void = yieldCpu,
  ) {
    this.digest = new DigestState(tombSliceMs(tombstoneTtlMs));
    this.digest.trackAll = trackAll;
    this.implicitKeys = new ImplicitKeys(keyspace, this.digest, () => this.turn);
    this.flushSweep = new FlushSweep(this);
    this.seed();
    this.unsubscribeBefore = keyspace.onBeforeWrite((key) => this.capture(key));
    this.unsubscribe = keyspace.onMutation((m) => this.onLocal(m));
    this.unsubscribeExpired = keyspace.onExpired((key, writtenAt) => this.onExpired(key, writtenAt));
  }

  close(): void {
    this.flushSweep.cancel();
    this.unsubscribe();
    this.unsubscribeBefore();
    this.unsubscribeExpired();
  }

  /**
   * A key's time to live ran out (the timer wheel or a read found it; it is gone from the store).
   * It leaves a tombstone of the version that expired, as a delete of that write would: else a
   * peer still holding an older value (it missed the write) would hand it back by anti-entropy,
   * which takes an absent key for one never written. Kept like a delete's, for the grace period
   * from the write it stands for: every node drops it at the same time, and one past it already
   * would be ignored by every peer (so none is laid then). The store's expired entries are always
   * tracked (they had a TTL), so the origin comes from the digest's Map.
   */
  private onExpired(key: Uint8Array, writtenAt: number): void {
    this.expiredNow = true;
    const hash = keyHashOf(key);
    const bucket = bucketOfHash(hash);
    const k = bytesToBinaryString(key);
    const digest = this.digest;
    const origin = digest.originOf(bucket, k) ?? digest.implicitOrigin(bucket, writtenAt);
    // (a version a flush covers, not swept yet, leaves none: the flush has it gone already)
    if (writtenAt + this.tombstoneTtlMs > this.keyspace.now() && !coveredBy(digest.watermark, writtenAt, origin)) this.layTomb(bucket, k, hash, key, writtenAt, origin);
    else digest.forgetLive(bucket, k);
  }

  /** Lays a tombstone in the digest and reports it to the journal (the append log). */
  private layTomb(bucket: number, k: string, hash: number, key: Uint8Array, at: number, origin: string): void {
    this.digest.setTomb(bucket, k, hash, at, origin);
    this.journal?.tomb(key, at, origin);
  }

  /**
   * Takes the tombstones and watermark a load found (call before sync starts, after `seed`).
   * Those past their grace are dropped; a key the store holds live is newer than its tombstone
   * (its write came later in the log), and a tombstone the watermark covers is gone. Keys it
   * covers are still there when the node stopped during a flush's sweep: it is swept again.
   */
  restoreTombs(loaded: LoadedTombs): void {
    const digest = this.digest;
    if (loaded.watermark !== undefined && newerWatermark(loaded.watermark, digest.watermark)) digest.watermark = loaded.watermark;
    this.followWatermark();
    const oldest = this.keyspace.now() - this.tombstoneTtlMs;
    for (const [k, t] of loaded.tombs) {
      if (t.at <= oldest || coveredBy(digest.watermark, t.at, t.origin)) continue;
      const key = binaryStringToBytes(k);
      if (this.keyspace.store.has(key)) continue;
      const hash = keyHashOf(key);
      digest.setTomb(bucketOfHash(hash), k, hash, t.at, t.origin);
    }
    this.flushSweep.resume(this.seededOldest);
  }

  /**
   * The watermark and what walks the tombstones within their grace part by part (in the order
   * they are stored), for a snapshot (taken in its capture pause, walked while it is written).
   */
  captureTombs(): TombCapture {
    const digest = this.digest;
    const w = digest.watermark;
    const watermark = w.at === NO_WATERMARK.at && w.origin === NO_WATERMARK.origin ? undefined : w;
    const any = digest.tombCount > 0;
    const oldest = this.keyspace.now() - this.tombstoneTtlMs;
    const capture = (parts: number, forEachIn: (part: number, visit: TombVisit) => void) => captureTombs(parts, forEachIn, any, oldest, watermark);
    return {
      ...capture(digest.tombParts, (part, visit) => digest.forEachTombInPart(part, visit)),
      frozen: () => {
        const copy = digest.copyTombs();
        return capture(copy.parts, copy.forEachInPart);
      },
    };
  }

  /**
   * Runs just before every set, expire and delete (local or remote): notes what the key holds
   * now, so the write's digest update can take the old share out. An implicit key's share is
   * recomputed from the store's entry; nothing is looked up in a Map unless the bucket has
   * tracked keys, and the store is not read unless the bucket has implicit ones.
   */
  private capture(key: Uint8Array): void {
    if (this.held) {
      // applyOne captured this write already, from the entry it had looked up
      this.held = false;
      return;
    }
    const hash = keyHashOf(key);
    const bucket = bucketOfHash(hash);
    if (this.captureTracked(bucket, hash, key) || this.digest.implicit[bucket] === 0) return;
    if (this.keyspace.readStored(key, this.entry)) this.captureEntry(this.entry);
  }

  /** Starts a capture; true when the key is tracked (nothing more to read). */
  private captureTracked(bucket: number, hash: number, key: Uint8Array): boolean {
    const digest = this.digest;
    this.capBucket = bucket;
    this.capHash = hash;
    this.capK = undefined;
    this.capState = NONE;
    if (digest.hasTracked(bucket)) {
      const k = bytesToBinaryString(key);
      this.capK = k;
      if (digest.isTracked(bucket, k)) {
        this.capState = TRACKED;
        return true;
      }
    }
    return false;
  }

  /** Ends a capture of an untracked key with the store's entry for it (read just now, in place). */
  private captureEntry(entry: ValueRef): void {
    if (this.digest.implicit[this.capBucket] === 0) return;
    this.capState = IMPLICIT;
    this.capWrittenAt = entry.writtenAt;
    const hash = valueHashOf(entry.bytes, entry.start, entry.start + entry.length);
    this.capShare = this.digest.shareOf(this.capHash, entry.writtenAt, entry.expiresAt, hash, false);
  }

  /** The captured key as a binary string. */
  private capKey(key: Uint8Array): string {
    return (this.capK ??= bytesToBinaryString(key));
  }

  /** After the write: the key's old live state leaves the digest (tombstones stay). */
  private dropCaptured(key: Uint8Array): void {
    if (this.capState === IMPLICIT) this.digest.dropImplicit(this.capBucket, this.capShare, this.capWrittenAt);
    else if (this.capState === TRACKED) this.digest.forget(this.capBucket, this.capKey(key), this.capHash);
    this.capState = NONE;
  }

  /** After a write that left the key live with version `v`: the digest follows. */
  private placeCaptured(key: Uint8Array, v: KeyVersion): void {
    const digest = this.digest;
    const bucket = this.capBucket;
    if (this.capState === IMPLICIT) {
      digest.dropImplicit(bucket, this.capShare, this.capWrittenAt);
      this.capState = NONE;
    }
    if (digest.wantsImplicit(bucket, v)) {
      if (this.capState === TRACKED || digest.mayHaveTombs(bucket)) digest.forget(bucket, this.capKey(key), this.capHash);
      digest.addImplicit(bucket, this.capHash, v);
    } else {
      // (setLive replaces a tracked entry or tombstone itself)
      digest.setLive(bucket, this.capKey(key), this.capHash, v);
    }
    this.capState = NONE;
  }

  /**
   * Keys loaded before sync started (snapshot, append log) enter the digest with an unknown
   * origin (""), which loses every tie: a peer holding the same write keeps its own label.
   */
  private seed(): void {
    const digest = this.digest;
    let latest = -1;
    digest.seededBefore = Infinity;
    for (const [key, entry] of this.keyspace.store.entries()) {
      const hash = keyHashOf(key);
      const bucket = bucketOfHash(hash);
      const v = { writtenAt: entry.writtenAt, expiresAt: entry.expiresAt, origin: "", tomb: false, valueHash: valueHash(entry.value) };
      if (digest.wantsImplicit(bucket, v)) digest.addImplicit(bucket, hash, v);
      else digest.setLive(bucket, bytesToBinaryString(key), hash, v);
      if (entry.writtenAt > latest) latest = entry.writtenAt;
      if (entry.writtenAt < this.seededOldest) this.seededOldest = entry.writtenAt;
    }
    digest.seededBefore = latest;
  }

  private onLocal(m: Mutation): void {
    if (this.applying) return;
    const origin = this.self();
    if (m.type === "flush") {
      this.flushSweep.cancel();
      this.digest.flush({ at: m.writtenAt, origin });
      this.followWatermark();
      this.journal?.watermark(this.digest.watermark);
      this.sink.flush(m.writtenAt);
      return;
    }
    if (m.type === "delete") {
      this.dropCaptured(m.key);
      this.layTomb(this.capBucket, this.capKey(m.key), this.capHash, m.key, m.writtenAt, origin);
      this.sink.del(m.key, m.writtenAt);
      return;
    }
    // An expire changes the version but carries no value: the record takes the stored one.
    const value = m.type === "set" ? m.value : this.keyspace.store.get(m.key)?.value;
    if (value === undefined) return;
    this.placeCaptured(m.key, this.versionFor(m.writtenAt, m.expiresAt, origin, value));
    this.sink.put(m.key, value, m.writtenAt, m.expiresAt);
  }

  /** The scratch version, filled for a live write. */
  private versionFor(writtenAt: number, expiresAt: number, origin: string, value: Uint8Array): KeyVersion {
    const v = this.version;
    v.writtenAt = writtenAt;
    v.expiresAt = expiresAt;
    v.origin = origin;
    v.tomb = false;
    v.valueHash = valueHash(value);
    return v;
  }

  /** The version this node holds for a key, or undefined (never seen, expired or GC'd). */
  /** (`keyHash`: keyHashOf the key, when the caller has it: its tombstone is found without hashing again) */
  versionOf(bucket: number, k: string, key: Uint8Array, keyHash?: number): KeyVersion | undefined {
    let tomb = this.digest.tombOf(bucket, k, keyHash);
    if (!tomb) {
      const entry = this.keyspace.store.get(key);
      if (entry) {
        const origin = this.digest.originOf(bucket, k) ?? this.digest.implicitOrigin(bucket, entry.writtenAt);
        return { writtenAt: entry.writtenAt, expiresAt: entry.expiresAt, origin, tomb: false, valueHash: valueHash(entry.value) };
      }
      // Expired just now (this read found it: `onExpired` laid its tombstone), or evicted behind
      // sync's back (its share leaves the digest now).
      tomb = this.digest.tombOf(bucket, k, keyHash);
      if (!tomb) {
        this.digest.forgetLive(bucket, k);
        return undefined;
      }
    }
    if (tomb.at + this.tombstoneTtlMs <= this.keyspace.now()) return undefined;
    return { writtenAt: tomb.at, origin: tomb.origin, tomb: true, valueHash: 0, expiresAt: 0 };
  }

  /**
   * Applies a replication batch (the body of /sync/batch) record by record as it is read, with no
   * object per record; throws CodecError, applying nothing, when the batch is malformed.
   *
   * A batch takes a peer a millisecond or more. Applying it in one stretch would keep any other
   * process waiting for this core that long: on a shared machine, the clients or the load tool
   * that drive the writes. So while the batch is not full, the peer yields every YIELD_EVERY
   * records (a syscall that returns at once when nothing waits). A full batch means the peer is
   * behind: it then takes its full share of the CPU until it has caught up, so yielding never
   * makes it fall behind for good (bench/README, eighth session).
   */
  applyBatch(body: Uint8Array): ApplyCounts {
    const counts = { applied: 0, ignored: 0 };
    const keyspace = this.keyspace;
    const full = body.length >= FULL_BATCH_BYTES;
    forEachRecord(
      body,
      (r, inOrder, index, count) => {
        // (a ScratchRecord has every field a SyncRecord of its kind reads; none is kept past this call)
        if (this.applyOne(r as unknown as SyncRecord, inOrder)) counts.applied++;
        else counts.ignored++;
        if (index % YIELD_EVERY === YIELD_EVERY - 1 && count < FULL_BATCH && !full) this.pause();
      },
      keyspace.wantsPrefetch ? this.prefetch : undefined,
    );
    return counts;
  }

  private readonly prefetch: KeyPrefetch = (bytes, at, count) => this.keyspace.prefetch(bytes, at, count);

  /** Applies remote records; `inOrder` for the live stream of one origin (see `replaces`). */
  apply(records: readonly SyncRecord[], inOrder: boolean): ApplyCounts {
    const counts = { applied: 0, ignored: 0 };
    for (const r of records) {
      if (this.applyOne(r, inOrder)) counts.applied++;
      else counts.ignored++;
    }
    return counts;
  }

  /**
   * The local version when it could beat a record written at `writtenAt`; undefined when nothing
   * local can (no entry, or one written earlier). The replication stream mostly brings newer
   * writes, and this answers those with one store lookup: no origin lookup, no value hash.
   */
  private rivalOf(bucket: number, hash: number, key: Uint8Array, writtenAt: number): KeyVersion | undefined {
    this.held = false;
    const digest = this.digest;
    // (keys that expire leave tombstones, so most buckets may hold some: only this key's counts)
    if (digest.mayHaveTombs(bucket)) {
      const k = bytesToBinaryString(key);
      if (digest.hasTomb(bucket, k, hash)) return this.versionOf(bucket, k, key, hash);
    }
    const entry = this.entry;
    this.expiredNow = false;
    const found = this.keyspace.readStored(key, entry);
    // An entry this read found expired has just left its tombstone (onExpired), which may win.
    if (this.expiredNow) return this.versionOf(bucket, bytesToBinaryString(key), key);
    // (an entry missing here but still in the digest is overwritten or forgotten by the caller)
    if (!found || entry.writtenAt < writtenAt) {
      // Nothing local can win: the record will be written (unless it is too old to matter), and
      // the entry just read is what it replaces — capture from it, no second lookup.
      if (!this.captureTracked(bucket, hash, key) && found) this.captureEntry(entry);
      this.held = true;
      return undefined;
    }
    return this.versionOf(bucket, bytesToBinaryString(key), key);
  }

  private applyOne(r: SyncRecord, inOrder: boolean): boolean {
    try {
      return this.applyRecord(r, inOrder);
    } finally {
      this.held = false; // a record that was not written leaves no capture behind for the next write
    }
  }

  private applyRecord(r: SyncRecord, inOrder: boolean): boolean {
    if (r.kind === "flush") return this.applyFlush({ at: r.writtenAt, origin: r.origin });
    if (coveredBy(this.digest.watermark, r.writtenAt, r.origin)) return false;
    const hash = keyHashOf(r.key);
    const local = this.rivalOf(bucketOfHash(hash), hash, r.key, r.writtenAt);
    // Each write below runs `capture` first (Keyspace.onBeforeWrite), unless rivalOf captured
    // already (`held`): cap* describe the old state.
    if (r.kind === "del") {
      if (r.writtenAt + this.tombstoneTtlMs <= this.keyspace.now()) return false;
      if (!replaces({ writtenAt: r.writtenAt, origin: r.origin, tomb: true, valueHash: 0, expiresAt: 0 }, local, inOrder)) return false;
      // (deleteStored: a key a sweep hides goes too, and its capture runs, so the digest follows;
      // Keyspace.delete would refuse it and leave the digest on the previous write's capture)
      this.write(() => this.keyspace.deleteStored(r.key, r.writtenAt));
      this.dropCaptured(r.key);
      this.layTomb(this.capBucket, this.capKey(r.key), this.capHash, r.key, r.writtenAt, r.origin);
      return true;
    }
    const version = this.versionFor(r.writtenAt, r.expiresAt, r.origin, r.value);
    if (!replaces(version, local, inOrder)) return false;
    if (r.expiresAt !== 0) {
      const now = this.keyspace.now();
      if (r.expiresAt <= now) {
        // The newer write has already expired: the key is gone, and an older value must not stay.
        this.write(() => this.keyspace.deleteStored(r.key, r.writtenAt));
        this.dropCaptured(r.key);
        const k = this.capKey(r.key);
        if (r.writtenAt + this.tombstoneTtlMs > now) this.layTomb(this.capBucket, k, this.capHash, r.key, r.writtenAt, r.origin);
        else this.digest.forget(this.capBucket, k, this.capHash);
        return true;
      }
    }
    // `write` without its closure: this is the path of nearly every applied record
    this.applying = true;
    try {
      this.keyspace.set(r.key, r.value, r.expiresAt, r.writtenAt);
    } finally {
      this.applying = false;
    }
    this.placeCaptured(r.key, version);
    return true;
  }

  /** A remote flush: every version written before it goes (FlushSweep: at once or by slices). */
  applyFlush(watermark: Watermark): boolean {
    if (!this.flushSweep.apply(watermark)) return false;
    this.followWatermark();
    return true;
  }

  /**
   * Local writes from now on are stamped after the watermark (Keyspace.writeFloor): a client's
   * set that follows a peer's flush is newer than it even when this node's clock is behind.
   */
  private followWatermark(): void {
    const floor = this.digest.watermark.at + 1;
    if (floor > this.keyspace.writeFloor) this.keyspace.writeFloor = floor;
  }

  /** A key a remote flush covers goes: in the append log, not sent on, its share out of the digest. */
  dropCovered(key: Uint8Array, at: number): void {
    this.write(() => this.keyspace.deleteStored(key, at));
    this.dropCaptured(key);
  }

  /** A remote flush that covers everything held: all goes at once, as with a local flush. */
  flushAll(watermark: Watermark): void {
    this.write(() => this.keyspace.flush(watermark.at));
    this.digest.flush(watermark);
    this.journal?.watermark(watermark);
  }

  private sweepCursor = 0;

  /**
   * Drops digest entries of keys that expired (or, with `all`, were evicted) behind sync's back,
   * a few buckets per call: a slow round-robin over the buckets holding keys with a time to live,
   * never a scan of everything at once.
   */
  sweep(buckets: number, all = false): void {
    const store = this.keyspace.store;
    const digest = this.digest;
    for (let i = 0, steps = 0; i < buckets && steps < digest.buckets.length; steps++) {
      const bucket = this.sweepCursor;
      this.sweepCursor = (bucket + 1) % digest.buckets.length;
      if (!all && digest.ttlKeys[bucket] === 0) continue;
      i++;
      for (const k of [...this.digest.liveKeys(bucket)]) {
        // (a key that has expired leaves its tombstone as this read finds it: `onExpired`)
        if (!store.has(binaryStringToBytes(k))) this.digest.forgetLive(bucket, k);
      }
    }
  }

  /** Frees tombstones past the grace period. */
  expireTombstones(): number {
    this.implicitKeys.prune();
    return this.digest.expireTombs(this.keyspace.now() - this.tombstoneTtlMs);
  }

  /** The full record for a key this node holds (live or tombstone), for anti-entropy. */
  recordOf(key: Uint8Array): SyncRecord | undefined {
    const bucket = bucketOf(key);
    const k = bytesToBinaryString(key);
    const v = this.versionOf(bucket, k, key);
    // (one a flush covers, not swept yet, is gone already)
    if (!v || coveredBy(this.digest.watermark, v.writtenAt, v.origin)) return undefined;
    if (v.tomb) return { kind: "del", key, writtenAt: v.writtenAt, origin: v.origin };
    const entry = this.keyspace.store.get(key);
    // (expired since versionOf's read, a millisecond later: now it is the tombstone)
    if (!entry) return this.recordOf(key);
    return { kind: "put", key, value: entry.value.slice(), writtenAt: v.writtenAt, expiresAt: v.expiresAt, origin: v.origin };
  }

  /**
   * Every version held in these buckets (keys as binary strings). Tracked keys and tombstones
   * come from the digest; implicit keys from the store: from the index `indexImplicit` made for
   * this round when it covers the bucket, else from one pass over the store (O(keys), but only for
   * buckets that differ from a peer's twice in a row). Keys are looked up LIST_SLICE at a time,
   * with a turn of the event loop between slices (`slicer`): a listing of 128 buckets holds
   * ~30,000 keys at a million, which took a tenth of a second or more in one turn.
   */
  async listBuckets(buckets: readonly number[], out: Map<string, KeyVersion>, slicer = this.slicer()): Promise<void> {
    const digest = this.digest;
    const implicitKeys = this.implicitKeys;
    implicitKeys.prune();
    const unindexed: number[] = [];
    for (const bucket of buckets) {
      let keys = [...digest.liveKeys(bucket), ...digest.tombKeys(bucket)];
      if (digest.implicit[bucket] !== 0) {
        const index = implicitKeys.indexFor(bucket);
        // keys set since the index was made are missed: harmless, the next round lists them
        if (index !== undefined) keys = keys.concat(index.keys.get(bucket) ?? []);
        else unindexed.push(bucket);
      }
      for (const k of keys) {
        // (a key is read as it stands after a pause: one written meanwhile gives its new version)
        if (slicer.due()) await slicer.pause();
        this.listKey(bucket, k, out);
      }
    }
    if (unindexed.length === 0) return;
    for (const [bucket, keys] of await implicitKeys.scan(unindexed)) {
      for (const k of keys) {
        if (slicer.due()) await slicer.pause();
        this.listKey(bucket, k, out);
      }
    }
  }

  /** The version of this key of a bucket (a binary string), into `out` if this node holds one. */
  private listKey(bucket: number, k: string, out: Map<string, KeyVersion>): void {
    const v = this.versionOf(bucket, k, binaryStringToBytes(k));
    if (v && !coveredBy(this.digest.watermark, v.writtenAt, v.origin)) out.set(k, v);
  }

  /** A slicer for a pass over listed keys: LIST_SLICE keys per turn (see `listBuckets`). */
  slicer(): Slicer {
    return new Slicer(LIST_SLICE, this.turn);
  }

  /** A round's index of implicit keys: one pass over the store for all the buckets it lists. */
  indexImplicit(buckets: readonly number[], forPeer = false): Promise<ListingIndex> {
    return this.implicitKeys.index(buckets, forPeer);
  }

  dropIndex(index: ListingIndex): void {
    this.implicitKeys.drop(index);
  }

  private write(fn: () => void): void {
    this.applying = true;
    try {
      fn();
    } finally {
      this.applying = false;
    }
  }
}
