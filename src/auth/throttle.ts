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
