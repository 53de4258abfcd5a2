// The Redis protocol request codec: an incremental parser for arrays of bulk strings and inline
// commands over Uint8Array. Complete commands are handed out as views of the input, never copied.

import { splitInline } from "./resp-inline.ts";
import { argumentBytes, copyBytes, roomFor, SMALL_ARG_BYTES } from "../store/bytes.ts";
import { OffsetTable } from "./offset-table.ts";

const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
const MINUS = 45;
/** A length header longer than this ("*"/"$", 20 digits, sign) is garbage, not a slow sender. */
const MAX_HEADER_BYTES = 32;
/** redis-server's limits for a client that has not authenticated yet (a cheap DoS guard). */
const UNAUTHENTICATED_MAX_ARGS = 10;
const UNAUTHENTICATED_MAX_BULK = 16384;
/** parse results besides "the command ends here" */
const NEED = -1;
const FAILED = -2;

export type RespErrorCode =
  | "too-big-inline"
  | "unbalanced-quotes"
  | "too-big-mbulk-count"
  | "invalid-multibulk-length"
  | "unauthenticated-multibulk-length"
  | "too-big-bulk-count"
  | "expected-dollar"
  | "invalid-bulk-length"
  | "unauthenticated-bulk-length"
  | "expected-crlf"
  | "request-too-big"
  | "input-dropped";

/** A malformed request: the connection answers `-ERR Protocol error: <message>` and closes. */
export class RespProtocolError extends Error {
  constructor(
    readonly code: RespErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface RespLimits {
  /**
   * most elements in one request array (redis-server: INT_MAX). Each element read costs 8 bytes
   * of offsets and, once the request is handed out, an argument object (ARGUMENT_BYTES, 72):
   * both are counted with the request's bytes against the input limits while it arrives.
   */
  readonly maxArgs: number;
  /** longest bulk string: the largest value plus room for the command around it */
  readonly maxBulkBytes: number;
  /** longest inline command line (redis-server: 64 KiB) */
  readonly maxInlineBytes: number;
  /** most bytes buffered for one incomplete request */
  readonly maxRequestBytes: number;
}

export const DEFAULT_RESP_LIMITS: RespLimits = {
  maxArgs: 4 * 1024 * 1024,
  maxBulkBytes: 16 * 1024 * 1024 + 1024,
  maxInlineBytes: 64 * 1024,
  maxRequestBytes: 512 * 1024 * 1024,
};

export interface RespSink {
  /** One command: name and arguments are views valid only during the call. Return false to pause. */
  command(name: Uint8Array, args: Uint8Array[]): boolean;
  /** Malformed input; the parser accepts nothing more afterwards. */
  protocolError(error: RespProtocolError): void;
}

/**
 * Parses requests out of chunks. A request inside one chunk is handed out as views of it. An
 * incomplete one is copied once into a buffer sized for it (a bulk's length is known from its
 * header) and parsing resumes where it stopped, so a value arriving in many chunks costs O(n).
 */
export class RespParser {
  /** set by the server while the client has not authenticated (tighter limits, as redis-server) */
  unauthenticated = false;
  private inline = false;
  /** elements of the array being read; -1 before its header */
  private count = -1;
  /** length of the bulk whose payload comes next; -1 when its header comes next */
  private bulk = -1;
  /** where parsing resumes, relative to the request's first byte */
  private pos = 0;
  /** [start, end) of each element read so far, relative to the request's first byte */
  private readonly offsets = new OffsetTable();
  private inlineArgs: Uint8Array[] = [];
  /** reusable arrays for command names, one per length (a name is only looked up) */
  private readonly names: Uint8Array[] = [];
  /** the incomplete request, copied; bytes [0, partialLength) are valid */
  private partial: Uint8Array | null = null;
  private partialLength = 0;
  /** input kept unread while the sink is paused */
  private held: Uint8Array | null = null;
  private error: RespProtocolError | null = null;

  constructor(private readonly limits: RespLimits = DEFAULT_RESP_LIMITS) {}

  /**
   * Bytes held for an incomplete request or a paused sink. An incomplete request counts its
   * buffer's size, not the bytes come so far: a bulk header announcing 16 MiB allocates 16 MiB at
   * once (and growth doubles), so 30 bytes of input can hold that much. With it, what its elements
   * read so far cost: 8 bytes of offsets and a 72-byte argument each (the smallest element is 6
   * bytes of input).
   */
  get buffered(): number {
    const pending = this.partialLength > 0 ? this.partial!.length + this.offsets.heldBytes : 0;
    return pending + (this.held?.length ?? 0);
  }

  /** Drops what is held; nothing more is parsed (the connection is being closed). */
  discard(): void {
    this.partial = null;
    this.partialLength = 0;
    this.offsets.clear();
    this.held = null;
    this.error ??= new RespProtocolError("input-dropped", "input dropped");
  }

  get failed(): boolean {
    return this.error !== null;
  }

  /** Feeds a chunk; returns false if the sink paused (the rest is held) or the input was bad. */
  push(chunk: Uint8Array, sink: RespSink): boolean {
    if (this.error) return false;
    if (this.held) {
      chunk = concat(this.held, chunk);
      this.held = null;
    }
    if (this.partialLength > 0) return this.continuePartial(chunk, sink);
    return this.scan(chunk, 0, sink);
  }

  /** Keeps a chunk unread (it arrived while the sink was paused). */
  hold(chunk: Uint8Array): void {
    this.held = this.held ? concat(this.held, chunk) : copyBytes(chunk);
  }

  /** Continues with held input after a pause. */
  resume(sink: RespSink): boolean {
    const held = this.held;
    if (!held || this.error) return !this.error;
    this.held = null;
    if (this.partialLength > 0) return this.continuePartial(held, sink);
    return this.scan(held, 0, sink);
  }

  private scan(buf: Uint8Array, from: number, sink: RespSink): boolean {
    let base = from;
    while (base < buf.length) {
      const end = this.parse(buf, base);
      if (end === NEED) {
        this.keep(buf.subarray(base));
        return true;
      }
      if (end === FAILED) return this.fail(sink);
      const go = this.emit(buf, base, sink);
      base = end;
      if (!go) {
        if (base < buf.length) this.held = copyBytes(buf.subarray(base));
        return false;
      }
    }
    return true;
  }

  /** Appends a chunk to the incomplete request and carries on in the chunk once it completes. */
  private continuePartial(chunk: Uint8Array, sink: RespSink): boolean {
    const before = this.partialLength;
    if (!this.append(chunk)) return this.fail(sink);
    const view = this.partial!.subarray(0, this.partialLength);
    const end = this.parse(view, 0);
    if (end === NEED) return true;
    if (end === FAILED) return this.fail(sink);
    const go = this.emit(view, 0, sink);
    this.partialLength = 0;
    if (this.partial!.length > 64 * 1024) this.partial = null; // let a big value's buffer go
    const rest = end - before; // > 0: the request was incomplete without this chunk
    if (!go) {
      if (rest < chunk.length) this.held = copyBytes(chunk.subarray(rest));
      return false;
    }
    return this.scan(chunk, rest, sink);
  }

  /** Copies the start of an incomplete request; the parse state stays valid (it is relative). */
  private keep(bytes: Uint8Array): void {
    this.partialLength = 0;
    if (!this.append(bytes)) this.partialLength = 0; // cannot happen for one chunk's worth
  }

  private append(bytes: Uint8Array): boolean {
    const length = this.partialLength + bytes.length;
    if (length > this.limits.maxRequestBytes) {
      this.error = new RespProtocolError("request-too-big", `request larger than ${this.limits.maxRequestBytes} bytes`);
      return false;
    }
    // A pending bulk tells us how big the request will be at least: allocate that once.
    const known = this.bulk >= 0 ? this.pos + this.bulk + 2 : 0;
    this.partial = roomFor(this.partial, this.partialLength, length, Math.max(known, 4096), this.limits.maxRequestBytes);
    this.partial.set(bytes, this.partialLength);
    this.partialLength = length;
    return true;
  }

  private fail(sink: RespSink): boolean {
    this.partial = null;
    this.partialLength = 0;
    this.held = null;
    sink.protocolError(this.error!);
    return false;
  }

  private failWith(code: RespErrorCode, message: string): number {
    this.error = new RespProtocolError(code, message);
    return FAILED;
  }

  /** Hands the parsed request to the sink and resets for the next one. */
  private emit(buf: Uint8Array, base: number, sink: RespSink): boolean {
    if (this.inline) {
      const args = this.inlineArgs;
      this.inline = false;
      this.pos = 0;
      this.inlineArgs = [];
      if (args.length === 0) return true;
      return sink.command(args[0]!, args.slice(1));
    }
    const n = this.count;
    this.count = -1;
    this.pos = 0;
    if (n <= 0) return true; // "*0" and "*-1" are no command, as in redis-server
    const offsets = this.offsets;
    const args = new Array<Uint8Array>(n - 1);
    for (let j = 1; j < n; j++) args[j - 1] = argumentBytes(buf, base + offsets.at(2 * j), base + offsets.at(2 * j + 1));
    const name = this.name(buf, base + offsets.at(0), base + offsets.at(1));
    offsets.clear(); // (a big request's table goes now, not at the next request)
    return sink.command(name, args);
  }

  /** The command name: copied into a reused array of its length, so no allocation at all. */
  private name(buf: Uint8Array, start: number, end: number): Uint8Array {
    const length = end - start;
    if (length > SMALL_ARG_BYTES) return buf.subarray(start, end);
    const name = (this.names[length] ??= new Uint8Array(length));
    for (let i = 0; i < length; i++) name[i] = buf[start + i]!;
    return name;
  }

  /** Parses (or resumes) the request starting at `base`: its end, NEED or FAILED. */
  private parse(buf: Uint8Array, base: number): number {
    if (this.count < 0) {
      if (this.pos === 0 && !this.inline && buf[base] !== STAR) this.inline = true;
      if (this.inline) return this.parseInline(buf, base);
      const cr = findCR(buf, base + 1);
      if (cr < 0) return cr === NEED ? NEED : this.failWith("too-big-mbulk-count", "too big mbulk count string");
      if (buf[cr + 1] !== LF) return this.failWith("expected-crlf", "expected CRLF after the array length");
      const n = decimal(buf, base + 1, cr);
      if (Number.isNaN(n) || n > this.limits.maxArgs) return this.failWith("invalid-multibulk-length", "invalid multibulk length");
      if (this.unauthenticated && n > UNAUTHENTICATED_MAX_ARGS) {
        return this.failWith("unauthenticated-multibulk-length", "unauthenticated multibulk length");
      }
      this.pos = cr + 2 - base;
      this.count = n;
      this.bulk = -1;
      this.offsets.clear();
    }
    const want = this.count * 2;
    while (this.offsets.length < want) {
      let i = base + this.pos;
      if (this.bulk < 0) {
        if (i >= buf.length) return NEED;
        if (buf[i] !== DOLLAR) return this.failWith("expected-dollar", `expected '$', got '${String.fromCharCode(buf[i]!)}'`);
        const cr = findCR(buf, i + 1);
        if (cr < 0) return cr === NEED ? NEED : this.failWith("too-big-bulk-count", "too big bulk count string");
        if (buf[cr + 1] !== LF) return this.failWith("expected-crlf", "expected CRLF after the bulk length");
        const n = decimal(buf, i + 1, cr);
        if (Number.isNaN(n) || n < 0 || n > this.limits.maxBulkBytes) return this.failWith("invalid-bulk-length", "invalid bulk length");
        if (this.unauthenticated && n > UNAUTHENTICATED_MAX_BULK) return this.failWith("unauthenticated-bulk-length", "unauthenticated bulk length");
        this.bulk = n;
        this.pos = cr + 2 - base;
        i = cr + 2;
      }
      const stop = i + this.bulk;
      if (stop + 2 > buf.length) return NEED;
      if (buf[stop] !== CR || buf[stop + 1] !== LF) return this.failWith("expected-crlf", "expected CRLF after a bulk string");
      this.offsets.push(i - base, stop - base);
      this.pos = stop + 2 - base;
      this.bulk = -1;
    }
    return base + this.pos;
  }

  private parseInline(buf: Uint8Array, base: number): number {
    const nl = buf.indexOf(LF, base + this.pos);
    if (nl === -1) {
      if (buf.length - base > this.limits.maxInlineBytes) return this.failWith("too-big-inline", "too big inline request");
      this.pos = buf.length - base;
      return NEED;
    }
    if (nl - base > this.limits.maxInlineBytes) return this.failWith("too-big-inline", "too big inline request");
    const lineEnd = nl > base && buf[nl - 1] === CR ? nl - 1 : nl;
    const args = splitInline(buf.subarray(base, lineEnd));
    if (args === undefined) return this.failWith("unbalanced-quotes", "unbalanced quotes in request");
    this.inlineArgs = args;
    return nl + 1;
  }
}

/** Index of the CR ending a length header that starts at `from`; NEED, or FAILED when too long. */
function findCR(buf: Uint8Array, from: number): number {
  const limit = Math.min(buf.length, from + MAX_HEADER_BYTES);
  for (let i = from; i < limit; i++) {
    if (buf[i] === CR) return i + 1 < buf.length ? i : NEED;
  }
  return limit === buf.length ? NEED : FAILED;
}

/** A decimal as redis-server's string2ll accepts it ("0", "-12"; not "", "+1", "01", "-0"); else NaN. */
function decimal(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  if (i >= end) return NaN;
  const negative = buf[i] === MINUS;
  if (negative && ++i === end) return NaN;
  if (buf[i] === 48) return end - i === 1 && !negative ? 0 : NaN;
  let value = 0;
  for (; i < end; i++) {
    const digit = buf[i]! - 48;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/** Requests with more elements than this end `firstArguments`' look-ahead (it is only a hint). */
const LOOKAHEAD_MAX_ARGS = 64;

/**
 * Looks ahead in a chunk for the store's prefetch: the first argument (mostly the key) of each
 * complete array request from `from` on, as [start, end) pairs in `at`, up to at.length / 2 of
 * them. Reads headers only, without checking what the parser checks; stops at the first thing
 * that is not a plain complete request of 2 to 64 elements. Returns how many it found.
 */
export function firstArguments(buf: Uint8Array, from: number, at: Int32Array): number {
  const max = at.length >>> 1;
  let count = 0;
  let i = from;
  while (count < max && buf[i] === STAR) {
    let cr = findCR(buf, i + 1);
    if (cr < 0) break;
    const n = decimal(buf, i + 1, cr);
    if (!(n >= 2 && n <= LOOKAHEAD_MAX_ARGS)) break;
    i = cr + 2;
    for (let j = 0; j < n; j++) {
      if (buf[i] !== DOLLAR) return count;
      cr = findCR(buf, i + 1);
      if (cr < 0) return count;
      const length = decimal(buf, i + 1, cr);
      if (!(length >= 0)) return count;
      const start = cr + 2;
      i = start + length + 2;
      if (i > buf.length) return count;
      if (j === 1) {
        at[2 * count] = start;
        at[2 * count + 1] = start + length;
      }
    }
    count++;
  }
  return count;
}
