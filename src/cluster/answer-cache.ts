// Peers' answers reused for HttpClientRequestLocalCacheLifeTime ms, and one request in flight
// per (peer, key): concurrent group reads of the same key share one fetch per peer. Bounded in
// entries and bytes; entries are dropped oldest first (they all live equally long), and expired
// ones are swept every lifetime, so a burst of group reads does not keep its answers once they are stale.

import type { Clock } from "../store/types.ts";
import type { PeerOutcome } from "./peer-answer.ts";

/** Enough for a hot working set of keys without letting the cache grow without bound. */
export const MAX_CACHED_ANSWERS = 10_000;
export const MAX_CACHED_BYTES = 64 * 1024 * 1024;
/** Expired answers are swept at most this often (a lifetime of a few ms needs no timer that busy). */
const MIN_SWEEP_MS = 1000;

interface Cached {
  readonly outcome: PeerOutcome;
  readonly expiresAt: number;
  readonly bytes: number;
}

export class AnswerCache {
  private readonly answers = new Map<string, Cached>();
  private readonly inFlight = new Map<string, Promise<PeerOutcome>>();
  private bytes = 0;
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly lifetimeMs: number,
    private readonly clock: Clock,
    private readonly limits = { entries: MAX_CACHED_ANSWERS, bytes: MAX_CACHED_BYTES },
  ) {}

  get size(): number {
    return this.answers.size;
  }

  /** A fresh cached answer or the request already in flight for (peer, key), else undefined. */
  lookup(peer: string, key: string): PeerOutcome | Promise<PeerOutcome> | undefined {
    const id = `${peer}\n${key}`;
    const cached = this.answers.get(id);
    if (cached) {
      if (cached.expiresAt > this.clock.now()) return cached.outcome;
      this.remove(id, cached);
    }
    return this.inFlight.get(id);
  }

  /**
   * Registers a request just started so that others join it; keeps its answer when it arrives.
   * Failures are never cached (the breaker decides when a failing peer is asked again).
   */
  track(peer: string, key: string, request: Promise<PeerOutcome>): Promise<PeerOutcome> {
    const id = `${peer}\n${key}`;
    const tracked = request.then((outcome) => {
      this.inFlight.delete(id);
      if (this.lifetimeMs > 0 && outcome.kind !== "failed") this.store(id, outcome);
      return outcome;
    });
    this.inFlight.set(id, tracked);
    return tracked;
  }

  /** Forget everything about a peer (it was removed from the list). */
  forgetPeer(peer: string): void {
    const prefix = `${peer}\n`;
    for (const [id, cached] of this.answers) if (id.startsWith(prefix)) this.remove(id, cached);
  }

  /** Drops the answers that expired. Oldest first, so it stops at the first fresh one. */
  sweep(): void {
    const now = this.clock.now();
    for (const [id, cached] of this.answers) {
      if (cached.expiresAt > now) break;
      this.remove(id, cached);
    }
    if (this.answers.size === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private store(id: string, outcome: PeerOutcome): void {
    this.sweep();
    const bytes = id.length + (outcome.kind === "value" ? outcome.data.length * 2 : 0) + 64;
    if (bytes > this.limits.bytes) return;
    if (this.sweeper === undefined) {
      // (unref: a cache alone never keeps the process alive)
      this.sweeper = setInterval(() => this.sweep(), Math.max(this.lifetimeMs, MIN_SWEEP_MS));
      this.sweeper.unref?.();
    }
    const old = this.answers.get(id);
    if (old) this.remove(id, old);
    this.answers.set(id, { outcome, expiresAt: this.clock.now() + this.lifetimeMs, bytes });
    this.bytes += bytes;
    while (this.answers.size > this.limits.entries || this.bytes > this.limits.bytes) {
      const oldest = this.answers.entries().next().value;
      if (!oldest) break;
      this.remove(oldest[0], oldest[1]);
    }
  }

  private remove(id: string, cached: Cached): void {
    this.answers.delete(id);
    this.bytes -= cached.bytes;
  }
}
