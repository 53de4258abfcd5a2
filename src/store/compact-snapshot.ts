// A point-in-time view of a CompactStore for persistence: one pass copies each live slot's row
// (~28 bytes a key), and the arena holds freed blocks back until release(), so key and value
// bytes are read in place later while the store keeps changing (no copy of the data itself).

import { Arena } from "./arena.ts";
import { LARGE_BYTES } from "./size-classes.ts";
import { copyRange } from "./bytes.ts";
import type { StoreSnapshot } from "./types.ts";

export class CompactSnapshot implements StoreSnapshot {
  length = 0;
  private addresses: Uint32Array;
  private keyLengths: Uint32Array;
  private sizes: Uint32Array;
  private times: Float64Array;
  /** blocks with an allocation of their own, by entry index */
  private large = new Map<number, Uint8Array>();
  private released = false;

  constructor(
    private readonly arena: Arena,
    private pages: Uint8Array[],
    capacity: number,
  ) {
    this.addresses = new Uint32Array(capacity);
    this.keyLengths = new Uint32Array(capacity);
    this.sizes = new Uint32Array(capacity);
    this.times = new Float64Array(2 * capacity);
  }

  /** Called by the store while taking the snapshot, once per live entry. */
  add(address: number, keyLength: number, size: number, writtenAt: number, expiresAt: number): void {
    const i = this.length++;
    this.addresses[i] = address;
    this.keyLengths[i] = keyLength;
    this.sizes[i] = size;
    this.times[2 * i] = writtenAt;
    this.times[2 * i + 1] = expiresAt;
    if (size > LARGE_BYTES) this.large.set(i, this.arena.bytesOf(address, size));
  }

  keyLength(i: number): number {
    return this.keyLengths[i]!;
  }

  copyKey(i: number, target: Uint8Array, offset: number): void {
    this.copyOut(i, 0, this.keyLengths[i]!, target, offset);
  }

  value(i: number): Uint8Array {
    const [bytes, at] = this.block(i);
    return bytes.subarray(at + this.keyLengths[i]!, at + this.sizes[i]!);
  }

  valueLength(i: number): number {
    return this.sizes[i]! - this.keyLengths[i]!;
  }

  copyValue(i: number, target: Uint8Array, offset: number): void {
    this.copyOut(i, this.keyLengths[i]!, this.sizes[i]!, target, offset);
  }

  writtenAt(i: number): number {
    return this.times[2 * i]!;
  }

  expiresAt(i: number): number {
    return this.times[2 * i + 1]!;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.pages = [];
    this.large.clear();
    this.arena.unhold();
  }

  /** Copies bytes `from..to` of entry i's block (key, then value) into target: no view when short. */
  private copyOut(i: number, from: number, to: number, target: Uint8Array, offset: number): void {
    const large = this.sizes[i]! > LARGE_BYTES ? this.large.get(i) : undefined;
    const address = this.addresses[i]!;
    const bytes = large ?? this.pages[Arena.pageIndex(address)]!;
    const at = large ? 0 : Arena.pageOffset(address);
    copyRange(target, offset, bytes, at + from, at + to);
  }

  private block(i: number): [Uint8Array, number] {
    const large = this.sizes[i]! > LARGE_BYTES ? this.large.get(i) : undefined;
    if (large) return [large, 0];
    const address = this.addresses[i]!;
    return [this.pages[Arena.pageIndex(address)]!, Arena.pageOffset(address)];
  }
}
