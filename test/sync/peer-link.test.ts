import { describe, expect, test } from "bun:test";
import { decodeBatch } from "../../src/cluster/sync/codec.ts";
import { Outbox } from "../../src/cluster/sync/outbox.ts";
import { DEFAULT_LINK_LIMITS, PeerLink, type LinkLimits } from "../../src/cluster/sync/peer-link.ts";
import type { SyncRecord } from "../../src/cluster/sync/records.ts";
import type { PeerTransport } from "../../src/cluster/sync/types.ts";
import { ManualClock } from "../../src/store/types.ts";
import { ManualTimers } from "./loop.ts";

function put(i: number, size = 1): SyncRecord {
  return { kind: "put", key: new TextEncoder().encode(`k${i}`), value: new Uint8Array(size).fill(i % 251), writtenAt: i, expiresAt: 0, origin: "a" };
}

/** A peer whose answers the test releases by hand. */
class HeldPeer {
  batches: SyncRecord[][] = [];
  /** when each batch was sent */
  sentAt: number[] = [];
  private waiting: { ok: () => void; fail: (e: Error) => void }[] = [];
  constructor(private readonly clock: ManualClock) {}
  readonly transport: PeerTransport = {
    request: (_peer, _path, body) => {
      this.batches.push(decodeBatch(body).records);
      this.sentAt.push(this.clock.now());
      return new Promise<Uint8Array>((resolve, reject) => this.waiting.push({ ok: () => resolve(new Uint8Array()), fail: reject }));
    },
  };
  get inFlight(): number {
    return this.waiting.length;
  }
  answer(): void {
    this.waiting.shift()!.ok();
  }
  fail(): void {
    this.waiting.shift()!.fail(new Error("connection refused"));
  }
}

function setup(limits: Partial<LinkLimits> = {}) {
  const clock = new ManualClock();
  const timers = new ManualTimers(clock);
  const peer = new HeldPeer(clock);
  const outbox = new Outbox();
  const events = { up: 0, down: 0, overflow: 0 };
  const peerLink = new PeerLink("127.0.0.1:1", outbox, () => "a", peer.transport, timers, clock, {
    up: () => events.up++,
    down: () => events.down++,
    overflow: () => events.overflow++,
    progress: () => outbox.trim(peerLink.cursor),
  }, { ...DEFAULT_LINK_LIMITS, ...limits });
  /** what the sync node does for each local write */
  const link = {
    enqueue(record: SyncRecord): void {
      outbox.append(record);
      peerLink.appended();
    },
    get depth() {
      return peerLink.depth;
    },
    get dropped() {
      return peerLink.dropped;
    },
    get needsRepair() {
      return peerLink.needsRepair;
    },
    get state() {
      return peerLink.state;
    },
    get sentRecords() {
      return peerLink.sentRecords;
    },
    close: () => peerLink.close(),
  };
  return { clock, timers, peer, link, events, outbox };
}

describe("sync peer link", () => {
  test("link - records of one turn leave as one batch; the next batch waits for the spacing", async () => {
    const { timers, peer, link } = setup({ batchDelayMs: 2 });
    for (let i = 0; i < 10; i++) link.enqueue(put(i));
    expect(peer.batches.length).toBe(0); // not inside the write itself: on a timer
    await timers.advance(0); // an idle stream does not make the first write wait
    expect(peer.batches.map((b) => b.length)).toEqual([10]);
    expect(link.depth).toBe(10); // in flight until answered
    peer.answer();
    await timers.advance(0);
    expect(link.depth).toBe(0);
    expect(peer.batches[0]!.map((r) => r.kind === "put" && r.value[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    link.enqueue(put(10));
    link.enqueue(put(11));
    await timers.advance(1);
    expect(peer.batches.length).toBe(1); // 2 ms after the previous batch started, not before
    await timers.advance(1);
    expect(peer.batches.map((b) => b.length)).toEqual([10, 2]);
  });

  test("link - behind a slow peer, everything queued while a batch is in flight leaves as the next batch", async () => {
    const { timers, peer, link } = setup();
    link.enqueue(put(0));
    await timers.advance(0);
    expect(peer.inFlight).toBe(1);
    for (let i = 1; i <= 3000; i++) {
      link.enqueue(put(i));
      if (i % 100 === 0) await timers.advance(1); // 100 writes a millisecond, a 30 ms round trip
    }
    expect(peer.batches.length).toBe(1); // never a second request while one is in flight
    expect(link.depth).toBe(3001);
    peer.answer();
    await timers.advance(0);
    expect(peer.batches.map((b) => b.length)).toEqual([1, 3000]); // one request for all of them
    peer.answer();
    await timers.advance(100);
    expect(link.depth).toBe(0);
    expect(link.sentRecords).toBe(3001);
    expect(peer.batches.flat().map((r) => r.writtenAt)).toEqual(Array.from({ length: 3001 }, (_, i) => i));
  });

  test("link - a busy stream spaces batches by busyDelayMs; a light one goes back to batchDelayMs", async () => {
    const { timers, peer, link } = setup({ batchDelayMs: 5, busyDelayMs: 20, busyBatchRecords: 10 });
    const answerAll = async (): Promise<void> => {
      while (peer.inFlight > 0) peer.answer();
      await timers.advance(0);
    };
    const step = async (ms: number, writes: number): Promise<void> => {
      for (let t = 0; t < ms; t++) {
        for (let i = 0; i < writes; i++) link.enqueue(put(t));
        await timers.advance(1);
        await answerAll(); // a fast peer: answers at once
      }
    };
    await step(60, 4); // 4 writes a millisecond: batches of ≥ 10 records
    expect(peer.batches.slice(1, -1).every((b) => b.length >= 10)).toBe(true);
    const sentAt = peer.sentAt;
    const busyGaps = sentAt.slice(2).map((t, i) => t - sentAt[i + 1]!);
    expect(sentAt[1]! - sentAt[0]!).toBe(5); // 4 records, then 20: busy from here on
    expect(busyGaps.length).toBeGreaterThanOrEqual(2);
    expect(busyGaps.every((g) => g === 20)).toBe(true);
    await step(100, 0); // the last busy batch leaves; then the stream is idle
    expect(link.depth).toBe(0);
    const before = peer.batches.length;
    link.enqueue(put(1)); // light: one write now and then
    await timers.advance(0);
    expect(peer.batches.length).toBe(before + 1); // the last busy batch's spacing has long passed
    await answerAll();
    link.enqueue(put(2));
    await timers.advance(4);
    expect(peer.batches.length).toBe(before + 1); // after a small batch: 5 ms spacing again
    await timers.advance(1);
    expect(peer.batches.length).toBe(before + 2);
  });

  test("link - a full batch leaves at once; one request in flight; the rest follows as the next batch", async () => {
    const { timers, peer, link, events } = setup({ batchRecords: 4 });
    for (let i = 0; i < 10; i++) link.enqueue(put(i));
    expect(peer.batches.map((b) => b.length)).toEqual([4]);
    expect(peer.inFlight).toBe(1);
    peer.answer();
    await timers.advance(0);
    expect(peer.batches.map((b) => b.length)).toEqual([4, 4]); // full: at once
    peer.answer();
    await timers.advance(0);
    expect(peer.batches.length).toBe(2); // 2 left: they wait for the batch delay
    await timers.advance(DEFAULT_LINK_LIMITS.batchDelayMs);
    peer.answer();
    await timers.advance(0);
    expect(peer.batches.flat().map((r) => r.writtenAt)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(link.sentRecords).toBe(10);
    expect([link.state, events.up]).toEqual(["up", 1]);
  });

  test("link - batches are cut by bytes too; one large record goes alone", async () => {
    const { timers, peer, link } = setup({ batchBytes: 1000 });
    link.enqueue(put(1, 400));
    link.enqueue(put(2, 400));
    link.enqueue(put(3, 5000));
    link.enqueue(put(4, 10));
    await timers.advance(DEFAULT_LINK_LIMITS.batchDelayMs);
    for (let i = 0; i < 3; i++) {
      peer.answer();
      await timers.advance(DEFAULT_LINK_LIMITS.batchDelayMs);
    }
    expect(peer.batches.map((b) => b.map((r) => r.writtenAt))).toEqual([[1, 2], [3], [4]]);
  });

  test("link - a failed batch is retried with backoff, in order, and down/up are reported once each", async () => {
    const { timers, peer, link, events } = setup();
    link.enqueue(put(1));
    await timers.advance(DEFAULT_LINK_LIMITS.batchDelayMs);
    peer.fail();
    await timers.advance(0);
    expect([link.state, events.down]).toEqual(["down", 1]);
    link.enqueue(put(2));
    await timers.advance(99);
    expect(peer.batches.length).toBe(1); // waiting for the backoff
    await timers.advance(1);
    expect(peer.batches.length).toBe(2);
    peer.fail();
    await timers.advance(199);
    expect(peer.batches.length).toBe(2); // backoff doubled
    await timers.advance(1);
    peer.answer();
    await timers.advance(DEFAULT_LINK_LIMITS.batchDelayMs);
    expect(events.down).toBe(1);
    expect(events.up).toBe(1);
    peer.answer();
    await timers.advance(0);
    expect(peer.batches.map((b) => b.map((r) => r.writtenAt))).toEqual([[1], [1], [1], [2]]);
    expect(link.depth).toBe(0);
  });

  test("link - a dead peer costs at most the bound: the queue is dropped whole, counted, reported once", async () => {
    const { timers, peer, link, events } = setup({ queueRecords: 100 });
    link.enqueue(put(0));
    await timers.advance(DEFAULT_LINK_LIMITS.batchDelayMs); // in flight, never answered: a hung peer
    for (let i = 1; i <= 1000; i++) link.enqueue(put(i));
    expect(link.depth).toBeLessThanOrEqual(100);
    expect(link.dropped).toBeGreaterThan(850);
    expect(link.needsRepair).toBe(true);
    expect(events.overflow).toBe(1);
    expect(peer.inFlight).toBe(1);
  });

  test("link - the byte bound holds for large values", () => {
    const { link } = setup({ queueBytes: 10_000 });
    for (let i = 0; i < 100; i++) link.enqueue(put(i, 1000));
    expect(link.depth).toBeLessThan(10);
    expect(link.dropped).toBeGreaterThan(90);
  });

  test("link - the outbox frees what has been sent", async () => {
    const { timers, peer, link, outbox } = setup();
    for (let i = 0; i < 100; i++) link.enqueue(put(i, 100));
    await timers.advance(DEFAULT_LINK_LIMITS.batchDelayMs);
    peer.answer();
    await timers.advance(0);
    expect(outbox.size).toBe(0);
  });

  test("link - close stops timers and drops what waits", async () => {
    const { timers, peer, link } = setup();
    link.enqueue(put(1));
    link.close();
    await timers.advance(10);
    expect(peer.batches.length).toBe(0);
    expect(timers.pending).toBe(0);
    link.enqueue(put(2));
    await timers.advance(10);
    expect(peer.batches.length).toBe(0);
  });
});
