// The part of a data file the decoder is looking at (pure: reads go through a ByteSource). A file
// in memory is one window over all of it; a file on disk is read a chunk at a time into one
// reused buffer, so loading never holds the whole file and reads stay in cache.

/** Positioned reads of a file of known size (the loader's is an fd with readSync). */
export interface ByteSource {
  readonly size: number;
  /** Reads up to `length` bytes at file offset `position` into `into` at `at`; returns how many. */
  read(into: Uint8Array, at: number, length: number, position: number): number;
}

/**
 * Bytes read from the file at a time. 1 MiB: a syscall per MiB costs nothing measurable, and
 * the chunk stays in the CPU's cache while its checksums are computed and its records decoded.
 */
export const CHUNK_READ_BYTES = 1024 * 1024;

export class FileWindow {
  /** the bytes in view; bytes[0] is the file's byte `start` */
  bytes: Uint8Array;
  start = 0;
  readonly size: number;
  private buffer: Uint8Array;

  constructor(private readonly source: Uint8Array | ByteSource) {
    if (source instanceof Uint8Array) {
      this.buffer = this.bytes = source;
      this.size = source.length;
    } else {
      this.buffer = new Uint8Array(Math.min(CHUNK_READ_BYTES, source.size));
      this.bytes = this.buffer.subarray(0, 0);
      this.size = source.size;
    }
  }

  /**
   * Brings the file's bytes from `from` into view, at least `n` of them unless the file ends
   * first; true when all `n` are there. Views taken of `bytes` before are no longer valid.
   */
  has(from: number, n: number): boolean {
    const end = Math.min(from + n, this.size);
    if (from < this.start || end > this.end) this.fill(from, end - from);
    return from >= this.start && from + n <= this.end;
  }

  /** file offset just past the bytes in view */
  get end(): number {
    return this.start + this.bytes.length;
  }

  /** File offset of the next block marker at or after `from`, or -1 (see findMarker). */
  nextMarker(from: number, findMarker: (bytes: Uint8Array, from: number) => number): number {
    while (from + 4 <= this.size) {
      this.has(from, Math.min(this.size - from, CHUNK_READ_BYTES));
      const found = findMarker(this.bytes, from - this.start);
      if (found !== -1) return this.start + found;
      from = this.start + this.bytes.length - 3; // a marker may start in the last three bytes
    }
    return -1;
  }

  /** Keeps what is in view from `from` on, then reads until the buffer is full or the file ends. */
  private fill(from: number, atLeast: number): void {
    const source = this.source as ByteSource;
    const keepFrom = from - this.start;
    const keep = keepFrom >= 0 && keepFrom < this.bytes.length ? this.bytes.length - keepFrom : 0;
    if (atLeast > this.buffer.length) {
      const bigger = new Uint8Array(Math.max(atLeast, Math.min(this.buffer.length * 2, this.size)));
      bigger.set(this.bytes.subarray(keepFrom, keepFrom + keep));
      this.buffer = bigger;
    } else if (keep > 0) {
      this.buffer.copyWithin(0, keepFrom, keepFrom + keep);
    }
    let length = keep;
    while (length < this.buffer.length && from + length < this.size) {
      const n = source.read(this.buffer, length, Math.min(this.buffer.length - length, this.size - from - length), from + length);
      if (n <= 0) break; // the file shrank under us: what was read is all there is
      length += n;
    }
    this.start = from;
    this.bytes = this.buffer.subarray(0, length);
  }
}
