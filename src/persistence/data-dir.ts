// The data directory (DBfile), claimed before anything reads or writes it: a directory (made if
// missing) this process can write, used by no other server at the same time. Two servers on one
// directory would each rotate, rename and remove the other's snapshot and logs; a directory the
// server cannot write would take writes all day and lose them all at the final snapshot.

import { closeSync, constants, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { dlopen, FFIType, read } from "bun:ffi";
import { systemErrorText } from "../common/system-error.ts";

/** Held with flock(2) while the server runs; holds the holder's pid, for the next one's message. */
export const LOCK_FILE = "owlcache.lock";

/** A data directory the server cannot use; the message names it and says what to do. */
export class DataDirError extends Error {}

export interface DataDirClaim {
  readonly lockPath: string;
  /** false where flock could not be reached (libc not found): the directory is not locked */
  readonly locked: boolean;
}

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

interface Flock {
  flock(fd: number, operation: number): number;
  errno(): number;
}

function openFlock(): Flock | undefined {
  try {
    const { symbols } = dlopen("libc.so.6", {
      flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      __errno_location: { args: [], returns: FFIType.ptr },
    });
    return {
      flock: (fd, operation) => symbols.flock(fd, operation) as number,
      errno: () => {
        const at = symbols.__errno_location();
        return at === null ? 0 : read.i32(at, 0);
      },
    };
  } catch {
    return undefined;
  }
}

const libc = openFlock();

/**
 * Makes sure `dir` is a writable directory and locks it for this process. The lock is an open
 * file description with flock(LOCK_EX): the kernel drops it when the process ends in any way,
 * kill -9 included, so a stale lock file never blocks a start. Throws DataDirError.
 */
export function claimDataDir(dir: string): DataDirClaim {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    if (!isFileInTheWay(dir)) throw new DataDirError(`data directory ${dir} cannot be created (${reason(error)}); point DBfile at a directory this user can create`);
  }
  if (isFileInTheWay(dir)) throw new DataDirError(`data directory ${dir} is not a directory (a file of that name is in the way); point DBfile at a directory`);
  checkWritable(dir);
  const lockPath = join(dir, LOCK_FILE);
  // O_RDWR|O_CREAT without O_TRUNC: the pid inside belongs to the holder until we hold the lock.
  let fd: number;
  try {
    fd = openSync(lockPath, constants.O_RDWR | constants.O_CREAT, 0o600);
  } catch (error) {
    throw new DataDirError(`data directory ${dir}: cannot open ${lockPath} (${reason(error)}); move whatever is there out of the way`);
  }
  if (!libc) return { lockPath, locked: false };
  if (libc.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    const errno = libc.errno();
    closeSync(fd);
    if (errno === EWOULDBLOCK) {
      const holder = readHolder(lockPath);
      throw new DataDirError(
        `data directory ${dir} is in use by another owlcache${holder ? ` (pid ${holder})` : ""}: it holds ${lockPath}. ` +
          "Two servers on one data directory would destroy each other's data; stop that one, or give this one another DBfile",
      );
    }
    throw new DataDirError(`data directory ${dir}: could not lock ${lockPath} (errno ${errno}); refusing to start unlocked`);
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`, 0);
  // The descriptor stays open (unreferenced) for the life of the process: closing it would unlock.
  return { lockPath, locked: true };
}

function isFileInTheWay(dir: string): boolean {
  try {
    return !statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Creates and removes a file, as a snapshot does: a read-only mount or a directory without write
 * permission is found now, not at the first snapshot (with Appendonly 0, at the final one).
 */
function checkWritable(dir: string): void {
  const probe = join(dir, `owlcache.probe-${process.pid}`);
  try {
    closeSync(openSync(probe, "w", 0o600));
    rmSync(probe, { force: true });
  } catch (error) {
    throw new DataDirError(
      `data directory ${dir} is not writable (${reason(error)}): snapshots and the append log could not be saved. Refusing to start; make it writable for this user, or point DBfile elsewhere`,
    );
  }
}

function readHolder(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** "EACCES: permission denied" from a Node system error; the error's text otherwise. */
function reason(error: unknown): string {
  return systemErrorText(error)?.replace(/, \w+ '.*'$/, "") ?? String(error);
}
