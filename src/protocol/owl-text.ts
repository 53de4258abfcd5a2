// The owl text protocol codec: newline-framed request lines, split into words without ever
// turning a socket chunk into a string. Incremental: a line may arrive in any number of chunks.

import { copyBytes } from "../store/bytes.ts";

const LF = 10;
const CR = 13;
const SPACE = 32;

export const BANNER = "Owlcache TCP Link Success...\n";
/** 1 MiB of value plus 1 KiB for the command and key (SPEC §3). */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024 + 1024;

export interface LineSink {
  /** A complete line without its CR LF; a view valid only during the call. Return false to pause. */
  line(bytes: Uint8Array): boolean;
  /** A line passed the limit; the rest of it will be discarded. Return false to pause. */
  tooLong(): boolean;
}

/**
 * Frames lines out of chunks. Whole lines inside a chunk are passed on as views of it; a line
 * split across chunks is gathered once. When the sink pauses, the unread rest is kept until
 * `resume`.
 */
export class LineFramer {
  private parts: Uint8Array[] = [];
  private partsLength = 0;
  private discarding = false;
  /** unprocessed input kept while paused */
  private held: Uint8Array | null = null;

  constructor(private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {}

  /** Bytes held for a line not yet complete or for a paused sink (for backpressure limits). */
  get buffered(): number {
    return this.partsLength + (this.held?.length ?? 0);
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
      } else if (this.partsLength > 0) {
        const line = this.join(chunk.subarray(start, nl));
        go = line.length - (line[line.length - 1] === CR ? 1 : 0) > this.maxLineBytes ? sink.tooLong() : sink.line(trimCR(line));
      } else {
        let lineEnd = nl;
        if (lineEnd > start && chunk[lineEnd - 1] === CR) lineEnd--;
        go = lineEnd - start > this.maxLineBytes ? sink.tooLong() : sink.line(chunk.subarray(start, lineEnd));
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
    if (this.partsLength + part.length > this.maxLineBytes + 1) {
      this.parts = [];
      this.partsLength = 0;
      this.discarding = true;
      sink.tooLong();
      return;
    }
    this.parts.push(copyBytes(part));
    this.partsLength += part.length;
  }

  private join(last: Uint8Array): Uint8Array {
    const line = new Uint8Array(this.partsLength + last.length);
    let offset = 0;
    for (const part of this.parts) {
      line.set(part, offset);
      offset += part.length;
    }
    line.set(last, offset);
    this.parts = [];
    this.partsLength = 0;
    return line;
  }
}

function trimCR(line: Uint8Array): Uint8Array {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
}

/** Index of the first space in `line` at or after `from`, or the line's length. */
function wordEnd(line: Uint8Array, from: number): number {
  const i = line.indexOf(SPACE, from);
  return i === -1 ? line.length : i;
}

/** The command word of a line and where its arguments start. */
export function commandWord(line: Uint8Array): { name: Uint8Array; argsStart: number } {
  const end = wordEnd(line, 0);
  return { name: line.subarray(0, end), argsStart: end < line.length ? end + 1 : line.length };
}

/**
 * Splits arguments on single spaces. With `limit`, at most that many: the last takes the rest of
 * the line byte for byte. Nothing after the command word gives no arguments.
 */
export function splitArgs(line: Uint8Array, start: number, limit = Infinity): Uint8Array[] {
  const args: Uint8Array[] = [];
  if (start >= line.length && (start === 0 || line[start - 1] !== SPACE)) return args;
  let from = start;
  while (args.length < limit - 1) {
    const end = wordEnd(line, from);
    args.push(line.subarray(from, end));
    if (end >= line.length) return args;
    from = end + 1;
  }
  args.push(line.subarray(from));
  return args;
}
