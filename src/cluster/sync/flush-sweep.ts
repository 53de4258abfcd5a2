// A peer's flush taken by slices: the keys and tombstones its watermark covers are deleted a few
// thousand at a time with a turn of the event loop between slices, where one pass over a million
// keys held every client of the node ~2 s. A flush newer than everything held goes at once.

import { bytesToBinaryString, binaryStringToBytes } from "../../store/bytes.ts";
import type { Keyspace } from "../../store/keyspace.ts";
import type { KeyWalk, ValueRef } from "../../store/types.ts";
import type { TombJournal } from "../../persistence/tombs.ts";
import { BUCKETS, bucketOfHash, keyHashOf, type DigestState, type KeyVersion } from "./digest.ts";
import { coveredBy, newerWatermark, type Watermark } from "./version.ts";

/** keys (or tombstone ids) a slice looks at, at most: ~1–3 ms at a million keys */
export const SWEEP_SLICE_KEYS = 2_000;
/** a slice also ends after this long, whatever its count */
export const SWEEP_SLICE_MS = 4;
/** keys the store's walk hands over at a time */
const SCAN_STEP = 256;
/**
 * bytes of values a slice hashes, at most (and one value past it): a key the sweep deletes from
 * outside the digest's Maps has its whole value hashed (its share leaves its bucket's hash), ~0.5
 * ms a MiB; 64 keys of 1 MiB values took a slice 24–38 ms before this bound
 */
export const SWEEP_SLICE_BYTES = 1 << 20;
/** the clock is read every this many keys */
const CLOCK_EVERY = 64;
/** ... and after every this many bytes hashed */
const CLOCK_EVERY_BYTES = 64 << 10;

/**
 * A slice that throws (a bug, or a mutation listener such as the append log failing on a delete)
 * starts the sweep over at the next turn this many times; one more and the sweep ends, so the
 * node never stays "sweeping" (no digest compared, peers told to wait) for good.
 */
export const SWEEP_RETRIES = 3;

/** What the sweep needs of the Replica. */
export interface SweepHost {
  readonly keyspace: Keyspace;
  readonly digest: DigestState;
  readonly journal: TombJournal | undefined;
  /** a turn of the event loop; rejects once sync has stopped (the sweep then ends) */
  turn(): Promise<void>;
  versionOf(bucket: number, k: string, key: Uint8Array): KeyVersion | undefined;
  /** deletes a key the flush covers: in the append log, not sent on, its share out of the digest */
  dropCovered(key: Uint8Array, at: number): void;
  /** empties the keyspace and the digest at once, as a local flush does, and sets the watermark */
  flushAll(watermark: Watermark): void;
}

/** What /sync/status shows of a sweep under way. */
export interface SweepProgress {
  readonly watermark: Watermark;
  /** keys and tombstones looked at so far, of about `total` (the store's keys and the tombstones when it began) */
  readonly done: number;
  readonly total: number;
}

const STORE = 0;
const TRACKED = 1;
const TOMBS = 2;

export class FlushSweep {
  /** the watermark swept, undefined when none */
  private target: Watermark | undefined;
  /** a newer watermark came: start over from the first key */
  private restart = false;
  /** the loop of slices, while it runs (`looping`: cleared the moment it returns, not a microtask later) */
  private loop: Promise<void> = Promise.resolve();
  private looping = false;
  private phase = STORE;
  /** the sweep's own walk over the store's keys (Store.walk: no client SCAN moves it), undefined once done */
  private walk: KeyWalk | undefined = undefined;
  private keys: Uint8Array[] = [];
  private keyAt = 0;
  private bucket = 0;
  private tracked: string[] = [];
  private trackedAt = 0;
  private tombAt = 0;
  private done = 0;
  private total = 0;
  private readonly entry: ValueRef = { bytes: new Uint8Array(0), start: 0, length: 0, writtenAt: 0, expiresAt: 0 };
  /** bytes of values the slice under way hashed (see SWEEP_SLICE_BYTES) */
  private hashed = 0;
  /** told after each slice: keys and tombstone ids it looked at, how long it took and bytes of values it hashed (tests, bench) */
  onSlice: ((count: number, ms: number, bytes: number) => void) | undefined = undefined;
  /** slices of this sweep that threw (see SWEEP_RETRIES) */
  private failures = 0;
  /**
   * told when a slice threw: `retrying` when the sweep starts over, else it has ended and what it
   * had not deleted yet is seen again (a restart of the node sweeps it: `resume`). SyncNode logs it.
   */
  onFailure: (error: unknown, retrying: boolean) => void = () => {};

  constructor(private readonly host: SweepHost) {}

  /** Whether a sweep is under way (anti-entropy does not compare digests meanwhile). */
  get running(): boolean {
    return this.target !== undefined;
  }

  /** Resolves once no sweep is under way. */
  async idle(): Promise<void> {
    while (this.looping) await this.loop;
  }

  progress(): SweepProgress | undefined {
    return this.target && { watermark: this.target, done: this.done, total: Math.max(this.total, this.done) };
  }

  /**
   * A peer's flush: false when it is not newer than the watermark held. Taken at once when every
   * entry and tombstone held is older (the store's newest write, the digest's newest tombstone);
   * else the watermark is raised now (remote records it covers are refused from now on) and what
   * it covers is swept by slices, the first at once. A sweep under way starts over with it.
   */
  apply(watermark: Watermark): boolean {
    const { keyspace, digest } = this.host;
    if (!newerWatermark(watermark, digest.watermark)) return false;
    if (keyspace.store.newestWrite() < watermark.at && digest.newestTomb() < watermark.at) {
      this.cancel();
      this.host.flushAll(watermark);
      return true;
    }
    digest.watermark = watermark;
    this.host.journal?.watermark(watermark);
    this.start(watermark);
    return true;
  }

  /**
   * Sweeps what the watermark held covers, if anything may be (a node restarted during a sweep:
   * the watermark was saved, the deletes it had not made yet were not). `oldest`: the oldest
   * write time the store held when sync started, whose keys all have an unknown origin ("").
   */
  resume(oldest: number): void {
    const w = this.host.digest.watermark;
    if (coveredBy(w, oldest, "")) this.start(w);
  }

  /** Drops the sweep under way (a local flush emptied everything), or ends one that is done. */
  cancel(): void {
    if (this.target === undefined) return;
    this.target = undefined;
    this.restart = false;
    this.walk = undefined;
    this.keys = [];
    this.tracked = [];
    this.host.keyspace.hiddenBefore = -Infinity;
  }

  private start(watermark: Watermark): void {
    this.target = watermark;
    this.restart = true;
    this.failures = 0;
    // Reads take what the watermark covers for gone from now on.
    this.host.keyspace.hiddenBefore = watermark.at;
    this.host.keyspace.hiddenAt = this.coveredAt;
    if (this.looping) return;
    this.looping = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        const started = performance.now();
        if (!this.trySlice(started)) return;
        if (this.target === undefined) return;
        try {
          await this.host.turn();
        } catch {
          // sync stopped: what is left is swept after the restart (`resume`)
          this.cancel();
          return;
        }
        if (this.target === undefined) return;
      }
    } finally {
      // (at once: a flush that comes right after this one ended, in the same turn, starts a loop)
      this.looping = false;
    }
  }

  /** One slice; false when it threw once too often and the sweep has ended (see SWEEP_RETRIES). */
  private trySlice(started: number): boolean {
    let count: number;
    try {
      count = this.slice(started);
    } catch (error) {
      const retrying = ++this.failures <= SWEEP_RETRIES;
      if (retrying) this.restart = true;
      else this.cancel();
      this.onFailure(error, retrying);
      return retrying;
    }
    this.onSlice?.(count, performance.now() - started, this.hashed);
    return true;
  }

  /** One slice of the sweep; returns how many keys and ids it looked at. */
  private slice(started: number): number {
    if (this.restart) this.begin();
    const w = this.target!;
    let n = 0;
    this.hashed = 0;
    for (let check = CLOCK_EVERY, checkBytes = CLOCK_EVERY_BYTES; n < SWEEP_SLICE_KEYS && this.hashed < SWEEP_SLICE_BYTES; ) {
      if (n >= check || this.hashed >= checkBytes) {
        check = n + CLOCK_EVERY;
        checkBytes = this.hashed + CLOCK_EVERY_BYTES;
        if (performance.now() - started >= SWEEP_SLICE_MS) break;
      }
      if (this.phase === STORE) n += this.storeStep(w);
      else if (this.phase === TRACKED) n += this.trackedStep(w);
      else {
        const step = Math.min(CLOCK_EVERY, SWEEP_SLICE_KEYS - n);
        const next = this.host.digest.dropCoveredTombs(w, this.tombAt, step);
        n += step;
        this.done += step;
        if (next < 0) {
          this.cancel();
          break;
        }
        this.tombAt = next;
      }
    }
    return n;
  }

  private begin(): void {
    this.restart = false;
    this.phase = STORE;
    this.walk = this.host.keyspace.store.walk();
    this.keys = [];
    this.keyAt = 0;
    this.bucket = 0;
    this.tracked = [];
    this.trackedAt = 0;
    this.tombAt = 0;
    this.done = 0;
    this.total = this.host.keyspace.store.size + this.host.digest.tombCount;
  }

  /** Whether the watermark covers the key's entry written at its very millisecond (by origin). */
  private readonly coveredAt = (key: Uint8Array): boolean => {
    const w = this.target;
    if (w === undefined) return false;
    const { digest } = this.host;
    const bucket = bucketOfHash(keyHashOf(key));
    return coveredBy(w, w.at, digest.originOf(bucket, bytesToBinaryString(key)) ?? digest.implicitOrigin(bucket, w.at));
  };

  /**
   * The next key of the store, by the sweep's walk: deleted when it is implicit (the digest keeps no
   * entry for it) and covered. Tracked keys are the next phase's. Returns the keys looked at.
   */
  private storeStep(w: Watermark): number {
    if (this.keyAt >= this.keys.length) {
      if (this.walk === undefined) {
        this.phase = TRACKED;
        return 0;
      }
      const page = this.walk.next(SCAN_STEP);
      if (page.done) this.walk = undefined;
      this.keys = page.keys;
      this.keyAt = 0;
      return 1;
    }
    const key = this.keys[this.keyAt++]!;
    this.done++;
    const { digest, keyspace } = this.host;
    const bucket = bucketOfHash(keyHashOf(key));
    if (digest.implicit[bucket] === 0 || (digest.hasTracked(bucket) && digest.isTracked(bucket, bytesToBinaryString(key)))) return 1;
    // (read as it stands now: written again since the walk handed it over, it is newer)
    const entry = this.entry;
    if (keyspace.readStored(key, entry) && coveredBy(w, entry.writtenAt, digest.implicitOrigin(bucket, entry.writtenAt))) {
      // (its share in the bucket's hash is of its value: the delete hashes it)
      this.hashed += entry.length;
      this.host.dropCovered(key, w.at);
    }
    return 1;
  }

  /**
   * The next tracked live key of the digest, bucket by bucket: deleted when covered. Its write
   * time and origin decide; its value is not hashed (the digest keeps a tracked key's share).
   */
  private trackedStep(w: Watermark): number {
    const digest = this.host.digest;
    if (this.trackedAt >= this.tracked.length) {
      if (this.bucket >= BUCKETS) {
        this.phase = TOMBS;
        return 0;
      }
      const any = digest.hasTracked(this.bucket);
      this.tracked = any ? [...digest.liveKeys(this.bucket)] : [];
      this.trackedAt = 0;
      this.bucket++;
      return any ? 1 : 0;
    }
    const k = this.tracked[this.trackedAt++]!;
    const bucket = this.bucket - 1;
    const key = binaryStringToBytes(k);
    const entry = this.entry;
    let covered: boolean;
    if (this.host.keyspace.readStored(key, entry)) covered = coveredBy(w, entry.writtenAt, digest.originOf(bucket, k) ?? digest.implicitOrigin(bucket, entry.writtenAt));
    else {
      // (gone from the store, expired just now or evicted: versionOf tells what the digest keeps of it)
      const v = this.host.versionOf(bucket, k, key);
      covered = v !== undefined && coveredBy(w, v.writtenAt, v.origin);
    }
    if (covered) {
      this.host.dropCovered(key, w.at);
      digest.forget(bucket, k);
    }
    return 1;
  }
}
