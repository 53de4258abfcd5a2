// The local side of sync: turns local writes from the mutation feed into records and digest
// updates, and applies remote records to the keyspace when they are newer (last writer wins).
// Remote writes go through the Keyspace (so the append log keeps them) but are not sent on.

import { binaryStringToBytes, bytesToBinaryString } from "../../store/bytes.ts";
import type { Keyspace, Mutation } from "../../store/keyspace.ts";
import { bucketOf, DigestState, type KeyVersion } from "./digest.ts";
import type { SyncRecord } from "./records.ts";
import { coveredBy, newerWatermark, replaces, valueHash, type Watermark } from "./version.ts";

export interface ApplyCounts {
  applied: number;
  ignored: number;
}

export class Replica {
  readonly digest = new DigestState();
  /** set while a remote record is being written, so the feed does not send it back out */
  private applying = false;
  private readonly unsubscribe: () => void;

  constructor(
    readonly keyspace: Keyspace,
    private readonly self: () => string,
    private readonly tombstoneTtlMs: number,
    /** receives every record of a local write, in write order; its byte views die after the call */
    private readonly emit: (record: SyncRecord) => void,
  ) {
    this.seed();
    this.unsubscribe = keyspace.onMutation((m) => this.onLocal(m));
  }

  close(): void {
    this.unsubscribe();
  }

  /**
   * Keys loaded before sync started (snapshot, append log) enter the digest with an unknown
   * origin (""), which loses every tie: a peer holding the same write keeps its own label.
   */
  private seed(): void {
    for (const [key, entry] of this.keyspace.store.entries()) {
      this.digest.setLive(bucketOf(key), bytesToBinaryString(key), key, {
        writtenAt: entry.writtenAt,
        expiresAt: entry.expiresAt,
        origin: "",
        tomb: false,
        valueHash: valueHash(entry.value),
      });
    }
  }

  private onLocal(m: Mutation): void {
    if (this.applying) return;
    const origin = this.self();
    if (m.type === "flush") {
      this.digest.flush({ at: m.writtenAt, origin });
      this.emit({ kind: "flush", writtenAt: m.writtenAt, origin });
      return;
    }
    const bucket = bucketOf(m.key);
    const k = bytesToBinaryString(m.key);
    if (m.type === "delete") {
      this.digest.setTomb(bucket, k, m.key, m.writtenAt, origin);
      this.emit({ kind: "del", key: m.key, writtenAt: m.writtenAt, origin });
      return;
    }
    // An expire changes the version but carries no value: the record takes the stored one.
    const value = m.type === "set" ? m.value : this.keyspace.store.get(m.key)?.value;
    if (value === undefined) return;
    this.digest.setLive(bucket, k, m.key, {
      writtenAt: m.writtenAt,
      expiresAt: m.expiresAt,
      origin,
      tomb: false,
      valueHash: valueHash(value),
    });
    this.emit({ kind: "put", key: m.key, value, writtenAt: m.writtenAt, expiresAt: m.expiresAt, origin });
  }

  /** The version this node holds for a key, or undefined (never seen, expired or GC'd). */
  versionOf(bucket: number, k: string, key: Uint8Array): KeyVersion | undefined {
    const tomb = this.digest.tombOf(bucket, k);
    if (tomb) {
      if (tomb.at + this.tombstoneTtlMs <= this.keyspace.now()) return undefined;
      return { writtenAt: tomb.at, origin: tomb.origin, tomb: true, valueHash: 0, expiresAt: 0 };
    }
    const entry = this.keyspace.store.get(key);
    if (!entry) {
      // expired or evicted behind sync's back: its share leaves the digest now
      this.digest.forget(bucket, k);
      return undefined;
    }
    let origin = this.digest.originOf(bucket, k);
    const version = { writtenAt: entry.writtenAt, expiresAt: entry.expiresAt, origin: origin ?? "", tomb: false, valueHash: valueHash(entry.value) };
    if (origin === undefined) this.digest.setLive(bucket, k, key, version);
    return version;
  }

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
  private rivalOf(bucket: number, k: string, key: Uint8Array, writtenAt: number): KeyVersion | undefined {
    if (this.digest.mayHaveTombs(bucket)) return this.versionOf(bucket, k, key);
    const entry = this.keyspace.store.get(key);
    // (an entry missing here but still in the digest is overwritten or forgotten by the caller)
    if (entry === undefined || entry.writtenAt < writtenAt) return undefined;
    return this.versionOf(bucket, k, key);
  }

  private applyOne(r: SyncRecord, inOrder: boolean): boolean {
    if (r.kind === "flush") return this.applyFlush({ at: r.writtenAt, origin: r.origin });
    if (coveredBy(this.digest.watermark, r.writtenAt, r.origin)) return false;
    const bucket = bucketOf(r.key);
    const k = bytesToBinaryString(r.key);
    const local = this.rivalOf(bucket, k, r.key, r.writtenAt);
    const now = this.keyspace.now();
    if (r.kind === "del") {
      if (r.writtenAt + this.tombstoneTtlMs <= now) return false;
      if (!replaces({ writtenAt: r.writtenAt, origin: r.origin, tomb: true, valueHash: 0, expiresAt: 0 }, local, inOrder)) return false;
      this.write(() => this.keyspace.delete(r.key, r.writtenAt));
      this.digest.setTomb(bucket, k, r.key, r.writtenAt, r.origin);
      return true;
    }
    const version = { writtenAt: r.writtenAt, expiresAt: r.expiresAt, origin: r.origin, tomb: false, valueHash: valueHash(r.value) };
    if (!replaces(version, local, inOrder)) return false;
    if (r.expiresAt !== 0 && r.expiresAt <= now) {
      // The newer write has already expired: the key is gone, and an older value must not stay.
      this.write(() => this.keyspace.delete(r.key, r.writtenAt));
      if (r.writtenAt + this.tombstoneTtlMs > now) this.digest.setTomb(bucket, k, r.key, r.writtenAt, r.origin);
      else this.digest.forget(bucket, k);
      return true;
    }
    this.write(() => this.keyspace.set(r.key, r.value, r.expiresAt, r.writtenAt));
    this.digest.setLive(bucket, k, r.key, version);
    return true;
  }

  /** A remote flush: drop every version written before it. A scan, but flushes are rare. */
  applyFlush(watermark: Watermark): boolean {
    if (!newerWatermark(watermark, this.digest.watermark)) return false;
    this.digest.watermark = watermark;
    for (let bucket = 0; bucket < this.digest.buckets.length; bucket++) {
      for (const k of [...this.digest.liveKeys(bucket)]) {
        const key = binaryStringToBytes(k);
        const v = this.versionOf(bucket, k, key);
        if (v && coveredBy(watermark, v.writtenAt, v.origin)) {
          this.write(() => this.keyspace.delete(key, watermark.at));
          this.digest.forget(bucket, k);
        }
      }
      for (const k of [...this.digest.tombKeys(bucket)]) {
        const t = this.digest.tombOf(bucket, k);
        if (t && coveredBy(watermark, t.at, t.origin)) this.digest.forget(bucket, k);
      }
    }
    return true;
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
        if (!store.has(binaryStringToBytes(k))) this.digest.forget(bucket, k);
      }
    }
  }

  /** Frees tombstones past the grace period. */
  expireTombstones(): number {
    return this.digest.expireTombs(this.keyspace.now() - this.tombstoneTtlMs);
  }

  /** The full record for a key this node holds (live or tombstone), for anti-entropy. */
  recordOf(key: Uint8Array): SyncRecord | undefined {
    const bucket = bucketOf(key);
    const k = bytesToBinaryString(key);
    const v = this.versionOf(bucket, k, key);
    if (!v) return undefined;
    if (v.tomb) return { kind: "del", key, writtenAt: v.writtenAt, origin: v.origin };
    const entry = this.keyspace.store.get(key)!;
    return { kind: "put", key, value: entry.value.slice(), writtenAt: v.writtenAt, expiresAt: v.expiresAt, origin: v.origin };
  }

  /** Every version held in a bucket (keys as binary strings). */
  listBucket(bucket: number, out: Map<string, KeyVersion>): void {
    for (const k of [...this.digest.liveKeys(bucket), ...this.digest.tombKeys(bucket)]) {
      const v = this.versionOf(bucket, k, binaryStringToBytes(k));
      if (v) out.set(k, v);
    }
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
