// Sync's tombstones and flush watermark as persistence keeps them (format version 2). Sync owns
// them in memory; persistence saves them with the keyspace (snapshot), logs each as it is laid
// (append log) and hands what it loaded back to sync before sync starts, so a restarted node
// still knows what was deleted or expired, and an older value held by a peer is not resurrected.
// Per tombstone only key, `at` (the write time of the version that is gone) and origin are kept:
// everything else sync recomputes.

import { coveredBy, newerWatermark, type Watermark } from "../cluster/sync/version.ts";
import { bytesToBinaryString } from "../store/bytes.ts";

/** A flush watermark as saved: sync's own (time and origin of the newest flush). */
export type SavedWatermark = Watermark;

/** What a snapshot captures, in the same pause as the keyspace (parallel arrays: no object per tombstone). */
export interface TombCapture {
  /** keys as binary strings */
  readonly keys: readonly string[];
  readonly at: readonly number[];
  readonly origins: readonly string[];
  /** undefined when there was never a flush */
  readonly watermark: SavedWatermark | undefined;
}

/** Where sync reports each tombstone and watermark it lays, as it lays it (the append log). */
export interface TombJournal {
  tomb(key: Uint8Array, at: number, origin: string): void;
  watermark(watermark: SavedWatermark): void;
}

/**
 * The tombstones a load found: the snapshot's, then the log's in write order, then the keys the
 * load dropped as expired while the node was down. Grace is judged by sync when it takes them.
 */
export class LoadedTombs {
  /** key (binary string) → its newest tombstone */
  readonly tombs = new Map<string, { at: number; origin: string }>();
  watermark: SavedWatermark | undefined;

  /** A tombstone of the version (at, origin); an older one of the key gives way. */
  lay(key: Uint8Array, at: number, origin: string): void {
    const k = bytesToBinaryString(key);
    const old = this.tombs.get(k);
    // The same version with a known origin beats one found expired at load (origin unknown: "").
    if (old !== undefined && (old.at > at || (old.at === at && origin === ""))) return;
    this.tombs.set(k, { at, origin });
  }

  /** A local flush: every tombstone before it goes, as in sync's digest. */
  flush(): void {
    this.tombs.clear();
  }

  /** A watermark (local or remote flush): tombstones it covers go. */
  raise(watermark: SavedWatermark): void {
    if (this.watermark !== undefined && !newerWatermark(watermark, this.watermark)) return;
    this.watermark = watermark;
    for (const [k, t] of this.tombs) if (coveredBy(watermark, t.at, t.origin)) this.tombs.delete(k);
  }

  forEachTomb(visit: (key: string, at: number, origin: string) => void): void {
    for (const [k, t] of this.tombs) visit(k, t.at, t.origin);
  }
}

/**
 * What a snapshot saves of a set of tombstones (sync's digest, or what a load found before sync
 * took it over): those written after `oldest` (the rest are past their grace), and the watermark.
 */
export function captureTombs(forEachTomb: (visit: (key: string, at: number, origin: string) => void) => void, oldest: number, watermark: SavedWatermark | undefined): TombCapture {
  const keys: string[] = [];
  const at: number[] = [];
  const origins: string[] = [];
  forEachTomb((k, t, origin) => {
    if (t <= oldest) return;
    keys.push(k);
    at.push(t);
    origins.push(origin);
  });
  return { keys, at, origins, watermark };
}
