// A clock that replay can hold at the time a logged write happened, so the store judges expiry as
// it did then (an `expire` that extended a TTL must not meet a key that has expired since).

import type { Clock } from "../store/types.ts";

export class ReplayClock implements Clock {
  private pinned: number | undefined;

  constructor(private readonly base: Clock) {}

  now(): number {
    return this.pinned ?? this.base.now();
  }

  pin(ms: number): void {
    this.pinned = ms;
  }

  unpin(): void {
    this.pinned = undefined;
  }
}
