// The append log (owlcache.aof): every accepted write is encoded as it happens and the batch is
// written (and with `always` fsynced) in the engine's before-reply hook, so no reply leaves before
// its write is in the log. One block per batch: one write(2), one checksum.

import { closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Mutation } from "../store/keyspace.ts";
import type { Clock } from "../store/types.ts";
import { syncDir } from "../common/atomic-file.ts";
import { TEMP_SUFFIX } from "./atomic-file.ts";
import { encodeFileHeader, LOG_MAGIC } from "./frame.ts";
import { BlockWriter } from "./records.ts";
import type { SavedWatermark, TombJournal } from "./tombs.ts";

export const LOG_FILE = "owlcache.aof";

export type FsyncPolicy = "always" | "everysec" | "no";

/** everysec: how often written bytes are fsynced (in the thread pool, off the event loop). */
export const EVERYSEC_MS = 1000;

export class AppendLog {
  private readonly writer = new BlockWriter();
  private unsynced = false;
  private syncing: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private readonly timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  private constructor(
    private fd: number,
    private currentPath: string,
    private currentGeneration: number,
    private readonly policy: FsyncPolicy,
    private readonly clock: Clock,
    /**
     * a write or fsync failed. The log keeps the batch (and cuts off any part of it that reached
     * the file) for a retry on the next flush; persistence stops the server instead (fatal).
     */
    private readonly onError: (error: unknown, path: string) => void,
    /** the format version of the files it writes (TOMBS_VERSION when sync's records may come) */
    private readonly version: number,
  ) {
    if (policy === "everysec") {
      this.timer = setInterval(() => this.syncInBackground(), EVERYSEC_MS);
      this.timer.unref?.();
    }
  }

  /** Creates (or empties) a log file following snapshot `generation`, durably, before any write. */
  static create(path: string, generation: number, policy: FsyncPolicy, clock: Clock, onError: (error: unknown, path: string) => void, version: number): AppendLog {
    return new AppendLog(createLogFile(path, generation, version), path, generation, policy, clock, onError, version);
  }

  /** Continues an existing, fully valid log file of format `version`. */
  static reopen(path: string, generation: number, policy: FsyncPolicy, clock: Clock, onError: (error: unknown, path: string) => void, version: number): AppendLog {
    return new AppendLog(openSync(path, "a"), path, generation, policy, clock, onError, version);
  }

  get path(): string {
    return this.currentPath;
  }

  /** Writes are gathered that have not reached the file yet (replies must wait for `flush`). */
  readonly pending = (): boolean => this.writer.length > 0;

  get generation(): number {
    return this.currentGeneration;
  }

  /** The keyspace's mutation listener: copies the write into the open batch. */
  readonly record = (m: Mutation): void => {
    if (this.closed) return;
    const w = this.open();
    if (m.type === "set") w.set(m.key, m.value, m.expiresAt, m.writtenAt);
    else if (m.type === "expire") w.expire(m.key, m.expiresAt, m.writtenAt);
    else if (m.type === "delete") w.delete(m.key, m.writtenAt);
    else w.flush(m.writtenAt);
  };

  /**
   * Sync's tombstones and watermarks, logged as sync lays them (after the delete or flush record
   * of the same write, in the same batch). Only a log of TOMBS_VERSION takes them.
   */
  readonly journal: TombJournal = {
    tomb: (key, at, origin) => {
      if (!this.closed) this.open().tomb(key, at, this.originBytes(origin));
    },
    watermark: (w: SavedWatermark) => {
      if (!this.closed) this.open().watermark(w.at, this.originBytes(w.origin));
    },
  };

  private lastOrigin = "";
  private lastOriginBytes = new Uint8Array(0);

  /** Nearly every tombstone carries one of a few node addresses: encode a repeat once. */
  private originBytes(origin: string): Uint8Array {
    if (origin !== this.lastOrigin) {
      this.lastOrigin = origin;
      this.lastOriginBytes = new TextEncoder().encode(origin);
    }
    return this.lastOriginBytes;
  }

  /** The writer with the batch's block open (opened, and its flush queued, by the first write). */
  private open(): BlockWriter {
    const w = this.writer;
    if (!w.isBlockOpen) {
      w.beginBlock(this.clock.now());
      // A write that no transport answers (e.g. a background task) still reaches the file in
      // this turn of the event loop. (Not a microtask: the stream servers gather the writes of
      // every connection served in the turn and flush them in one write before any reply.)
      if (!this.flushQueued) {
        this.flushQueued = true;
        setImmediate(this.flush);
      }
    }
    return w;
  }

  /** The group commit: called before replies leave. Writes the batch; fsyncs it with `always`. */
  readonly flush = (): void => {
    this.flushQueued = false;
    const w = this.writer;
    w.sealBlock();
    const bytes = w.sealed();
    if (bytes.length === 0) return;
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
      w.reset();
      if (this.policy === "always") fdatasyncSync(this.fd);
      else this.unsynced = true;
    } catch (error) {
      // Keep the batch for the next flush, and cut off any part of it that did reach the file,
      // so the log never holds a torn block followed by good ones.
      if (done > 0 && done < bytes.length) {
        try {
          ftruncateSync(this.fd, fstatSync(this.fd).size - done);
        } catch {
          // the loader will report the torn block with its offset
        }
      }
      this.onError(error, this.currentPath);
    }
  };

  /**
   * Starts a new log file for snapshot `generation` (called in the same tick as the capture, so
   * every write is either in the snapshot or in the new log). The old file is fsynced and closed
   * in the background; it stays on disk until the snapshot is safely written.
   */
  rotate(path: string, generation: number): void {
    this.flush();
    const fd = createLogFile(path, generation, this.version);
    const old = this.fd;
    this.fd = fd;
    this.currentPath = path;
    this.currentGeneration = generation;
    this.unsynced = false;
    this.syncing = this.syncing.then(() => new Promise<void>((resolve) => fdatasync(old, () => (closeNoThrow(old), resolve()))));
  }

  /** Renames the current file (owlcache.aof.N → owlcache.aof once snapshot N is safe). */
  rename(path: string): void {
    renameSync(this.currentPath, path);
    syncDir(dirname(path));
    this.currentPath = path;
  }

  /** Flushes, fsyncs and closes (graceful stop). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.syncing;
    try {
      fdatasyncSync(this.fd);
    } catch (error) {
      this.onError(error, this.currentPath);
    }
    closeNoThrow(this.fd);
  }

  private syncInBackground(): void {
    if (!this.unsynced || this.closed) return;
    this.unsynced = false;
    const fd = this.fd;
    this.syncing = this.syncing.then(
      () =>
        new Promise<void>((resolve) =>
          fdatasync(fd, (error) => {
            if (error && fd === this.fd) {
              this.unsynced = true;
              this.onError(error, this.currentPath);
            }
            resolve();
          }),
        ),
    );
  }
}

/** Header written to a temp file and renamed in, so a crash never leaves a headerless log. */
function createLogFile(path: string, generation: number, version: number): number {
  const temp = `${join(dirname(path), LOG_FILE)}${TEMP_SUFFIX}${process.pid}-${++tempCounter}`;
  const fd = openSync(temp, "w", 0o600);
  try {
    writeSync(fd, encodeFileHeader(LOG_MAGIC, generation, Date.now(), version));
    fdatasyncSync(fd);
  } catch (error) {
    closeNoThrow(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeNoThrow(fd);
  renameSync(temp, path);
  syncDir(dirname(path));
  return openSync(path, "a");
}

let tempCounter = 0;

function closeNoThrow(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
