// The owl text protocol codec: newline-framed request lines, split into words without ever
// turning a socket chunk into a string. Incremental: a line may arrive in any number of chunks.

import { argumentBytes, copyBytes, copyRange, roomFor } from "../store/bytes.ts";

const LF = 10;
const CR = 13;
const SPACE = 32;

export const BANNER = "Owlcache TCP Link Success...\n";
/** 1 MiB of value plus 1 KiB for the command and key (SPEC §3). */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024 + 1024;

export interface LineSink {
  /**
   * A complete line without its CR LF: bytes `start..end` of `buf`, valid only during the call
   * (offsets rather than a view: no object made per line). Return false to pause.
   */
  line(buf: Uint8Array, start: number, end: number): boolean;
  /** A line passed the limit; the rest of it will be discarded. Return false to pause. */
  tooLong(): boolean;
}

/** The first buffer for a line split across chunks; it doubles from there as the line grows. */
const FIRST_PARTIAL_BYTES = 256;

/**
 * Frames lines out of chunks. Whole lines inside a chunk are passed on as views of it; a line
 * split across chunks is copied into one buffer that doubles as needed (never past the limit),
 * not kept chunk by chunk: a line trickling in a few bytes per chunk would otherwise hold an
 * array object per chunk, 30 to 100 times the line's bytes. When the sink pauses, the unread
 * rest is kept until `resume`.
 */
export class LineFramer {
  /**
   * The line begun, copied; bytes [0, partialLength) are valid. A new buffer for each line: the
   * sink may keep views of a line it was given (arguments over 64 bytes are views).
   */
  private partial: Uint8Array | null = null;
  private partialLength = 0;
  private discarding = false;
  /** unprocessed input kept while paused */
  private held: Uint8Array | null = null;

  constructor(
    /** the longest line; the server lowers it for a connection that has not authenticated */
    public maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {}

  /**
   * Bytes held for a line not yet complete or for a paused sink (for backpressure limits): the
   * line's whole buffer, which doubling leaves up to twice the bytes received (never past the
   * line limit + 1), not only what it has received.
   */
  get buffered(): number {
    return (this.partial?.length ?? 0) + (this.held?.length ?? 0);
  }

  /** Feeds a chunk; returns false if the sink paused (the rest is held). */
  push(chunk: Uint8Array, sink: LineSink): boolean {
    if (this.held) {
      const joined = new Uint8Array(this.held.length + chunk.length);
      joined.set(this.held);
      joined.set(chunk, this.held.length);
      this.held = null;
      chunk = joined;
    }
    return this.scan(chunk, sink);
  }

  /** Keeps a chunk unread (it arrived while the sink was paused). */
  hold(chunk: Uint8Array): void {
    if (!this.held) {
      this.held = copyBytes(chunk);
      return;
    }
    const joined = new Uint8Array(this.held.length + chunk.length);
    joined.set(this.held);
    joined.set(chunk, this.held.length);
    this.held = joined;
  }

  /** Drops what is held; the rest of a line begun is discarded, as for a line too long. */
  discard(): void {
    this.discarding = this.partialLength > 0 || this.discarding;
    this.dropPartial();
    this.held = null;
  }

  /** Continues with held input after a pause. */
  resume(sink: LineSink): boolean {
    const held = this.held;
    if (!held) return true;
    this.held = null;
    return this.scan(held, sink);
  }

  private scan(chunk: Uint8Array, sink: LineSink): boolean {
    let start = 0;
    const end = chunk.length;
    while (start < end) {
      const nl = chunk.indexOf(LF, start);
      if (nl === -1) {
        this.gather(chunk.subarray(start, end), sink);
        return true;
      }
      let go: boolean;
      if (this.discarding) {
        this.discarding = false;
        go = true;
      } else if (this.partialLength > 0) {
        go = this.finish(chunk, start, nl, sink);
      } else {
        let lineEnd = nl;
        if (lineEnd > start && chunk[lineEnd - 1] === CR) lineEnd--;
        go = lineEnd - start > this.maxLineBytes ? sink.tooLong() : sink.line(chunk, start, lineEnd);
      }
      start = nl + 1;
      if (!go) {
        if (start < end) this.held = copyBytes(chunk.subarray(start, end));
        return false;
      }
    }
    return true;
  }

  /** Keeps a partial line, or starts discarding it once it passes the limit (+1 for a CR). */
  private gather(part: Uint8Array, sink: LineSink): void {
    if (this.discarding || part.length === 0) return;
    if (this.partialLength + part.length > this.maxLineBytes + 1) {
      this.dropPartial();
      this.discarding = true;
      sink.tooLong();
      return;
    }
    this.append(part, 0, part.length);
  }

  /** Completes the line begun with bytes `start..nl` of `chunk` and hands it to the sink. */
  private finish(chunk: Uint8Array, start: number, nl: number, sink: LineSink): boolean {
    // More than the limit plus a CR is too long whatever its last byte: not worth copying.
    if (this.partialLength + (nl - start) > this.maxLineBytes + 1) {
      this.dropPartial();
      return sink.tooLong();
    }
    this.append(chunk, start, nl);
    const line = this.partial!;
    const length = this.partialLength;
    this.dropPartial();
    const lineEnd = length > 0 && line[length - 1] === CR ? length - 1 : length;
    return lineEnd > this.maxLineBytes ? sink.tooLong() : sink.line(line, 0, lineEnd);
  }

  /** Copies bytes `start..end` of `src` after the line begun, doubling its buffer when full. */
  private append(src: Uint8Array, start: number, end: number): void {
    const length = this.partialLength + (end - start);
    this.partial = roomFor(this.partial, this.partialLength, length, FIRST_PARTIAL_BYTES, this.maxLineBytes + 1);
    copyRange(this.partial, this.partialLength, src, start, end);
    this.partialLength = length;
  }

  private dropPartial(): void {
    this.partial = null;
    this.partialLength = 0;
  }
}

/** Index of the first space in `buf[from..end)`, or `end`. Words are short: a plain loop. */
function wordEnd(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === SPACE) return i;
  return end;
}

/** Where the command word of the line `buf[start..end)` ends (its first space, or `end`). */
export function commandEnd(buf: Uint8Array, start: number, end: number): number {
  return wordEnd(buf, start, end);
}

/**
 * Where the line `buf[..end)` ends without its trailing spaces, never before `from` (clients that
 * pad their lines: "get k " means "get k" for commands split on every space).
 */
export function trimmedEnd(buf: Uint8Array, from: number, end: number): number {
  while (end > from && buf[end - 1] === SPACE) end--;
  return end;
}

/**
 * Splits the arguments of the line `buf[..end)` after its command word, which ends at `nameEnd`,
 * on single spaces. With `limit`, at most that many: the last takes the rest of the line byte for
 * byte. Nothing after the command word gives no arguments. Short arguments are copies, long ones
 * views valid only while `buf` is (see `argumentBytes`).
 */
export function splitArgs(buf: Uint8Array, nameEnd: number, end: number, limit = Infinity): Uint8Array[] {
  const args: Uint8Array[] = [];
  if (nameEnd >= end) return args;
  let from = nameEnd + 1;
  while (args.length < limit - 1) {
    const wordStop = wordEnd(buf, from, end);
    args.push(argumentBytes(buf, from, wordStop));
    if (wordStop >= end) return args;
    from = wordStop + 1;
  }
  args.push(argumentBytes(buf, from, end));
  return args;
}

/**
 * Looks ahead in a chunk for the store's prefetch: the first argument (mostly the key) of each
 * complete line from `from` on, as [start, end) pairs in `at`, up to at.length / 2 of them.
 * Stops at the first line without one. Returns how many it found.
 */
export function lineFirstArguments(buf: Uint8Array, from: number, at: Int32Array): number {
  const max = at.length >>> 1;
  let count = 0;
  let start = from;
  while (count < max) {
    const nl = buf.indexOf(LF, start);
    if (nl === -1) break;
    const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
    const nameEnd = wordEnd(buf, start, end);
    if (nameEnd + 1 >= end) break;
    at[2 * count] = nameEnd + 1;
    at[2 * count + 1] = wordEnd(buf, nameEnd + 1, end);
    count++;
    start = nl + 1;
  }
  return count;
}
