// Start-up loading: the snapshot, then every append log that follows it, in generation order.
// Damage stops the start naming file and offset; with --repair intact blocks are kept and the
// damaged file is linked aside (never deleted) before anything replaces it.

import { closeSync, copyFileSync, existsSync, fstatSync, linkSync, openSync, readdirSync, readSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ValueTooLargeError } from "../store/errors.ts";
import { systemErrorText } from "../common/system-error.ts";
import type { Store } from "../store/types.ts";
import { LOG_FILE } from "./append-log.ts";
import { removeStaleTemps } from "./atomic-file.ts";
import { decodeFile, END_BLOCK_BYTES, statedRecordCount, type DecodedFile } from "./file-codec.ts";
import type { ByteSource } from "./file-window.ts";
import { decodeFileHeader, FILE_HEADER_BYTES, FormatError, LOG_MAGIC, SNAPSHOT_MAGIC, TOMBS_VERSION, UnsupportedVersionError } from "./frame.ts";
import { decodeRecords, SET_HEAD_BYTES, type RecordVisitor } from "./records.ts";
import type { ReplayClock } from "./replay-clock.ts";
import { LoadedTombs } from "./tombs.ts";

export const SNAPSHOT_FILE = "owlcache.db";
const LOG_NAME = /^owlcache\.aof(?:\.(\d+))?$/;
/** A progress line every this many records (SPEC: loading more than a few hundred thousand keys). */
export const PROGRESS_EVERY = 250_000;

/** A data file the server cannot start from; the message names the file and the offset. */
export class LoadError extends Error {}

export interface LogFile {
  readonly path: string;
  readonly generation: number;
  /** its format version (a log that may not hold tombstones is not continued by a sync node) */
  readonly version: number;
}

export interface DamagedFile {
  readonly path: string;
  readonly error: FormatError;
  /** where the damaged file was linked aside */
  readonly asidePath: string;
  readonly skippedBlocks: number;
  /** bytes of the file not read as its header or an intact block */
  readonly skippedBytes: number;
  /** records of the file's intact blocks, which were loaded */
  readonly keptRecords: number;
}

export interface LoadResult {
  /** live keys after loading */
  readonly keys: number;
  /** keys that expired while the server was down, dropped */
  readonly expired: number;
  readonly snapshotRecords: number;
  readonly logRecords: number;
  readonly ms: number;
  readonly snapshotGeneration: number;
  /** highest generation seen in any file: the next snapshot gets a higher one */
  readonly maxGeneration: number;
  /** logs replayed, in order; the last one is where appending continues */
  readonly logs: readonly LogFile[];
  /** logs older than the snapshot: already contained in it */
  readonly staleLogs: readonly string[];
  readonly damaged: readonly DamagedFile[];
  /** problems --repair accepted that are not damage inside a file (e.g. a missing snapshot) */
  readonly warnings: readonly string[];
  /** sync's tombstones and watermark (only when asked for: `tombstones`) */
  readonly tombs: LoadedTombs | undefined;
}

export interface LoadOptions {
  readonly dir: string;
  readonly store: Store;
  readonly clock: ReplayClock;
  readonly repair: boolean;
  readonly progress?: (records: number) => void;
  /**
   * Collect sync's tombstones and watermark, and lay one for every key dropped as expired (a node
   * with sync on). Without it those records are read past and nothing is kept.
   */
  readonly tombstones?: boolean;
}

/**
 * Loads the data files into `store` with eviction off (as redis-server loads): the evictions of
 * the run that wrote them are in its log as deletes, so what loads is what was acknowledged. A
 * caller whose store is over MaxMemory afterwards (it was lowered) evicts down itself.
 */
export function loadData(options: LoadOptions): LoadResult {
  const { store } = options;
  store.setEviction?.(false);
  const tombs = options.tombstones ? new LoadedTombs() : undefined;
  // A key that expired (in the snapshot, during replay, or while the node was down) stands for a
  // write that is gone, as sync's expiry tombstones say in a running node. Its origin is not in
  // the files: "" (unknown), as for every key loaded; an entry of the log with the same version
  // and its origin takes its place.
  if (tombs) store.onExpired((key, writtenAt) => tombs.lay(key, writtenAt, ""));
  try {
    return loadFiles(options, tombs);
  } finally {
    if (tombs) store.onExpired(undefined);
    store.setEviction?.(true);
  }
}

function loadFiles(options: LoadOptions, tombs: LoadedTombs | undefined): LoadResult {
  const started = performance.now();
  const { dir, store, clock, repair } = options;
  removeStaleTemps(join(dir, SNAPSHOT_FILE));
  removeStaleTemps(join(dir, LOG_FILE));
  const damaged: DamagedFile[] = [];
  let total = 0;
  const counted = (records = 1): void => {
    const before = total;
    total += records;
    const step = Math.floor(total / PROGRESS_EVERY);
    if (step > Math.floor(before / PROGRESS_EVERY)) options.progress?.(step * PROGRESS_EVERY);
  };
  // Stores with a bulk path take set records by position, a batch at a time.
  const load = store.load?.bind(store);

  const snapshotPath = join(dir, SNAPSHOT_FILE);
  let snapshotGeneration = 0;
  let snapshotRecords = 0;
  if (existsSync(snapshotPath)) {
    const visitor: RecordVisitor = {
      set: (key, value, expiresAt, writtenAt) => {
        store.set(key, value, expiresAt, writtenAt);
        snapshotRecords++;
        counted();
      },
      sets:
        load &&
        ((batch) => {
          load(batch);
          snapshotRecords += batch.count;
          counted(batch.count);
        }),
      expire: unexpected,
      delete: unexpected,
      flush: unexpected,
      tomb: tombs && ((key, at, origin) => (tombs.lay(key, at, origin), counted())),
      watermark: tombs && ((at, origin) => (tombs.raise({ at, origin }), counted())),
    };
    const decoded = withFile(snapshotPath, (file) => {
      if (store.reserve) {
        // At most one record per SET_HEAD_BYTES of file, whatever a damaged end block says.
        const stated = statedRecordCount(readTail(file, END_BLOCK_BYTES));
        if (stated !== undefined) store.reserve(store.size + Math.min(stated, Math.floor(file.size / SET_HEAD_BYTES)));
      }
      return decodeChecked(snapshotPath, () =>
        decodeFile(file, SNAPSHOT_MAGIC, repair, (payload, count, base, version) =>
          decodeRecords(payload, count, base, visitor, true, version >= TOMBS_VERSION),
        ),
      );
    });
    snapshotGeneration = decoded.header.generation;
    if (decoded.damage) damaged.push(setAside(snapshotPath, decoded.damage, decoded));
  }

  const logs: LogFile[] = [];
  const staleLogs: string[] = [];
  let maxGeneration = snapshotGeneration;
  for (const log of listLogs(dir)) {
    const header = decodeChecked(log, () => decodeFileHeader(readHead(log), LOG_MAGIC), repair);
    if (header === undefined) {
      // Header damaged (repair mode): its place in the order is unknown, so it is replayed last.
      logs.push({ path: log, generation: Number.MAX_SAFE_INTEGER, version: 0 });
      continue;
    }
    const { generation, version } = header;
    maxGeneration = Math.max(maxGeneration, generation);
    if (generation < snapshotGeneration) staleLogs.push(log);
    else logs.push({ path: log, generation, version });
  }
  logs.sort((a, b) => a.generation - b.generation);
  const warnings = checkChain(logs, snapshotPath, existsSync(snapshotPath) ? snapshotGeneration : undefined, repair);

  let logRecords = 0;
  const replay: RecordVisitor = {
    set: (key, value, expiresAt, writtenAt) => (store.set(key, value, expiresAt, writtenAt), logRecords++, counted()),
    sets: load && ((batch) => (load(batch), (logRecords += batch.count), counted(batch.count))),
    expire: (key, expiresAt, writtenAt) => (store.setExpiry(key, expiresAt, writtenAt), logRecords++, counted()),
    delete: (key) => (store.delete(key), logRecords++, counted()),
    flush: () => (store.clear(), tombs?.flush(), logRecords++, counted()),
    // (the delete or expiry a tombstone stands for has its own record, or happens in replay)
    tomb: tombs && ((key, at, origin) => (tombs.lay(key, at, origin), logRecords++, counted())),
    watermark: tombs && ((at, origin) => (tombs.raise({ at, origin }), logRecords++, counted())),
  };
  for (const log of logs) {
    try {
      const decoded = withFile(log.path, (file) =>
        decodeChecked(log.path, () =>
          decodeFile(file, LOG_MAGIC, repair, (payload, count, base, version) => {
            if (payload.length < 8) throw new FormatError(base, "log block without its time", false);
            // Judge expiry as at the time of these writes, not now (see ReplayClock).
            clock.pin(new DataView(payload.buffer, payload.byteOffset, 8).getFloat64(0, true));
            decodeRecords(payload.subarray(8), count, base + 8, replay, false, version >= TOMBS_VERSION);
            // The blocks this one's overwrites and deletes freed serve the next (the load is one turn).
            store.settle?.();
          }),
        ),
      );
      if (decoded.damage) damaged.push(setAside(log.path, decoded.damage, decoded));
    } finally {
      clock.unpin();
    }
  }

  const expiredBefore = store.stats().expired;
  store.advance(clock.now());
  const expired = store.stats().expired - expiredBefore;
  const intact = logs.filter((log) => !damaged.some((d) => d.path === log.path) && log.generation !== Number.MAX_SAFE_INTEGER);
  return {
    keys: store.size,
    expired,
    snapshotRecords,
    logRecords,
    ms: performance.now() - started,
    snapshotGeneration,
    maxGeneration,
    logs: intact,
    staleLogs,
    damaged,
    warnings,
    tombs,
  };
}

/**
 * Each snapshot starts a log, so the logs to replay must begin at the snapshot's generation and
 * follow one another without a gap; otherwise writes are missing (a lost or older snapshot).
 */
function checkChain(logs: readonly LogFile[], snapshotPath: string, snapshotGeneration: number | undefined, repair: boolean): string[] {
  const problems: string[] = [];
  let expected = snapshotGeneration ?? 0;
  let first = true;
  for (const log of logs) {
    if (log.generation === Number.MAX_SAFE_INTEGER) break;
    if (log.generation !== expected) {
      const before = first
        ? `${snapshotPath} is ${snapshotGeneration === undefined ? "missing" : `of generation ${snapshotGeneration}`}`
        : `the log of generation ${expected} is missing`;
      problems.push(`${log.path}: follows generation ${log.generation}, but ${before}; the writes before it are not there`);
    }
    expected = log.generation + 1;
    first = false;
  }
  if (problems.length > 0 && !repair) {
    throw new LoadError(`${problems[0]}. Refusing to start; run with --repair to start from the files that are there`);
  }
  return problems;
}

/** owlcache.aof and owlcache.aof.N files in `dir`. */
export function listLogs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => LOG_NAME.test(name))
    .map((name) => join(dir, name));
}

/** Removes logs already contained in a snapshot of generation `generation`, except `keep`. */
export function removeLogsBefore(dir: string, generation: number, keep: string | undefined): void {
  for (const log of listLogs(dir)) {
    if (log === keep) continue;
    let logGeneration: number;
    try {
      logGeneration = decodeFileHeader(readHead(log), LOG_MAGIC).generation;
    } catch {
      continue; // unreadable: not ours to delete
    }
    if (logGeneration < generation) rmSync(log, { force: true });
  }
}

/** Runs `use` on the file as positioned reads (decodeFile reads it a chunk at a time). */
function withFile<T>(path: string, use: (file: ByteSource) => T): T {
  const fd = openData(path);
  try {
    const size = fstatSync(fd).size;
    return use({ size, read: (into, at, length, position) => readOrFail(path, () => readSync(fd, into, at, length, position)) });
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a data file for reading; one that is not a regular file (a directory of that name) or
 * cannot be opened stops the start with its path, even under --repair: there is nothing to keep.
 */
function openData(path: string): number {
  const fd = readOrFail(path, () => openSync(path, "r"));
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    const what = stat.isDirectory() ? "a directory" : "not a regular file";
    throw new LoadError(`${path} is ${what}, not a data file; refusing to start. Move it out of the data directory`);
  }
  return fd;
}

/** Runs a read; a system error (EIO, EACCES…) becomes a LoadError naming the file. */
function readOrFail<T>(path: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    const text = systemErrorText(error);
    if (text !== undefined) throw new LoadError(`${path}: cannot be read (${text}); refusing to start`);
    throw error;
  }
}

/** The last `n` bytes of a file (fewer if it is shorter). */
function readTail(file: ByteSource, n: number): Uint8Array {
  const tail = new Uint8Array(Math.min(n, file.size));
  let done = 0;
  while (done < tail.length) {
    const read = file.read(tail, done, tail.length - done, file.size - tail.length + done);
    if (read <= 0) break;
    done += read;
  }
  return tail.subarray(0, done);
}

/** The first bytes of a file (its header), without reading the rest. */
function readHead(path: string): Uint8Array {
  const fd = openData(path);
  try {
    const head = new Uint8Array(FILE_HEADER_BYTES);
    const n = readOrFail(path, () => readSync(fd, head, 0, FILE_HEADER_BYTES, 0));
    return head.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function unexpected(): never {
  throw new FormatError(0, "a snapshot holds only set records", false);
}

function decodeChecked<T>(path: string, run: () => T): T;
function decodeChecked<T>(path: string, run: () => T, repair: boolean): T | undefined;
function decodeChecked<T>(path: string, run: () => T, repair?: boolean): T | undefined {
  try {
    return run();
  } catch (error) {
    if (error instanceof UnsupportedVersionError) {
      throw new LoadError(`${path}: ${error.message}; refusing to start rather than lose or overwrite it`);
    }
    if (error instanceof ValueTooLargeError) {
      // MaxMemory was lowered below a single stored entry: no eviction can make it fit.
      throw new LoadError(
        `${path}: holds key ${printable(error.key)} with ${error.bytes} bytes of key and value, more than MaxMemory (${error.maxMemory} bytes). ` +
          `Refusing to start; raise MaxMemory to at least ${error.bytes} (0 = no limit), or start once with the MaxMemory it was written under and delete or shrink that key`,
      );
    }
    if (error instanceof FormatError) {
      if (repair) return undefined;
      throw new LoadError(
        `${path}: ${error.message}. Refusing to start; run with --repair to keep every intact record (the damaged file is kept aside)`,
      );
    }
    throw error;
  }
}

/** A key for a message: as text (JSON-quoted), cut short if long. */
function printable(key: Uint8Array): string {
  const text = new TextDecoder().decode(key);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

function setAside(path: string, error: FormatError, decoded: DecodedFile): DamagedFile {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const asidePath = `${path}.damaged-${stamp}`;
  try {
    linkSync(path, asidePath);
  } catch {
    copyFileSync(path, asidePath);
  }
  return { path, error, asidePath, skippedBlocks: decoded.skippedBlocks, skippedBytes: decoded.skippedBytes, keptRecords: decoded.records };
}
