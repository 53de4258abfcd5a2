import { expect, test } from "bun:test";
import {
  IDLE_GC_AFTER_COMMANDS,
  IDLE_GC_CONCURRENT_RUNS,
  IDLE_GC_FULL_HEAP_BYTES,
  IDLE_GC_FULL_MAX_MS,
  IDLE_GC_QUIET_COMMANDS,
  IdleCollector,
  IdleGcPolicy,
} from "../../src/ops/idle-gc.ts";

function collector() {
  let total = 0;
  let collected = 0;
  const gc = new IdleCollector(() => total, () => collected++);
  return { gc, run: (n: number) => (total += n), collected: () => collected };
}

test("idle gc - one collection once a burst is over, none while it lasts", () => {
  const c = collector();
  c.run(IDLE_GC_AFTER_COMMANDS / 2);
  c.gc.tick();
  c.run(IDLE_GC_AFTER_COMMANDS);
  c.gc.tick(); // still busy
  expect(c.collected()).toBe(0);
  c.run(IDLE_GC_QUIET_COMMANDS); // quiet second
  c.gc.tick();
  expect(c.collected()).toBe(1);
  c.gc.tick();
  c.gc.tick();
  expect(c.collected()).toBe(1); // nothing new to collect
});

test("idle gc - small bursts collect only once they add up; steady traffic never collects", () => {
  const c = collector();
  const step = IDLE_GC_AFTER_COMMANDS / 100;
  for (let i = 0; i < 99; i++) {
    c.run(step);
    c.gc.tick();
    c.gc.tick();
  }
  expect(c.collected()).toBe(0);
  c.run(step);
  c.gc.tick();
  c.gc.tick();
  expect(c.collected()).toBe(1);
  const steady = collector();
  for (let i = 0; i < 100; i++) {
    steady.run(IDLE_GC_AFTER_COMMANDS);
    steady.gc.tick();
  }
  expect(steady.collected()).toBe(0);
});

test("idle gc - the default collects the real heap", () => {
  let total = 0;
  const gc = new IdleCollector(() => total);
  total = IDLE_GC_AFTER_COMMANDS;
  gc.tick();
  expect(gc.collections).toBe(0); // that second was busy
  gc.tick();
  expect(gc.collections).toBe(1);
});

/** A policy over a given heap size and a clock that each collection moves by its given cost. */
function policy(heap: number, fullMs: number) {
  const state = { heap, fullMs, now: 0, calls: [] as boolean[] };
  const gc = new IdleGcPolicy(
    () => state.heap,
    () => state.now,
    (full) => {
      state.calls.push(full);
      state.now += full ? state.fullMs : 1;
    },
  );
  return { gc, state };
}

test("idle gc - a large live heap (sync's Maps) is collected concurrently, not in a stop of the node", () => {
  const small = policy(IDLE_GC_FULL_HEAP_BYTES, 5);
  expect(small.gc.collect()).toBe("full");
  expect(small.gc.collect()).toBe("full");
  const large = policy(IDLE_GC_FULL_HEAP_BYTES + 1, 5);
  expect(large.gc.collect()).toBe("concurrent");
  expect(large.state.calls).toEqual([false]); // Bun.gc(false): asked for, not waited on
});

test("idle gc - a full collection that took too long makes the next ones concurrent, whatever the reported heap", () => {
  // The reported heap can lag what is alive: it reads small while a full collection takes 210 ms.
  const p = policy(1024, 210);
  expect(p.gc.collect()).toBe("full");
  for (let i = 0; i < IDLE_GC_CONCURRENT_RUNS; i++) expect(p.gc.collect()).toBe("concurrent");
  expect(p.gc.collect()).toBe("full"); // tried again: the heap may have shrunk since
  p.state.fullMs = IDLE_GC_FULL_MAX_MS; // short enough now
  expect(p.gc.collect()).toBe("concurrent"); // (still paying for the long one before)
  for (let i = 1; i < IDLE_GC_CONCURRENT_RUNS; i++) p.gc.collect();
  expect(p.gc.collect()).toBe("full");
  expect(p.gc.collect()).toBe("full");
  expect(p.state.calls.filter((full) => full)).toHaveLength(4);
});

test("idle gc - the default policy collects the real heap", () => {
  const gc = new IdleGcPolicy();
  expect(["full", "concurrent"]).toContain(gc.collect());
});
