// The data directory (DBfile), checked before anything reads or writes it: a directory (made if
// missing) this process can write. A directory the server cannot write would take writes all day
// and lose them all at the final snapshot.

import { closeSync, mkdirSync, openSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

/** A data directory the server cannot use; the message names it and says what to do. */
export class DataDirError extends Error {}

/** Makes sure `dir` is a directory this process can write, making it if missing. Throws DataDirError. */
export function claimDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    if (!isFileInTheWay(dir)) throw new DataDirError(`data directory ${dir} cannot be created (${reason(error)}); point DBfile at a directory this user can create`);
  }
  if (isFileInTheWay(dir)) throw new DataDirError(`data directory ${dir} is not a directory (a file of that name is in the way); point DBfile at a directory`);
  checkWritable(dir);
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

/** "EACCES: permission denied" from a Node system error; the error's text otherwise. */
function reason(error: unknown): string {
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    const text = error.message.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*'$/, "");
    return `${error.code}: ${text}`;
  }
  return String(error);
}
