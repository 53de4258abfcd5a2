// A sync node: the Replica, one PeerLink per gossip peer, and the timers that run anti-entropy
// rounds and housekeeping. Logs peer trouble once per change of state, never per write, and
// reports per-peer state for /health.

import type { Logger } from "../../log/logger.ts";
import type { LoadedTombs, TombJournal } from "../../persistence/tombs.ts";
import type { Keyspace } from "../../store/keyspace.ts";
import { antiEntropyRound, PeerSweeping, type RoundResult } from "./anti-entropy.ts";
import type { SweepProgress } from "./flush-sweep.ts";
import { TOMB_EXPIRE_BATCH } from "./digest.ts";
import { Outbox } from "./outbox.ts";
import { DEFAULT_LINK_LIMITS, PeerLink, type LinkLimits } from "./peer-link.ts";
import type { RecordSink } from "./records.ts";
import { Replica } from "./replica.ts";
import { SyncResponder } from "./serve.ts";
import { peerKey, realTimers, type PeerTransport, type SyncPeers, type Timers } from "./types.ts";

/** how often the peer list is re-read, tombstones freed and expired keys swept from the digest */
const HOUSEKEEPING_MS = 250;
/** digest buckets checked for expired keys per housekeeping tick (all 4096 in about a minute) */
const SWEEP_BUCKETS = 16;
/**
 * After a housekeeping pass freed a full batch of tombstones (TOMB_EXPIRE_BATCH, a few ms), the
 * next pass runs this soon instead of at the next tick: once per tick alone frees at most 40,000
 * a second, fewer than a node lays when that many keys expire (or are deleted) a second, and the
 * backlog would then grow without end. Passes this far apart free ~300,000 a second and leave the
 * event loop free between them.
 */
const TOMB_CATCH_UP_MS = 25;
/** a first round soon after start, so a node that was down catches up at once */
const FIRST_ROUND_MS = 300;
/** between a round's two bucket comparisons: well above batch delay + a loaded peer's answer */
export const CONFIRM_MS = 250;
/** a round that met a peer sweeping a flush is tried again this soon (a million keys: ~1–2 s) */
export const SWEEP_RETRY_MS = 1_000;

export interface SyncNodeOptions {
  readonly keyspace: Keyspace;
  /** this node's address (ResponseHost:Httpport), the origin of its writes */
  readonly self: () => string;
  readonly peers: SyncPeers;
  readonly transport: PeerTransport;
  readonly log: Logger;
  readonly antiEntropyMs: number;
  readonly tombstoneTtlMs: number;
  readonly timers?: Timers;
  readonly limits?: LinkLimits;
  /** ms between a round's two bucket comparisons (default CONFIRM_MS) */
  readonly confirmMs?: number;
  /** keys can vanish without a TTL (MaxMemory eviction): sweep every bucket, not only TTL ones */
  readonly evicts?: boolean;
  /** the tombstones and watermark persistence loaded, taken before sync starts */
  readonly loadedTombs?: LoadedTombs;
  /** where each tombstone and watermark laid is logged (the append log) */
  readonly tombJournal?: TombJournal;
}

interface PeerRounds {
  timer: unknown;
  running: boolean;
  again: boolean;
  lastRoundAt: number;
  lastOkAt: number;
  state: "pending" | "equal" | "repaired" | "error";
  lastResult: RoundResult | undefined;
  lastError: string;
}

export interface PeerHealth {
  address: string;
  state: "unknown" | "up" | "down";
  lastSuccessfulSync: string | null;
  queueDepth: number;
  dropped: number;
  sent: number;
  /** requests that carried them: sent / batches is the mean batch size */
  batches: number;
  lastError: string;
  digest: { state: PeerRounds["state"]; lastRound: string | null; differingBuckets: number; pulled: number; pushed: number; bytes: number };
}

export interface SyncHealth {
  enabled: true;
  node: string;
  keys: number;
  tombstones: number;
  root: string;
  flushedAt: number;
  /** a peer's flush being swept by slices, null when none */
  flushSweep: SweepProgress | null;
  peers: PeerHealth[];
}

const iso = (ms: number): string | null => (ms > 0 ? new Date(ms).toISOString() : null);

/** What a pass paused between slices meets when it resumes after the node stopped. */
export class SyncStopped extends Error {
  constructor() {
    super("sync stopped");
  }
}

export class SyncNode {
  readonly replica: Replica;
  readonly responder: SyncResponder;
  private readonly links = new Map<string, PeerLink>();
  /** the links' values as an array, for the per-write loop (no iterator per write) */
  private linkList: PeerLink[] = [];
  private readonly outbox = new Outbox();
  private readonly rounds = new Map<string, PeerRounds>();
  private readonly timers: Timers;
  private housekeeping: unknown;
  /** the next catch-up pass over due tombstones, while a backlog lasts (see TOMB_CATCH_UP_MS) */
  private tombCatchUp: unknown = undefined;
  private stopped = false;

  constructor(private readonly options: SyncNodeOptions) {
    this.timers = options.timers ?? realTimers;
    this.replica = new Replica(options.keyspace, options.self, options.tombstoneTtlMs, this.sink, options.evicts ?? false);
    this.replica.flushSweep.onFailure = (error, retrying) =>
      options.log.error(retrying ? "sync flush sweep failed, starting over" : "sync flush sweep failed, given up: keys it covers stay until a restart", { error: describe(error) });
    if (options.loadedTombs) this.replica.restoreTombs(options.loadedTombs);
    this.replica.journal = options.tombJournal;
    // A pass paused between its slices ends at the next turn once the node has stopped (it would
    // otherwise go on reading and applying to a keyspace sync no longer watches).
    this.replica.turn = async () => {
      await this.timers.turn();
      if (this.stopped) throw new SyncStopped();
    };
    this.responder = new SyncResponder(this.replica);
  }

  start(): void {
    this.refreshPeers();
    const tick = (): void => {
      if (this.stopped) return;
      this.refreshPeers();
      if (this.tombCatchUp === undefined) this.expireTombstones();
      this.replica.sweep(SWEEP_BUCKETS, this.options.evicts ?? false);
      this.housekeeping = this.timers.set(tick, HOUSEKEEPING_MS);
    };
    this.housekeeping = this.timers.set(tick, HOUSEKEEPING_MS);
  }

  /** Frees due tombstones; a full batch means more are due: the next pass comes soon. */
  private readonly expireTombstones = (): void => {
    this.tombCatchUp = undefined;
    if (this.stopped) return;
    if (this.replica.expireTombstones() >= TOMB_EXPIRE_BATCH) this.tombCatchUp = this.timers.set(this.expireTombstones, TOMB_CATCH_UP_MS);
  };

  stop(): void {
    this.stopped = true;
    this.timers.clear(this.housekeeping);
    this.timers.clear(this.tombCatchUp);
    for (const link of this.links.values()) link.close();
    for (const r of this.rounds.values()) this.timers.clear(r.timer);
    this.links.clear();
    this.linkList = [];
    this.rounds.clear();
    this.replica.close();
  }

  /** Local writes: each encoded once into the outbox (its byte views die after the call). */
  private readonly sink: RecordSink = {
    put: (key, value, writtenAt, expiresAt) => {
      if (this.linkList.length === 0) return;
      this.outbox.put(key, value, writtenAt, expiresAt);
      this.appended();
    },
    del: (key, writtenAt) => {
      if (this.linkList.length === 0) return;
      this.outbox.del(key, writtenAt);
      this.appended();
    },
    flush: (writtenAt) => {
      if (this.linkList.length === 0) return;
      this.outbox.flush(writtenAt);
      this.appended();
    },
  };

  private appended(): void {
    const links = this.linkList;
    for (let i = 0; i < links.length; i++) links[i]!.appended();
  }

  private trimOutbox(): void {
    let min = this.outbox.end;
    for (const link of this.links.values()) min = Math.min(min, link.cursor);
    this.outbox.trim(min);
  }

  /** Follows the gossip list: links for new peers, none for removed ones or this node itself. */
  refreshPeers(): void {
    const self = peerKey(this.options.self());
    const wanted = new Map<string, string>();
    for (const address of this.options.peers.list()) {
      const key = peerKey(address);
      if (key && key !== self) wanted.set(key, address);
    }
    let changed = false;
    for (const [key, link] of this.links) {
      if (!wanted.has(key)) {
        link.close();
        this.links.delete(key);
        changed = true;
        this.trimOutbox();
        this.timers.clear(this.rounds.get(key)?.timer);
        this.rounds.delete(key);
      }
    }
    for (const [key, address] of wanted) {
      if (this.links.has(key)) continue;
      changed = true;
      this.links.set(key, new PeerLink(address, this.outbox, this.options.self, this.options.transport, this.timers, this.options.keyspace.clock, {
        up: (link) => {
          this.options.log.info("sync peer up", { peer: link.address });
          // Whatever it missed while down (dropped records) comes back through a round now.
          if (link.needsRepair) this.scheduleRound(key, 0);
        },
        down: (link, error) => this.options.log.warn("sync peer down", { peer: link.address, error: describe(error) }),
        overflow: (link) => this.options.log.warn("sync queue overflow: dropped, anti-entropy will repair", { peer: link.address, dropped: link.dropped }),
        progress: () => this.trimOutbox(),
      }, this.options.limits ?? DEFAULT_LINK_LIMITS));
      this.rounds.set(key, { timer: undefined, running: false, again: false, lastRoundAt: 0, lastOkAt: 0, state: "pending", lastResult: undefined, lastError: "" });
      this.scheduleRound(key, FIRST_ROUND_MS);
    }
    if (changed) this.linkList = [...this.links.values()];
  }

  private scheduleRound(key: string, delayMs: number): void {
    const r = this.rounds.get(key);
    if (!r || this.stopped) return;
    if (r.running) {
      if (delayMs === 0) r.again = true;
      return;
    }
    this.timers.clear(r.timer);
    r.timer = this.timers.set(() => void this.runRound(key), delayMs);
  }

  /** Runs one anti-entropy round with a peer now (also used by tests and benchmarks). */
  async runRound(key: string): Promise<RoundResult | undefined> {
    const r = this.rounds.get(key);
    const link = this.links.get(key);
    if (!r || !link || r.running) return undefined;
    r.running = true;
    r.again = false;
    if (link.needsRepair) link.needsRepair = false;
    const { keyspace, transport, tombstoneTtlMs, log } = this.options;
    let result: RoundResult | undefined;
    let retryMs = this.options.antiEntropyMs;
    try {
      const confirmMs = this.options.confirmMs ?? CONFIRM_MS;
      result = await antiEntropyRound(this.replica, transport, link.address, {
        tombTtlMs: tombstoneTtlMs,
        pushBytes: (this.options.limits ?? DEFAULT_LINK_LIMITS).batchBytes,
        confirm: () => (confirmMs > 0 ? new Promise<void>((resolve) => this.timers.set(resolve, confirmMs)) : Promise.resolve()),
      });
      const state = result.equal ? "equal" : "repaired";
      if (r.state === "error") log.info("sync anti-entropy recovered", { peer: link.address });
      r.state = state;
      r.lastResult = result;
      r.lastOkAt = keyspace.now();
      if (result.pulled + result.pushed > 0) log.info("sync anti-entropy repaired", { peer: link.address, ...result });
    } catch (error) {
      if (error instanceof SyncStopped) return undefined;
      if (error instanceof PeerSweeping) {
        // not a failure: its digest is half done until its sweep ends
        r.state = "pending";
        retryMs = Math.min(retryMs, SWEEP_RETRY_MS);
      } else {
        if (r.state !== "error") log.warn("sync anti-entropy failed", { peer: link.address, error: describe(error) });
        r.state = "error";
        r.lastError = describe(error);
      }
    } finally {
      r.running = false;
      r.lastRoundAt = keyspace.now();
    }
    if (this.rounds.get(key) === r) this.scheduleRound(key, r.again || link.needsRepair ? 0 : retryMs);
    return result;
  }

  /** Peer keys (normalised addresses) currently linked. */
  peerKeys(): string[] {
    return [...this.links.keys()];
  }

  health(): SyncHealth {
    const digest = this.replica.digest;
    const peers: PeerHealth[] = [];
    for (const [key, link] of this.links) {
      const r = this.rounds.get(key)!;
      peers.push({
        address: link.address,
        state: link.state,
        lastSuccessfulSync: iso(Math.max(link.lastSuccessAt, r.lastOkAt)),
        queueDepth: link.depth,
        dropped: link.dropped,
        sent: link.sentRecords,
        batches: link.sentBatches,
        lastError: link.state === "down" ? link.lastError : r.state === "error" ? r.lastError : "",
        digest: {
          state: r.state,
          lastRound: iso(r.lastRoundAt),
          differingBuckets: r.lastResult?.differingBuckets ?? 0,
          pulled: r.lastResult?.pulled ?? 0,
          pushed: r.lastResult?.pushed ?? 0,
          bytes: r.lastResult?.bytes ?? 0,
        },
      });
    }
    return {
      enabled: true,
      node: this.options.self(),
      keys: digest.liveCount,
      tombstones: digest.tombCount,
      root: digest.root().toString(16).padStart(8, "0"),
      flushedAt: digest.watermark.at,
      flushSweep: this.replica.flushSweep.progress() ?? null,
      peers,
    };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
