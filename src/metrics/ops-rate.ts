// Operations per second over the last minutes, for the status page's chart: a ring buffer of
// per-second rates, fed once a second from the engine's running total of commands.

/** Ten minutes at one-second resolution: 600 numbers, enough for "the last minutes". */
export const RATE_SAMPLES = 600;
export const RATE_INTERVAL_MS = 1000;

export interface RateSeries {
  /** seconds between samples */
  readonly intervalSeconds: number;
  /** time of the newest sample, ms since the epoch (0 when none yet) */
  readonly endAt: number;
  /** oldest first, operations per second */
  readonly rates: number[];
}

export class OpsRate {
  private readonly rates = new Float64Array(RATE_SAMPLES);
  private count = 0;
  private next = 0;
  private lastTotal: number | undefined;
  private lastAt = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly total: () => number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  start(): void {
    this.record();
    this.timer = setInterval(() => this.record(), RATE_INTERVAL_MS);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Takes one sample: the commands run since the previous one, per second. */
  record(): void {
    const now = this.now();
    const total = this.total();
    if (this.lastTotal !== undefined && now > this.lastAt) {
      const rate = ((total - this.lastTotal) * 1000) / (now - this.lastAt);
      this.rates[this.next] = rate;
      this.next = (this.next + 1) % RATE_SAMPLES;
      this.count = Math.min(this.count + 1, RATE_SAMPLES);
    }
    this.lastTotal = total;
    this.lastAt = now;
  }

  series(): RateSeries {
    const rates: number[] = [];
    for (let i = this.count; i > 0; i--) rates.push(Math.round(this.rates[(this.next - i + RATE_SAMPLES) % RATE_SAMPLES]! * 10) / 10);
    return { intervalSeconds: RATE_INTERVAL_MS / 1000, endAt: this.count > 0 ? this.lastAt : 0, rates };
  }
}
