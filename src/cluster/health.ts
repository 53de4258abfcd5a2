// Peer health for /health: every peer of both lists and whether it answers. A peer whose breaker
// is open is reported from what we know without asking it again; the others get a ping. The
// result is shared for a second, so a monitor polling /health cannot multiply traffic to peers.

import type { Clock } from "../store/types.ts";
import type { BreakerState } from "../common/breaker.ts";
import { settledOutcome } from "./peer-answer.ts";
import type { PeerBook } from "./peer-book.ts";
import type { PeerFetcher } from "./peer-client.ts";
import type { GroupType, PeerLists } from "./peer-list.ts";

export const HEALTH_REUSE_MS = 1000;

export interface PeerHealth {
  Group: GroupType;
  Address: string;
  Answers: boolean;
  Breaker: BreakerState;
  Message?: string;
}

/** A peer as the status page shows it (src/ops/status.ts PeerStatus). */
export interface PeerSnapshot {
  readonly address: string;
  readonly ok: boolean;
  readonly message?: string;
}

export class ClusterHealth {
  private last?: { at: number; peers: Promise<PeerHealth[]> };
  private lastResult: readonly PeerHealth[] = [];

  constructor(
    private readonly lists: PeerLists,
    private readonly book: PeerBook,
    private readonly fetcher: PeerFetcher,
    private readonly clock: Clock,
    private readonly selfHostPort: () => string,
  ) {}

  peers(): Promise<PeerHealth[]> {
    const now = this.clock.now();
    if (this.last && now - this.last.at < HEALTH_REUSE_MS) return this.last.peers;
    const peers = this.check();
    this.last = { at: now, peers };
    void peers.then((result) => (this.lastResult = result));
    return peers;
  }

  /**
   * What is known right now, without waiting (the status page polls this): the last check's
   * result, refreshed in the background at most once a second. Each peer once, this node left out.
   */
  snapshot(): PeerSnapshot[] {
    void this.peers();
    const self = this.selfHostPort();
    const known = new Map(this.lastResult.map((p) => [p.Address, p]));
    const seen = new Set<string>();
    const out: PeerSnapshot[] = [];
    for (const group of ["owlcache", "gossip"] as const) {
      for (const entry of this.lists.of(group).all()) {
        const id = entry.address.hostPort;
        if (id === self || seen.has(id)) continue;
        seen.add(id);
        const health = known.get(entry.address.text);
        if (health) out.push(health.Message === undefined ? { address: entry.address.text, ok: health.Answers } : { address: entry.address.text, ok: health.Answers, message: health.Message });
        else out.push({ address: entry.address.text, ok: false, message: "checking" });
      }
    }
    return out;
  }

  private check(): Promise<PeerHealth[]> {
    const self = this.selfHostPort();
    const checks: Promise<PeerHealth>[] = [];
    for (const group of ["owlcache", "gossip"] as const) {
      for (const entry of this.lists.of(group).all()) {
        const id = entry.address.hostPort;
        const base = { Group: group, Address: entry.address.text };
        if (id === self) {
          checks.push(Promise.resolve({ ...base, Answers: true, Breaker: "closed", Message: "this node" }));
          continue;
        }
        const record = this.book.record(id);
        if (!record.breaker.tryAcquire()) {
          checks.push(Promise.resolve({ ...base, Answers: false, Breaker: record.breaker.state(), Message: `skipped: ${this.book.skippedDetail(id)}` }));
          continue;
        }
        checks.push(
          settledOutcome(() => this.fetcher.ping(entry.address)).then((outcome) => {
            this.book.report(id, outcome);
            const health: PeerHealth = { ...base, Answers: outcome.kind !== "failed", Breaker: record.breaker.state() };
            if (outcome.kind === "failed") health.Message = outcome.message;
            return health;
          }),
        );
      }
    }
    return Promise.all(checks);
  }
}
