// Wrong-password throttling per client address (SPEC §5): at most MAX_FAILURES wrong attempts in
// a sliding window; past that every attempt is refused until the oldest failure leaves the window.

import type { Clock } from "../store/types.ts";

export const MAX_FAILURES = 10;
export const WINDOW_MS = 60_000;
/** Addresses tracked at once; beyond it the stalest are dropped so a scan cannot grow memory. */
const MAX_CLIENTS = 10_000;

export class AttemptThrottle {
  /** failure times per client, oldest first */
  private readonly failures = new Map<string, number[]>();
  /** per client: refused attempts not yet reported, and when the last report was */
  private readonly refusals = new Map<string, { held: number; reportedAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly maxFailures = MAX_FAILURES,
    private readonly windowMs = WINDOW_MS,
  ) {}

  /** Milliseconds until `client` may try again; 0 when it may try now. */
  retryAfter(client: string): number {
    const times = this.recent(client);
    if (times.length < this.maxFailures) return 0;
    return times[times.length - this.maxFailures]! + this.windowMs - this.clock.now();
  }

  recordFailure(client: string): void {
    const times = this.recent(client);
    times.push(this.clock.now());
    if (times.length > this.maxFailures) times.splice(0, times.length - this.maxFailures);
    this.failures.delete(client); // re-insert: Map order is then least recently failed first
    this.failures.set(client, times);
    if (this.failures.size > MAX_CLIENTS) this.failures.delete(this.failures.keys().next().value!);
  }

  /**
   * Records an attempt refused by the throttle. Returns how many refusals to report now (this one
   * and those held back since the last report), or 0 while the last report of this client is
   * younger than the window: a client that keeps trying costs one log line a window, not one per
   * attempt (500,000 attempts used to fill every log file in seconds and rotate the rest away).
   */
  recordRefusal(client: string): number {
    const now = this.clock.now();
    let entry = this.refusals.get(client);
    if (entry === undefined) {
      entry = { held: 0, reportedAt: -Infinity };
      this.refusals.set(client, entry);
      if (this.refusals.size > MAX_CLIENTS) this.refusals.delete(this.refusals.keys().next().value!);
    }
    entry.held++;
    if (now - entry.reportedAt < this.windowMs) return 0;
    const report = entry.held;
    entry.held = 0;
    entry.reportedAt = now;
    return report;
  }

  private recent(client: string): number[] {
    const times = this.failures.get(client);
    if (!times) return [];
    const cutoff = this.clock.now() - this.windowMs;
    let drop = 0;
    while (drop < times.length && times[drop]! <= cutoff) drop++;
    if (drop > 0) times.splice(0, drop);
    if (times.length === 0) this.failures.delete(client);
    return times;
  }
}
