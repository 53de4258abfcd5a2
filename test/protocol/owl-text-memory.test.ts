// LineFramer's memory for a long line that arrives in many chunks: what it keeps must be a small
// multiple of the line, however the line is cut (it used to keep one array per chunk).
import { heapStats } from "bun:jsc";
import { describe, expect, test } from "bun:test";
import { LineFramer, type LineSink } from "../../src/protocol/owl-text.ts";
import { seededRandom } from "../helpers/random.ts";

const LINE_BYTES = 1024 * 1024;
/** Lines gathered at once, so the figure is not lost in the heap's noise. */
const LINES = 2;

function heapBytes(): number {
  Bun.gc(true);
  return heapStats().heapSize;
}

/**
 * Feeds LINES framers a line of LINE_BYTES (without its newline) in chunks of `chunkBytes()`, each
 * cut from a buffer of `bufferBytes()`, and returns the heap they hold per byte of line; then
 * ends the lines and checks each arrived whole.
 */
function retainedPerByte(chunkBytes: () => number, buffer: () => Uint8Array): number {
  const lines: Uint8Array[] = [];
  const sink: LineSink = {
    line: (b, start, end) => (lines.push(b.slice(start, end)), true),
    tooLong: () => (lines.push(new Uint8Array(0)), true),
  };
  const before = heapBytes();
  const framers: LineFramer[] = [];
  for (let n = 0; n < LINES; n++) {
    const framer = new LineFramer(2 * LINE_BYTES);
    for (let fed = 0; fed < LINE_BYTES; ) {
      const size = Math.min(chunkBytes(), LINE_BYTES - fed);
      const source = buffer();
      source.fill(97 + n, 0, size);
      framer.push(source.subarray(0, size), sink);
      fed += size;
    }
    framers.push(framer);
  }
  const held = (heapBytes() - before) / (LINES * LINE_BYTES);
  framers.forEach((framer) => framer.push(new Uint8Array([10]), sink));
  expect(lines.map((line) => line.length)).toEqual(Array(LINES).fill(LINE_BYTES));
  lines.forEach((line, n) => expect(line.every((byte) => byte === 97 + n)).toBe(true));
  return held;
}

describe("LineFramer memory", () => {
  test("framer - a 1 MiB line in 1-2 KiB chunks of fresh 64 KiB buffers holds a small multiple of it", () => {
    const random = seededRandom(11);
    const held = retainedPerByte(() => 1024 + Math.floor(random() * 1024), () => new Uint8Array(64 * 1024));
    expect(held).toBeLessThan(3);
  });

  test("framer - a 1 MiB line trickling in 1-8 byte chunks holds a small multiple of it", () => {
    const random = seededRandom(12);
    const shared = new Uint8Array(64);
    const held = retainedPerByte(() => 1 + Math.floor(random() * 8), () => shared);
    expect(held).toBeLessThan(3);
  });
});
