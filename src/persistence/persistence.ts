// Persistence wiring (SPEC §6): loads at start, keeps the append log, takes snapshots on schedule
// and at stop. A snapshot is captured in one short pause, then encoded and written in chunks with
// async writes so requests keep being served; each snapshot starts a fresh log.

import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setLongInterval } from "../common/long-interval.ts";
import type { Logger } from "../log/logger.ts";
import type { Keyspace } from "../store/keyspace.ts";
import { AppendLog, LOG_FILE, type FsyncPolicy } from "./append-log.ts";
import { AtomicFileWriter } from "./atomic-file.ts";
import { captureStore } from "./capture.ts";
import { SnapshotEncoder } from "./file-codec.ts";
import { loadData, removeLogsBefore, SNAPSHOT_FILE, type LoadResult } from "./loader.ts";
import { TOMBS_VERSION } from "./frame.ts";
import type { ReplayClock } from "./replay-clock.ts";
import { captureTombs, walkedNow, type TombCapture, type TombJournal } from "./tombs.ts";

export interface PersistenceOptions {
  readonly dir: string;
  readonly keyspace: Keyspace;
  /** the same clock the store was built with, so replay can judge expiry at write time */
  readonly clock: ReplayClock;
  readonly engine: { onBeforeReply(hook: () => void, pending?: () => boolean): void };
  readonly log: Logger;
  readonly appendonly: boolean;
  readonly appendfsync: FsyncPolicy;
  /** ms between snapshot checks (a snapshot is written only if something changed) */
  readonly intervalMs: number;
  readonly repair: boolean;
  /**
   * The append log could not write (or fsync), whatever Appendfsync: acknowledging the batch
   * would be a lie. Must not return to the caller's batch (main exits), so no reply of it leaves.
   */
  readonly onFatal: (message: string) => void;
  /**
   * Sync is on: its tombstones and flush watermark are kept too (format version 2), those older
   * than this grace (GossipTombstoneTTL, ms) left out. Undefined without sync: nothing new is
   * written, and any such records a file holds are read past.
   */
  readonly tombGraceMs?: number;
  /** told after every snapshot attempt (metrics) */
  readonly onSnapshot?: (report: { ok: boolean; durationMs: number; bytes: number; at: number }) => void;
}

export interface SnapshotResult {
  readonly keys: number;
  readonly bytes: number;
  /** the event-loop pause to capture the keyspace */
  readonly captureMs: number;
  readonly totalMs: number;
  readonly generation: number;
  /** sync's tombstones kept (0 without sync) */
  readonly tombstones: number;
}

export interface PersistenceStatus {
  readonly appendonly: boolean;
  readonly appendfsync: FsyncPolicy;
  readonly unsavedChanges: boolean;
  readonly lastSnapshot?: { readonly ok: boolean; readonly at: string; readonly durationMs: number; readonly bytes: number };
}

export class Persistence {
  private appendLog: AppendLog | undefined;
  private generation = 0;
  private savedVersion = 0;
  private running: Promise<SnapshotResult | undefined> | undefined;
  /** stops the snapshot schedule */
  private stopSchedule: (() => void) | undefined;
  private loaded = false;
  private last: { ok: boolean; at: number; durationMs: number; bytes: number } | undefined;
  /** sync's tombstones for a snapshot, captured in the same pause as the keyspace */
  private tombSource: (() => TombCapture) | undefined;
  /**
   * Tombstones and watermarks laid so far, and as of the last snapshot: some change nothing in
   * the keyspace (a remote delete of a key this node lacks, an expiry), yet must be saved.
   */
  private tombEdits = 0;
  private savedTombEdits = 0;

  constructor(private readonly options: PersistenceOptions) {
    this.journal =
      options.tombGraceMs === undefined
        ? undefined
        : {
            tomb: (key, at, origin) => {
              this.tombEdits++;
              this.appendLog?.journal.tomb(key, at, origin);
            },
            watermark: (w) => {
              this.tombEdits++;
              this.appendLog?.journal.watermark(w);
            },
          };
  }

  get snapshotPath(): string {
    return join(this.options.dir, SNAPSHOT_FILE);
  }

  /**
   * Loads the data files into the store (throws LoadError naming file and offset), then — and only
   * then — opens the append log and starts the schedule. After a repair, writes a fresh snapshot
   * at once so the damaged files are no longer needed.
   */
  async open(progress?: (records: number) => void): Promise<LoadResult & { readonly evicted: number }> {
    const { dir, keyspace, clock, log, repair } = this.options;
    mkdirSync(dir, { recursive: true });
    const grace = this.options.tombGraceMs;
    const result = loadData({ dir, store: keyspace.store, clock, repair, progress, tombstones: grace !== undefined });
    this.loaded = true;
    // Until sync takes them over (setTombSource), a snapshot (a repair's) keeps what was loaded.
    const loadedTombs = result.tombs;
    if (loadedTombs && grace !== undefined) {
      this.tombSource = () => captureTombs(1, (_, visit) => loadedTombs.forEachTomb(visit), loadedTombs.tombs.size > 0, clock.now() - grace, loadedTombs.watermark);
    }
    this.generation = result.maxGeneration;
    this.savedVersion = keyspace.version;
    for (const warning of result.warnings) log.warn("repair", { message: warning });
    for (const d of result.damaged) {
      log.warn("repair", { file: d.path, offset: d.error.offset, damage: d.error.message, skippedBlocks: d.skippedBlocks, skippedBytes: d.skippedBytes, keptRecords: d.keptRecords, keptAside: d.asidePath });
    }
    const repaired = result.damaged.length > 0 || result.warnings.length > 0;
    if (repaired) {
      const written = await this.snapshot(true);
      if (!written) throw new Error("repair: could not write the repaired snapshot; the damaged files are untouched");
      // Every damaged log is in the new snapshot and linked aside; one whose header was unreadable
      // would otherwise stay and stop the next start.
      for (const d of result.damaged) if (d.path !== this.snapshotPath) rmSync(d.path, { force: true });
    } else {
      removeLogsBefore(dir, result.snapshotGeneration, undefined);
    }
    if (this.options.appendonly) this.openLog(result);
    const evicted = this.evictToLimit();
    // Task_DataBackup goes up to 10 days: longer than one timer can wait (see long-interval.ts).
    this.stopSchedule = setLongInterval(() => {
      this.snapshot(false).catch((error: unknown) => log.error("snapshot failed", { error }));
    }, this.options.intervalMs);
    return { ...result, keys: keyspace.store.size, evicted };
  }

  /**
   * Data loaded over MaxMemory (it was lowered since the files were written) is evicted down
   * before serving. With the log open the evictions go into it, so a crash cannot bring the keys
   * back; without it the next snapshot holds the smaller keyspace.
   */
  private evictToLimit(): number {
    const { keyspace, log } = this.options;
    const evicted = keyspace.evictToLimit();
    if (evicted === 0) return 0;
    this.appendLog?.flush();
    log.warn("evicted after load", { keys: evicted, keysLeft: keyspace.store.size, bytesLeft: keyspace.store.stats().bytes, reason: "the data loaded was over MaxMemory" });
    return evicted;
  }

  /**
   * Sync's tombstones, for every snapshot from now on: `capture` runs in the capture's pause and
   * returns what walks those still within their grace while the snapshot is written.
   */
  setTombSource(capture: () => TombCapture): void {
    this.tombSource = capture;
  }

  /**
   * Where sync reports each tombstone and watermark it lays: counted (so the next snapshot is
   * written), and logged when the append log is on. Undefined without sync.
   */
  readonly journal: TombJournal | undefined;

  /** Whether anything changed since the last snapshot. */
  private get unsaved(): boolean {
    return this.options.keyspace.version !== this.savedVersion || this.tombEdits !== this.savedTombEdits;
  }

  private openLog(result: LoadResult): void {
    const { dir, appendfsync, clock, keyspace, engine, log, onFatal } = this.options;
    // Fatal in every fsync mode (SPEC §6: a write is appended before its reply is sent). With
    // everysec or no, a failed write(2) used to be retried on the next batch while this batch's
    // replies said success: a crash (or a disk that stayed full) then lost acknowledged writes.
    // Exiting here, inside the group commit, keeps every reply of the batch from leaving; a
    // failed background fsync (everysec) ends the same way, the log can no longer be trusted.
    const onError = (error: unknown, path: string): void => {
      log.error("append log write failed", { file: path, error });
      onFatal(`${path}: append log write failed (${String(error)}); stopping rather than acknowledge writes that are not logged`);
    };
    // Continue the newest log that was replayed whole; otherwise start one after the snapshot.
    // A sync node writes version 2 (tombstone records); a version 1 log it finds is left as it
    // is and followed by a new one of the next generation, which the next snapshot replaces.
    const version = this.options.tombGraceMs === undefined ? 1 : TOMBS_VERSION;
    const last = result.damaged.length === 0 && result.warnings.length === 0 ? result.logs.at(-1) : undefined;
    if (last && last.version < version) {
      this.generation = last.generation + 1;
      this.appendLog = AppendLog.create(join(dir, `${LOG_FILE}.${this.generation}`), this.generation, appendfsync, clock, onError, version);
    } else {
      this.appendLog = last
        ? AppendLog.reopen(last.path, last.generation, appendfsync, clock, onError, last.version)
        : AppendLog.create(join(dir, LOG_FILE), this.generation, appendfsync, clock, onError, version);
    }
    keyspace.onMutation(this.appendLog.record);
    // An eviction is a delete in the log, in the batch of the write that made room for it.
    const appendLog = this.appendLog;
    keyspace.onEvict((key, at) => appendLog.record({ type: "delete", key, writtenAt: at }));
    engine.onBeforeReply(this.appendLog.flush, this.appendLog.pending);
  }

  /**
   * Writes a snapshot if the keyspace changed since the last one (or `force`). One at a time: a
   * call while one runs waits for it and then checks again.
   */
  async snapshot(force: boolean): Promise<SnapshotResult | undefined> {
    if (!this.loaded) throw new Error("a snapshot before loading finished would lose data");
    while (this.running) await this.running;
    if (!force && !this.unsaved) return undefined;
    this.running = this.write().finally(() => (this.running = undefined));
    return this.running;
  }

  private async write(): Promise<SnapshotResult | undefined> {
    const started = performance.now();
    const result = await this.writeSnapshot();
    const durationMs = performance.now() - started;
    this.last = { ok: result !== undefined, durationMs, bytes: result?.bytes ?? 0, at: this.options.clock.now() };
    this.options.onSnapshot?.(this.last);
    return result;
  }

  /** For /health: the append-log policy, the last snapshot and whether changes wait for the next. */
  status(): PersistenceStatus {
    const { appendonly, appendfsync } = this.options;
    return {
      appendonly,
      appendfsync,
      unsavedChanges: this.unsaved,
      lastSnapshot: this.last && { ok: this.last.ok, at: new Date(this.last.at).toISOString(), durationMs: Math.round(this.last.durationMs), bytes: this.last.bytes },
    };
  }

  private async writeSnapshot(): Promise<SnapshotResult | undefined> {
    const { dir, keyspace, clock, log } = this.options;
    const started = performance.now();
    const generation = this.generation + 1;
    const version = keyspace.version;
    const tombEdits = this.tombEdits;
    // Same tick: every write is either in this capture or in the new log, never in neither.
    try {
      this.appendLog?.rotate(join(dir, `${LOG_FILE}.${generation}`), generation);
    } catch (error) {
      log.error("snapshot failed: could not start a new append log", { error });
      return undefined;
    }
    this.generation = generation;
    const takenAt = clock.now();
    const view = captureStore(keyspace.store);
    // Walked while the file is written when the new log holds what changes meanwhile; else now.
    const captured = this.tombSource?.();
    const tombs = captured && !this.appendLog ? walkedNow(captured) : captured;
    const captureMs = performance.now() - started;
    const encoder = new SnapshotEncoder(view, generation, takenAt, tombs);
    let writer: AtomicFileWriter | undefined;
    try {
      writer = await AtomicFileWriter.create(this.snapshotPath);
      for (let chunk = encoder.nextChunk(); chunk; chunk = encoder.nextChunk()) await writer.write(chunk);
      await writer.commit();
    } catch (error) {
      await writer?.abort();
      log.error("snapshot failed", { file: this.snapshotPath, error });
      return undefined;
    } finally {
      view.release();
    }
    // The snapshot is durable: its log becomes owlcache.aof and older logs go.
    try {
      if (this.appendLog) this.appendLog.rename(join(dir, LOG_FILE));
      removeLogsBefore(dir, generation, this.appendLog?.path);
    } catch (error) {
      log.error("append log rotation failed", { error });
    }
    this.savedVersion = version;
    this.savedTombEdits = tombEdits;
    const result: SnapshotResult = {
      keys: encoder.records,
      bytes: writer.size,
      captureMs: round(captureMs),
      totalMs: round(performance.now() - started),
      generation,
      tombstones: encoder.tombstones,
    };
    log.info("snapshot", { file: this.snapshotPath, ...result });
    return result;
  }

  /**
   * Graceful stop: a final snapshot if anything changed, then the log is flushed and closed.
   * False when the final snapshot failed (the log, if on, still holds the writes).
   */
  async close(): Promise<boolean> {
    this.stopSchedule?.();
    if (!this.loaded) return true;
    await this.snapshot(false);
    await this.appendLog?.close();
    return !this.unsaved;
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
