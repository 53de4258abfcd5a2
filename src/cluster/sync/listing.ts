// The live keys sync's digest keeps no entry for ("implicit": no TTL, their bucket's usual
// origin) are found by a pass over the store when a bucket must be listed. One pass serves every
// bucket an anti-entropy round lists, on both sides: the round's index is kept for a while. The
// pass goes by slices of the store's cursor with a turn of the event loop between them: at a
// million keys, one pass in a single turn held every client of the node for a quarter second.

import { nextTurn, type NextTurn } from "../../common/slicer.ts";
import { bytesToBinaryString } from "../../store/bytes.ts";
import type { Keyspace } from "../../store/keyspace.ts";
import { BUCKETS, bucketOf, type DigestState } from "./digest.ts";

/** how long a round's index of implicit keys serves listings (a round at a million keys takes ~20 s) */
const LISTING_INDEX_MS = 30_000;

/**
 * keys the store's cursor hands over per slice of the pass: ~3 ms of it on the compact store at a
 * million keys (8,192 took 12–26 ms a slice there, with another pass under way)
 */
export const SCAN_SLICE = 2_048;

/**
 * a request repeating a round's buckets this soon after its index was made takes that index (a
 * peer retrying a listing that timed out: HttpClientRequestTimeout is 2.7 s by default)
 */
const REPEAT_WINDOW_MS = 5_000;

/** at most this many round indexes are kept (this node's rounds and its peers') */
const MAX_INDEXES = 4;

export interface ListingIndex {
  /**
   * a peer's round: the buckets it asked for, as asked ("3,17,250"), so that its retry finds this
   * index; undefined for this node's own round (dropped when the round ends, never shared)
   */
  readonly round: string | undefined;
  /** made then: it serves listings LISTING_INDEX_MS from then, a retry REPEAT_WINDOW_MS */
  readonly at: number;
  /** 1 for each bucket the index covers */
  readonly covered: Uint8Array;
  /** bucket → its implicit keys (binary strings) when the index was made */
  readonly keys: Map<number, string[]>;
}

export class ImplicitKeys {
  /** the implicit keys of rounds' differing buckets (this node's and peers'), each from one pass */
  private indexes: ListingIndex[] = [];
  /** passes under way for peers' rounds: a peer's retry of a listing that timed out waits for the same one */
  private readonly building = new Map<string, Promise<ListingIndex>>();

  constructor(
    private readonly keyspace: Keyspace,
    private readonly digest: DigestState,
    /** what the pass awaits between its slices */
    private readonly turn: () => NextTurn = () => nextTurn,
  ) {}

  /**
   * The newest kept index that covers `bucket`, if any. It is never kept alive by use: a listing
   * must not go on missing keys written since its index was made (LISTING_INDEX_MS at most).
   */
  indexFor(bucket: number): ListingIndex | undefined {
    return this.indexes.findLast((i) => i.covered[bucket] === 1);
  }

  /**
   * One pass over the store for all the buckets a round will list, kept for LISTING_INDEX_MS so
   * the round's listings (32 buckets each, on both sides) do not each pass over the store. A
   * peer's round (`forPeer`) asked again soon (its first listing timed out while this node passed
   * over a million keys) gets the pass under way or the index it made; this node's own round
   * always gets an index of its own, which it drops when it ends.
   */
  index(buckets: readonly number[], forPeer = false): Promise<ListingIndex> {
    if (!forPeer) return this.build(buckets, undefined);
    const round = buckets.join(",");
    const building = this.building.get(round);
    if (building) return building;
    // Only a fresh one: a later round must see keys written since (a peer catching up asks for
    // the same buckets round after round).
    const now = this.keyspace.now();
    const kept = this.indexes.findLast((i) => i.round === round && now - i.at < REPEAT_WINDOW_MS);
    if (kept) return Promise.resolve(kept);
    const made = this.build(buckets, round).finally(() => this.building.delete(round));
    this.building.set(round, made);
    return made;
  }

  private async build(buckets: readonly number[], round: string | undefined): Promise<ListingIndex> {
    const covered = new Uint8Array(BUCKETS);
    for (const b of buckets) covered[b] = 1;
    const keys = await this.scan(buckets);
    this.prune();
    const index = { round, at: this.keyspace.now(), covered, keys };
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

  /**
   * The implicit keys of these buckets, by bucket: one pass over the store by its walk, a slice
   * (SCAN_SLICE keys) per turn of the event loop. A key present for the whole pass is found once;
   * one set or deleted meanwhile may or may not be (harmless: the next round lists it).
   */
  async scan(buckets: readonly number[]): Promise<Map<number, string[]>> {
    const turn = this.turn();
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
    // (a walk of its own: client SCANs meanwhile cannot make it skip keys)
    const walk = this.keyspace.store.walk();
    for (;;) {
      const slice = walk.next(SCAN_SLICE);
      for (const key of slice.keys) {
        const bucket = bucketOf(key);
        if (wanted[bucket] === 0) continue;
        // (keys with a time to live are tracked: skipped here)
        const k = bytesToBinaryString(key);
        if (digest.hasTracked(bucket) && digest.isTracked(bucket, k)) continue;
        let list = out.get(bucket);
        if (list === undefined) out.set(bucket, (list = []));
        list.push(k);
      }
      if (slice.done) return out;
      await turn();
    }
  }
}
