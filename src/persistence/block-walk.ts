// Reading blocks at file offsets through a FileWindow (pure: every read goes through the window).

import type { FileWindow } from "./file-window.ts";
import { BLOCK_HEADER_BYTES, FormatError, readBlock, type Block } from "./frame.ts";

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
