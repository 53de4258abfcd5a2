// Last-writer-wins order for sync (SPEC §7): a key's version is (writtenAt, origin node address),
// with a delete beating a set at the same instant and the value's hash, then its expiry, as the
// final tie-breaks, so every node picks the same winner whatever order records arrive in.

import { murmur3 } from "../../common/murmur3.ts";

export interface Version {
  readonly writtenAt: number;
  readonly origin: string;
  /** true for a tombstone (a delete) */
  readonly tomb: boolean;
  /** hash of the value; 0 for a tombstone */
  readonly valueHash: number;
  /** absolute expiry in ms, 0 for none (and for a tombstone) */
  readonly expiresAt: number;
}

/** A flush: every version written before it (by this order) is gone. */
export interface Watermark {
  readonly at: number;
  readonly origin: string;
}

export const NO_WATERMARK: Watermark = { at: 0, origin: "" };

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Negative when a is older than b, 0 when they are the same version. */
export function compareVersions(a: Version, b: Version): number {
  if (a.writtenAt !== b.writtenAt) return a.writtenAt < b.writtenAt ? -1 : 1;
  const byOrigin = compareStrings(a.origin, b.origin);
  if (byOrigin !== 0) return byOrigin;
  if (a.tomb !== b.tomb) return a.tomb ? 1 : -1;
  if (a.valueHash !== b.valueHash) return a.valueHash >>> 0 < b.valueHash >>> 0 ? -1 : 1;
  if (a.expiresAt !== b.expiresAt) return a.expiresAt < b.expiresAt ? -1 : 1;
  return 0;
}

/**
 * Whether an incoming version replaces the local one. `inOrder` is true for the live replication
 * stream: records of one origin arrive in the order they were written, so a second write of the
 * key by the same node in the same millisecond replaces the first (the value hash only decides
 * when anti-entropy meets two such writes with no order between them). The same goes for a set
 * followed by an expire in the same millisecond.
 */
export function replaces(incoming: Version, local: Version | undefined, inOrder: boolean): boolean {
  if (local === undefined) return true;
  const order = compareVersions(incoming, local);
  if (order > 0) return true;
  if (order === 0 || !inOrder) return false;
  return incoming.writtenAt === local.writtenAt && incoming.origin === local.origin && !incoming.tomb && !local.tomb;
}

/** Whether a flush watermark wipes a version written at (writtenAt, origin). */
export function coveredBy(watermark: Watermark, writtenAt: number, origin: string): boolean {
  if (writtenAt !== watermark.at) return writtenAt < watermark.at;
  return compareStrings(origin, watermark.origin) < 0;
}

export function newerWatermark(a: Watermark, b: Watermark): boolean {
  if (a.at !== b.at) return a.at > b.at;
  return compareStrings(a.origin, b.origin) > 0;
}

/** Hash of a value for tie-breaks and digests (murmur3: fixed algorithm, same on every node). */
export function valueHash(value: Uint8Array): number {
  return murmur3(value, 0, value.length, VALUE_SEED);
}

/** valueHash of bytes [start, end) of `bytes` (a value read in place: no view made). */
export function valueHashOf(bytes: Uint8Array, start: number, end: number): number {
  return murmur3(bytes, start, end, VALUE_SEED);
}

const VALUE_SEED = 0x0b1;
