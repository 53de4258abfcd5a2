// Times to live for the compact store: only keys that have one get a timer id (so the other keys
// pay 4 bytes, not the 17 of a wheel entry with its exact deadline and the slot it belongs to).
// Ids are filed in the timer wheel; `slotOf` maps a fired id back to the store's slot.

import { TimerWheel } from "./timer-wheel.ts";
import { grown } from "./typed-arrays.ts";

export class ExpiryTable {
  private wheel: TimerWheel;
  private slotOf = new Int32Array(256);
  private freeIds: number[] = [];
  private nextId = 0;

  constructor(now: number) {
    this.wheel = new TimerWheel(now);
  }

  get size(): number {
    return this.wheel.size;
  }

  deadlineOf(timer: number): number {
    return this.wheel.dueOf(timer);
  }

  /** Files a deadline for `slot`, reusing its timer id if it has one (-1 if not); returns the id. */
  schedule(timer: number, slot: number, expiresAt: number): number {
    if (timer < 0) {
      timer = this.freeIds.pop() ?? this.nextId++;
      if (timer >= this.slotOf.length) this.grow();
      this.slotOf[timer] = slot;
    }
    this.wheel.schedule(timer, expiresAt);
    return timer;
  }

  release(timer: number): void {
    this.wheel.cancel(timer);
    this.freeIds.push(timer);
  }

  /** Fires every due timer: `expire(slot)` must release the slot's timer. */
  advance(now: number, expire: (slot: number) => void): number {
    return this.wheel.advance(now, (timer) => expire(this.slotOf[timer]!));
  }

  clear(now: number): void {
    this.wheel = new TimerWheel(now);
    this.freeIds = [];
    this.nextId = 0;
  }

  private grow(): void {
    this.slotOf = grown(this.slotOf, this.slotOf.length * 2);
  }
}
