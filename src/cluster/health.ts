// Peer health for /health: every peer of both lists and whether it answers. A peer whose breaker
// is open is reported from what we know without asking it again; the others get a ping. The
// result is shared for a second, so a monitor polling /health cannot multiply traffic to peers.
// A ping is waited for at most HEALTH_WAIT_MS: one slow peer must not make /health slow (load
// balancers give up after a second or two). A ping still out is reused by the next check.

import type { Clock } from "../store/types.ts";
import type { BreakerState } from "../common/breaker.ts";
import type { PeerAddress } from "./address.ts";
import { settledOutcome, type PeerOutcome } from "./peer-answer.ts";
import type { PeerBook } from "./peer-book.ts";
import type { PeerFetcher } from "./peer-client.ts";
import type { GroupType, PeerLists } from "./peer-list.ts";

export const HEALTH_REUSE_MS = 1000;
/** How long /health waits for one peer's ping (the client timeout, 2.7 s by default, is too long). */
export const HEALTH_WAIT_MS = 500;

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
  /** at most one ping per peer out at a time, by host:port; gone once it settles */
  private readonly pinging = new Map<string, Promise<PeerOutcome>>();

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
        const ping = this.pinging.get(id) ?? this.startPing(id, entry.address);
        if (!ping) {
          checks.push(Promise.resolve({ ...base, Answers: false, Breaker: record.breaker.state(), Message: `skipped: ${this.book.skippedDetail(id)}` }));
          continue;
        }
        checks.push(
          withinWait(ping).then((outcome) => {
            const breaker = record.breaker.state();
            if (outcome === undefined) return { ...base, Answers: false, Breaker: breaker, Message: `no answer within ${HEALTH_WAIT_MS} ms yet; still asking` };
            const health: PeerHealth = { ...base, Answers: outcome.kind !== "failed", Breaker: breaker };
            if (outcome.kind === "failed") health.Message = outcome.message;
            return health;
          }),
        );
      }
    }
    return Promise.all(checks);
  }

  /** A ping of the peer, reported to its breaker when it settles; undefined when the breaker says no. */
  private startPing(id: string, address: PeerAddress): Promise<PeerOutcome> | undefined {
    if (!this.book.record(id).breaker.tryAcquire()) return undefined;
    const ping = settledOutcome(() => this.fetcher.ping(address)).then((outcome) => {
      this.pinging.delete(id);
      this.book.report(id, outcome);
      return outcome;
    });
    this.pinging.set(id, ping);
    return ping;
  }
}

/** The ping's outcome, or undefined when it has not come within HEALTH_WAIT_MS (it goes on). */
function withinWait(ping: Promise<PeerOutcome>): Promise<PeerOutcome | undefined> {
  const waited = Promise.withResolvers<undefined>();
  const timer = setTimeout(() => waited.resolve(undefined), HEALTH_WAIT_MS);
  return Promise.race([ping, waited.promise]).finally(() => clearTimeout(timer));
}
