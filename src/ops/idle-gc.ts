// One full garbage collection when the node goes quiet after a burst of commands. A burst leaves
// garbage that survived the young-generation collections it triggered (socket read buffers in
// flight at the time, mostly: ≈5 MB after loading a million keys), and JSC collects the old
// generation only when it grows further — on a node that has gone quiet, possibly never. With
// the compact store the collection is short (≈5 ms at a million keys: keys and values live in
// typed arrays, which it does not scan), and it only ever runs while no traffic is waiting.
// Sync's per-key state (keys with a TTL, in Maps; tombstones are typed arrays) can make the live
// heap large, and a full collection then stops the node for as long as it marks it (a million Map
// entries: ~210 ms), for the few MB of garbage it is after; past IDLE_GC_FULL_HEAP_BYTES the
// collection is only asked for (Bun.gc(false): JavaScriptCore collects concurrently, ~1 ms of the
// event loop), and so it is after a full collection that took longer than IDLE_GC_FULL_MAX_MS.

import { heapSize } from "bun:jsc";

/** Commands since the last collection that make a burst worth collecting after. */
export const IDLE_GC_AFTER_COMMANDS = 100_000;
/** At most this many commands in the last second: the node is quiet. */
export const IDLE_GC_QUIET_COMMANDS = 100;
export const IDLE_GC_INTERVAL_MS = 1000;
/** Live heap past which the idle collection runs concurrently instead of stopping the node. */
export const IDLE_GC_FULL_HEAP_BYTES = 64 * 1024 * 1024;
/**
 * A full collection that stopped the node longer than this: the next ones run concurrently. The
 * heap size JavaScriptCore reports can lag what is alive (a CI run read it under 64 MB with a
 * million Map entries), so the time a full collection really took is the check that cannot be fooled.
 */
export const IDLE_GC_FULL_MAX_MS = 20;
/** After a full collection that took too long, this many run concurrently before a full one is tried again. */
export const IDLE_GC_CONCURRENT_RUNS = 30;

export type IdleCollection = "full" | "concurrent";

/** Which collection the node can afford when it goes quiet: full and at once while that is short, else concurrent. */
export class IdleGcPolicy {
  private concurrentLeft = 0;

  constructor(
    private readonly liveHeap: () => number = heapSize,
    private readonly now: () => number = () => performance.now(),
    private readonly gc: (full: boolean) => void = (full) => Bun.gc(full),
  ) {}

  collect(): IdleCollection {
    if (this.concurrentLeft > 0 || this.liveHeap() > IDLE_GC_FULL_HEAP_BYTES) {
      if (this.concurrentLeft > 0) this.concurrentLeft--;
      this.gc(false);
      return "concurrent";
    }
    const start = this.now();
    this.gc(true);
    if (this.now() - start > IDLE_GC_FULL_MAX_MS) this.concurrentLeft = IDLE_GC_CONCURRENT_RUNS;
    return "full";
  }
}

function idleCollection(): () => void {
  const policy = new IdleGcPolicy();
  return () => policy.collect();
}

export class IdleCollector {
  private lastTotal: number;
  private totalAtCollection: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** collections run so far */
  collections = 0;

  constructor(
    /** running total of commands */
    private readonly total: () => number,
    private readonly collect: () => void = idleCollection(),
  ) {
    this.lastTotal = this.totalAtCollection = total();
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), IDLE_GC_INTERVAL_MS);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One look, every IDLE_GC_INTERVAL_MS: collects when a burst is over. */
  tick(): void {
    const total = this.total();
    const lastSecond = total - this.lastTotal;
    this.lastTotal = total;
    if (total - this.totalAtCollection < IDLE_GC_AFTER_COMMANDS || lastSecond > IDLE_GC_QUIET_COMMANDS) return;
    this.totalAtCollection = total;
    this.collections++;
    this.collect();
  }
}
