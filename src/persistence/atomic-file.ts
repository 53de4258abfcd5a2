// Crash-safe file replacement (Redis rdbSave's habit): write a temporary file in the same
// directory, fsync it, rename it over the target, fsync the directory. Knows nothing of formats.

import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export const TEMP_SUFFIX = ".tmp-";

/** Makes a rename (or unlink) in `dir` durable. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes temporary files a crash left behind next to `target` (they were never renamed in). */
export function removeStaleTemps(target: string): string[] {
  const dir = dirname(target);
  const prefix = basename(target) + TEMP_SUFFIX;
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith(prefix)) {
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}

/** Streams chunks into a temp file with async writes (the event loop keeps serving), then commits. */
export class AtomicFileWriter {
  private constructor(
    private readonly target: string,
    readonly tempPath: string,
    private readonly handle: FileHandle,
    private bytes = 0,
  ) {}

  static async create(target: string): Promise<AtomicFileWriter> {
    const tempPath = `${target}${TEMP_SUFFIX}${process.pid}-${Date.now()}`;
    const handle = await open(tempPath, "wx", 0o600);
    return new AtomicFileWriter(target, tempPath, handle);
  }

  get size(): number {
    return this.bytes;
  }

  async write(chunk: Uint8Array): Promise<void> {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, done, chunk.length - done);
      done += bytesWritten;
    }
    this.bytes += chunk.length;
  }

  /** fsync, rename over the target, fsync the directory: after this the new file is the file. */
  async commit(): Promise<void> {
    await this.handle.sync();
    await this.handle.close();
    renameSync(this.tempPath, this.target);
    syncDir(dirname(this.target));
  }

  /** Gives up: the target is untouched. */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
    rmSync(this.tempPath, { force: true });
  }
}
