// A growable output buffer. Encoders append a whole batch of replies here so that a transport
// makes one `write` per batch, straight from this buffer.

import { copyShort } from "../store/bytes.ts";

const encoder = new TextEncoder();

export class ByteWriter {
  buf: Uint8Array<ArrayBuffer>;
  length = 0;

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
