// A key whose time to live runs out leaves a tombstone with the version of the value that went
// (SPEC §7: an old value must not come back), found by the timer wheel or by a read, and compared
// by batches and anti-entropy as a delete of that write would be. In-process, under a ManualClock.

import { describe, expect, test } from "bun:test";
import { antiEntropyRound } from "../../src/cluster/sync/anti-entropy.ts";
import { DEFAULT_LINK_LIMITS } from "../../src/cluster/sync/peer-link.ts";
import { bucketOf } from "../../src/cluster/sync/digest.ts";
import { bytesToBinaryString, utf8 } from "../../src/store/bytes.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { MapStore } from "../../src/store/map-store.ts";
import type { ManualClock, Store } from "../../src/store/types.ts";
import { cluster, dump, set, TOMB_TTL, type Member } from "./loop-cluster.ts";

const stores: [string, (clock: ManualClock) => Store][] = [
  ["MapStore", (clock) => new MapStore(clock)],
  ["CompactStore", (clock) => new CompactStore(clock)],
];

const versionOf = (m: Member, key: string) => {
  const k = utf8(key);
  return m.node.replica.versionOf(bucketOf(k), bytesToBinaryString(k), k);
};

const put = (key: string, value: string, writtenAt: number, origin: string, expiresAt = 0) =>
  ({ kind: "put" as const, key: utf8(key), value: utf8(value), writtenAt, expiresAt, origin });

describe("sync expiry tombstones", () => {
  for (const [name, makeStore] of stores) {
    for (const how of ["timer wheel", "read"] as const) {
      test(`expiry - a newer write whose TTL ran out while the peer was away beats the peer's older value (${name}, found by ${how})`, async () => {
        // the audit's sync_resurrect.sh part C, with no restart: y misses x's newer write
        // because its queue overflowed while it was away, then comes back holding the old value
        const { clock, timers, net, members } = cluster(["x", "y"], true, { ...DEFAULT_LINK_LIMITS, queueRecords: 10 }, makeStore);
        const [x, y] = members as [Member, Member];
        await timers.advance(400); // first rounds done
        set(x, "k", "old");
        await timers.advance(10);
        expect(dump(y.keyspace)["k"]![0]).toBe("old");
        // y is away: nothing reaches it, nothing from it reaches x
        net.mode.set("y", "down");
        net.mode.set("x", "down");
        const written = clock.now();
        set(x, "k", "new", written, written + 2000);
        for (let i = 0; i < 50; i++) set(x, `other${i}`, "v");
        await timers.advance(2000);
        // at its expiry, between two housekeeping ticks (whose sweep would read it first)
        if (how === "timer wheel") expect(x.keyspace.store.advance(clock.now())).toBe(1);
        await timers.advance(1000);
        expect(x.node.health().peers[0]!.dropped).toBeGreaterThan(0);
        expect(dump(y.keyspace)["k"]![0]).toBe("old");
        net.mode.set("y", "up");
        net.mode.set("x", "up");
        await timers.advance(5000);
        expect(x.keyspace.store.has(utf8("k"))).toBe(false);
        expect(y.keyspace.store.has(utf8("k"))).toBe(false);
        expect(dump(y.keyspace)).toEqual(dump(x.keyspace));
        expect(y.node.replica.digest.root()).toBe(x.node.replica.digest.root());
        for (const m of [x, y]) expect(versionOf(m, "k")).toEqual({ writtenAt: written, origin: "x", tomb: true, valueHash: 0, expiresAt: 0 });
      });
    }
  }

  test("expiry - the tombstone carries the expired value's version: older writes lose to it, newer ones win", () => {
    const { clock, members } = cluster(["a"], false);
    const a = members[0]!;
    const t = clock.now();
    a.node.replica.apply([put("wheel", "v", t - 10, "b", t + 100), put("read", "v", t - 20, "c", t + 100)], false);
    clock.tick(100);
    a.keyspace.store.advance(clock.now());
    expect(a.keyspace.get(utf8("read"))).toBeUndefined();
    expect(versionOf(a, "wheel")).toEqual({ writtenAt: t - 10, origin: "b", tomb: true, valueHash: 0, expiresAt: 0 });
    expect(versionOf(a, "read")).toEqual({ writtenAt: t - 20, origin: "c", tomb: true, valueHash: 0, expiresAt: 0 });
    expect(a.node.replica.digest.tombCount).toBe(2);
    // the same write (as a peer that has not expired it yet sends it), and an older one: ignored
    expect(a.node.replica.apply([put("wheel", "v", t - 10, "b", t + 100), put("read", "older", t - 30, "z")], false).applied).toBe(0);
    expect(a.keyspace.store.size).toBe(0);
    // a newer write wins over the tombstone
    expect(a.node.replica.apply([put("read", "newer", t - 19, "a")], true).applied).toBe(1);
    expect(dump(a.keyspace)["read"]![0]).toBe("newer");
    expect(a.node.replica.digest.tombCount).toBe(1);
  });

  test("expiry - a key found expired inside a batch is compared as its tombstone, not as absent", () => {
    // the store has not reaped it yet: the batch's own lookup finds it expired
    const { clock, members } = cluster(["a"], false);
    const a = members[0]!;
    const t = clock.now();
    set(a, "k", "new", t, t + 50);
    clock.tick(60);
    expect(a.node.replica.apply([put("k", "older", t - 1, "b")], true).applied).toBe(0);
    expect(a.keyspace.store.has(utf8("k"))).toBe(false);
    expect(versionOf(a, "k")?.tomb).toBe(true);
  });

  test("anti-entropy - a value a peer listed that has expired since counts as its tombstone, in the same round", async () => {
    const { clock, net, members } = cluster(["a", "b"], false);
    const [a, b] = members as [Member, Member];
    const t = clock.now();
    a.node.replica.apply([put("k", "old", t - 1000, "a")], false);
    b.node.replica.apply([put("k", "new", t - 500, "b", t + 50)], false);
    // b's listing is on its way while the value expires
    const transport = net.transport();
    const slow = {
      request: async (peer: string, path: Parameters<typeof transport.request>[1], body: Uint8Array) => {
        const answer = await transport.request(peer, path, body);
        if (path === "/sync/keys") clock.tick(100);
        return answer;
      },
    };
    const result = await antiEntropyRound(a.node.replica, slow, "b", { tombTtlMs: TOMB_TTL, pushBytes: 1 << 20, confirm: async () => {} });
    expect(result.pulled).toBe(1);
    expect(a.keyspace.store.has(utf8("k"))).toBe(false);
    expect(versionOf(a, "k")).toEqual({ writtenAt: t - 500, origin: "b", tomb: true, valueHash: 0, expiresAt: 0 });
  });

  test("expiry - a tombstone lives GossipTombstoneTTL from the write it stands for, as a delete's does", async () => {
    const { clock, timers, members } = cluster(["a"], false);
    const a = members[0]!;
    const t = clock.now();
    set(a, "short", "v", t, t + 1000);
    // expires after the grace period of its write: no tombstone is laid (none would be honoured)
    set(a, "long", "v", t, t + TOMB_TTL + 1000);
    await timers.advance(1500);
    a.keyspace.store.advance(clock.now());
    expect(a.node.replica.digest.tombCount).toBe(1);
    await timers.advance(TOMB_TTL);
    a.keyspace.store.advance(clock.now());
    expect(a.keyspace.store.size).toBe(0);
    expect(a.node.replica.digest.tombCount).toBe(0);
    expect(a.node.replica.digest.liveCount).toBe(0);
    expect(versionOf(a, "long")).toBeUndefined();
  });

  test("expiry - the expiry sweep keeps the tombstone it finds (a read of an expired key lays it)", async () => {
    const { clock, timers, members } = cluster(["a"], false);
    const a = members[0]!;
    for (let i = 0; i < 100; i++) set(a, `k${i}`, "v", clock.now(), clock.now() + 500);
    // the housekeeping sweep's reads find them expired: every one leaves its tombstone
    await timers.advance(70_000 - TOMB_TTL / 2);
    expect(a.node.replica.digest.liveCount).toBe(0);
    expect(a.node.replica.digest.tombCount).toBe(100);
  });
});
