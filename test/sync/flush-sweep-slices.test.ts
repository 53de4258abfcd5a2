// How a peer's flush is cut into slices (flush-sweep.ts), counted, not timed: bytes of large
// values bound a slice as keys do; a slice that throws starts the sweep over, and not forever;
// clients' SCANs between slices make it skip nothing.

import { expect, test } from "bun:test";
import { SWEEP_RETRIES, SWEEP_SLICE_BYTES } from "../../src/cluster/sync/flush-sweep.ts";
import { SyncNode } from "../../src/cluster/sync/node.ts";
import { Replica } from "../../src/cluster/sync/replica.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { fromUtf8, utf8 } from "../../src/store/bytes.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock, type Store } from "../../src/store/types.ts";
import { LoopNet, ManualTimers } from "./loop.ts";
import { TOMB_TTL } from "./loop-cluster.ts";

const NOW = 1_800_000_000_000;
const sink = { put: () => {}, del: () => {}, flush: () => {} };

function node(make: (clock: ManualClock) => Store = (clock) => new CompactStore(clock)) {
  const clock = new ManualClock(NOW);
  const keyspace = new Keyspace(make(clock), clock);
  const replica = new Replica(keyspace, () => "n1", TOMB_TTL, sink);
  return { clock, keyspace, replica };
}

test("sweep - a slice hashes about SWEEP_SLICE_BYTES of values at most (one value past it), however few keys that is", async () => {
  const n = node();
  const size = 256 << 10;
  const value = new Uint8Array(size).fill(7);
  for (let i = 0; i < 40; i++) {
    value[0] = i;
    n.keyspace.set(utf8(`plain${i}`), value, 0, NOW - 5); // implicit: its delete hashes the value
    n.keyspace.set(utf8(`ttl${i}`), value, NOW + 3_600_000, NOW - 5); // tracked: its delete does not
  }
  n.keyspace.set(utf8("late"), utf8("v"), 0, NOW + 1);
  const slices: { bytes: number; plain: number }[] = [];
  let plain = 0;
  n.keyspace.onMutation((m) => {
    if (m.type === "delete" && fromUtf8(m.key).startsWith("plain")) plain++;
  });
  n.replica.flushSweep.onSlice = (_count, _ms, bytes) => {
    slices.push({ bytes, plain });
    plain = 0;
  };
  n.replica.applyFlush({ at: NOW, origin: "n2" });
  await n.replica.flushSweep.idle();
  expect([...n.keyspace.store.entries()].map(([k]) => fromUtf8(k))).toEqual(["late"]);
  const perSlice = SWEEP_SLICE_BYTES / size;
  expect(Math.max(...slices.map((s) => s.plain))).toBe(perSlice);
  expect(Math.max(...slices.map((s) => s.bytes))).toBe(SWEEP_SLICE_BYTES);
  expect(slices.reduce((sum, s) => sum + s.bytes, 0)).toBe(40 * size);
  expect(slices.length).toBeGreaterThanOrEqual(40 / perSlice);
});

/** A node holding 20,000 keys the flush covers and one it does not; `failOn` makes the append log (a mutation listener) throw on a delete. */
function failing(failOn: (deletes: number) => boolean) {
  const n = node();
  for (let i = 0; i < 20_000; i++) n.keyspace.set(utf8(`k${i}`), utf8("v"), 0, NOW - 5);
  n.keyspace.set(utf8("late"), utf8("v"), 0, NOW + 1);
  let deletes = 0;
  n.keyspace.onMutation((m) => {
    if (m.type === "delete" && failOn(++deletes)) throw new Error("append log: no space left on device");
  });
  const failures: boolean[] = [];
  n.replica.flushSweep.onFailure = (_error, retrying) => failures.push(retrying);
  return { ...n, failures };
}

test("sweep - a slice that throws starts the sweep over at the next turn; it ends as ever", async () => {
  const n = failing((deletes) => deletes === 5_000);
  n.replica.applyFlush({ at: NOW, origin: "n2" });
  await n.replica.flushSweep.idle();
  expect(n.failures).toEqual([true]);
  expect([n.replica.flushSweep.running, n.keyspace.hiddenBefore]).toEqual([false, -Infinity]);
  expect([...n.keyspace.store.entries()].map(([k]) => fromUtf8(k))).toEqual(["late"]);
});

test("sweep - a slice that keeps throwing ends the sweep after SWEEP_RETRIES tries over: the node is not left sweeping", async () => {
  const n = failing((deletes) => deletes >= 5_000);
  n.replica.applyFlush({ at: NOW, origin: "n2" });
  await n.replica.flushSweep.idle();
  expect(n.failures).toEqual([...Array(SWEEP_RETRIES).fill(true), false]);
  expect([n.replica.flushSweep.running, n.replica.flushSweep.progress(), n.keyspace.hiddenBefore]).toEqual([false, undefined, -Infinity]);
  // what it had not deleted is seen again (a restart sweeps it); records the flush covers are still refused
  expect(n.keyspace.store.size).toBe(20_001 - 5_000 - SWEEP_RETRIES);
  expect(n.replica.apply([{ kind: "put", key: utf8("old"), value: utf8("v"), writtenAt: NOW - 1, expiresAt: 0, origin: "n3" }], false)).toEqual({ applied: 0, ignored: 1 });
});

test("sweep - SyncNode logs a failed slice as an error", async () => {
  const clock = new ManualClock(NOW);
  const keyspace = new Keyspace(new CompactStore(clock), clock);
  for (let i = 0; i < 20_000; i++) keyspace.set(utf8(`k${i}`), utf8("v"), 0, NOW - 5);
  keyspace.set(utf8("late"), utf8("v"), 0, NOW + 1);
  keyspace.onMutation((m) => {
    if (m.type === "delete") throw new Error("append log: no space left on device");
  });
  const errors: string[] = [];
  const log = { ...silentLogger, error: (event: string) => void errors.push(event) };
  const timers = new ManualTimers(clock);
  const sync = new SyncNode({ keyspace, self: () => "a", peers: { list: () => [] }, transport: new LoopNet().transport(), log, antiEntropyMs: 1000, tombstoneTtlMs: TOMB_TTL, timers });
  sync.replica.applyFlush({ at: NOW, origin: "b" });
  await sync.replica.flushSweep.idle();
  expect(errors).toEqual([...Array(SWEEP_RETRIES).fill("sync flush sweep failed, starting over"), "sync flush sweep failed, given up: keys it covers stay until a restart"]);
  expect(sync.health().flushSweep).toBeNull();
  sync.stop();
});

for (const [name, make] of [["CompactStore", (clock: ManualClock) => new CompactStore(clock)], ["MapStore", (clock: ManualClock) => new MapStore(clock)]] as const) {
  test(`sweep (${name}) - clients' SCANs between its slices make it skip no key`, async () => {
    const n = node(make);
    for (let i = 0; i < 20_000; i++) n.keyspace.set(utf8(`k${i}`), utf8("old"), 0, NOW - 5);
    n.keyspace.set(utf8("late"), utf8("v"), 0, NOW + 1);
    let slices = 0;
    n.replica.flushSweep.onSlice = () => {
      slices++;
      for (let i = 0; i < 17; i++) n.keyspace.store.scan(0, 10); // more scans than MapStore keeps walks for
    };
    n.replica.applyFlush({ at: NOW, origin: "n2" });
    await n.replica.flushSweep.idle();
    expect(slices).toBeGreaterThan(5);
    expect([...n.keyspace.store.entries()].map(([k]) => fromUtf8(k))).toEqual(["late"]);
  });
}
