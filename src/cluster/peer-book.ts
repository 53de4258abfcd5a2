// What this node knows about each peer's health: its breaker and the last failure, shared by
// group reads and /health. A peer's record is created on first contact.

import type { Logger } from "../log/logger.ts";
import type { Clock } from "../store/types.ts";
import { Breaker, type BreakerState } from "../common/breaker.ts";
import type { PeerOutcome } from "./peer-answer.ts";

export interface BreakerPolicy {
  /** HttpClient_Request_Max_Error_Number */
  readonly maxErrors: number;
  /** HttpClient_Request_Timeout_Sleeptime, in ms */
  readonly sleepMs: number;
}

export interface PeerRecord {
  readonly breaker: Breaker;
  lastFailure?: string;
  lastSuccessAt?: number;
  lastFailureAt?: number;
}

export class PeerBook {
  private readonly records = new Map<string, PeerRecord>();

  constructor(
    private readonly policy: BreakerPolicy,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** told of every failed peer request (metrics) */
    private readonly onFailure?: (hostPort: string) => void,
  ) {}

  record(hostPort: string): PeerRecord {
    let record = this.records.get(hostPort);
    if (!record) {
      record = { breaker: new Breaker(this.policy.maxErrors, this.policy.sleepMs, this.clock) };
      this.records.set(hostPort, record);
    }
    return record;
  }

  state(hostPort: string): BreakerState {
    return this.records.get(hostPort)?.breaker.state() ?? "closed";
  }

  /** Why a peer the breaker keeps us from asking is missing from an answer. */
  skippedDetail(hostPort: string): string {
    const record = this.record(hostPort);
    const failures = `${record.breaker.consecutiveFailures} failures in a row (last: ${record.lastFailure ?? "unknown"})`;
    if (record.breaker.state() !== "open") return `${failures}; checking in the background whether it answers again`;
    return `${failures}; next try in ${(record.breaker.retryInMs() / 1000).toFixed(1)} s`;
  }

  /**
   * Feeds an outcome to the peer's breaker; logs failures and the open/close transitions. An
   * answer refused for its size alone (`peerAnswered`) shows the peer is up: a success here.
   */
  report(hostPort: string, outcome: PeerOutcome): void {
    // (no record: the peer was taken off the lists while its request was out; it stays forgotten)
    const record = this.records.get(hostPort);
    if (record === undefined) return;
    if (outcome.kind === "failed" && outcome.peerAnswered !== true) {
      this.onFailure?.(hostPort);
      record.lastFailure = outcome.message;
      record.lastFailureAt = this.clock.now();
      const opened = record.breaker.failure();
      // Requests already in flight when the breaker opened fail too; one line each up to the trip
      // and one per re-opening is enough to see what happened without flooding the log.
      if (opened || record.breaker.consecutiveFailures < this.policy.maxErrors) {
        this.log.warn("peer failed", { peer: hostPort, reason: outcome.message, skippedForMs: opened ? this.policy.sleepMs : 0 });
      }
      return;
    }
    const wasFailing = record.breaker.consecutiveFailures > 0;
    record.breaker.success();
    record.lastSuccessAt = this.clock.now();
    if (wasFailing) this.log.info("peer answers again", { peer: hostPort });
  }

  /** Whether the book holds a record of the peer (one was made at its first contact). */
  knows(hostPort: string): boolean {
    return this.records.has(hostPort);
  }

  /** Forgets every peer not in `listed` (taken off the lists: gossip peers come and go). */
  retain(listed: ReadonlySet<string>): void {
    for (const hostPort of this.records.keys()) if (!listed.has(hostPort)) this.records.delete(hostPort);
  }
}
