import { describe, expect, test } from "bun:test";
import { compareVersions, coveredBy, newerWatermark, replaces, valueHash, type Version } from "../../src/cluster/sync/version.ts";

const v = (writtenAt: number, origin: string, extra: Partial<Version> = {}): Version => ({ writtenAt, origin, tomb: false, valueHash: 1, expiresAt: 0, ...extra });

describe("sync versions", () => {
  test("lww - the later write wins whatever the origin", () => {
    expect(compareVersions(v(2, "a"), v(1, "z"))).toBe(1);
    expect(compareVersions(v(1, "z"), v(2, "a"))).toBe(-1);
  });

  test("lww - same instant: the larger node address wins", () => {
    expect(compareVersions(v(5, "127.0.0.1:8000"), v(5, "127.0.0.1:7000"))).toBe(1);
  });

  test("lww - same instant and node: a delete beats a set, then the value hash decides", () => {
    expect(compareVersions(v(5, "a", { tomb: true, valueHash: 0 }), v(5, "a"))).toBe(1);
    expect(compareVersions(v(5, "a", { valueHash: 0xffffffff }), v(5, "a", { valueHash: 3 }))).toBe(1);
    expect(compareVersions(v(5, "a", { expiresAt: 9 }), v(5, "a"))).toBe(1);
    expect(compareVersions(v(5, "a"), v(5, "a"))).toBe(0);
  });

  test("replaces - only newer versions replace; the same version is not applied twice", () => {
    expect(replaces(v(2, "a"), undefined, false)).toBe(true);
    expect(replaces(v(2, "a"), v(1, "a"), false)).toBe(true);
    expect(replaces(v(1, "a"), v(2, "a"), true)).toBe(false);
    expect(replaces(v(2, "a"), v(2, "a"), true)).toBe(false);
  });

  test("replaces - the in-order stream lets a second same-millisecond write of one node through", () => {
    const first = v(7, "a", { valueHash: 9 });
    const second = v(7, "a", { valueHash: 2 });
    expect(replaces(second, first, true)).toBe(true);
    expect(replaces(second, first, false)).toBe(false);
    // never across nodes, never over a delete
    expect(replaces(v(7, "a", { valueHash: 2 }), v(7, "b", { valueHash: 9 }), true)).toBe(false);
    expect(replaces(second, v(7, "a", { tomb: true, valueHash: 0 }), true)).toBe(false);
    // a set then an expire in one millisecond: same value, new expiry
    expect(replaces(v(7, "a", { expiresAt: 0 }), v(7, "a", { expiresAt: 99 }), true)).toBe(true);
  });

  test("flush - the watermark covers older writes, not newer ones", () => {
    const w = { at: 100, origin: "m" };
    expect(coveredBy(w, 99, "z")).toBe(true);
    expect(coveredBy(w, 101, "a")).toBe(false);
    expect(coveredBy(w, 100, "a")).toBe(true);
    expect(coveredBy(w, 100, "m")).toBe(false);
    expect(newerWatermark({ at: 101, origin: "a" }, w)).toBe(true);
    expect(newerWatermark(w, w)).toBe(false);
  });

  test("valueHash - stable across calls and sensitive to every byte", () => {
    const a = new Uint8Array([1, 2, 3]);
    expect(valueHash(a)).toBe(valueHash(new Uint8Array([1, 2, 3])));
    expect(valueHash(a)).not.toBe(valueHash(new Uint8Array([1, 2, 4])));
    expect(valueHash(new Uint8Array())).toBeGreaterThanOrEqual(0);
  });
});
