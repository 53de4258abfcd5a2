import { expect, test } from "bun:test";
import { EventLoopLag, LAG_INTERVAL_MS } from "../../src/metrics/event-loop-lag.ts";
import { OpsRate, RATE_SAMPLES } from "../../src/metrics/ops-rate.ts";

test("event-loop lag - a timer that fires late measures the lag, the max is kept", () => {
  let now = 0;
  const lag = new EventLoopLag(() => now);
  lag.start();
  lag.stop();
  now = LAG_INTERVAL_MS + 3;
  lag.sample();
  expect(lag.last).toBe(3);
  now += LAG_INTERVAL_MS + 250; // the loop was blocked for 250 ms
  lag.sample();
  expect(lag.last).toBe(250);
  now += LAG_INTERVAL_MS;
  lag.sample();
  expect(lag.last).toBe(0);
  expect(lag.max).toBe(250);
});

test("event-loop lag - a real busy loop shows up", async () => {
  const lag = new EventLoopLag();
  lag.start();
  const until = performance.now() + LAG_INTERVAL_MS + 300;
  while (performance.now() < until) {} // block the loop
  await Bun.sleep(20);
  lag.stop();
  expect(lag.max).toBeGreaterThan(200);
});

test("ops rate - per-second rates, oldest first, bounded ring", () => {
  let now = 1_000_000;
  let total = 0;
  const rate = new OpsRate(() => total, () => now);
  rate.record();
  expect(rate.series().rates).toEqual([]);
  total += 500;
  now += 1000;
  rate.record();
  total += 300;
  now += 2000; // a late tick: the rate is over the real interval
  rate.record();
  expect(rate.series()).toEqual({ intervalSeconds: 1, endAt: now, rates: [500, 150] });
  for (let i = 0; i < RATE_SAMPLES + 5; i++) {
    total += i;
    now += 1000;
    rate.record();
  }
  const { rates } = rate.series();
  expect(rates.length).toBe(RATE_SAMPLES);
  expect(rates.at(-1)).toBe(RATE_SAMPLES + 4);
});
