// Point-in-time capture of a store for a snapshot: the store's own fast `snapshot()` when it has
// one, else a full copy through `entries()` (slower pause, same result).

import { copyShort } from "../store/bytes.ts";
import type { Store, StoreSnapshot } from "../store/types.ts";

export function captureStore(store: Store): StoreSnapshot {
  return store.snapshot ? store.snapshot() : new CopiedSnapshot(store);
}

/** Copies every live entry; views from entries() may be reused, so values are copied too. */
class CopiedSnapshot implements StoreSnapshot {
  private keys: Uint8Array[] = [];
  private values: Uint8Array[] = [];
  private times: number[] = [];

  constructor(store: Store) {
    for (const [key, view] of store.entries()) {
      this.keys.push(key);
      this.values.push(view.value.slice());
      this.times.push(view.writtenAt, view.expiresAt);
    }
  }

  get length(): number {
    return this.keys.length;
  }

  keyLength(i: number): number {
    return this.keys[i]!.length;
  }

  copyKey(i: number, target: Uint8Array, offset: number): void {
    target.set(this.keys[i]!, offset);
  }

  value(i: number): Uint8Array {
    return this.values[i]!;
  }

  valueLength(i: number): number {
    return this.values[i]!.length;
  }

  copyValue(i: number, target: Uint8Array, offset: number): void {
    copyShort(target, offset, this.values[i]!);
  }

  writtenAt(i: number): number {
    return this.times[2 * i]!;
  }

  expiresAt(i: number): number {
    return this.times[2 * i + 1]!;
  }

  release(): void {
    this.keys = [];
    this.values = [];
    this.times = [];
  }
}
