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

/** Visits one tombstone: its key as a binary string, the write time it stands for, its origin. */
export type TombVisit = (key: string, at: number, origin: string) => void;

/**
 * What a snapshot saves of sync's: the watermark, captured in the keyspace's pause, and the
 * tombstones, walked part by part (a page of sync's tombstone table each) while the snapshot is written, so a
 * million of them do not hold the event loop in that pause (~0.25 s). A tombstone laid or
 * dropped meanwhile is in the new append log too (a lay, a flush, a watermark, a write of the
 * key), whose replay after the snapshot settles it; one past its grace may go either way. Without
 * an append log there is no such record: the snapshot walks them in the pause (`walkedNow`).
 */
export interface TombCapture {
  /** undefined when there was never a flush */
  readonly watermark: SavedWatermark | undefined;
  /** false when there is no tombstone at all: the file then needs no version 2 for them */
  readonly any: boolean;
  /** Gives the next part's tombstones to `visit`; false (nothing visited) once all parts were given. */
  more(visit: TombVisit): boolean;
  /**
   * The same tombstones as they stand now, walked later: offered by a source that can copy them
   * faster than a walk reads them (sync's table copies its typed arrays); `walkedNow` takes it.
   */
  frozen?(): TombCapture;
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

  forEachTomb(visit: TombVisit): void {
    for (const [k, t] of this.tombs) visit(k, t.at, t.origin);
  }
}

/**
 * What a snapshot saves of a set of tombstones (sync's digest, or what a load found before sync
 * took it over) kept in `parts` parts: those written after `oldest` (the rest are past their
 * grace), part by part as the snapshot asks, and the watermark.
 */
export function captureTombs(
  parts: number,
  forEachIn: (part: number, visit: TombVisit) => void,
  any: boolean,
  oldest: number,
  watermark: SavedWatermark | undefined,
): TombCapture {
  let part = 0;
  return {
    watermark,
    any,
    more(visit) {
      if (!any || part >= parts) return false;
      forEachIn(part++, (k, at, origin) => {
        if (at > oldest) visit(k, at, origin);
      });
      return true;
    },
  };
}

/** tombstones per part of a capture walked at once (`walkedNow`) */
const WALKED_PART = 4096;

/**
 * The whole capture walked now and given back part by part. A node without an append log takes
 * its tombstones this way, in the capture's pause: a tombstone dropped while the snapshot is
 * written (the key written again, a flush) would be in no file, and a crash would lose it with
 * the write that dropped it, letting a peer's older value back.
 */
export function walkedNow(capture: TombCapture): TombCapture {
  if (capture.frozen) return capture.frozen();
  const keys: string[] = [];
  const at: number[] = [];
  const origins: string[] = [];
  while (
    capture.more((k, t, origin) => {
      keys.push(k);
      at.push(t);
      origins.push(origin);
    })
  );
  // given back in parts, so the encoder's part buffer holds one part, not a second copy of all
  const parts = Math.ceil(keys.length / WALKED_PART);
  return captureTombs(parts, (part, visit) => {
    for (let i = part * WALKED_PART; i < Math.min(keys.length, (part + 1) * WALKED_PART); i++) visit(keys[i]!, at[i]!, origins[i]!);
  }, keys.length > 0, -Infinity, capture.watermark);
}
