// The replication stream to one peer: a cursor into the shared Outbox, sent as batches (by count,
// bytes, or a few milliseconds), one request in flight at a time, retried with backoff while the
// peer is down. Batching adapts to the write rate: while batches come out large (the node is busy
// writing), they start further apart, so each request carries more records. When the peer falls further behind than the bound, its backlog is dropped whole
// and anti-entropy repairs it later: a slow or dead peer never blocks writes or holds more than
// the bound.

import type { Clock } from "../../store/types.ts";
import type { Outbox } from "./outbox.ts";
import type { PeerTransport, Timers } from "./types.ts";

export interface LinkLimits {
  /** records per batch */
  readonly batchRecords: number;
  /** bytes per batch (a single larger record still goes alone) */
  readonly batchBytes: number;
  /** a batch starts at most this often unless it is full */
  readonly batchDelayMs: number;
  /** the spacing instead while the stream is busy: the previous batch carried ≥ busyBatchRecords */
  readonly busyDelayMs: number;
  readonly busyBatchRecords: number;
  readonly queueRecords: number;
  readonly queueBytes: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

export const DEFAULT_LINK_LIMITS: LinkLimits = {
  batchRecords: 4096,
  batchBytes: 1024 * 1024,
  // Each request costs the sender ~0.1 ms of CPU (Bun fetch, signing) whatever its size: 5 ms
  // lets a node send batches of tens of records instead of one, for a few ms of extra lag.
  batchDelayMs: 5,
  // A batch of 32 records in 5 ms is ≥ 6.4k writes/s: a steady stream, where a request every
  // 5 ms per peer costs the node more than the records themselves (measured at 10–20k sets/s on
  // a loaded 2-core machine: ~40 % more CPU per set with 50-record batches). Spacing them 20 ms
  // apart makes each carry 4× as many (200 at 10k writes/s, 800 at 40k) for 15 ms more lag;
  // the stream drops back to 5 ms once a batch carries fewer than 32 (< 1.6k writes/s).
  busyDelayMs: 20,
  busyBatchRecords: 32,
  queueRecords: 100_000,
  queueBytes: 64 * 1024 * 1024,
  retryMinMs: 100,
  retryMaxMs: 2_000,
};

export interface LinkEvents {
  up(link: PeerLink): void;
  down(link: PeerLink, error: unknown): void;
  overflow(link: PeerLink): void;
  /** the link's cursor moved: the outbox may free what every link has passed */
  progress(): void;
}

export type LinkState = "unknown" | "up" | "down";

export class PeerLink {
  state: LinkState = "unknown";
  lastSuccessAt = 0;
  lastError = "";
  /** records dropped because the backlog overflowed (since start) */
  dropped = 0;
  sentRecords = 0;
  sentBatches = 0;
  /** records were dropped since the last anti-entropy round with this peer */
  needsRepair = false;
  /** absolute outbox index of the next record to send */
  cursor: number;
  /** end of the batch in flight (or waiting for a retry), -1 when none */
  private flightEnd = -1;
  private inFlight = false;
  private timer: unknown;
  private failures = 0;
  private lastSendAt = 0;
  /** spacing before the next batch: batchDelayMs, or busyDelayMs after a large batch */
  private delayMs: number;
  private closed = false;

  constructor(
    readonly address: string,
    private readonly outbox: Outbox,
    private readonly self: () => string,
    private readonly transport: PeerTransport,
    private readonly timers: Timers,
    private readonly clock: Clock,
    private readonly events: LinkEvents,
    private readonly limits: LinkLimits = DEFAULT_LINK_LIMITS,
  ) {
    this.cursor = outbox.end;
    this.delayMs = limits.batchDelayMs;
  }

  /** Records waiting, including a batch in flight or waiting for a retry. */
  get depth(): number {
    return this.outbox.end - this.cursor;
  }

  /** Called after each record is appended to the outbox. */
  appended(): void {
    if (this.closed) return;
    if (this.depth > this.limits.queueRecords || this.outbox.bytes(this.cursor, this.outbox.end) > this.limits.queueBytes) {
      this.dropBacklog();
      return;
    }
    if (this.inFlight || this.flightEnd !== -1) return; // the answer (or the retry) sends the rest
    if (this.depth >= this.limits.batchRecords) {
      if (this.timer !== undefined) this.timers.clear(this.timer);
      this.send();
    } else if (this.timer === undefined) this.timer = this.timers.set(this.sendLater, this.wait());
  }

  /** ms until the next batch may start: the spacing since the previous one started. */
  private wait(): number {
    return Math.max(0, this.lastSendAt + this.delayMs - this.clock.now());
  }

  private readonly sendLater = (): void => this.send();

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.cursor = this.outbox.end;
  }

  private dropBacklog(): void {
    this.dropped += this.depth;
    this.cursor = this.outbox.end;
    this.flightEnd = -1; // a retry has nothing left to send; an answer in flight is ignored
    // One log line per episode: the next anti-entropy round with this peer ends it.
    if (!this.needsRepair) this.events.overflow(this);
    this.needsRepair = true;
    this.events.progress();
  }

  private send(): void {
    this.timer = undefined;
    if (this.closed || this.inFlight) return;
    const from = this.cursor;
    const to = this.flightEnd !== -1 ? this.flightEnd : this.outbox.cut(from, this.limits.batchRecords, this.limits.batchBytes);
    if (to <= from) {
      this.flightEnd = -1;
      return;
    }
    this.flightEnd = to;
    this.inFlight = true;
    this.lastSendAt = this.clock.now();
    this.delayMs = to - from >= this.limits.busyBatchRecords ? this.limits.busyDelayMs : this.limits.batchDelayMs;
    const body = this.outbox.body(from, to, this.self());
    this.transport.request(this.address, "/sync/batch", body).then(
      () => this.sent(from, to),
      (error: unknown) => this.failed(from, error),
    );
  }

  private sent(from: number, to: number): void {
    this.inFlight = false;
    if (this.closed) return;
    this.failures = 0;
    this.lastSuccessAt = this.clock.now();
    this.sentBatches++;
    if (this.cursor === from) {
      // (when the backlog was dropped meanwhile the cursor has moved on: nothing to advance)
      this.sentRecords += to - from;
      this.cursor = to;
      this.flightEnd = -1;
      this.events.progress();
    }
    if (this.state !== "up") {
      this.state = "up";
      this.events.up(this);
    }
    // A full batch leaves at once; otherwise batches start at most every delayMs, so a busy node
    // sends a few large batches rather than one small batch per round trip. Whatever queued
    // while this batch was in flight goes in the next one.
    if (this.depth >= this.limits.batchRecords) this.send();
    else if (this.depth > 0 && this.timer === undefined) {
      const wait = this.wait();
      if (wait === 0) this.send();
      else this.timer = this.timers.set(this.sendLater, wait);
    }
  }

  private failed(from: number, error: unknown): void {
    this.inFlight = false;
    if (this.closed) return;
    this.failures++;
    this.lastError = error instanceof Error ? error.message : String(error);
    if (this.state !== "down") {
      this.state = "down";
      this.events.down(this, error);
    }
    // The same batch is sent again (unless the backlog was dropped meanwhile).
    if (this.cursor !== from) this.flightEnd = -1;
    const delay = Math.min(this.limits.retryMaxMs, this.limits.retryMinMs * 2 ** Math.min(this.failures - 1, 10));
    if (this.timer === undefined) this.timer = this.timers.set(this.sendLater, delay);
  }
}
