// A peer's flush (Replica.applyFlush): taken at once when it covers everything held, else swept
// by slices (flush-sweep.ts), which must leave the same state as the one-shot algorithm it
// replaced (flush-at-once.ts, the oracle) whatever mix of keys, tombstones, origins and times.

import { describe, expect, test } from "bun:test";
import { bucketOf, BUCKETS, DigestState } from "../../src/cluster/sync/digest.ts";
import { SWEEP_SLICE_KEYS } from "../../src/cluster/sync/flush-sweep.ts";
import { SWEEP_RETRY_MS } from "../../src/cluster/sync/node.ts";
import { Replica } from "../../src/cluster/sync/replica.ts";
import { syncRoutes } from "../../src/cluster/sync/routes.ts";
import { json, parseJson, type DigestAnswer } from "../../src/cluster/sync/serve.ts";
import type { Watermark } from "../../src/cluster/sync/version.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { binaryStringToBytes, bytesToBinaryString, fromUtf8, utf8 } from "../../src/store/bytes.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { Keyspace, type Mutation } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock, type Store } from "../../src/store/types.ts";
import { seededRandom } from "../helpers/random.ts";
import { flushAtOnce } from "./flush-at-once.ts";
import { cluster, set, TOMB_TTL, type Member } from "./loop-cluster.ts";

const NOW = 1_800_000_000_000;
const sink = { put: () => {}, del: () => {}, flush: () => {} };
const STORES: [string, (clock: ManualClock) => Store][] = [
  ["CompactStore", (clock) => new CompactStore(clock, { seed: 7 })],
  ["MapStore", (clock) => new MapStore(clock)],
];

interface Node {
  clock: ManualClock;
  keyspace: Keyspace;
  replica: Replica;
  /** the mutation feed (what the append log records): type, key, time */
  feed: string[];
  journal: Watermark[];
}

/** A replica over a fresh keyspace; `before` writes keys ahead of it (loaded before sync started). */
function node(make: (clock: ManualClock) => Store = STORES[0]![1], trackAll = false, before?: (keyspace: Keyspace) => void): Node {
  const clock = new ManualClock(NOW);
  const keyspace = new Keyspace(make(clock), clock);
  before?.(keyspace);
  const replica = new Replica(keyspace, () => "n1", TOMB_TTL, sink, trackAll);
  const feed: string[] = [];
  keyspace.onMutation((m: Mutation) => feed.push(m.type === "flush" ? `flush@${m.writtenAt}` : `${m.type} ${fromUtf8(m.key)}@${m.writtenAt}`));
  const journal: Watermark[] = [];
  replica.journal = { tomb: () => {}, watermark: (w) => journal.push(w) };
  return { clock, keyspace, replica, feed, journal };
}

/** keys of every kind older than `before`: implicit, with a TTL, of another origin, and tombstones */
function fill(n: Node, count: number, before: number): void {
  const { keyspace, replica } = n;
  for (let i = 0; i < count; i++) {
    const at = before - 1 - (i % 500);
    if (i % 7 === 0) replica.apply([{ kind: "put", key: utf8(`k${i}`), value: utf8("remote"), writtenAt: at, expiresAt: 0, origin: "n2" }], false);
    else if (i % 11 === 0) keyspace.set(utf8(`k${i}`), utf8("ttl"), NOW + 3_600_000, at);
    else if (i % 13 === 0) replica.apply([{ kind: "del", key: utf8(`k${i}`), writtenAt: at, origin: "n3" }], false);
    else keyspace.set(utf8(`k${i}`), utf8(`v${i}`), 0, at);
  }
}

const ORIGINS = ["n0", "n1", "n2", "n3"];
const keysOf = (n: Node): string[] => [...n.keyspace.store.entries()].map(([k]) => fromUtf8(k)).sort();

/** What a run's remote deletes did: applied, and applied to a key a sweep hid at the time. */
interface RunCounts {
  deletes: number;
  hiddenDeletes: number;
}

/**
 * A seeded run of writes of every kind around `w.at` (before, after and at its very millisecond,
 * by origins below and above its own), with expiries; the same seed gives the same run.
 */
function randomRun(seed: number, w: Watermark, keys: number, ops: number): (n: Node) => RunCounts {
  return (n) => {
    const counts = { deletes: 0, hiddenDeletes: 0 };
    const random = seededRandom(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const when = (): number => (random() < 0.15 ? w.at : w.at + Math.floor(random() * 600) - 400);
    for (let i = 0; i < ops; i++) {
      const key = utf8(`key:${Math.floor(random() * keys)}`);
      const at = when();
      const origin = pick(ORIGINS);
      const ttl = random() < 0.2 ? n.clock.now() + 1 + Math.floor(random() * 3000) : 0;
      const r = random();
      if (r < 0.35) {
        if (origin === "n1") n.keyspace.set(key, utf8(`v${i}`), ttl, at);
        else n.replica.apply([{ kind: "put", key, value: utf8(`v${i}`), writtenAt: at, expiresAt: ttl, origin }], false);
      } else if (r < 0.5) {
        if (origin === "n1") n.keyspace.delete(key, at);
        else {
          const hidden = n.keyspace.store.has(key) && !n.keyspace.has(key);
          if (n.replica.apply([{ kind: "del", key, writtenAt: at, origin }], false).applied === 1) {
            counts.deletes++;
            if (hidden) counts.hiddenDeletes++;
          }
        }
      } else if (r < 0.55) n.keyspace.expire(key, ttl, at);
      else if (r < 0.57) {
        n.clock.tick(Math.floor(random() * 400));
        n.keyspace.store.advance(n.clock.now());
      } else n.keyspace.set(key, utf8(`v${i}`), 0, at);
    }
    return counts;
  };
}

/** Keys a load put in the store before sync started (with unknown origins), around `w.at`. */
function loadedRun(seed: number, w: Watermark, keys: number): (keyspace: Keyspace) => void {
  return (keyspace) => {
    const random = seededRandom(seed);
    for (let i = 0; i < keys; i++) {
      const at = random() < 0.15 ? w.at : w.at + Math.floor(random() * 600) - 400;
      keyspace.set(utf8(`key:${Math.floor(random() * keys * 2)}`), utf8(`loaded${i}`), random() < 0.2 ? NOW + 60_000 : 0, at);
    }
  };
}

/** Everything a flush can change: the store, the digest (per bucket, key by key) and the watermark. */
function stateOf(n: Node) {
  const { digest, keyspace } = n.replica;
  const store = [...keyspace.store.entries()].map(([k, e]) => [bytesToBinaryString(k), fromUtf8(e.value), e.writtenAt, e.expiresAt] as const);
  const buckets: unknown[] = [];
  for (let b = 0; b < BUCKETS; b++) {
    const live = [...digest.liveKeys(b)].sort().map((k) => [k, digest.originOf(b, k)]);
    const tombs = [...digest.tombKeys(b)].sort().map((k) => [k, digest.tombOf(b, k)]);
    if (live.length + tombs.length + digest.implicit[b]! > 0) buckets.push([b, digest.implicit[b], digest.ttlKeys[b], digest.implicitOrigin(b, NOW + 1e6), live, tombs]);
  }
  return {
    store: store.sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    root: digest.root(),
    hashes: [...digest.buckets],
    counts: [digest.liveCount, digest.tombCount],
    watermark: digest.watermark,
    buckets,
    deletes: n.feed.filter((f) => !f.startsWith("set")).sort(),
    journal: n.journal,
  };
}

/**
 * What a node holds, however its digest keeps it (a key written during a sweep may be tracked
 * where the one-shot flush, which had emptied its bucket already, left it implicit): the store,
 * the bucket hashes, and the version of every key held or remembered as deleted.
 */
function heldBy(n: Node) {
  const { digest, keyspace } = n.replica;
  const versions: [string, unknown][] = [];
  for (let b = 0; b < BUCKETS; b++) for (const k of digest.tombKeys(b)) versions.push([k, n.replica.versionOf(b, k, binaryStringToBytes(k))]);
  for (const [key] of keyspace.store.entries()) {
    const k = bytesToBinaryString(key);
    versions.push([k, n.replica.versionOf(bucketOf(key), k, key)]);
  }
  const { store, root, hashes, counts, watermark } = stateOf(n);
  return { store, root, hashes, counts, watermark, versions: versions.sort((x, y) => (x[0] < y[0] ? -1 : 1)) };
}

/** Two nodes holding the same: one takes flushes by the sweep, the other by the oracle. */
function twins(make: (clock: ManualClock) => Store, trackAll: boolean, run: (n: Node) => void, loaded?: (keyspace: Keyspace) => void) {
  const a = node(make, trackAll, loaded);
  const b = node(make, trackAll, loaded);
  for (const n of [a, b]) {
    run(n);
    n.feed.length = 0;
  }
  expect(stateOf(a)).toEqual(stateOf(b));
  return { a, b };
}

describe("a peer's flush", () => {
  test("applyFlush - a flush newer than every entry and tombstone takes them at once: one flush in the feed, not a delete per key", () => {
    const n = node();
    fill(n, 5_000, NOW);
    expect(n.replica.digest.tombCount).toBeGreaterThan(0);
    n.feed.length = 0;
    const w = { at: NOW, origin: "n2" };
    expect(n.replica.applyFlush(w)).toBe(true);
    expect(n.feed).toEqual([`flush@${NOW}`]);
    expect(n.journal).toEqual([w]);
    expect(n.keyspace.store.size).toBe(0);
    const empty = new DigestState();
    empty.flush(w);
    expect([n.replica.digest.liveCount, n.replica.digest.tombCount, n.replica.digest.root()]).toEqual([0, 0, empty.root()]);
    expect(n.replica.applyFlush(w)).toBe(false);
  });

  test("applyFlush - an entry or a tombstone at or after the watermark keeps the flush from going at once", async () => {
    for (const late of ["entry", "tombstone", "same millisecond"] as const) {
      const n = node();
      fill(n, 300, NOW);
      const w = { at: NOW, origin: "n2" };
      if (late === "entry") n.keyspace.set(utf8("late"), utf8("v"), 0, NOW + 1);
      else if (late === "tombstone") n.replica.apply([{ kind: "del", key: utf8("late"), writtenAt: NOW + 1, origin: "n3" }], false);
      else n.keyspace.set(utf8("late"), utf8("v"), 0, NOW); // own origin n1 < n2: covered, but only by the origin
      n.feed.length = 0;
      expect(n.replica.applyFlush(w)).toBe(true);
      await n.replica.flushSweep.idle();
      expect(n.feed.some((f) => f.startsWith("flush"))).toBe(false);
      expect(n.feed.length).toBeGreaterThan(0);
      if (late === "entry") expect(n.keyspace.store.size).toBe(1);
      else if (late === "tombstone") expect(n.replica.digest.tombCount).toBe(1);
      else expect(n.keyspace.store.size).toBe(0);
    }
  });
});

describe("a peer's flush by slices", () => {
  for (const [name, make] of STORES) {
    for (const trackAll of [false, true]) {
      test(`sweep (${name}${trackAll ? ", every key tracked" : ""}) - leaves what the one-shot algorithm left, over seeded runs of keys, tombstones, origins and times`, async () => {
        for (const seed of [1, 2, 3, 4]) {
          const w = { at: NOW, origin: "n2" };
          // keys loaded before sync started (origin unknown) for half the seeds
          const loaded = seed % 2 === 0 ? loadedRun(seed * 977, w, 3_000) : undefined;
          const { a, b } = twins(make, trackAll, randomRun(seed, w, 6_000, 12_000), loaded);
          let slices = 0;
          a.replica.flushSweep.onSlice = () => slices++;
          expect(a.replica.applyFlush(w)).toBe(true);
          expect(flushAtOnce(b.replica, w)).toBe(true);
          await a.replica.flushSweep.idle();
          expect(slices, `seed ${seed}`).toBeGreaterThan(1);
          expect(stateOf(a), `seed ${seed}`).toEqual(stateOf(b));
          expect(a.keyspace.hiddenBefore).toBe(-Infinity);
        }
      });
    }
  }

  test("sweep - slices look at most SWEEP_SLICE_KEYS keys each, and the event loop turns between them", async () => {
    const n = node();
    fill(n, 30_000, NOW);
    n.keyspace.set(utf8("late"), utf8("v"), 0, NOW + 1);
    const slices: number[] = [];
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    n.replica.flushSweep.onSlice = (count) => slices.push(count);
    setImmediate(tick);
    n.replica.applyFlush({ at: NOW, origin: "n2" });
    expect(slices.length).toBe(1); // the first slice at once
    await n.replica.flushSweep.idle();
    ticking = false;
    expect(Math.max(...slices)).toBeLessThanOrEqual(SWEEP_SLICE_KEYS);
    expect(slices.reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(30_000);
    expect(turns).toBeGreaterThanOrEqual(slices.length - 1);
    expect([...n.keyspace.store.entries()].map(([k]) => fromUtf8(k))).toEqual(["late"]);
  });

  test("sweep - a newer flush mid-sweep starts it over with the newer watermark; one newer than everything takes all at once", async () => {
    const w1 = { at: NOW, origin: "n2" };
    const w2 = { at: NOW + 150, origin: "n0" };
    const { a, b } = twins(STORES[0]![1], false, randomRun(11, w1, 8_000, 16_000));
    const slices: [number, number, Watermark | undefined][] = [];
    a.replica.flushSweep.onSlice = (count) => slices.push([count, a.replica.flushSweep.progress()?.done ?? -1, a.replica.flushSweep.progress()?.watermark]);
    a.replica.applyFlush(w1);
    expect(a.replica.flushSweep.progress()?.watermark).toEqual(w1);
    expect(a.replica.applyFlush(w2)).toBe(true);
    expect(a.keyspace.hiddenBefore).toBe(w2.at);
    expect(a.replica.applyFlush(w1)).toBe(false);
    await a.replica.flushSweep.idle();
    flushAtOnce(b.replica, w1);
    flushAtOnce(b.replica, w2);
    expect(heldBy(a)).toEqual(heldBy(b));
    // the same keys deleted (those w1 covers at w1's time by the oracle, at w2's by the sweep begun again)
    const deleted = (n: Node) => [...new Set(n.feed.filter((f) => f.startsWith("delete")).map((f) => f.split("@")[0]))].sort();
    expect(deleted(a)).toEqual(deleted(b));
    // it started over: the first slice under w2 counts only its own keys as done
    expect(slices[0]![2]).toEqual(w1);
    expect(slices[1]![2]).toEqual(w2);
    expect(slices[1]![1]).toBeLessThanOrEqual(slices[1]![0]);

    const c = node();
    fill(c, 20_000, NOW);
    c.keyspace.set(utf8("late"), utf8("v"), 0, NOW + 1);
    c.replica.applyFlush(w1);
    expect(c.replica.flushSweep.running).toBe(true);
    c.feed.length = 0;
    c.replica.applyFlush({ at: NOW + 2, origin: "n3" });
    expect([c.replica.flushSweep.running, c.keyspace.hiddenBefore, c.keyspace.store.size, c.feed]).toEqual([false, -Infinity, 0, [`flush@${NOW + 2}`]]);
    await c.replica.flushSweep.idle();
  });

  test("sweep - a flush right after one that was swept in its first slice, in the same turn, is swept too", async () => {
    const n = node();
    n.keyspace.set(utf8("a"), utf8("v"), 0, NOW - 1);
    n.keyspace.set(utf8("b"), utf8("v"), 0, NOW + 5);
    n.keyspace.set(utf8("c"), utf8("v"), 0, NOW + 20);
    n.replica.applyFlush({ at: NOW, origin: "n2" });
    expect([n.replica.flushSweep.running, n.keyspace.store.size]).toEqual([false, 2]);
    n.replica.applyFlush({ at: NOW + 10, origin: "n2" });
    await n.replica.flushSweep.idle();
    expect([n.replica.flushSweep.running, n.keyspace.hiddenBefore, keysOf(n)]).toEqual([false, -Infinity, ["c"]]);
  });

  for (const [name, make] of STORES) test(`sweep (${name}) - writes during it that are newer than the watermark survive; older ones are refused; both end as with the one-shot flush`, async () => {
    const w = { at: NOW, origin: "n2" };
    const { a, b } = twins(make, false, randomRun(21, w, 8_000, 16_000));
    // (the run moved the clock: times from it keep the remote deletes within their grace)
    expect(a.clock.now()).toBe(b.clock.now());
    const during = randomRun(22, { at: a.clock.now() - 1_000, origin: "n2" }, 8_000, 3_000);
    a.replica.applyFlush(w);
    expect(a.replica.flushSweep.running).toBe(true);
    // records the watermark covers are refused
    const old = Array.from({ length: 50 }, (_, i) => ({ kind: "put" as const, key: utf8(`key:${i}`), value: utf8("old"), writtenAt: NOW - i, expiresAt: 0, origin: "n3" }));
    expect(a.replica.apply(old, false)).toEqual({ applied: 0, ignored: 50 });
    const counts = during(a);
    // remote deletes were applied, some to keys the sweep still hid
    expect(counts.deletes).toBeGreaterThan(100);
    expect(counts.hiddenDeletes).toBeGreaterThan(10);
    await a.replica.flushSweep.idle();
    flushAtOnce(b.replica, w);
    during(b);
    expect(heldBy(a)).toEqual(heldBy(b));
  });

  test("sweep - until it reaches them, reads take what the flush covers for gone (get, read, has, expire, delete); newer keys read as ever", async () => {
    const n = node();
    for (let i = 0; i < 20_000; i++) n.keyspace.set(utf8(`old${i}`), utf8("old"), 0, NOW - 1);
    n.keyspace.set(utf8("new"), utf8("new"), 0, NOW + 1);
    n.replica.applyFlush({ at: NOW, origin: "n2" });
    const left = [...n.keyspace.store.entries()].map(([k]) => fromUtf8(k)).filter((k) => k.startsWith("old"));
    expect(left.length).toBeGreaterThan(1000);
    const [k1, k2, k3] = left.slice(-3).map(utf8) as [Uint8Array, Uint8Array, Uint8Array];
    const ref = { bytes: new Uint8Array(0), start: 0, length: 0, writtenAt: 0, expiresAt: 0 };
    expect([n.keyspace.get(k1), n.keyspace.read(k1, ref), n.keyspace.has(k1)]).toEqual([undefined, false, false]);
    expect(n.keyspace.expire(k2, NOW + 60_000, NOW + 5)).toBe(false);
    expect(n.keyspace.delete(k3, NOW + 5)).toBe(false);
    expect(fromUtf8(n.keyspace.get(utf8("new"))!.value)).toBe("new");
    n.keyspace.set(k1, utf8("again"), 0, NOW + 6);
    expect(fromUtf8(n.keyspace.get(k1)!.value)).toBe("again");
    await n.replica.flushSweep.idle();
    expect([...n.keyspace.store.entries()].map(([k]) => fromUtf8(k)).sort()).toEqual([fromUtf8(k1), "new"].sort());
    expect(n.replica.digest.tombCount).toBe(0);
    expect(n.replica.digest.liveCount).toBe(2);
  });

  test("sweep - a local flush mid-sweep ends it; a covered key that expires before the sweep reaches it leaves no tombstone", async () => {
    const n = node();
    fill(n, 20_000, NOW);
    n.keyspace.set(utf8("late"), utf8("v"), 0, NOW + 1);
    n.replica.applyFlush({ at: NOW, origin: "n2" });
    n.keyspace.flush(NOW + 10);
    expect([n.replica.flushSweep.running, n.keyspace.hiddenBefore, n.keyspace.store.size]).toEqual([false, -Infinity, 0]);
    await n.replica.flushSweep.idle();

    const m = node();
    for (let i = 0; i < 20_000; i++) m.keyspace.set(utf8(`k${i}`), utf8("v"), 0, NOW - 5);
    m.keyspace.set(utf8("soon"), utf8("v"), NOW + 1_000, NOW - 5);
    m.keyspace.set(utf8("late"), utf8("v"), 0, NOW + 1);
    m.replica.applyFlush({ at: NOW, origin: "n2" });
    m.clock.tick(2_000);
    m.keyspace.store.advance(m.clock.now());
    await m.replica.flushSweep.idle();
    expect(m.replica.digest.tombCount).toBe(0);
    expect(m.keyspace.store.size).toBe(1);
  });
});

describe("a peer's flush by slices, with peers", () => {
  /** Node a sweeps a flush whose slices wait for `release`; b holds nothing. */
  function sweeping() {
    const { members, timers, net } = cluster(["a", "b"], false);
    const [a, b] = members as [Member, Member];
    for (let i = 0; i < 20_000; i++) set(a, `k${i}`, "v", NOW - 5);
    set(a, "late", "v", NOW + 1);
    set(b, "late", "v", NOW + 1);
    a.peers.push("b");
    b.peers.push("a");
    a.node.refreshPeers();
    b.node.refreshPeers();
    let release = (): void => {};
    const turn = a.node.replica.turn;
    a.node.replica.turn = () => new Promise<void>((resolve) => (release = resolve)).then(turn);
    const w = { at: NOW, origin: "b" };
    a.node.replica.applyFlush(w);
    expect(a.node.replica.flushSweep.running).toBe(true);
    return { a, b, timers, net, w, release: () => release(), turn };
  }

  test("anti-entropy - a node sweeping a flush compares no digest until its sweep ends", async () => {
    const { a, net, release, turn } = sweeping();
    const round = a.node.runRound("b");
    for (let i = 0; i < 5; i++) {
      await Promise.resolve();
      release();
    }
    expect(net.requests.filter((r) => r.path === "/sync/digest")).toEqual([]);
    a.node.replica.turn = turn;
    release();
    await a.node.replica.flushSweep.idle();
    const result = await round;
    expect(result?.equal).toBe(true);
    expect(net.requests.filter((r) => r.path === "/sync/digest").length).toBeGreaterThan(0);
  });

  test("anti-entropy - a peer asking a sweeping node's digest gets no buckets but `sweeping`; its round is tried again soon, and then agrees", async () => {
    const { a, b, timers, w, release, turn } = sweeping();
    const answer = parseJson(await a.node.responder.answer("/sync/digest", json({ root: 1, watermark: w }))) as DigestAnswer;
    expect(answer).toEqual({ root: a.node.replica.digest.root(), watermark: w, sweeping: true });
    expect(await b.node.runRound("a")).toBeUndefined();
    expect(b.node.health().peers[0]!.digest.state).toBe("pending");
    expect(b.node.replica.digest.watermark).toEqual(w); // the watermark it carried was taken
    a.node.replica.turn = turn;
    release();
    await a.node.replica.flushSweep.idle();
    await timers.advance(SWEEP_RETRY_MS);
    expect(b.node.health().peers[0]!.digest.state).toBe("equal");
  });

  test("status - /sync/status shows a sweep under way (watermark, keys looked at, of about how many), null otherwise", async () => {
    const { a, w, release, turn } = sweeping();
    const routes = syncRoutes({ node: a.node, authKey: "k".repeat(32), clock: a.keyspace.clock, log: silentLogger });
    const status = async () => (await (await routes.plugin.handle(new Request("http://127.0.0.1/sync/status"))).json()) as { flushSweep: unknown };
    const during = await status();
    expect(during.flushSweep).toEqual({ watermark: w, done: expect.any(Number), total: 20_001 });
    expect((during.flushSweep as { done: number }).done).toBeGreaterThan(0);
    a.node.replica.turn = turn;
    release();
    await a.node.replica.flushSweep.idle();
    expect((await status()).flushSweep).toBeNull();
  });
});
