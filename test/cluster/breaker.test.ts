import { describe, expect, test } from "bun:test";
import { Breaker } from "../../src/cluster/breaker.ts";
import { ManualClock } from "../../src/store/types.ts";

describe("breaker", () => {
  test("breaker - opens after max failures in a row, only then", () => {
    const clock = new ManualClock();
    const b = new Breaker(2, 2000, clock);
    expect(b.failure()).toBe(false);
    b.success();
    expect(b.failure()).toBe(false);
    expect(b.tryAcquire()).toBe(true);
    expect(b.failure()).toBe(true);
    expect(b.state()).toBe("open");
    expect(b.tryAcquire()).toBe(false);
    expect(b.retryInMs()).toBe(2000);
    // a request that was in flight fails later: still open, not "opened" again
    expect(b.failure()).toBe(false);
    expect(b.state()).toBe("open");
  });

  test("breaker - after the sleep exactly one probe goes; its success closes", () => {
    const clock = new ManualClock();
    const b = new Breaker(2, 2000, clock);
    b.failure();
    b.failure();
    clock.tick(1999);
    expect(b.tryAcquire()).toBe(false);
    clock.tick(1);
    expect(b.state()).toBe("half-open");
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
    b.success();
    expect(b.state()).toBe("closed");
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(true);
  });

  test("breaker - a failed probe opens it again at once", () => {
    const clock = new ManualClock();
    const b = new Breaker(3, 1000, clock);
    for (let i = 0; i < 3; i++) b.failure();
    clock.tick(1000);
    expect(b.tryAcquire()).toBe(true);
    expect(b.failure()).toBe(true);
    expect(b.state()).toBe("open");
    expect(b.retryInMs()).toBe(1000);
  });

  test("breaker - sleep 0 lets a probe through right away", () => {
    const b = new Breaker(1, 0, new ManualClock());
    b.failure();
    expect(b.tryAcquire()).toBe(true);
  });
});
