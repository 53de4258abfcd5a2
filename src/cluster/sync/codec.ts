// Binary encoding of a batch of sync records (pure: bytes in, records out). Values travel as
// raw bytes, not base64 JSON, so replication costs about one copy of the data.
//
// Layout (little-endian): "OWS1" | flags u8 | origins u16 | origins × (len u16, utf8) |
// records u32 | records × (kind u8, origin u16, writtenAt f64,
//   put: expiresAt f64, keyLen u32, key, valueLen u32, value | del: keyLen u32, key | flush: —)

import { grown } from "../../store/typed-arrays.ts";
import type { SyncRecord } from "./records.ts";

const MAGIC = [0x4f, 0x57, 0x53, 0x31]; // "OWS1"
const KIND_PUT = 1;
const KIND_DEL = 2;
const KIND_FLUSH = 3;
/** set on batches of the live replication stream (records of one origin, in write order) */
export const FLAG_IN_ORDER = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export class CodecError extends Error {}

export interface Batch {
  readonly inOrder: boolean;
  readonly records: SyncRecord[];
}

export function encodeBatch(records: readonly SyncRecord[], inOrder: boolean): Uint8Array<ArrayBuffer> {
  const originIndex = new Map<string, number>();
  const originBytes: Uint8Array[] = [];
  let size = 4 + 1 + 2 + 4;
  for (const r of records) {
    if (!originIndex.has(r.origin)) {
      if (originIndex.size === 0xffff) throw new CodecError("too many origins in one batch");
      const bytes = encoder.encode(r.origin);
      originIndex.set(r.origin, originIndex.size);
      originBytes.push(bytes);
      size += 2 + bytes.length;
    }
    size += 1 + 2 + 8;
    if (r.kind === "put") size += 8 + 4 + r.key.length + 4 + r.value.length;
    else if (r.kind === "del") size += 4 + r.key.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  let at = 4;
  out[at++] = inOrder ? FLAG_IN_ORDER : 0;
  view.setUint16(at, originBytes.length, true);
  at += 2;
  for (const bytes of originBytes) {
    view.setUint16(at, bytes.length, true);
    out.set(bytes, at + 2);
    at += 2 + bytes.length;
  }
  view.setUint32(at, records.length, true);
  at += 4;
  for (const r of records) {
    out[at] = r.kind === "put" ? KIND_PUT : r.kind === "del" ? KIND_DEL : KIND_FLUSH;
    view.setUint16(at + 1, originIndex.get(r.origin)!, true);
    view.setFloat64(at + 3, r.writtenAt, true);
    at += 11;
    if (r.kind === "put") {
      view.setFloat64(at, r.expiresAt, true);
      view.setUint32(at + 8, r.key.length, true);
      out.set(r.key, at + 12);
      at += 12 + r.key.length;
      view.setUint32(at, r.value.length, true);
      out.set(r.value, at + 4);
      at += 4 + r.value.length;
    } else if (r.kind === "del") {
      view.setUint32(at, r.key.length, true);
      out.set(r.key, at + 4);
      at += 4 + r.key.length;
    }
  }
  return out;
}

/** below this, a key or value is copied rather than viewed: in JSC a `subarray` view costs more
 * than copying a few dozen bytes by loop into an array of its own */
const COPY_BELOW = 64;

function piece(bytes: Uint8Array, from: number, to: number): Uint8Array {
  if (to - from >= COPY_BELOW) return bytes.subarray(from, to);
  const out = new Uint8Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = bytes[i]!;
  return out;
}

/** A record of `forEachRecord`: one object, refilled for every record of the batch. */
export interface ScratchRecord {
  kind: "put" | "del" | "flush";
  /** valid until the next record (a shared buffer or a view into the batch) */
  key: Uint8Array;
  value: Uint8Array;
  writtenAt: number;
  expiresAt: number;
  origin: string;
}

const EMPTY = new Uint8Array(0);

/** Shared buffers for short keys and values: one view per length, made once. */
class Scratch {
  private readonly buffer = new Uint8Array(COPY_BELOW);
  private readonly views: Uint8Array[] = [];
  take(bytes: Uint8Array, from: number, to: number): Uint8Array {
    const n = to - from;
    if (n >= COPY_BELOW) return bytes.subarray(from, to);
    const out = (this.views[n] ??= this.buffer.subarray(0, n));
    for (let i = 0; i < n; i++) out[i] = bytes[from + i]!;
    return out;
  }
}

const keyScratch = new Scratch();
const valueScratch = new Scratch();

/**
 * One record as `walkBatch` finds it: the key and the value are `bytes[keyAt, keyEnd)` and
 * `bytes[valueAt, valueEnd)` (empty ranges where the kind has none).
 */
type Visit = (kind: number, origin: string, writtenAt: number, expiresAt: number, keyAt: number, keyEnd: number, valueAt: number, valueEnd: number) => void;

/**
 * Checks a batch from end to end, calling `visit` (if given) for each record as it is read;
 * returns the in-order flag. Throws CodecError on any malformed input.
 */
function walkBatch(bytes: Uint8Array, visit: Visit | undefined): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number): void => {
    if (at + n > bytes.length) throw new CodecError(`truncated batch at offset ${at}`);
  };
  need(7);
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) throw new CodecError("not a sync batch");
  const inOrder = (bytes[4]! & FLAG_IN_ORDER) !== 0;
  const originCount = view.getUint16(5, true);
  at = 7;
  const origins: string[] = [];
  for (let i = 0; i < originCount; i++) {
    need(2);
    const len = view.getUint16(at, true);
    at += 2;
    need(len);
    try {
      origins.push(decoder.decode(bytes.subarray(at, at + len)));
    } catch {
      throw new CodecError(`origin ${i} is not UTF-8`);
    }
    at += len;
  }
  need(4);
  const count = view.getUint32(at, true);
  at += 4;
  const time = (n: number): number => {
    if (!Number.isSafeInteger(n) || n < 0) throw new CodecError(`bad time at offset ${at}`);
    return n;
  };
  for (let i = 0; i < count; i++) {
    need(11);
    const kind = bytes[at]!;
    const origin = origins[view.getUint16(at + 1, true)];
    if (origin === undefined) throw new CodecError(`record ${i} names an unknown origin`);
    const writtenAt = time(view.getFloat64(at + 3, true));
    at += 11;
    if (kind === KIND_PUT) {
      need(12);
      const expiresAt = time(view.getFloat64(at, true));
      const keyLen = view.getUint32(at + 8, true);
      at += 12;
      need(keyLen + 4);
      const keyAt = at;
      at += keyLen;
      const valueLen = view.getUint32(at, true);
      at += 4;
      need(valueLen);
      const valueAt = at;
      at += valueLen;
      if (keyLen === 0) throw new CodecError(`record ${i} has an empty key`);
      visit?.(kind, origin, writtenAt, expiresAt, keyAt, keyAt + keyLen, valueAt, valueAt + valueLen);
    } else if (kind === KIND_DEL) {
      need(4);
      const keyLen = view.getUint32(at, true);
      at += 4;
      need(keyLen);
      const keyAt = at;
      at += keyLen;
      if (keyLen === 0) throw new CodecError(`record ${i} has an empty key`);
      visit?.(kind, origin, writtenAt, 0, keyAt, keyAt + keyLen, at, at);
    } else if (kind === KIND_FLUSH) {
      visit?.(kind, origin, writtenAt, 0, at, at, at, at);
    } else {
      throw new CodecError(`record ${i} has unknown kind ${kind}`);
    }
  }
  if (at !== bytes.length) throw new CodecError(`${bytes.length - at} trailing bytes`);
  return inOrder;
}

/** Warms the cache for the keys at bytes[at[2i], at[2i+1]), i < count (Keyspace.prefetch). */
export type KeyPrefetch = (bytes: Uint8Array, at: Int32Array, count: number) => void;
/** Records whose keys `forEachRecord` prefetches at a time, just before applying them. */
const PREFETCH_GROUP = 64;
/** Where `forEachRecord` notes each record's key range (grown for larger batches, then kept). */
let keyRanges = new Int32Array(2 * 1024);

/**
 * Checks a whole batch, then calls `fn` for each record with one reused object whose key and
 * value are valid only during the call (no allocation per record: a peer applies the replication
 * stream this way), whether the batch is of the in-order stream, the record's index and the
 * batch's number of records. Throws CodecError before the first call when the batch is
 * malformed. Returns the in-order flag. With `prefetch`, the keys of each next 64 records are
 * handed to it before they are applied, so that their lookups' cache misses overlap (as the
 * stream servers do for a pipelined chunk).
 */
export function forEachRecord(
  bytes: Uint8Array,
  fn: (record: ScratchRecord, inOrder: boolean, index: number, count: number) => void,
  prefetch?: KeyPrefetch,
): boolean {
  // Nothing is applied from a malformed batch: the first walk only checks, counts the records
  // and, for `prefetch`, notes where each key is.
  let count = 0;
  const inOrder = walkBatch(
    bytes,
    prefetch
      ? (_kind, _origin, _writtenAt, _expiresAt, keyAt, keyEnd) => {
          if (2 * count + 2 > keyRanges.length) keyRanges = grown(keyRanges, keyRanges.length * 2);
          keyRanges[2 * count] = keyAt;
          keyRanges[2 * count + 1] = keyEnd;
          count++;
        }
      : () => count++,
  );
  const r: ScratchRecord = { kind: "flush", key: EMPTY, value: EMPTY, writtenAt: 0, expiresAt: 0, origin: "" };
  let index = 0;
  walkBatch(bytes, (kind, origin, writtenAt, expiresAt, keyAt, keyEnd, valueAt, valueEnd) => {
    if (prefetch && index % PREFETCH_GROUP === 0) {
      const n = Math.min(PREFETCH_GROUP, count - index);
      prefetch(bytes, keyRanges.subarray(2 * index, 2 * (index + n)), n);
    }
    r.kind = kind === KIND_PUT ? "put" : kind === KIND_DEL ? "del" : "flush";
    r.origin = origin;
    r.writtenAt = writtenAt;
    r.expiresAt = expiresAt;
    r.key = keyEnd > keyAt ? keyScratch.take(bytes, keyAt, keyEnd) : EMPTY;
    r.value = valueEnd > valueAt ? valueScratch.take(bytes, valueAt, valueEnd) : EMPTY;
    fn(r, inOrder, index++, count);
  });
  return inOrder;
}

/**
 * Decodes a batch. Keys and values (those of 64 bytes or more) are views into `bytes` (the store
 * copies what it keeps, and a peer applies a batch at once), so keep `bytes` unchanged while
 * using them. Throws CodecError on any malformed input.
 */
export function decodeBatch(bytes: Uint8Array): Batch {
  const records: SyncRecord[] = [];
  const inOrder = walkBatch(bytes, (kind, origin, writtenAt, expiresAt, keyAt, keyEnd, valueAt, valueEnd) => {
    if (kind === KIND_PUT) records.push({ kind: "put", key: piece(bytes, keyAt, keyEnd), value: piece(bytes, valueAt, valueEnd), writtenAt, expiresAt, origin });
    else if (kind === KIND_DEL) records.push({ kind: "del", key: piece(bytes, keyAt, keyEnd), writtenAt, origin });
    else records.push({ kind: "flush", writtenAt, origin });
  });
  return { inOrder, records };
}
