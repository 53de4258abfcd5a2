// The arena's block sizes: the size classes small blocks are carved in, and the stack of free
// blocks each class keeps (apart from arena.ts, which is about pages).

import { grown } from "./typed-arrays.ts";

/**
 * Past this a block gets its own allocation: at most this much of a page's tail is ever left
 * unused (≤ 1.6 %), and big values do not pin pages when they go.
 */
export const LARGE_BYTES = 16 * 1024;

/** Class sizes: every multiple of 8 up to 256, then four classes per power of two up to LARGE_BYTES. */
export const CLASS_BYTES: number[] = [];
for (let size = 8; size <= 256; size += 8) CLASS_BYTES.push(size);
for (let k = 8; (1 << k) < LARGE_BYTES; k++) {
  const step = (1 << k) / 4;
  for (let m = 5; m <= 8; m++) CLASS_BYTES.push(m * step);
}
export const CLASS_COUNT = CLASS_BYTES.length;

/** The size class of a block of `size` bytes (size ≤ LARGE_BYTES). */
export function classOf(size: number): number {
  if (size <= 256) return size <= 8 ? 0 : ((size + 7) >>> 3) - 1;
  const k = 31 - Math.clz32(size - 1);
  const step = (1 << k) >>> 2;
  return 32 + (k - 8) * 4 + (Math.ceil(size / step) - 5);
}

/** Bytes a block of `size` really occupies. */
export function blockBytes(size: number): number {
  return size > LARGE_BYTES ? size : CLASS_BYTES[classOf(size)]!;
}

/**
 * Free blocks of one size class: their addresses on a stack of its own rather than a list linked
 * through the blocks, so that filing and reusing a block reads no cold memory (a free block was
 * last touched long ago; following a link stored in it was a cache miss per allocation). A stack
 * costs 4 bytes per free block and keeps its size after the blocks are reused.
 */
export class FreeStack {
  addresses = new Uint32Array(16);
  count = 0;

  push(address: number): void {
    if (this.count === this.addresses.length) this.addresses = grown(this.addresses, this.count * 2);
    this.addresses[this.count++] = address;
  }
}
