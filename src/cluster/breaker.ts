// A circuit breaker per peer: after `maxErrors` failures in a row the peer is skipped for
// `sleepMs`; then exactly one request is let through as a probe. Its success closes the breaker,
// its failure opens it again. One probe at a time keeps a dead peer from costing more than one
// request a timeout per sleep period.

import type { Clock } from "../store/types.ts";

export type BreakerState = "closed" | "open" | "half-open";

export class Breaker {
  private failures = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly maxErrors: number,
    private readonly sleepMs: number,
    private readonly clock: Clock,
  ) {}

  state(): BreakerState {
    if (this.failures < this.maxErrors) return "closed";
    return this.clock.now() < this.openUntil ? "open" : "half-open";
  }

  /** Failures in a row so far. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Milliseconds until a probe is allowed (0 when not open). */
  retryInMs(): number {
    return this.state() === "open" ? this.openUntil - this.clock.now() : 0;
  }

  /**
   * Whether a request may go to the peer now. In the half-open state only the first caller gets
   * true, until it reports back with success() or failure().
   */
  tryAcquire(): boolean {
    const state = this.state();
    if (state === "closed") return true;
    if (state === "open" || this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
  }

  /**
   * Returns true when this failure opened the breaker: the one that reached the limit, or a
   * failed probe. (Requests that were in flight when it opened fail later and only push the
   * reopening time.)
   */
  failure(): boolean {
    const wasProbe = this.probing;
    this.probing = false;
    this.failures++;
    if (this.failures < this.maxErrors) return false;
    this.openUntil = this.clock.now() + this.sleepMs;
    return this.failures === this.maxErrors || wasProbe;
  }
}
