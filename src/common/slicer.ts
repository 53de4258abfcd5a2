// Cuts a long pass (sync listing or repairing a keyspace of millions of keys) into slices with a
// turn of the event loop between them, so the node's clients are served while the pass goes on.

/** a slice also ends after this long, whatever its count (an item's cost grows with its value) */
export const SLICE_MS = 8;
/** the clock is read every this many items (a read costs about what a cheap item does) */
const CLOCK_EVERY = 64;

/** Resolves once the event loop has had a turn: setImmediate runs after pending I/O is polled. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export type NextTurn = () => Promise<void>;

export class Slicer {
  private count = 0;
  private started = performance.now();

  constructor(
    /** items per slice at most */
    private readonly items: number,
    private readonly next: NextTurn = nextTurn,
    private readonly ms = SLICE_MS,
  ) {}

  /** Counts `n` items done; true when the slice is over: `if (slicer.due()) await slicer.pause()`. */
  due(n = 1): boolean {
    this.count += n;
    if (this.count >= this.items) return true;
    return this.count % CLOCK_EVERY < n && performance.now() - this.started >= this.ms;
  }

  /** Gives the event loop a turn and starts the next slice. */
  async pause(): Promise<void> {
    await this.next();
    this.count = 0;
    this.started = performance.now();
  }
}
