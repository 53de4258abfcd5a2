// The live keys sync's digest keeps no entry for ("implicit": no TTL, their bucket's usual
// origin) are found by a pass over the store when a bucket must be listed. One pass serves every
// bucket an anti-entropy round lists, on both sides: the round's index is kept for a while.

import { bytesToBinaryString } from "../../store/bytes.ts";
import type { Keyspace } from "../../store/keyspace.ts";
import { BUCKETS, bucketOf, type DigestState } from "./digest.ts";

/** how long a round's index of implicit keys serves listings (a round takes well under this) */
const LISTING_INDEX_MS = 30_000;

/** keys up to this long are hashed in place when listing from a store snapshot */
const SCRATCH_KEY_BYTES = 512;

/** at most this many round indexes are kept (this node's rounds and its peers') */
const MAX_INDEXES = 4;

export interface ListingIndex {
  readonly at: number;
  /** 1 for each bucket the index covers */
  readonly covered: Uint8Array;
  /** bucket → its implicit keys (binary strings) when the index was made */
  readonly keys: Map<number, string[]>;
}

export class ImplicitKeys {
  /** the implicit keys of rounds' differing buckets (this node's and peers'), each from one pass */
  private indexes: ListingIndex[] = [];

  constructor(
    private readonly keyspace: Keyspace,
    private readonly digest: DigestState,
  ) {}

  /** The kept index that covers `bucket`, if any. */
  indexFor(bucket: number): ListingIndex | undefined {
    return this.indexes.find((i) => i.covered[bucket] === 1);
  }

  /**
   * One pass over the store for all the buckets a round will list, kept for LISTING_INDEX_MS so
   * the round's listings (128 buckets each, on both sides) do not each pass over the store.
   */
  index(buckets: readonly number[]): ListingIndex {
    this.prune();
    const covered = new Uint8Array(BUCKETS);
    for (const b of buckets) covered[b] = 1;
    const index = { at: this.keyspace.now(), covered, keys: this.scan(buckets) };
    this.indexes.push(index);
    if (this.indexes.length > MAX_INDEXES) this.indexes.shift();
    return index;
  }

  /** Drops a round's index (its memory: a string per listed key). */
  drop(index: ListingIndex): void {
    this.indexes = this.indexes.filter((i) => i !== index);
  }

  /** Drops indexes older than LISTING_INDEX_MS (a peer's round that ended or failed). */
  prune(): void {
    if (this.indexes.length === 0) return;
    const now = this.keyspace.now();
    this.indexes = this.indexes.filter((i) => now - i.at < LISTING_INDEX_MS);
  }

  /** The implicit keys of these buckets, by bucket: one pass over the store. */
  scan(buckets: readonly number[]): Map<number, string[]> {
    const digest = this.digest;
    const wanted = new Uint8Array(BUCKETS);
    let any = false;
    for (const b of buckets) {
      if (digest.implicit[b] === 0) continue;
      wanted[b] = 1;
      any = true;
    }
    const out = new Map<number, string[]>();
    if (!any) return out;
    const found = (bucket: number, key: Uint8Array): void => {
      const k = bytesToBinaryString(key);
      if (digest.hasTracked(bucket) && digest.isTracked(bucket, k)) return;
      let list = out.get(bucket);
      if (list === undefined) out.set(bucket, (list = []));
      list.push(k);
    };
    const store = this.keyspace.store;
    const snapshot = store.snapshot?.();
    if (snapshot === undefined) {
      for (const [key] of store.entries()) {
        const bucket = bucketOf(key);
        if (wanted[bucket] !== 0) found(bucket, key);
      }
      return out;
    }
    // A snapshot's keys are copied into one scratch buffer (no allocation per key; about half
    // the time of entries() on the CompactStore). Implicit keys have no time to live, so entries
    // with one are skipped (expired or tracked).
    try {
      const scratch = new Uint8Array(SCRATCH_KEY_BYTES);
      const views: Uint8Array[] = [];
      for (let i = 0; i < snapshot.length; i++) {
        if (snapshot.expiresAt(i) !== 0) continue;
        const length = snapshot.keyLength(i);
        let key: Uint8Array;
        if (length <= SCRATCH_KEY_BYTES) {
          snapshot.copyKey(i, scratch, 0);
          key = views[length] ??= scratch.subarray(0, length);
        } else {
          key = new Uint8Array(length);
          snapshot.copyKey(i, key, 0);
        }
        const bucket = bucketOf(key);
        if (wanted[bucket] !== 0) found(bucket, key);
      }
    } finally {
      snapshot.release();
    }
    return out;
  }
}
