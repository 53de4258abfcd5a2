// The framing shared by the snapshot and the append log (pure, no I/O): a checksummed file header,
// then checksummed blocks of length-framed records. A block is the unit of checksum and of repair.

/** Thrown for bytes that are not a valid file; `offset` is the byte where the damage starts. */
export class FormatError extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
    /** true when the data simply stops early (a torn tail), false when bytes are wrong */
    readonly truncated: boolean,
  ) {
    super(`${truncated ? "truncated" : "corrupt"} at byte offset ${offset}: ${reason}`);
  }
}

/** A file written by a newer (or unknown) format version: never repaired, never overwritten. */
export class UnsupportedVersionError extends Error {
  constructor(readonly version: number) {
    super(`format version ${version} is not supported (this build reads versions 1 to ${FORMAT_VERSION})`);
  }
}

/**
 * Version 1: set records in snapshots; set, expire, delete and flush records in logs. Version 2
 * adds sync's tombstone and flush-watermark records (records.ts), written only by nodes with
 * sync on: a node without sync writes version 1 byte for byte as before, and a build that knows
 * only version 1 refuses a file with tombstones as an unknown version instead of calling it
 * corrupt (and never overwrites it).
 */
export const FORMAT_VERSION = 2;
/** the first version that may hold tombstone and watermark records */
export const TOMBS_VERSION = 2;
export const SNAPSHOT_MAGIC = "OWLSNAP\0";
export const LOG_MAGIC = "OWLAOF\0\0";

/** magic(8) version(u32) flags(u32) generation(f64) createdAt(f64) crc(u32) */
export const FILE_HEADER_BYTES = 36;
/** marker(u32) payloadLength(u32) count(u32) crc(u32) */
export const BLOCK_HEADER_BYTES = 16;
export const BLOCK_MARKER = 0x424c574f; // "OWLB" little-endian
/** the last block of a snapshot: its payload is the record count, so a file cut at a block edge is caught */
export const END_MARKER = 0x454c574f; // "OWLE"
/**
 * Largest block payload a reader accepts: one record may hold a 512 MiB value (MaxValueBytes'
 * ceiling) plus its key; anything bigger is a damaged length, not data.
 */
export const MAX_BLOCK_PAYLOAD = 512 * 1024 * 1024 + 2 * 1024 * 1024;

export interface FileHeader {
  readonly magic: string;
  readonly version: number;
  readonly generation: number;
  readonly createdAt: number;
}

export function checksum(bytes: Uint8Array, seed = 0): number {
  return Bun.hash.crc32(bytes, seed) >>> 0;
}

export function encodeFileHeader(magic: string, generation: number, createdAt: number, version = 1): Uint8Array {
  const out = new Uint8Array(FILE_HEADER_BYTES);
  for (let i = 0; i < 8; i++) out[i] = magic.charCodeAt(i);
  const view = new DataView(out.buffer);
  view.setUint32(8, version, true);
  view.setUint32(12, 0, true);
  view.setFloat64(16, generation, true);
  view.setFloat64(24, createdAt, true);
  view.setUint32(32, checksum(out.subarray(0, 32)), true);
  return out;
}

/** Validates the header at the start of `bytes` (which must hold at least FILE_HEADER_BYTES). */
export function decodeFileHeader(bytes: Uint8Array, magic: string): FileHeader {
  if (bytes.length < FILE_HEADER_BYTES) throw new FormatError(bytes.length, "file shorter than its header", true);
  for (let i = 0; i < 8; i++) {
    if (bytes[i] !== magic.charCodeAt(i)) throw new FormatError(0, `not an owlcache ${magic.startsWith("OWLSNAP") ? "snapshot" : "append log"} (bad magic)`, false);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, FILE_HEADER_BYTES);
  if (view.getUint32(32, true) !== checksum(bytes.subarray(0, 32))) throw new FormatError(0, "header checksum mismatch", false);
  const version = view.getUint32(8, true);
  if (version < 1 || version > FORMAT_VERSION) throw new UnsupportedVersionError(version);
  return { magic, version, generation: view.getFloat64(16, true), createdAt: view.getFloat64(24, true) };
}

/** Fills the 16-byte block header in front of a payload already written at `at + 16`. */
export function sealBlock(buf: Uint8Array, at: number, payloadLength: number, count: number, marker = BLOCK_MARKER): void {
  putU32(buf, at, marker);
  putU32(buf, at + 4, payloadLength);
  putU32(buf, at + 8, count);
  // The checksum covers length and count as well as the payload, so a flipped length is caught too.
  const seed = checksum(buf.subarray(at + 4, at + 12));
  putU32(buf, at + 12, checksum(buf.subarray(at + BLOCK_HEADER_BYTES, at + BLOCK_HEADER_BYTES + payloadLength), seed));
}

export function putU32(buf: Uint8Array, at: number, n: number): void {
  buf[at] = n;
  buf[at + 1] = n >>> 8;
  buf[at + 2] = n >>> 16;
  buf[at + 3] = n >>> 24;
}

export interface Block {
  readonly marker: number;
  readonly count: number;
  /** view into the input */
  readonly payload: Uint8Array;
  /** offset just past the block */
  readonly end: number;
}

/**
 * Reads the block at `offset` of `buf`. `base` is the file offset of buf[0], for error offsets.
 * Returns the number of bytes needed when the block is not complete in `buf` yet.
 */
export function readBlock(buf: Uint8Array, offset: number, base: number): Block | { need: number } {
  if (buf.length - offset < BLOCK_HEADER_BYTES) return { need: BLOCK_HEADER_BYTES };
  const view = new DataView(buf.buffer, buf.byteOffset + offset, BLOCK_HEADER_BYTES);
  const marker = view.getUint32(0, true);
  if (marker !== BLOCK_MARKER && marker !== END_MARKER) throw new FormatError(base + offset, "no block marker", false);
  const length = view.getUint32(4, true);
  if (length > MAX_BLOCK_PAYLOAD) throw new FormatError(base + offset, `block length ${length} is implausible`, false);
  const total = BLOCK_HEADER_BYTES + length;
  if (buf.length - offset < total) return { need: total };
  const seed = checksum(buf.subarray(offset + 4, offset + 12));
  const payload = buf.subarray(offset + BLOCK_HEADER_BYTES, offset + total);
  if (checksum(payload, seed) !== view.getUint32(12, true)) throw new FormatError(base + offset, "block checksum mismatch", false);
  return { marker, count: view.getUint32(8, true), payload, end: offset + total };
}

/**
 * Whether the block at `offset` of `buf` (all of it in `buf`) passes its checksum when its length
 * is taken as `length` instead of what its header says: a repair's test that only the length was
 * damaged.
 */
export function holdsWithLength(buf: Uint8Array, offset: number, length: number): boolean {
  const fields = buf.slice(offset + 4, offset + 12);
  putU32(fields, 0, length);
  const stored = new DataView(buf.buffer, buf.byteOffset + offset, BLOCK_HEADER_BYTES).getUint32(12, true);
  return checksum(buf.subarray(offset + BLOCK_HEADER_BYTES, offset + BLOCK_HEADER_BYTES + length), checksum(fields)) === stored;
}

/** Where the next plausible block starts after damage at `from` (repair), or -1. */
export function findNextMarker(buf: Uint8Array, from: number): number {
  for (let i = from; i + 4 <= buf.length; i++) {
    if (buf[i] === 0x4f && buf[i + 1] === 0x57 && buf[i + 2] === 0x4c && (buf[i + 3] === 0x42 || buf[i + 3] === 0x45)) return i;
  }
  return -1;
}
