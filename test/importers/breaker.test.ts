import { expect, test } from "bun:test";
import { Breaker } from "../../src/importers/breaker.ts";
import { ManualClock } from "../../src/store/types.ts";

test("breaker - skips a backend after maxErrors failures in a row, probes once after the sleep", () => {
  const clock = new ManualClock();
  const breaker = new Breaker(2, 2000, clock);
  expect(breaker.allow()).toBe(true);
  expect(breaker.failed()).toEqual({ from: "up", to: "failing", failures: 1 });
  expect(breaker.allow()).toBe(true);
  expect(breaker.failed()).toEqual({ from: "failing", to: "down", failures: 2 });
  expect(breaker.allow()).toBe(false);
  clock.tick(1999);
  expect(breaker.allow()).toBe(false);
  clock.tick(1);
  expect(breaker.allow()).toBe(true); // the probe
  expect(breaker.allow()).toBe(false); // only one probe at a time
  expect(breaker.failed()).toBeUndefined(); // still down: no new log line
  expect(breaker.allow()).toBe(false);
  clock.tick(2000);
  expect(breaker.allow()).toBe(true);
  expect(breaker.succeeded()).toEqual({ from: "down", to: "up", failures: 0 });
  expect(breaker.allow()).toBe(true);
});

test("breaker - a success resets the count of failures in a row", () => {
  const breaker = new Breaker(2, 1000, new ManualClock());
  breaker.failed();
  breaker.succeeded();
  breaker.failed();
  expect(breaker.state).toBe("failing");
  expect(breaker.allow()).toBe(true);
});
