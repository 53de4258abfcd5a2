// How a peer's flush is cut into slices (flush-sweep.ts), counted, not timed: bytes of large
// values bound a slice as keys do.

import { expect, test } from "bun:test";
import { SWEEP_SLICE_BYTES } from "../../src/cluster/sync/flush-sweep.ts";
import { Replica } from "../../src/cluster/sync/replica.ts";
import { fromUtf8, utf8 } from "../../src/store/bytes.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { ManualClock, type Store } from "../../src/store/types.ts";
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
