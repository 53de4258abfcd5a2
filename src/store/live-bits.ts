// One bit per slot of the compact store's slot table, set while the slot holds a key: eviction
// draws random slots, and this bitmap (1/128 of the rows' size) stays in cache where rows would miss.

import { grown } from "./typed-arrays.ts";

export class LiveBits {
  private words: Int32Array<ArrayBuffer>;

  constructor(slots: number) {
    this.words = new Int32Array(Math.ceil(slots / 32));
  }

  has(slot: number): boolean {
    return ((this.words[slot >>> 5]! >>> (slot & 31)) & 1) === 1;
  }

  set(slot: number): void {
    this.words[slot >>> 5]! |= 1 << (slot & 31);
  }

  unset(slot: number): void {
    this.words[slot >>> 5]! &= ~(1 << (slot & 31));
  }

  /** Room for `slots` slots (new ones unset). */
  grow(slots: number): void {
    const words = Math.ceil(slots / 32);
    if (words > this.words.length) this.words = grown(this.words, Math.max(words, this.words.length * 2));
  }

  clear(): void {
    this.words.fill(0);
  }
}
