import { expect, test } from "bun:test";
import { collectIdle, IDLE_GC_AFTER_COMMANDS, IDLE_GC_FULL_HEAP_BYTES, IDLE_GC_QUIET_COMMANDS, IdleCollector } from "../../src/ops/idle-gc.ts";

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

test("idle gc - a large live heap (sync's Maps) is collected concurrently, not in a stop of the node", () => {
  expect(collectIdle(IDLE_GC_FULL_HEAP_BYTES)).toBe("full");
  expect(collectIdle(IDLE_GC_FULL_HEAP_BYTES + 1)).toBe("concurrent");
  // (The live heap is read from JavaScriptCore at the call; what it reports mid-run varies with
  // its own collections, so the threshold is tested with given sizes.)
});
