// Read-through import (SPEC §8): on a local miss the engine asks this loader, which asks the
// configured Redis and memcached backends, stores what it finds with the configured expiry and
// reports whether the key is now present. One backend request per key however many clients miss
// it at once; failing backends are skipped for a while; nothing here ever throws at the caller.

import type { KeyLoader } from "../commands/spec.ts";
import type { Logger } from "../log/logger.ts";
import { bytesToBinaryString } from "../store/bytes.ts";
import { StoreLimitError } from "../store/errors.ts";
import type { Keyspace } from "../store/keyspace.ts";
import type { Clock } from "../store/types.ts";
import { Breaker, type RemoteHealth } from "../common/breaker.ts";
import { copyBytes } from "../store/bytes.ts";

/** One server that can answer `get`. */
export interface Backend {
  /** e.g. "redis 127.0.0.1:6379", used in logs and metric labels */
  readonly name: string;
  /** The value, null when the server does not hold the key; rejects on failure or after timeoutMs. */
  get(key: Uint8Array, timeoutMs: number): Promise<Uint8Array | null>;
  close(): void;
}

/** A kind of backend (Redis, or the memcached servers) with its own expiry for imported values. */
export interface Tier {
  readonly kind: "redis" | "memcached";
  /** seconds an imported value lives; 0 = no expiry */
  readonly ttlSeconds: number;
  /** several servers share the keys by hash, as the original's memcached client did */
  readonly backends: readonly Backend[];
  /** keys this kind of server cannot hold are not asked for (e.g. memcached: no spaces, ≤ 250 bytes) */
  readonly accepts?: (key: Uint8Array) => boolean;
}

export interface ReadThroughOptions {
  readonly db: Keyspace;
  /** asked in parallel; the first tier in this order that has the key wins */
  readonly tiers: readonly Tier[];
  readonly timeoutMs: number;
  readonly maxErrors: number;
  readonly sleepMs: number;
  readonly maxValueBytes: number;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface BackendStats {
  readonly name: string;
  readonly kind: Tier["kind"];
  readonly state: RemoteHealth;
  readonly requests: number;
  readonly hits: number;
  readonly failures: number;
  /** requests not made because the backend was down */
  readonly skipped: number;
}

interface Slot {
  readonly backend: Backend;
  readonly kind: Tier["kind"];
  readonly breaker: Breaker;
  requests: number;
  hits: number;
  failures: number;
  skipped: number;
}

/**
 * Which of several servers holds a key: CRC-32 (IEEE) of the key modulo the number of servers,
 * the rule of gomemcache (the original's client), so keys written by it are found here.
 */
export function pickServer<T>(servers: readonly T[], key: Uint8Array): T {
  return servers.length === 1 ? servers[0]! : servers[Bun.hash.crc32(key) % servers.length]!;
}

export class ReadThroughLoader implements KeyLoader {
  private readonly inflight = new Map<string, Promise<boolean>>();
  private readonly slots: Slot[][];
  /** values stored after a miss */
  imports = 0;
  /** values found but refused (larger than MaxValueBytes) */
  refused = 0;

  constructor(private readonly options: ReadThroughOptions) {
    this.slots = options.tiers.map((tier) =>
      tier.backends.map((backend) => ({
        backend,
        kind: tier.kind,
        breaker: new Breaker(options.maxErrors, options.sleepMs, options.clock),
        requests: 0,
        hits: 0,
        failures: 0,
        skipped: 0,
      })),
    );
  }

  load(key: Uint8Array): Promise<boolean> {
    const id = bytesToBinaryString(key);
    let pending = this.inflight.get(id);
    if (pending === undefined) {
      pending = this.fetch(copyBytes(key)).finally(() => this.inflight.delete(id));
      this.inflight.set(id, pending);
    }
    return pending;
  }

  available(key: Uint8Array): boolean {
    // A request already in flight for this key is worth joining.
    if (this.inflight.size > 0 && this.inflight.has(bytesToBinaryString(key))) return true;
    const { tiers } = this.options;
    let skipped: Slot[] | undefined;
    for (let i = 0; i < tiers.length; i++) {
      const slots = this.slots[i]!;
      const tier = tiers[i]!;
      if (slots.length === 0 || (tier.accepts && !tier.accepts(key))) continue;
      const slot = pickServer(slots, key);
      if (slot.breaker.wouldAllow()) return true;
      (skipped ??= []).push(slot);
    }
    for (const slot of skipped ?? []) slot.skipped++;
    return false;
  }

  stats(): BackendStats[] {
    return this.slots.flat().map((s) => ({
      name: s.backend.name,
      kind: s.kind,
      state: s.breaker.health,
      requests: s.requests,
      hits: s.hits,
      failures: s.failures,
      skipped: s.skipped,
    }));
  }

  close(): void {
    for (const slot of this.slots.flat()) slot.backend.close();
  }

  private async fetch(key: Uint8Array): Promise<boolean> {
    const { tiers, db } = this.options;
    const answers = tiers.map((tier, i) => this.ask(tier, this.slots[i]!, key));
    for (let i = 0; i < tiers.length; i++) {
      const value = await answers[i]!;
      if (value === null) continue;
      if (value.length > this.options.maxValueBytes) {
        this.refused++;
        continue;
      }
      // A value the store could never hold (larger than MaxMemory) is refused like an oversized
      // one: no import, no error (it is the backend's data, not a fault of ours).
      try {
        db.checkFits(key, key.length + value.length);
      } catch (error) {
        if (!(error instanceof StoreLimitError)) throw error;
        this.refused++;
        continue;
      }
      // A client may have written the key while we waited: its write is newer, keep it.
      if (!db.has(key)) {
        const now = db.now();
        const ttl = tiers[i]!.ttlSeconds;
        db.set(key, value, ttl > 0 ? now + ttl * 1000 : 0, now);
        this.imports++;
      }
      return true;
    }
    return false;
  }

  /** The backend's value, or null for "not there", "skipped" and "failed" alike. Never rejects. */
  private async ask(tier: Tier, slots: readonly Slot[], key: Uint8Array): Promise<Uint8Array | null> {
    if (slots.length === 0 || (tier.accepts && !tier.accepts(key))) return null;
    const slot = pickServer(slots, key);
    if (!slot.breaker.tryAcquire()) {
      slot.skipped++;
      return null;
    }
    slot.requests++;
    try {
      const value = await slot.backend.get(key, this.options.timeoutMs);
      if (value !== null) slot.hits++;
      this.report(slot, () => slot.breaker.success());
      return value;
    } catch (error) {
      slot.failures++;
      this.report(slot, () => slot.breaker.failure(), error);
      return null;
    }
  }

  /** One log line per change of a backend's state, not one per failed request. */
  private report(slot: Slot, outcome: () => unknown, error?: unknown): void {
    const from = slot.breaker.health;
    outcome();
    const change = { to: slot.breaker.health, failures: slot.breaker.consecutiveFailures };
    if (change.to === from) return;
    const backend = slot.backend.name;
    const reason = error instanceof Error ? error.message : error === undefined ? undefined : String(error);
    if (change.to === "up") this.options.log.info("read-through backend up", { backend });
    else if (change.to === "failing") this.options.log.warn("read-through backend failing", { backend, error: reason });
    else {
      this.options.log.warn("read-through backend down", {
        backend,
        error: reason,
        failures: change.failures,
        skippedForSeconds: this.options.sleepMs / 1000,
      });
    }
  }
}
