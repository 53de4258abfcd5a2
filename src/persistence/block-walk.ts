// Reading blocks at file offsets through a FileWindow, and where a repair's walk picks up again
// after a damaged block (pure: every read goes through the window).

import type { FileWindow } from "./file-window.ts";
import { BLOCK_HEADER_BYTES, BLOCK_MARKER, END_MARKER, findNextMarker, FormatError, MAX_BLOCK_PAYLOAD, readBlock, type Block } from "./frame.ts";

/**
 * The intact block at file offset `at`, its `end` a file offset (the payload is a view, valid
 * until the window moves). Throws a FormatError: damaged, or truncated when the file ends first.
 */
export function blockAt(file: FileWindow, at: number): Block {
  file.has(at, BLOCK_HEADER_BYTES);
  let block = readBlock(file.bytes, at - file.start, file.start);
  if ("need" in block) {
    if (file.has(at, block.need)) block = readBlock(file.bytes, at - file.start, file.start);
    if ("need" in block) throw new FormatError(at, `block needs ${block.need} bytes, the file ends ${file.size - at} bytes later`, true);
  }
  return { marker: block.marker, count: block.count, payload: block.payload, end: file.start + block.end };
}

/**
 * Where the block at `at` ends by its own header — marker and a plausible length that fits in the
 * file — whatever its checksum says; undefined when the header itself is not plausible.
 */
export function claimedEnd(file: FileWindow, at: number): number | undefined {
  if (!file.has(at, BLOCK_HEADER_BYTES)) return undefined;
  const view = new DataView(file.bytes.buffer, file.bytes.byteOffset + at - file.start, BLOCK_HEADER_BYTES);
  const marker = view.getUint32(0, true);
  if (marker !== BLOCK_MARKER && marker !== END_MARKER) return undefined;
  const length = view.getUint32(4, true);
  if (length > MAX_BLOCK_PAYLOAD || at + BLOCK_HEADER_BYTES + length > file.size) return undefined;
  return at + BLOCK_HEADER_BYTES + length;
}

/**
 * Where the walk resumes after the damaged block at `at` (-1: nowhere, the rest is skipped):
 *
 * - its claimed end, when an intact block starts there or the file ends there: a flipped byte in
 *   a value costs that block only, and the value's bytes are never read as blocks (a value may
 *   hold anything, a whole block of another file included);
 * - unless intact blocks inside that claimed span lead one after another up to it: then the
 *   length is what was damaged (grown over its neighbours), and the first of them is where to go;
 * - otherwise (the header is not plausible, its length runs past the file's end or lands on no
 *   block) the next marker after `at`, whose block is checked in turn. Looking from `at + 1`,
 *   not past the header: a "header" found by looking for markers in damaged bytes may not be one,
 *   and a real block may start inside its 16 bytes.
 */
export function resumeAfterDamage(file: FileWindow, at: number): number {
  const claimed = claimedEnd(file, at);
  if (claimed !== undefined && (claimed === file.size || intactEnd(file, claimed) !== undefined)) {
    return chainWithin(file, at + 1, claimed) ?? claimed;
  }
  return file.nextMarker(at + 1, findNextMarker);
}

/** The first offset in [from, to) where intact blocks start and follow one another up to exactly `to`. */
function chainWithin(file: FileWindow, from: number, to: number): number | undefined {
  for (let first = file.nextMarker(from, findNextMarker); first !== -1 && first < to; first = file.nextMarker(first + 1, findNextMarker)) {
    let end = intactEnd(file, first);
    while (end !== undefined && end < to) end = intactEnd(file, end);
    if (end === to) return first;
  }
  return undefined;
}

/** The end of the intact block at `at`, or undefined. */
function intactEnd(file: FileWindow, at: number): number | undefined {
  try {
    return blockAt(file, at).end;
  } catch (error) {
    if (error instanceof FormatError) return undefined;
    throw error;
  }
}
