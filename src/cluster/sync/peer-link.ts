// The replication stream to one peer: a bounded queue of records sent as batches (by count or a
// few milliseconds), one request in flight at a time, retried with backoff while the peer is
// down. When the queue overflows it is dropped whole and anti-entropy repairs the peer later:
// a slow or dead peer never blocks writes or holds more than the bound.

import { encodeBatch } from "./codec.ts";
import { recordSize, type SyncRecord } from "./records.ts";
import type { Clock } from "../../store/types.ts";
import type { PeerTransport, Timers } from "./types.ts";

export interface LinkLimits {
  /** records per batch */
  readonly batchRecords: number;
  /** bytes per batch (a single larger record still goes alone) */
  readonly batchBytes: number;
  /** how long the first record of a batch waits for company */
  readonly batchDelayMs: number;
  readonly queueRecords: number;
  readonly queueBytes: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

export const DEFAULT_LINK_LIMITS: LinkLimits = {
  batchRecords: 1024,
  batchBytes: 1024 * 1024,
  // Each request costs the sender ~0.1 ms of CPU (Bun fetch): 5 ms lets a busy node send
  // batches of a few hundred records instead of a few, for a few ms of extra lag.
  batchDelayMs: 5,
  queueRecords: 100_000,
  queueBytes: 64 * 1024 * 1024,
  retryMinMs: 100,
  retryMaxMs: 2_000,
};

export interface LinkEvents {
  up(link: PeerLink): void;
  down(link: PeerLink, error: unknown): void;
  overflow(link: PeerLink): void;
}

export type LinkState = "unknown" | "up" | "down";

export class PeerLink {
  state: LinkState = "unknown";
  lastSuccessAt = 0;
  lastError = "";
  /** records dropped because the queue overflowed (since start) */
  dropped = 0;
  sentRecords = 0;
  sentBatches = 0;
  /** records were dropped since the last anti-entropy round with this peer */
  needsRepair = false;
  private queue: SyncRecord[] = [];
  private head = 0;
  private bytes = 0;
  private retry: SyncRecord[] | undefined;
  private retryBytes = 0;
  private inFlight = false;
  private timer: unknown;
  private failures = 0;
  private lastSendAt = 0;
  private closed = false;

  constructor(
    readonly address: string,
    private readonly transport: PeerTransport,
    private readonly timers: Timers,
    private readonly clock: Clock,
    private readonly events: LinkEvents,
    private readonly limits: LinkLimits = DEFAULT_LINK_LIMITS,
  ) {}

  /** Records waiting (including a batch waiting to be retried). */
  get depth(): number {
    return this.queue.length - this.head + (this.retry?.length ?? 0);
  }

  enqueue(record: SyncRecord): void {
    if (this.closed) return;
    const size = recordSize(record);
    if (this.depth + 1 > this.limits.queueRecords || this.bytes + this.retryBytes + size > this.limits.queueBytes) {
      this.dropQueue(1);
      return;
    }
    this.queue.push(record);
    this.bytes += size;
    if (this.inFlight || this.retry) return;
    if (this.queue.length - this.head >= this.limits.batchRecords) {
      if (this.timer !== undefined) this.timers.clear(this.timer);
      this.send();
    } else if (this.timer === undefined) this.timer = this.timers.set(() => this.send(), this.limits.batchDelayMs);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.queue = [];
    this.head = 0;
    this.retry = undefined;
    this.bytes = 0;
    this.retryBytes = 0;
  }

  private dropQueue(extra: number): void {
    this.dropped += this.queue.length - this.head + (this.retry?.length ?? 0) + extra;
    this.queue = [];
    this.head = 0;
    this.retry = undefined;
    this.bytes = 0;
    this.retryBytes = 0;
    // One log line per episode: the next anti-entropy round with this peer ends it.
    if (!this.needsRepair) this.events.overflow(this);
    this.needsRepair = true;
  }

  private takeBatch(): SyncRecord[] {
    let end = this.head;
    let size = 0;
    while (end < this.queue.length && end - this.head < this.limits.batchRecords) {
      const s = recordSize(this.queue[end]!);
      if (end > this.head && size + s > this.limits.batchBytes) break;
      size += s;
      end++;
    }
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    this.bytes -= size;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 65_536) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  private send(): void {
    this.timer = undefined;
    if (this.closed || this.inFlight) return;
    const batch = this.retry ?? this.takeBatch();
    this.retry = undefined;
    this.retryBytes = 0;
    if (batch.length === 0) return;
    this.inFlight = true;
    this.lastSendAt = this.clock.now();
    const body = encodeBatch(batch, true);
    this.transport.request(this.address, "/sync/batch", body).then(
      () => this.sent(batch),
      (error: unknown) => this.failed(batch, error),
    );
  }

  private sent(batch: SyncRecord[]): void {
    this.inFlight = false;
    this.failures = 0;
    this.lastSuccessAt = this.clock.now();
    this.sentRecords += batch.length;
    this.sentBatches++;
    if (this.state !== "up") {
      this.state = "up";
      this.events.up(this);
    }
    // A full batch leaves at once; otherwise batches start at most every batchDelayMs, so a busy
    // node sends a few large batches rather than one small batch per round trip.
    const waiting = this.queue.length - this.head;
    if (waiting >= this.limits.batchRecords) this.send();
    else if (waiting > 0 && this.timer === undefined) {
      const wait = Math.max(0, this.lastSendAt + this.limits.batchDelayMs - this.clock.now());
      this.timer = this.timers.set(() => this.send(), wait);
    }
  }

  private failed(batch: SyncRecord[], error: unknown): void {
    this.inFlight = false;
    if (this.closed) return;
    this.failures++;
    this.lastError = error instanceof Error ? error.message : String(error);
    if (this.state !== "down") {
      this.state = "down";
      this.events.down(this, error);
    }
    // Keep the batch for the retry unless the queue has been dropped meanwhile.
    this.retry = batch;
    this.retryBytes = batch.reduce((sum, r) => sum + recordSize(r), 0);
    const delay = Math.min(this.limits.retryMaxMs, this.limits.retryMinMs * 2 ** Math.min(this.failures - 1, 10));
    this.timer = this.timers.set(() => this.send(), delay);
  }
}
