// Record encoding inside blocks (pure): a snapshot holds `set` records (and, from version 2, sync's
// tombstones and flush watermark), the append log holds every kind of write. BlockWriter builds
// sealed blocks in one growing buffer; decodeRecords reads them.

import { copyShort } from "../store/bytes.ts";
import type { LoadBatch } from "../store/types.ts";
import { BLOCK_HEADER_BYTES, END_MARKER, FormatError, putU32, sealBlock } from "./frame.ts";

export const OP_SET = 1;
export const OP_EXPIRE = 2;
export const OP_DELETE = 3;
export const OP_FLUSH = 4;
/** sync (format version 2): a tombstone laid — the key's version written at `at` by `origin` is gone */
export const OP_TOMB = 5;
/** sync (format version 2): the flush watermark became (at, origin) */
export const OP_WATERMARK = 6;

/** tag(u8) keyLength(u32) valueLength(u32) writtenAt(f64) expiresAt(f64) key value */
export const SET_HEAD_BYTES = 25;
const EXPIRE_HEAD_BYTES = 21;
const DELETE_HEAD_BYTES = 13;
const FLUSH_BYTES = 9;
/** tag(u8) keyLength(u32) originLength(u32) at(f64) key origin */
const TOMB_HEAD_BYTES = 17;
/** tag(u8) originLength(u32) at(f64) origin */
const WATERMARK_HEAD_BYTES = 13;
/** An origin is a node address (host:port); longer is a damaged length, not data. */
export const MAX_ORIGIN_BYTES = 1024;

export interface RecordVisitor {
  set(key: Uint8Array, value: Uint8Array, expiresAt: number, writtenAt: number): void;
  expire(key: Uint8Array, expiresAt: number, writtenAt: number): void;
  delete(key: Uint8Array, writtenAt: number): void;
  flush(writtenAt: number): void;
  /** sync's records (version 2 files); a visitor without them skips them (a node without sync) */
  tomb?(key: Uint8Array, at: number, origin: string): void;
  watermark?(at: number, origin: string): void;
  /**
   * Optional, instead of `set`: set records gathered by position (no views), handed over when
   * the batch is full, before any other record, at the end of the block and before an error.
   */
  sets?(batch: LoadBatch): void;
}

/** Set records handed to `RecordVisitor.sets` at most this many at a time. */
export const BATCH_RECORDS = 64;

const EMPTY = new Uint8Array(0);

class SetBatch implements LoadBatch {
  bytes: Uint8Array = EMPTY;
  count = 0;
  readonly keyAt = new Uint32Array(BATCH_RECORDS);
  readonly keyLength = new Uint32Array(BATCH_RECORDS);
  readonly valueLength = new Uint32Array(BATCH_RECORDS);
  readonly expiresAt = new Float64Array(BATCH_RECORDS);
  readonly writtenAt = new Float64Array(BATCH_RECORDS);
}

/** decodeRecords' batch: it never runs inside itself and always leaves the batch empty. */
const batch = new SetBatch();

export class BlockWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  /** start of the open block, -1 when none */
  private blockStart = -1;
  private count = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  /** bytes written so far (sealed blocks and the open one) */
  get length(): number {
    return this.pos;
  }

  /** bytes in the open block's payload */
  get openPayloadBytes(): number {
    return this.blockStart === -1 ? 0 : this.pos - this.blockStart - BLOCK_HEADER_BYTES;
  }

  get openRecords(): number {
    return this.count;
  }

  get isBlockOpen(): boolean {
    return this.blockStart !== -1;
  }

  /** Opens a block; the append log starts each with the local time of its first write. */
  beginBlock(at?: number): void {
    if (this.blockStart !== -1) return;
    this.ensure(BLOCK_HEADER_BYTES + 8);
    this.blockStart = this.pos;
    this.pos += BLOCK_HEADER_BYTES;
    this.count = 0;
    if (at !== undefined) {
      this.view.setFloat64(this.pos, at, true);
      this.pos += 8;
    }
  }

  sealBlock(): void {
    if (this.blockStart === -1) return;
    sealBlock(this.buf, this.blockStart, this.pos - this.blockStart - BLOCK_HEADER_BYTES, this.count);
    this.blockStart = -1;
  }

  /** Writes a snapshot's last block: the number of records, so a file cut at a block edge is caught. */
  end(records: number): void {
    this.sealBlock();
    this.ensure(BLOCK_HEADER_BYTES + 8);
    const at = this.pos;
    this.view.setFloat64(at + BLOCK_HEADER_BYTES, records, true);
    this.pos += BLOCK_HEADER_BYTES + 8;
    sealBlock(this.buf, at, 8, 0, END_MARKER);
  }

  /**
   * Reserves a set record and returns where its key goes; the caller copies the key there and
   * the value follows. Split this way so a snapshot can copy keys without allocating.
   */
  setRecord(keyLength: number, value: Uint8Array, expiresAt: number, writtenAt: number): number {
    const keyAt = this.setRecordSpace(keyLength, value.length, expiresAt, writtenAt);
    copyShort(this.buf, keyAt + keyLength, value);
    return keyAt;
  }

  /**
   * A set record with room for its key and value, which the caller copies in at the returned
   * offset (key) and right after the key (value): a snapshot writes millions of records and
   * makes no view of any of them.
   */
  setRecordSpace(keyLength: number, valueLength: number, expiresAt: number, writtenAt: number): number {
    this.ensure(SET_HEAD_BYTES + keyLength + valueLength);
    const p = this.pos;
    const buf = this.buf;
    buf[p] = OP_SET;
    putU32(buf, p + 1, keyLength);
    putU32(buf, p + 5, valueLength);
    this.view.setFloat64(p + 9, writtenAt, true);
    this.view.setFloat64(p + 17, expiresAt, true);
    const keyAt = p + SET_HEAD_BYTES;
    this.pos = keyAt + keyLength + valueLength;
    this.count++;
    return keyAt;
  }

  /** The buffer a `setRecord` key is copied into. */
  get bytes(): Uint8Array {
    return this.buf;
  }

  set(key: Uint8Array, value: Uint8Array, expiresAt: number, writtenAt: number): void {
    const keyAt = this.setRecord(key.length, value, expiresAt, writtenAt);
    copyShort(this.buf, keyAt, key);
  }

  expire(key: Uint8Array, expiresAt: number, writtenAt: number): void {
    this.ensure(EXPIRE_HEAD_BYTES + key.length);
    const p = this.pos;
    this.buf[p] = OP_EXPIRE;
    this.view.setUint32(p + 1, key.length, true);
    this.view.setFloat64(p + 5, writtenAt, true);
    this.view.setFloat64(p + 13, expiresAt, true);
    this.buf.set(key, p + EXPIRE_HEAD_BYTES);
    this.pos = p + EXPIRE_HEAD_BYTES + key.length;
    this.count++;
  }

  delete(key: Uint8Array, writtenAt: number): void {
    this.ensure(DELETE_HEAD_BYTES + key.length);
    const p = this.pos;
    this.buf[p] = OP_DELETE;
    this.view.setUint32(p + 1, key.length, true);
    this.view.setFloat64(p + 5, writtenAt, true);
    this.buf.set(key, p + DELETE_HEAD_BYTES);
    this.pos = p + DELETE_HEAD_BYTES + key.length;
    this.count++;
  }

  flush(writtenAt: number): void {
    this.ensure(FLUSH_BYTES);
    this.buf[this.pos] = OP_FLUSH;
    this.view.setFloat64(this.pos + 1, writtenAt, true);
    this.pos += FLUSH_BYTES;
    this.count++;
  }

  tomb(key: Uint8Array, at: number, origin: Uint8Array): void {
    this.ensure(TOMB_HEAD_BYTES + key.length + origin.length);
    const p = this.pos;
    this.buf[p] = OP_TOMB;
    this.view.setUint32(p + 1, key.length, true);
    this.view.setUint32(p + 5, origin.length, true);
    this.view.setFloat64(p + 9, at, true);
    this.buf.set(key, p + TOMB_HEAD_BYTES);
    this.buf.set(origin, p + TOMB_HEAD_BYTES + key.length);
    this.pos = p + TOMB_HEAD_BYTES + key.length + origin.length;
    this.count++;
  }

  watermark(at: number, origin: Uint8Array): void {
    this.ensure(WATERMARK_HEAD_BYTES + origin.length);
    const p = this.pos;
    this.buf[p] = OP_WATERMARK;
    this.view.setUint32(p + 1, origin.length, true);
    this.view.setFloat64(p + 5, at, true);
    this.buf.set(origin, p + WATERMARK_HEAD_BYTES);
    this.pos = p + WATERMARK_HEAD_BYTES + origin.length;
    this.count++;
  }

  /** The sealed bytes written so far (a view, valid until the next write); the open block stays. */
  sealed(): Uint8Array {
    return this.buf.subarray(0, this.blockStart === -1 ? this.pos : this.blockStart);
  }

  /** Forgets everything written (after the bytes were handed to the file). */
  reset(): void {
    this.pos = 0;
    this.blockStart = -1;
    this.count = 0;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}


const originText = new TextDecoder();

/**
 * Reads the records of one block payload (for a log block, the part after its time). `base` is
 * the payload's file offset, for errors; `onlySets` rejects anything else (snapshots) but sync's
 * records, which `tombs` allows (files of TOMBS_VERSION; in older ones they are damage).
 */
export function decodeRecords(payload: Uint8Array, count: number, base: number, visit: RecordVisitor, onlySets: boolean, tombs = false): void {
  const length = payload.length;
  const view = new DataView(payload.buffer, payload.byteOffset, length);
  const batched = visit.sets !== undefined;
  batch.bytes = payload;
  let p = 0;
  const handOver = (): void => {
    if (batch.count === 0) return;
    visit.sets!(batch);
    batch.count = 0;
  };
  const fail = (reason: string): never => {
    // The records before the damage are visited, as when each is visited as it is read.
    handOver();
    throw new FormatError(base + p, reason, false);
  };
  const need = (n: number, what: string) => {
    if (p + n > length) fail(`${what} runs past the end of its block`);
  };
  try {
    for (let i = 0; i < count; i++) {
      if (p >= length) fail("record runs past the end of its block");
      const tag = payload[p]!;
      // (a set record, the one a million-key load meets a million times, pays one comparison)
      if (tag !== OP_SET && (tag === OP_TOMB || tag === OP_WATERMARK ? !tombs : onlySets)) fail(`unexpected record type ${tag}`);
      if (tag === OP_SET) {
        // `need` written out: this is the loop a million-key load runs a million times.
        if (p + SET_HEAD_BYTES > length) fail("record header runs past the end of its block");
        const keyLength = view.getUint32(p + 1, true);
        const valueLength = view.getUint32(p + 5, true);
        const writtenAt = view.getFloat64(p + 9, true);
        const expiresAt = view.getFloat64(p + 17, true);
        if (p + SET_HEAD_BYTES + keyLength + valueLength > length) fail("record runs past the end of its block");
        const keyAt = p + SET_HEAD_BYTES;
        if (batched) {
          const n = batch.count++;
          batch.keyAt[n] = keyAt;
          batch.keyLength[n] = keyLength;
          batch.valueLength[n] = valueLength;
          batch.expiresAt[n] = expiresAt;
          batch.writtenAt[n] = writtenAt;
          if (batch.count === BATCH_RECORDS) handOver();
        } else {
          visit.set(payload.subarray(keyAt, keyAt + keyLength), payload.subarray(keyAt + keyLength, keyAt + keyLength + valueLength), expiresAt, writtenAt);
        }
        p = keyAt + keyLength + valueLength;
        continue;
      }
      handOver();
      if (tag === OP_EXPIRE) {
        need(EXPIRE_HEAD_BYTES, "record header");
        const keyLength = view.getUint32(p + 1, true);
        need(EXPIRE_HEAD_BYTES + keyLength, "record");
        const at = p + EXPIRE_HEAD_BYTES;
        visit.expire(payload.subarray(at, at + keyLength), view.getFloat64(p + 13, true), view.getFloat64(p + 5, true));
        p = at + keyLength;
      } else if (tag === OP_DELETE) {
        need(DELETE_HEAD_BYTES, "record header");
        const keyLength = view.getUint32(p + 1, true);
        need(DELETE_HEAD_BYTES + keyLength, "record");
        const at = p + DELETE_HEAD_BYTES;
        visit.delete(payload.subarray(at, at + keyLength), view.getFloat64(p + 5, true));
        p = at + keyLength;
      } else if (tag === OP_FLUSH) {
        need(FLUSH_BYTES, "record");
        visit.flush(view.getFloat64(p + 1, true));
        p += FLUSH_BYTES;
      } else if (tag === OP_TOMB) {
        need(TOMB_HEAD_BYTES, "record header");
        const keyLength = view.getUint32(p + 1, true);
        const originLength = view.getUint32(p + 5, true);
        if (originLength > MAX_ORIGIN_BYTES) fail(`origin length ${originLength} is implausible`);
        need(TOMB_HEAD_BYTES + keyLength + originLength, "record");
        const at = p + TOMB_HEAD_BYTES;
        const origin = payload.subarray(at + keyLength, at + keyLength + originLength);
        visit.tomb?.(payload.subarray(at, at + keyLength), view.getFloat64(p + 9, true), originText.decode(origin));
        p = at + keyLength + originLength;
      } else if (tag === OP_WATERMARK) {
        need(WATERMARK_HEAD_BYTES, "record header");
        const originLength = view.getUint32(p + 1, true);
        if (originLength > MAX_ORIGIN_BYTES) fail(`origin length ${originLength} is implausible`);
        need(WATERMARK_HEAD_BYTES + originLength, "record");
        const at = p + WATERMARK_HEAD_BYTES;
        visit.watermark?.(view.getFloat64(p + 5, true), originText.decode(payload.subarray(at, at + originLength)));
        p = at + originLength;
      } else {
        fail(`unknown record type ${tag}`);
      }
    }
    if (p !== length) fail("block holds more bytes than its records");
    handOver();
  } finally {
    // A visitor that threw leaves nothing behind for the next block.
    batch.count = 0;
    batch.bytes = EMPTY;
  }
}
