// Whole-file encoding and decoding (pure): the snapshot encoder turns a StoreSnapshot (and sync's
// tombstones, when it has any) into byte chunks a writer can stream out; decodeFile walks any owlcache data file block by block and, in
// repair mode, skips damaged blocks instead of failing.

import { binaryStringToBytes } from "../store/bytes.ts";
import type { StoreSnapshot } from "../store/types.ts";
import { blockAt, resumeAfterDamage } from "./block-walk.ts";
import {
  BLOCK_HEADER_BYTES,
  decodeFileHeader,
  encodeFileHeader,
  END_MARKER,
  FILE_HEADER_BYTES,
  findNextMarker,
  FORMAT_VERSION,
  FormatError,
  SNAPSHOT_MAGIC,
  TOMBS_VERSION,
  type FileHeader,
} from "./frame.ts";
import { FileWindow, type ByteSource } from "./file-window.ts";
import { BlockWriter } from "./records.ts";
import type { TombCapture } from "./tombs.ts";

/**
 * A block holds at most this many records (or one record bigger than BLOCK_BYTES): the unit a
 * repair loses when bytes inside it are damaged. Small enough to lose little, big enough that one
 * checksum call covers many small records (a call per record costs ~130 ms per million).
 */
export const BLOCK_RECORDS = 32;
export const BLOCK_BYTES = 32 * 1024;
/** Bytes handed to the writer at a time: each chunk is encoded in one go (a few ms), then written. */
export const CHUNK_BYTES = 256 * 1024;

export class SnapshotEncoder {
  private readonly writer = new BlockWriter(CHUNK_BYTES + BLOCK_BYTES);
  private next = 0;
  private written = 0;
  /** tombstone records written (after every set record), and the watermark's (0 or 1) */
  private tombsWritten = 0;
  private watermarkWritten = 0;
  /** tombstones of the part under way (parallel arrays, reused), and the next one to encode */
  private readonly partKeys: string[] = [];
  private readonly partAt: number[] = [];
  private readonly partOrigins: string[] = [];
  private nextTomb = 0;
  /** every part of the capture was taken (and, once encoded, the watermark's turn came) */
  private tombsTaken: boolean;
  private tombsDone: boolean;
  private readonly takeTomb = (key: string, at: number, origin: string): void => {
    this.partKeys.push(key);
    this.partAt.push(at);
    this.partOrigins.push(origin);
  };
  private readonly originBytes = new Map<string, Uint8Array>();
  private done = false;
  /** the file header, sent in front of the first chunk */
  private headerPending: Uint8Array | undefined;

  constructor(
    private readonly source: StoreSnapshot,
    generation: number,
    /** the capture time: entries expired by then are left out */
    private readonly takenAt: number,
    /** sync's tombstones and watermark, captured with the keyspace (none without sync) */
    private readonly tombs?: TombCapture,
  ) {
    // Version 1, byte for byte as before, unless there is something of sync's to keep.
    const hasTombs = tombs !== undefined && (tombs.any || tombs.watermark !== undefined);
    this.headerPending = encodeFileHeader(SNAPSHOT_MAGIC, generation, takenAt, hasTombs ? TOMBS_VERSION : 1);
    this.tombsTaken = !hasTombs;
    this.tombsDone = !hasTombs;
  }

  /** tombstone records encoded so far */
  get tombstones(): number {
    return this.tombsWritten;
  }

  /** records encoded so far */
  get records(): number {
    return this.written;
  }

  /** The next chunk of the file (a view, valid until the next call), or undefined when finished. */
  nextChunk(): Uint8Array | undefined {
    if (this.done) return undefined;
    const w = this.writer;
    w.reset();
    let out: Uint8Array | undefined;
    if (this.headerPending) {
      out = this.headerPending;
      this.headerPending = undefined;
    }
    const src = this.source;
    const n = src.length;
    while (this.next < n && w.length < CHUNK_BYTES) {
      const i = this.next++;
      const expiresAt = src.expiresAt(i);
      if (expiresAt !== 0 && expiresAt <= this.takenAt) continue;
      w.beginBlock();
      const keyLength = src.keyLength(i);
      const keyAt = w.setRecordSpace(keyLength, src.valueLength(i), expiresAt, src.writtenAt(i));
      const bytes = w.bytes; // after setRecordSpace: it may have grown the buffer
      src.copyKey(i, bytes, keyAt);
      src.copyValue(i, bytes, keyAt + keyLength);
      this.written++;
      if (w.openRecords >= BLOCK_RECORDS || w.openPayloadBytes >= BLOCK_BYTES) w.sealBlock();
    }
    if (this.next >= n) this.encodeTombs();
    if (this.next >= n && this.tombsDone) {
      // (the end block counts every record, so a lost tombstone block is caught like a lost set)
      w.end(this.written + this.tombsWritten + this.watermarkWritten);
      this.done = true;
    } else {
      w.sealBlock();
    }
    const body = w.sealed();
    if (!out) return body;
    const both = new Uint8Array(out.length + body.length);
    both.set(out, 0);
    both.set(body, out.length);
    return both;
  }

  /**
   * Tombstone records after the sets, then the watermark, into the chunk under way. The capture
   * gives them part by part, as chunks need them: the walk is spread over the snapshot's writes.
   */
  private encodeTombs(): void {
    const t = this.tombs;
    if (t === undefined || this.tombsDone) return;
    const w = this.writer;
    while (w.length < CHUNK_BYTES) {
      if (this.nextTomb === this.partKeys.length) {
        if (this.tombsTaken) break;
        this.partKeys.length = this.partAt.length = this.partOrigins.length = 0;
        this.nextTomb = 0;
        this.tombsTaken = !t.more(this.takeTomb);
        continue;
      }
      const i = this.nextTomb++;
      w.beginBlock();
      w.tomb(binaryStringToBytes(this.partKeys[i]!), this.partAt[i]!, this.origin(this.partOrigins[i]!));
      this.tombsWritten++;
      if (w.openRecords >= BLOCK_RECORDS || w.openPayloadBytes >= BLOCK_BYTES) w.sealBlock();
    }
    if (this.tombsTaken && this.nextTomb === this.partKeys.length && w.length < CHUNK_BYTES) {
      this.tombsDone = true;
      if (t.watermark !== undefined) {
        w.beginBlock();
        w.watermark(t.watermark.at, this.origin(t.watermark.origin));
        this.watermarkWritten = 1;
      }
    }
    w.sealBlock();
  }

  /** An origin's bytes (node addresses: a handful, encoded once each). */
  private origin(origin: string): Uint8Array {
    let bytes = this.originBytes.get(origin);
    if (bytes === undefined) this.originBytes.set(origin, (bytes = new TextEncoder().encode(origin)));
    return bytes;
  }
}

/** Bytes at the end of a whole snapshot that hold its end block. */
export const END_BLOCK_BYTES = BLOCK_HEADER_BYTES + 8;

/**
 * The record count a snapshot's end block states, read from the file's last END_BLOCK_BYTES with
 * nothing else checked: a hint to size the store before loading (decodeFile checks the count).
 */
export function statedRecordCount(tail: Uint8Array): number | undefined {
  if (tail.length !== END_BLOCK_BYTES) return undefined;
  const view = new DataView(tail.buffer, tail.byteOffset, END_BLOCK_BYTES);
  if (view.getUint32(0, true) !== END_MARKER || view.getUint32(4, true) !== 8) return undefined;
  const count = view.getFloat64(BLOCK_HEADER_BYTES, true);
  return Number.isSafeInteger(count) && count >= 0 ? count : undefined;
}

export interface DecodedFile {
  readonly header: FileHeader;
  /** the first damage found (repair mode only; otherwise it is thrown) */
  readonly damage: FormatError | undefined;
  /** blocks skipped as damaged (repair mode): a stretch of bytes with no intact block in it counts as one */
  readonly skippedBlocks: number;
  /** bytes not read as the header or an intact block (repair mode) */
  readonly skippedBytes: number;
  /** records of the intact blocks, the ones handed to `onBlock` */
  readonly records: number;
}

/**
 * Walks the blocks of a snapshot or log — all of it in memory, or read from `source` a chunk at
 * a time — calling `onBlock(payload, count, base, version)` for each intact one (`payload` is valid
 * during the call only; `version` is the file's format version). Without `repair` the first damage
 * throws a FormatError naming the offset; with it, damaged blocks are skipped and the walk goes on
 * to the end of the file (see resumeAfterDamage), past a snapshot's end block too.
 */
export function decodeFile(
  source: Uint8Array | ByteSource,
  magic: string,
  repair: boolean,
  onBlock: (payload: Uint8Array, count: number, base: number, version: number) => void,
): DecodedFile {
  let damage: FormatError | undefined;
  let skippedBlocks = 0;
  let skippedBytes = 0;
  const note = (error: FormatError, blocks = 1): void => {
    if (!repair) throw error;
    damage ??= error;
    skippedBlocks += blocks;
  };
  const file = new FileWindow(source);
  const size = file.size;
  let header: FileHeader;
  let offset = FILE_HEADER_BYTES;
  /** `offset` was found by looking for a marker in damaged bytes: failing there, it is the same damage */
  let searching = false;
  try {
    file.has(0, FILE_HEADER_BYTES);
    header = decodeFileHeader(file.bytes, magic);
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    note(error);
    header = { magic, version: 0, generation: 0, createdAt: 0 };
    // (bytes cut from or added to the header move the first block: it is looked for)
    offset = file.nextMarker(0, findNextMarker);
    if (offset === -1) offset = size;
    skippedBytes += offset;
    searching = true;
  }
  // (a header lost to damage says nothing of the version: the blocks may hold anything this build reads)
  const version = header.version === 0 ? FORMAT_VERSION : header.version;
  const isSnapshot = magic === SNAPSHOT_MAGIC;
  let records = 0;
  let ended = false;
  while (offset < size) {
    /** the end of the block at `offset` once its checksum held */
    let framed: number | undefined;
    /** where the bytes skipped start, and where the walk resumes (-1: nowhere) */
    let from = offset;
    let resume: number;
    try {
      const block = blockAt(file, offset);
      framed = block.end;
      if (block.marker !== END_MARKER) {
        onBlock(block.payload, block.count, offset + BLOCK_HEADER_BYTES, version);
        records += block.count;
        offset = block.end;
        searching = false;
        continue;
      }
      if (!isSnapshot || block.payload.length !== 8) throw new FormatError(offset, "misplaced end block", false);
      // Damage too, under --repair as well: a whole block gone (its neighbours intact) shows
      // only here, and a repair that let it pass would keep the file and leave the next start
      // refusing it again. (After damage already noted, the count cannot match: nothing new.)
      const expected = new DataView(block.payload.buffer, block.payload.byteOffset, 8).getFloat64(0, true);
      if (expected !== records && damage === undefined) note(new FormatError(offset, `end block counts ${expected} records, the file holds ${records}`, false), 0);
      ended = true;
      if (block.end === size) break;
      // Under --repair blocks may follow all the same (a file appended to after its end): look for them.
      note(new FormatError(block.end, "bytes after the end block", false), 0);
      from = block.end;
      resume = file.nextMarker(from, findNextMarker);
      searching = true;
    } catch (error) {
      if (!(error instanceof FormatError)) throw error;
      note(error, searching ? 0 : 1);
      // (a block whose checksum held but whose records are wrong is skipped whole: its framing is sound)
      resume = framed ?? resumeAfterDamage(file, offset);
      searching = framed === undefined;
    }
    skippedBytes += (resume === -1 ? size : resume) - from;
    if (resume === -1) break;
    offset = resume;
  }
  if (isSnapshot && !ended && damage === undefined) {
    note(new FormatError(size, "the end block is missing", true));
  }
  return { header, damage, skippedBlocks, skippedBytes, records };
}
