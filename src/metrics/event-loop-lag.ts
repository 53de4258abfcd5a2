// Event-loop lag measured with a timer: a callback asked for every INTERVAL_MS that runs late
// tells how long the loop was busy (a big snapshot capture, a huge MGET, a GC pause).

/** Often enough to catch pauses worth a look, rare enough to cost nothing. */
export const LAG_INTERVAL_MS = 500;
/** The maximum is kept over this many samples (about 30 s). */
const WINDOW_SAMPLES = 60;

export class EventLoopLag {
  /** lag of the latest sample, ms */
  last = 0;
  private readonly window = new Float64Array(WINDOW_SAMPLES);
  private next = 0;
  private expectedAt = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Largest lag over the last ~30 s, ms. */
  get max(): number {
    let max = 0;
    for (const lag of this.window) if (lag > max) max = lag;
    return max;
  }

  start(): void {
    this.expectedAt = this.now() + LAG_INTERVAL_MS;
    this.timer = setInterval(() => this.sample(), LAG_INTERVAL_MS);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Records how late the timer fired; called by the interval (tests call it directly). */
  sample(): void {
    const now = this.now();
    this.last = Math.max(0, now - this.expectedAt);
    this.window[this.next] = this.last;
    this.next = (this.next + 1) % WINDOW_SAMPLES;
    this.expectedAt = now + LAG_INTERVAL_MS;
  }
}
