// A growable output buffer. Encoders append a whole batch of replies here so that a transport
// makes one `write` per batch, straight from this buffer.

import { copyShort } from "../store/bytes.ts";

const encoder = new TextEncoder();

/**
 * A constant run of bytes (a fixed part of a reply), kept also as little-endian 32-bit words so
 * that `ByteWriter.run` writes it four bytes at a time: ~1 ns a word against ~1 ns a byte for a
 * loop, and no fixed cost of TypedArray#set (bench/README.md, ninth session).
 */
export class Run {
  readonly length: number;
  readonly words: Uint32Array;

  constructor(bytes: Uint8Array) {
    this.length = bytes.length;
    const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
    padded.set(bytes);
    const view = new DataView(padded.buffer);
    this.words = new Uint32Array(padded.length / 4);
    for (let i = 0; i < this.words.length; i++) this.words[i] = view.getUint32(4 * i, true);
  }
}

/** Room a run needs past its length: its last word is written whole. */
export const RUN_SLACK = 3;

export class ByteWriter {
  buf: Uint8Array<ArrayBuffer>;
  length = 0;
  /** `wordsOf` as a DataView, for `putRun`; made again whenever `buf` is another array */
  private words = new DataView(new ArrayBuffer(0));
  private wordsOf: Uint8Array | null = null;

  constructor(initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
  }

  ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
  }

  /** Appends a constant run. */
  run(r: Run): void {
    this.ensure(r.length + RUN_SLACK);
    this.length = this.putRun(this.length, r);
  }

  /**
   * Writes a run at `at` without moving `length`, returning where it ends. The caller has ensured
   * room for `r.length + RUN_SLACK` bytes: up to three bytes past the run's end are overwritten
   * (they are past `length`, and whatever is appended next overwrites them again).
   */
  putRun(at: number, r: Run): number {
    const buf = this.buf;
    // (`buf` may be replaced from outside too: the view follows it by identity, one compare)
    if (buf !== this.wordsOf) {
      this.wordsOf = buf;
      this.words = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    const words = r.words;
    const view = this.words;
    for (let i = 0; i < words.length; i++) view.setUint32(at + 4 * i, words[i]!, true);
    return at + r.length;
  }

  byte(c: number): void {
    if (this.length === this.buf.length) this.ensure(1);
    this.buf[this.length++] = c;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    copyShort(this.buf, this.length, b); // replies are made of short runs
    this.length += b.length;
  }

  /** Appends a string as UTF-8 (a plain loop for short ASCII, the encoder otherwise). */
  text(s: string): void {
    const n = s.length;
    this.ensure(n * 3);
    if (n < 48) {
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 127) break;
        this.buf[this.length + i] = c;
      }
      if (i === n) {
        this.length += n;
        return;
      }
    }
    this.length += encoder.encodeInto(s, this.buf.subarray(this.length)).written;
  }

  decimal(n: number): void {
    this.text(String(n));
  }

  /** The bytes written so far, as a view (valid until the next append or reset). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
    // Let one huge batch's buffer go instead of holding it for the connection's lifetime.
    if (this.buf.length > 4 * 1024 * 1024) this.buf = new Uint8Array(64 * 1024);
  }
}
