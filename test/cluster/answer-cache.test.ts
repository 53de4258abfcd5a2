import { expect, test } from "bun:test";
import { AnswerCache } from "../../src/cluster/answer-cache.ts";
import type { PeerOutcome } from "../../src/cluster/peer-answer.ts";
import { ManualClock } from "../../src/store/types.ts";

const value = (data: string): PeerOutcome => ({ kind: "value", data, keyCreateTime: "2026-12-01T00:00:00.000Z", writtenAt: 0 });

test("answer cache - expired answers are swept oldest first, fresh ones stay", async () => {
  const clock = new ManualClock();
  const cache = new AnswerCache(5000, clock);
  for (let i = 0; i < 100; i++) await cache.track("peer:1", `old${i}`, Promise.resolve(value("x".repeat(1000))));
  clock.tick(3000);
  for (let i = 0; i < 10; i++) await cache.track("peer:1", `new${i}`, Promise.resolve(value("y")));
  expect(cache.size).toBe(110);
  cache.sweep();
  expect(cache.size).toBe(110); // nothing expired yet
  clock.tick(2000); // the first 100 reach their lifetime
  cache.sweep();
  expect(cache.size).toBe(10);
  expect(cache.lookup("peer:1", "old0")).toBeUndefined();
  expect(await cache.lookup("peer:1", "new9")).toEqual(value("y"));
  clock.tick(3000);
  cache.sweep();
  expect(cache.size).toBe(0);
});

test("answer cache - storing an answer sweeps the expired ones first (a burst is not kept until the next lookup of each key)", async () => {
  const clock = new ManualClock();
  const cache = new AnswerCache(1000, clock);
  for (let i = 0; i < 50; i++) await cache.track("peer:1", `k${i}`, Promise.resolve({ kind: "missing" }));
  clock.tick(1000);
  await cache.track("peer:2", "other", Promise.resolve(value("v")));
  expect(cache.size).toBe(1);
});

test("answer cache - a re-stored answer moves to the young end and outlives the ones stored before it", async () => {
  const clock = new ManualClock();
  const cache = new AnswerCache(1000, clock);
  await cache.track("p", "a", Promise.resolve(value("1")));
  await cache.track("p", "b", Promise.resolve(value("2")));
  clock.tick(600);
  await cache.track("p", "a", Promise.resolve(value("3")));
  clock.tick(500); // b expired, a (stored again 500 ms ago) not
  cache.sweep();
  expect(cache.size).toBe(1);
  expect(await cache.lookup("p", "a")).toEqual(value("3"));
});
