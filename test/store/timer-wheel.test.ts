import { describe, expect, test } from "bun:test";
import { TICK_MS, TimerWheel } from "../../src/store/timer-wheel.ts";

const T0 = 1_800_000_000_000;

describe("TimerWheel", () => {
  test("wheel - fires at its time, never before", () => {
    const wheel = new TimerWheel(T0);
    const fired: number[] = [];
    wheel.schedule(1, T0 + 1000);
    wheel.advance(T0 + 999, (id) => fired.push(id));
    expect(fired).toEqual([]);
    wheel.advance(T0 + 1000 + TICK_MS, (id) => fired.push(id));
    expect(fired).toEqual([1]);
    expect(wheel.size).toBe(0);
  });

  test("wheel - due times are kept exactly, packed or kept aside (fractional, negative, decades ahead, before the start)", () => {
    const wheel = new TimerWheel(T0);
    const times = [T0 + 1, 2 ** 32 - 1, 2 ** 32, T0 + 0.5, -3, 8.64e15, 2 ** 48 + 7, T0 + 1e12 + 3, T0 + 1.2e12 + 5, T0 - 2 ** 32];
    times.forEach((t, id) => wheel.schedule(id, t));
    times.forEach((t, id) => expect(wheel.dueOf(id)).toBe(t));
    wheel.schedule(5, T0 + 20); // from aside back to packed
    wheel.schedule(3, T0 + 20.25); // and the other way
    expect([wheel.dueOf(5), wheel.dueOf(3)]).toEqual([T0 + 20, T0 + 20.25]);
    const fired: number[] = [];
    wheel.advance(T0 + 10 * TICK_MS, (id) => fired.push(id));
    expect(fired.sort()).toEqual([0, 1, 2, 3, 4, 5, 9]);
  });

  test("wheel - reschedule replaces the earlier time, cancel removes it", () => {
    const wheel = new TimerWheel(T0);
    const fired: number[] = [];
    wheel.schedule(1, T0 + 100);
    wheel.schedule(1, T0 + 5000);
    wheel.schedule(2, T0 + 100);
    wheel.cancel(2);
    wheel.advance(T0 + 1000, (id) => fired.push(id));
    expect(fired).toEqual([]);
    wheel.advance(T0 + 5000 + TICK_MS, (id) => fired.push(id));
    expect(fired).toEqual([1]);
  });

  test("wheel - size counts an id once, however often it is rescheduled", () => {
    const wheel = new TimerWheel(T0);
    for (let i = 0; i < 100; i++) wheel.schedule(1, T0 + 1000 + i * 300_000); // across levels
    wheel.schedule(2, T0 + 50);
    expect(wheel.size).toBe(2);
    wheel.cancel(1);
    expect(wheel.size).toBe(1);
    wheel.advance(T0 + 100, () => {});
    expect(wheel.size).toBe(0);
  });

  test("wheel - cancelling the head, middle and tail of a bucket at each level leaves the rest to fire on time", () => {
    // ids 0..4 share a bucket at each level (same due tick); cancel 4 (head), 2 (middle), 0 (tail)
    for (const ahead of [50 * TICK_MS, 300 * TICK_MS, 70_000 * TICK_MS, 17_000_000 * TICK_MS]) {
      const wheel = new TimerWheel(T0);
      for (let id = 0; id < 5; id++) wheel.schedule(id, T0 + ahead);
      for (const id of [4, 2, 0]) wheel.cancel(id);
      expect([wheel.size, wheel.isScheduled(2), wheel.isScheduled(3)]).toEqual([2, false, true]);
      wheel.schedule(2, T0 + ahead); // filed again after the cancel
      const fired: number[] = [];
      wheel.advance(T0 + ahead - TICK_MS, (id) => fired.push(id));
      expect(fired).toEqual([]);
      wheel.advance(T0 + ahead, (id) => fired.push(id));
      expect(fired.sort()).toEqual([1, 2, 3]);
      expect(wheel.size).toBe(0);
    }
  });

  test("wheel - a time already past fires on the next advance", () => {
    const wheel = new TimerWheel(T0);
    const fired: number[] = [];
    wheel.schedule(7, T0 - 5000);
    wheel.advance(T0, (id) => fired.push(id));
    expect(fired).toEqual([7]);
  });

  test("wheel - deadlines beyond the top level are parked and still fire on time", () => {
    const wheel = new TimerWheel(T0);
    const due = T0 + 600 * 24 * 3600 * 1000; // 600 days: past 256^4 ticks of 10 ms
    const fired: number[] = [];
    wheel.schedule(3, due);
    wheel.advance(due - 60_000, (id) => fired.push(id));
    expect(fired).toEqual([]);
    wheel.advance(due + TICK_MS, (id) => fired.push(id));
    expect(fired).toEqual([3]);
  });

  test("wheel - a million random TTLs each fire within one tick of their time, none early", () => {
    const n = 1_000_000;
    const wheel = new TimerWheel(T0);
    const due = new Float64Array(n);
    let seed = 7;
    for (let id = 0; id < n; id++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      // up to ~3 days, so every level of the wheel is used
      due[id] = T0 + (seed % 260_000_000);
      wheel.schedule(id, due[id]!);
    }
    const fired = new Uint8Array(n);
    let now = T0;
    let previous = T0;
    let early = 0;
    let late = 0;
    let twice = 0;
    // irregular steps from 1 ms to ~400 s, like a busy and then idle scheduler
    while (wheel.size > 0) {
      previous = now;
      now += 1 + ((now * 7) % 397) * 1000;
      wheel.advance(now, (id) => {
        if (fired[id]) twice++;
        fired[id] = 1;
        if (now < due[id]!) early++;
        // it must not have been due (rounded up to its tick) at the previous advance
        if (Math.ceil(due[id]! / TICK_MS) * TICK_MS < previous - TICK_MS) late++;
      });
    }
    expect({ early, late, twice }).toEqual({ early: 0, late: 0, twice: 0 });
    expect(fired.every((f) => f === 1)).toBe(true);
  });

  test("wheel - with an advance every tick, each fires within one tick of its time", () => {
    const wheel = new TimerWheel(T0);
    const due = new Map<number, number>();
    for (let id = 0; id < 5000; id++) {
      const at = T0 + ((id * 7919) % 200_000);
      due.set(id, at);
      wheel.schedule(id, at);
    }
    for (let now = T0; wheel.size > 0; now += TICK_MS) {
      wheel.advance(now, (id) => {
        const at = due.get(id)!;
        expect(now).toBeGreaterThanOrEqual(at);
        expect(now - at).toBeLessThan(2 * TICK_MS);
      });
    }
  });
});
