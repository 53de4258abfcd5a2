// A peer's flush (Replica.applyFlush): taken at once when it covers everything held, else swept
// by slices (flush-sweep.ts), which must leave the same state as the one-shot algorithm it
// replaced (flush-at-once.ts, the oracle) whatever mix of keys, tombstones, origins and times.

import { describe, expect, test } from "bun:test";
import { DigestState } from "../../src/cluster/sync/digest.ts";
import { Replica } from "../../src/cluster/sync/replica.ts";
import type { Watermark } from "../../src/cluster/sync/version.ts";
import { utf8 } from "../../src/store/bytes.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { Keyspace, type Mutation } from "../../src/store/keyspace.ts";
import { ManualClock } from "../../src/store/types.ts";
import { TOMB_TTL } from "./loop-cluster.ts";

const NOW = 1_800_000_000_000;
const sink = { put: () => {}, del: () => {}, flush: () => {} };

function node(now = NOW) {
  const clock = new ManualClock(now);
  const keyspace = new Keyspace(new CompactStore(clock), clock);
  const replica = new Replica(keyspace, () => "n1", TOMB_TTL, sink);
  const feed: Mutation["type"][] = [];
  keyspace.onMutation((m) => feed.push(m.type));
  const journal: Watermark[] = [];
  replica.journal = { tomb: () => {}, watermark: (w) => journal.push(w) };
  return { clock, keyspace, replica, feed, journal };
}

/** keys of every kind older than `before`: implicit, with a TTL, of another origin, and tombstones */
function fill(n: ReturnType<typeof node>, count: number, before: number): void {
  const { keyspace, replica } = n;
  for (let i = 0; i < count; i++) {
    const at = before - 1 - (i % 500);
    if (i % 7 === 0) replica.apply([{ kind: "put", key: utf8(`k${i}`), value: utf8("remote"), writtenAt: at, expiresAt: 0, origin: "n2" }], false);
    else if (i % 11 === 0) keyspace.set(utf8(`k${i}`), utf8("ttl"), NOW + 3_600_000, at);
    else if (i % 13 === 0) replica.apply([{ kind: "del", key: utf8(`k${i}`), writtenAt: at, origin: "n3" }], false);
    else keyspace.set(utf8(`k${i}`), utf8(`v${i}`), 0, at);
  }
}

describe("a peer's flush", () => {
  test("applyFlush - a flush newer than every entry and tombstone takes them at once: one flush in the feed, not a delete per key", () => {
    const n = node();
    fill(n, 5_000, NOW);
    expect(n.replica.digest.tombCount).toBeGreaterThan(0);
    n.feed.length = 0;
    const w = { at: NOW, origin: "n2" };
    expect(n.replica.applyFlush(w)).toBe(true);
    expect(n.feed).toEqual(["flush"]);
    expect(n.journal).toEqual([w]);
    expect(n.keyspace.store.size).toBe(0);
    const empty = new DigestState();
    empty.flush(w);
    expect([n.replica.digest.liveCount, n.replica.digest.tombCount, n.replica.digest.root()]).toEqual([0, 0, empty.root()]);
    expect(n.replica.applyFlush(w)).toBe(false);
  });

  test("applyFlush - an entry or a tombstone at or after the watermark keeps the flush from going at once", () => {
    for (const late of ["entry", "tombstone", "same millisecond"] as const) {
      const n = node();
      fill(n, 300, NOW);
      const w = { at: NOW, origin: "n2" };
      if (late === "entry") n.keyspace.set(utf8("late"), utf8("v"), 0, NOW + 1);
      else if (late === "tombstone") n.replica.apply([{ kind: "del", key: utf8("late"), writtenAt: NOW + 1, origin: "n3" }], false);
      else n.keyspace.set(utf8("late"), utf8("v"), 0, NOW); // own origin n1 < n2: covered, but only by the origin
      n.feed.length = 0;
      expect(n.replica.applyFlush(w)).toBe(true);
      expect(n.feed).not.toContain("flush");
      expect(n.feed.length).toBeGreaterThan(0);
      if (late === "entry") expect(n.keyspace.store.size).toBe(1);
      else if (late === "tombstone") expect(n.replica.digest.tombCount).toBe(1);
      else expect(n.keyspace.store.size).toBe(0);
    }
  });
});
