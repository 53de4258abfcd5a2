// Reading blocks at file offsets through a FileWindow, and where a repair's walk picks up again
// after a damaged block (pure: every read goes through the window).

import type { FileWindow } from "./file-window.ts";
import { BLOCK_HEADER_BYTES, BLOCK_MARKER, END_MARKER, findNextMarker, FormatError, holdsWithLength, MAX_BLOCK_PAYLOAD, readBlock, type Block } from "./frame.ts";

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
 * - unless the claimed span holds blocks after all (see blocksWithin): then the length is what
 *   was damaged (grown over its neighbours), and the first of them is where to go;
 * - otherwise (the header is not plausible, its length runs past the file's end or lands on no
 *   block) the next marker after `at`, whose block is checked in turn. Looking from `at + 1`,
 *   not past the header: a "header" found by looking for markers in damaged bytes may not be one,
 *   and a real block may start inside its 16 bytes.
 */
export function resumeAfterDamage(file: FileWindow, at: number): number {
  const claimed = claimedEnd(file, at);
  if (claimed !== undefined && (claimed === file.size || intactEnd(file, claimed) !== undefined)) {
    return blocksWithin(file, at, claimed) ?? claimed;
  }
  return file.nextMarker(at + 1, findNextMarker);
}

/**
 * Where blocks start inside the span the damaged block at `at` claims up to `to` (an intact
 * block or the file's end), or undefined when its bytes are taken for its own payload. The span
 * is looked through for runs: blocks one after another, intact ones and damaged ones whose own
 * length ends where the next of the run starts, as the walk itself would take them (never two
 * damaged in a row), at least one of them intact. The walk goes on at
 *
 * - the start of the first run, when the damaged block's checksum holds with its length cut back
 *   to end there: only the length was damaged, whatever else is damaged further on (the walk
 *   meets that damage in its turn);
 * - else the start of the first run that leads up to exactly `to` (runs before it may be a
 *   value's bytes: the damaged block's own length may be right);
 * - else nowhere inside: runs that lead nowhere are a value's bytes as far as anything tells (a
 *   value may hold a whole file of blocks).
 *
 * One pass over the span: a run that breaks is not walked again, the search for the next run goes
 * on where it broke (markers inside the blocks it verified are their bytes).
 */
function blocksWithin(file: FileWindow, at: number, to: number): number | undefined {
  let lengthTried = false;
  let from = at + 1;
  for (let first = file.nextMarker(from, findNextMarker); first !== -1 && first < to; first = file.nextMarker(from, findNextMarker)) {
    let x = first;
    let intact = false;
    /** the damaged block the run went over last, -1 when the last one was intact */
    let damaged = -1;
    for (;;) {
      const end = intactEnd(file, x, to);
      if (end !== undefined) {
        if (!lengthTried) {
          lengthTried = true;
          if (holdsEndingAt(file, at, first)) return first;
        }
        intact = true;
        damaged = -1;
        x = end;
      } else {
        const over = damaged === -1 ? claimedEnd(file, x) : undefined;
        if (over === undefined || over > to) break;
        damaged = x;
        x = over;
      }
      if (x === to) {
        if (intact) return first;
        break;
      }
    }
    from = (damaged === -1 ? x : damaged) + 1;
  }
  return undefined;
}

/** Whether the block at `at` passes its checksum with its length cut back to end at `end`. */
function holdsEndingAt(file: FileWindow, at: number, end: number): boolean {
  if (end < at + BLOCK_HEADER_BYTES || !file.has(at, end - at)) return false;
  return holdsWithLength(file.bytes, at - file.start, end - at - BLOCK_HEADER_BYTES);
}

/** The end of the intact block at `at` ending by `limit` at the latest (a longer one is not read), or undefined. */
function intactEnd(file: FileWindow, at: number, limit = file.size): number | undefined {
  const claimed = claimedEnd(file, at);
  if (claimed === undefined || claimed > limit) return undefined;
  try {
    return blockAt(file, at).end;
  } catch (error) {
    if (error instanceof FormatError) return undefined;
    throw error;
  }
}
