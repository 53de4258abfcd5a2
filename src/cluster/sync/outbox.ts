// The replication stream's shared outbox: each local write is encoded once, when it happens,
// into one append-only byte log in the batch format (codec.ts), and every peer link reads it from
// its own cursor. No per-record objects or copies per peer; a batch is a header plus a slice.

import { copyShort } from "../../store/bytes.ts";
import type { SyncRecord } from "./records.ts";

const MAGIC = [0x4f, 0x57, 0x53, 0x31];
const KIND = { put: 1, del: 2, flush: 3 } as const;
const FLAG_IN_ORDER = 1;
const encoder = new TextEncoder();

export class Outbox {
  private buf = new Uint8Array(256 * 1024);
  private view = new DataView(this.buf.buffer);
  private used = 0;
  /** absolute byte offset of buf[0] */
  private base = 0;
  /** absolute start offset of each record from `first` on (and one past the last) */
  private starts: number[] = [0];
  /** absolute index of the record starts[0] describes */
  private first = 0;

  /** Absolute index one past the last record. */
  get end(): number {
    return this.first + this.starts.length - 1;
  }

  /** Bytes held (for /sync/status and tests). */
  get size(): number {
    return this.used;
  }

  /** Encodes a record (origin index 0: the stream carries only this node's writes). */
  append(r: SyncRecord): void {
    if (r.kind === "put") this.put(r.key, r.value, r.writtenAt, r.expiresAt);
    else if (r.kind === "del") this.del(r.key, r.writtenAt);
    else this.flush(r.writtenAt);
  }

  put(key: Uint8Array, value: Uint8Array, writtenAt: number, expiresAt: number): void {
    const at = this.head(KIND.put, writtenAt, 16 + key.length + value.length);
    const v = this.view;
    v.setFloat64(at, expiresAt, true);
    v.setUint32(at + 8, key.length, true);
    copyShort(this.buf, at + 12, key);
    const next = at + 12 + key.length;
    v.setUint32(next, value.length, true);
    copyShort(this.buf, next + 4, value);
    this.close(next + 4 + value.length);
  }

  del(key: Uint8Array, writtenAt: number): void {
    const at = this.head(KIND.del, writtenAt, 4 + key.length);
    this.view.setUint32(at, key.length, true);
    copyShort(this.buf, at + 4, key);
    this.close(at + 4 + key.length);
  }

  flush(writtenAt: number): void {
    this.close(this.head(KIND.flush, writtenAt, 0));
  }

  /** Makes room for a record with `body` bytes after its header, writes the header; → body start. */
  private head(kind: number, writtenAt: number, body: number): number {
    this.ensure(11 + body);
    const at = this.used;
    this.buf[at] = kind;
    this.view.setUint16(at + 1, 0, true);
    this.view.setFloat64(at + 3, writtenAt, true);
    return at + 11;
  }

  /** Ends the record being written at `end`. */
  private close(end: number): void {
    this.used = end;
    this.starts.push(this.base + end);
  }

  /** Bytes of records [from, to). */
  bytes(from: number, to: number): number {
    return this.offset(to) - this.offset(from);
  }

  /** The last record index ≤ from + maxRecords whose range from `from` stays within maxBytes (at least one). */
  cut(from: number, maxRecords: number, maxBytes: number): number {
    let to = Math.min(this.end, from + maxRecords);
    while (to > from + 1 && this.bytes(from, to) > maxBytes) to = Math.max(from + 1, from + Math.floor((to - from) / 2));
    return to;
  }

  /** A request body: the batch header for `origin`, then records [from, to). */
  body(from: number, to: number, origin: string): Uint8Array<ArrayBuffer> {
    const name = encoder.encode(origin);
    const start = this.offset(from) - this.base;
    const length = this.offset(to) - this.base - start;
    const out = new Uint8Array(4 + 1 + 2 + 2 + name.length + 4 + length);
    const v = new DataView(out.buffer);
    out.set(MAGIC, 0);
    out[4] = FLAG_IN_ORDER;
    v.setUint16(5, 1, true);
    v.setUint16(7, name.length, true);
    out.set(name, 9);
    v.setUint32(9 + name.length, to - from, true);
    out.set(this.buf.subarray(start, start + length), 13 + name.length);
    return out;
  }

  /** Frees records before `upTo` (every link has sent them or dropped them). */
  trim(upTo: number): void {
    const drop = Math.min(upTo, this.end) - this.first;
    if (drop <= 0) return;
    const cutAt = this.starts[drop]! - this.base;
    this.starts = this.starts.slice(drop);
    this.first += drop;
    // Move the rest down only when it is cheap relative to what was freed.
    if (cutAt >= this.used / 2 || this.used - cutAt < 64 * 1024) {
      this.buf.copyWithin(0, cutAt, this.used);
      this.used -= cutAt;
      this.base += cutAt;
      if (this.buf.length > 4 * 1024 * 1024 && this.used < this.buf.length / 8) this.resize(Math.max(256 * 1024, this.used * 2));
    }
  }

  private offset(record: number): number {
    return this.starts[record - this.first]!;
  }

  private ensure(extra: number): void {
    if (this.used + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.used + extra) size *= 2;
    this.resize(size);
  }

  private resize(size: number): void {
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.used));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}
