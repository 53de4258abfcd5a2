import { describe, expect, test } from "bun:test";
import { antiEntropyRound } from "../../src/cluster/sync/anti-entropy.ts";
import { encodeBatch } from "../../src/cluster/sync/codec.ts";
import { SyncNode } from "../../src/cluster/sync/node.ts";
import type { SyncRecord } from "../../src/cluster/sync/records.ts";
import { DEFAULT_LINK_LIMITS } from "../../src/cluster/sync/peer-link.ts";
import { FULL_BATCH, FULL_BATCH_BYTES, Replica, YIELD_EVERY } from "../../src/cluster/sync/replica.ts";
import { yieldCpu, yieldsForReal } from "../../src/common/yield-cpu.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { bytesToBinaryString, utf8 } from "../../src/store/bytes.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock } from "../../src/store/types.ts";
import { LoopNet } from "./loop.ts";
import { cluster, del, dump, set, TOMB_TTL, type Member } from "./loop-cluster.ts";

describe("sync replica", () => {
  test("replicate - set, expire, delete and flush reach every peer with their times", async () => {
    const { timers, members } = cluster(["a", "b", "c"]);
    const [a, b, c] = members as [Member, Member, Member];
    set(a, "k1", "v1");
    set(b, "k2", "v2");
    a.keyspace.expire(utf8("k1"), a.keyspace.now() + 5000, a.keyspace.now());
    await timers.advance(5);
    expect(dump(b.keyspace)).toEqual(dump(a.keyspace));
    expect(dump(c.keyspace)).toEqual(dump(a.keyspace));
    expect(dump(c.keyspace)["k1"]![2]).toBe(a.keyspace.now() + 5000 - 5);
    del(c, "k2");
    await timers.advance(5);
    expect(b.keyspace.store.has(utf8("k2"))).toBe(false);
    a.keyspace.flush();
    await timers.advance(5);
    expect(b.keyspace.store.size + c.keyspace.store.size).toBe(0);
  });

  test("replicate - an applied remote write is not sent on (no echo, no loops)", async () => {
    const { timers, net, members } = cluster(["a", "b", "c"]);
    set(members[0]!, "k", "v");
    await timers.advance(10);
    const batches = net.requests.filter((r) => r.path === "/sync/batch");
    expect(batches.map((r) => r.peer).sort()).toEqual(["b", "c"]);
  });

  test("lww - an older write loses, a newer one wins, the node address breaks ties", () => {
    const { members } = cluster(["a", "b"], false);
    const [a, b] = members as [Member, Member];
    set(a, "k", "new", 200);
    const record = (value: string, writtenAt: number, origin: string) => ({ kind: "put" as const, key: utf8("k"), value: utf8(value), writtenAt, expiresAt: 0, origin });
    expect(a.node.replica.apply([record("old", 100, "b")], true).applied).toBe(0);
    expect(dump(a.keyspace)["k"]![0]).toBe("new");
    expect(a.node.replica.apply([record("tie-low", 200, "0")], true).applied).toBe(0);
    expect(a.node.replica.apply([record("tie-high", 200, "z")], true).applied).toBe(1);
    expect(a.node.replica.apply([record("newer", 201, "b")], false).applied).toBe(1);
    expect(dump(a.keyspace)["k"]).toEqual(["newer", 201, 0]);
    void b;
  });

  test("tombstones - a delete keeps an older write from coming back; a newer write wins over it", () => {
    const { members, clock } = cluster(["a"], false);
    const a = members[0]!;
    const t = clock.now();
    set(a, "k", "v", t - 100);
    del(a, "k", t - 50);
    const put = (writtenAt: number) => ({ kind: "put" as const, key: utf8("k"), value: utf8("late"), writtenAt, expiresAt: 0, origin: "b" });
    expect(a.node.replica.apply([put(t - 75)], false).applied).toBe(0);
    expect(a.keyspace.store.has(utf8("k"))).toBe(false);
    expect(a.node.replica.apply([put(t - 25)], false).applied).toBe(1);
    expect(dump(a.keyspace)["k"]![0]).toBe("late");
    // a delete of a key never seen here still leaves a tombstone
    expect(a.node.replica.apply([{ kind: "del", key: utf8("x"), writtenAt: t, origin: "b" }], false).applied).toBe(1);
    expect(a.node.replica.apply([{ kind: "put", key: utf8("x"), value: utf8("old"), writtenAt: t - 1, expiresAt: 0, origin: "c" }], false).applied).toBe(0);
  });

  test("tombstones - freed after the grace period", async () => {
    const { timers, members } = cluster(["a"], false);
    const a = members[0]!;
    set(a, "k", "v");
    del(a, "k");
    expect(a.node.replica.digest.tombCount).toBe(1);
    await timers.advance(TOMB_TTL + 1500); // (freed by slices of a second of their time)
    expect(a.node.replica.digest.tombCount).toBe(0);
  });

  test("expiry - keys that expire leave the digest within a housekeeping tick", async () => {
    const { clock, timers, members } = cluster(["a"], false);
    const a = members[0]!;
    set(a, "brief", "v", clock.now(), clock.now() + 1000);
    set(a, "forever", "v");
    expect(a.node.replica.digest.liveCount).toBe(2);
    await timers.advance(1300);
    expect(a.node.replica.digest.liveCount).toBe(1);
  });

  test("expiry - a newer write that has already expired removes the older value", () => {
    const { clock, members } = cluster(["a"], false);
    const a = members[0]!;
    set(a, "k", "old", clock.now() - 10_000);
    const n = a.node.replica.apply([{ kind: "put", key: utf8("k"), value: utf8("gone"), writtenAt: clock.now() - 5000, expiresAt: clock.now() - 1, origin: "b" }], false);
    expect(n.applied).toBe(1);
    expect(a.keyspace.store.has(utf8("k"))).toBe(false);
  });

  test("anti-entropy - two nodes that diverged converge in one round to last-writer-wins", async () => {
    const { members, net } = cluster(["a", "b"], false);
    const [a, b] = members as [Member, Member];
    const expected = new Map<string, string | null>();
    let t = 1_800_000_000_000;
    for (let i = 0; i < 3000; i++) {
      const m = Math.random() < 0.5 ? a : b;
      const key = `k${Math.floor(Math.random() * 800)}`;
      t += 1;
      if (Math.random() < 0.25) {
        if (del(m, key, t)) expected.set(key, null);
        else if (!expected.has(key)) expected.set(key, null);
      } else {
        set(m, key, `v${i}`, t);
        expected.set(key, `v${i}`);
      }
    }
    // a delete that found nothing locally is not a write; recompute what LWW over accepted writes says
    a.peers.push("b");
    b.peers.push("a");
    a.node.refreshPeers();
    b.node.refreshPeers();
    const result = await a.node.runRound("b");
    expect(result!.equal).toBe(false);
    expect(dump(a.keyspace)).toEqual(dump(b.keyspace));
    expect(a.node.replica.digest.root()).toBe(b.node.replica.digest.root());
    const second = await b.node.runRound("a");
    expect(second!.equal).toBe(true);
    void net;
  });

  test("anti-entropy - at equilibrium the bytes exchanged do not grow with the number of keys", async () => {
    const bytesFor = async (keys: number): Promise<number> => {
      const { members, net, timers } = cluster(["a", "b"]);
      for (let i = 0; i < keys; i++) set(members[0]!, `key:${i}`, "value");
      await timers.advance(50);
      expect(members[1]!.keyspace.store.size).toBe(keys);
      net.bytes = 0;
      const r = await members[0]!.node.runRound("b");
      expect(r!.equal).toBe(true);
      return net.bytes;
    };
    const small = await bytesFor(100);
    const large = await bytesFor(20_000);
    // only the digits of the root hash may differ
    expect(Math.abs(large - small)).toBeLessThanOrEqual(8);
    expect(large).toBeLessThan(300);
  });

  test("anti-entropy - a bucket that differs only while a write is in flight is not listed", async () => {
    const { members, net } = cluster(["a", "b"], false);
    const [a, b] = members as [Member, Member];
    for (let i = 0; i < 1000; i++) {
      set(a, `k${i}`, "v", 1_800_000_000_000 + i);
      b.node.replica.apply([a.node.replica.recordOf(utf8(`k${i}`))!], true);
    }
    set(a, "in-flight", "x");
    const record = a.node.replica.recordOf(utf8("in-flight"))!;
    const result = await antiEntropyRound(a.node.replica, net.transport(), "b", {
      tombTtlMs: TOMB_TTL,
      pushBytes: 1 << 20,
      // the replication batch lands between the two comparisons
      confirm: async () => void b.node.replica.apply([record], true),
    });
    expect(result.equal).toBe(true);
    expect(net.requests.map((r) => r.path)).toEqual(["/sync/digest", "/sync/digest"]);
  });

  test("anti-entropy - a node back with an old state takes the deletes made meanwhile", async () => {
    const { members, timers, net } = cluster(["a", "b"]);
    const [a, b] = members as [Member, Member];
    set(a, "stay", "1");
    set(a, "goner", "2");
    await timers.advance(10);
    net.mode.set("a", "down"); // a is unreachable: b's writes queue up, then fail
    del(b, "goner");
    set(b, "new", "3");
    await timers.advance(3000);
    expect(b.node.health().peers[0]!.state).toBe("down");
    net.mode.set("a", "up");
    await timers.advance(2500);
    expect(dump(a.keyspace)).toEqual(dump(b.keyspace));
    expect(a.keyspace.store.has(utf8("goner"))).toBe(false);
  });

  test("anti-entropy - a hung peer never blocks writes; the overflowed queue is repaired by a round", async () => {
    const { members, timers, net } = cluster(["a", "b"], true, { ...DEFAULT_LINK_LIMITS, queueRecords: 1000 });
    const [a, b] = members as [Member, Member];
    await timers.advance(400); // first rounds done
    net.mode.set("b", "hang");
    for (let i = 0; i < 15_000; i++) set(a, `k${i}`, "v");
    const health = a.node.health().peers[0]!;
    expect(health.queueDepth).toBeLessThanOrEqual(1000);
    expect(health.dropped).toBeGreaterThan(0);
    net.mode.set("b", "up");
    net.timeoutHung();
    await timers.advance(5000);
    expect(b.keyspace.store.size).toBe(15_000);
    expect(a.node.health().peers[0]!.digest.state).toBe("equal");
  });

  test("anti-entropy - a node restarted from an old snapshot converges in one round, no resurrection", async () => {
    const { members, clock, net } = cluster(["a", "b"], false);
    const [a, b] = members as [Member, Member];
    const t = clock.now() - 10_000;
    // the snapshot: what both nodes held at t + 3
    for (const m of [a, b]) {
      m.node.replica.apply([
        { kind: "put", key: utf8("kept"), value: utf8("same"), writtenAt: t, expiresAt: 0, origin: "a" },
        { kind: "put", key: utf8("deleted-later"), value: utf8("old"), writtenAt: t + 1, expiresAt: 0, origin: "a" },
        { kind: "put", key: utf8("changed-later"), value: utf8("old"), writtenAt: t + 2, expiresAt: 0, origin: "b" },
      ], false);
    }
    const snapshot = new Keyspace(new MapStore(clock), clock);
    for (const [k, e] of a.keyspace.store.entries()) snapshot.set(k, e.value, e.expiresAt, e.writtenAt);
    // after the snapshot, on b: a delete and a change (a misses both: it is down)
    del(b, "deleted-later", t + 5);
    set(b, "changed-later", "new", t + 6);
    // a restarts from the snapshot: its digest is seeded with no origins (the one unchanged key
    // matches b's digest anyway, so only the two changed keys travel)
    a.node.stop();
    const restarted = new SyncNode({ keyspace: snapshot, self: () => "a", peers: { list: () => ["b"] }, transport: net.transport(), log: silentLogger, antiEntropyMs: 1000, tombstoneTtlMs: TOMB_TTL, confirmMs: 0 });
    restarted.refreshPeers();
    const round = await restarted.runRound("b");
    expect(round!.pulled).toBe(2);
    expect(dump(snapshot)).toEqual(dump(b.keyspace));
    expect(snapshot.store.has(utf8("deleted-later"))).toBe(false);
    expect(restarted.replica.digest.root()).toBe(b.node.replica.digest.root());
    restarted.stop();
  });

  test("flush - reaches a node that missed it through the watermark in the digest", async () => {
    const { members, net } = cluster(["a", "b"], false);
    const [a, b] = members as [Member, Member];
    set(a, "k", "v", 100);
    set(b, "k", "v", 100);
    set(b, "later", "x", 5_000_000_000_000);
    a.keyspace.flush(200);
    a.peers.push("b");
    a.node.refreshPeers();
    await a.node.runRound("b");
    expect(Object.keys(dump(b.keyspace))).toEqual(["later"]);
    expect(Object.keys(dump(a.keyspace))).toEqual(["later"]);
    void net;
  });

  test("apply - a batch smaller than a full one offers the CPU every YIELD_EVERY records, a full one never", () => {
    const clock = new ManualClock();
    const keyspace = new Keyspace(new MapStore(clock), clock);
    const events: string[] = [];
    const sink = { put: () => {}, del: () => {}, flush: () => {} };
    const replica = new Replica(keyspace, () => "b", TOMB_TTL, sink, false, () => events.push(`pause after ${keyspace.store.size}`));
    const batch = (count: number, from: number, value = utf8("v")): Uint8Array => {
      const records: SyncRecord[] = Array.from({ length: count }, (_, i) => ({ kind: "put", key: utf8(`k${from + i}`), value, writtenAt: 10, expiresAt: 0, origin: "a" }));
      return encodeBatch(records, true);
    };
    const size = 3 * YIELD_EVERY + 5;
    expect(replica.applyBatch(batch(size, 0))).toEqual({ applied: size, ignored: 0 });
    // after every YIELD_EVERY-th record, once it is written
    expect(events).toEqual([1, 2, 3].map((n) => `pause after ${n * YIELD_EVERY}`));
    events.length = 0;
    // a full batch: the sender is behind, so the peer keeps the CPU until it has caught up
    expect(replica.applyBatch(batch(FULL_BATCH, size))).toEqual({ applied: FULL_BATCH, ignored: 0 });
    expect(events).toEqual([]);
    // full by bytes (large values): fewer records, but behind all the same
    const large = new Uint8Array(Math.ceil(FULL_BATCH_BYTES / size));
    expect(replica.applyBatch(batch(size, size + FULL_BATCH, large))).toEqual({ applied: size, ignored: 0 });
    expect(events).toEqual([]);
    expect(keyspace.store.size).toBe(2 * size + FULL_BATCH);
    replica.close();
  });

  test("apply - the CPU is yielded through the system call on Linux", () => {
    expect(yieldsForReal).toBe(process.platform === "linux");
    for (let i = 0; i < 1000; i++) yieldCpu();
  });

  test("seed - keys present before sync starts are in the digest with an unknown origin", () => {
    const clock = new ManualClock();
    const keyspace = new Keyspace(new MapStore(clock), clock);
    keyspace.set(utf8("old"), utf8("v"), 0, 5);
    const node = new SyncNode({ keyspace, self: () => "a", peers: { list: () => [] }, transport: new LoopNet().transport(), log: silentLogger, antiEntropyMs: 1000, tombstoneTtlMs: TOMB_TTL });
    expect(node.replica.digest.liveCount).toBe(1);
    const k = utf8("old");
    expect(node.replica.versionOf(0, bytesToBinaryString(k), k)?.origin).toBe("");
    node.stop();
  });
});
