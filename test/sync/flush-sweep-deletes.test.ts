// Remote deletes that reach a node while it sweeps a peer's flush (flush-sweep.ts), in loop
// clusters of real SyncNodes: a delete newer than the watermark removes what the store holds,
// a key the sweep hides included, and the digest follows it on the right key and bucket.

import { expect, test } from "bun:test";
import { fromUtf8, utf8 } from "../../src/store/bytes.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { cluster, del, dump, set, type Member } from "./loop-cluster.ts";

/** Nodes a and c holding 20,000 old keys and `late`; a flush from z at T0 reaches a, whose sweep waits between slices. */
async function sweepingPair(late: string) {
  const { clock, timers, members } = cluster(["a", "c"], true, undefined, (c) => new CompactStore(c));
  const [a, c] = members as [Member, Member];
  const T0 = clock.now();
  for (let i = 0; i < 20_000; i++) set(a, `k${i}`, "old", T0 - 5);
  set(a, late, "v", T0 + 1);
  await timers.advance(2_100); // replicated to c
  expect(c.keyspace.store.size).toBe(20_001);
  let release = (): void => {};
  const turn = a.node.replica.turn;
  a.node.replica.turn = () => new Promise<void>((resolve) => (release = resolve)).then(turn);
  const flush = () => a.node.replica.applyFlush({ at: T0, origin: "z" });
  /** lets a's sweep run to its end */
  const finish = async () => {
    a.node.replica.turn = turn;
    release();
    await a.node.replica.flushSweep.idle();
  };
  return { clock, timers, a, c, T0, flush, finish };
}

const value = (m: Member, key: string) => {
  const e = m.keyspace.get(utf8(key));
  return e && fromUtf8(e.value);
};
const roots = (a: Member, c: Member) => [a.node.replica.digest.root(), c.node.replica.digest.root()];

test("sweep - a peer's client deletes a key the sweep hides: it goes from the sweeping node's store too, not back once the sweep ends", async () => {
  const { timers, a, c, T0, flush, finish } = await sweepingPair("late");
  flush();
  expect(a.node.replica.flushSweep.running).toBe(true);
  expect(a.keyspace.store.has(utf8("k19999"))).toBe(true); // not swept yet, hidden
  expect(del(c, "k19999", T0 + 6)).toBe(true); // c has not had the flush yet
  await timers.advance(50);
  expect(a.keyspace.store.has(utf8("k19999"))).toBe(false);
  // a newer put that has expired already deletes a hidden key as well
  const now = a.keyspace.now();
  const put = { kind: "put" as const, key: utf8("k19998"), value: utf8("x"), writtenAt: now - 2, expiresAt: now - 1, origin: "z" };
  expect(a.node.replica.apply([put], false)).toEqual({ applied: 1, ignored: 0 });
  expect(a.keyspace.store.has(utf8("k19998"))).toBe(false);
  expect(a.node.replica.recordOf(utf8("k19998"))).toMatchObject({ kind: "del", writtenAt: now - 2 });
  await finish();
  for (let i = 0; i < 5; i++) await timers.advance(1_000);
  expect([value(a, "k19999"), value(c, "k19999")]).toEqual([undefined, undefined]);
  expect(Object.keys(dump(a.keyspace))).toEqual(["late"]);
  expect(a.node.replica.digest.liveCount).toBe(1);
  const [ra, rc] = roots(a, c);
  expect(ra).toBe(rc);
});

test("sweep - a remote delete of a key with a tombstone already, during a sweep, lays its tombstone on that key, not on the key written before it", async () => {
  const { timers, a, c, T0, flush, finish } = await sweepingPair("late");
  // a tombstone for "gone" newer than the flush, on both
  for (const m of [a, c]) m.node.replica.apply([{ kind: "del", key: utf8("gone"), writtenAt: T0 + 2, origin: "z" }], false);
  flush();
  set(c, "b", "keepme", T0 + 5);
  await timers.advance(50);
  expect(value(a, "b")).toBe("keepme");
  // z's newer delete of "gone" reaches a
  expect(a.node.replica.apply([{ kind: "del", key: utf8("gone"), writtenAt: T0 + 6, origin: "z" }], false)).toEqual({ applied: 1, ignored: 0 });
  expect(a.node.replica.recordOf(utf8("b"))?.kind).toBe("put");
  expect(a.node.replica.recordOf(utf8("gone"))).toMatchObject({ kind: "del", writtenAt: T0 + 6 });
  await finish();
  for (let i = 0; i < 5; i++) await timers.advance(1_000);
  expect([value(a, "b"), value(c, "b")]).toEqual(["keepme", "keepme"]);
  const [ra, rc] = roots(a, c);
  expect(ra).toBe(rc);
});

test("sweep - two nodes delete the same key while one sweeps: the tombstone goes in its own bucket and the digests agree at once", async () => {
  const { clock, timers, a, c, flush, finish } = await sweepingPair("K");
  flush();
  clock.tick(10);
  const t = clock.now();
  expect(del(a, "K", t)).toBe(true);
  set(a, "x", "keep", t + 1);
  expect(del(c, "K", t + 2)).toBe(true);
  await timers.advance(50);
  expect(a.node.replica.recordOf(utf8("x"))?.kind).toBe("put");
  expect(a.node.replica.recordOf(utf8("K"))).toMatchObject({ kind: "del", writtenAt: t + 2, origin: "c" });
  await finish();
  for (let i = 0; i < 3; i++) await timers.advance(1_000);
  const [ra, rc] = roots(a, c);
  expect(ra).toBe(rc);
  expect([a.node.health().peers[0]!.digest.state, c.node.health().peers[0]!.digest.state]).toEqual(["equal", "equal"]);
  expect([Object.keys(dump(a.keyspace)), Object.keys(dump(c.keyspace))]).toEqual([["x"], ["x"]]);
});
