import { describe, expect, test } from "bun:test";
import { bucketOf, BUCKETS, DigestState, keyHashOf, type KeyVersion } from "../../src/cluster/sync/digest.ts";
import { bytesToBinaryString, utf8 } from "../../src/store/bytes.ts";

const live = (writtenAt: number, origin = "n1", extra: Partial<KeyVersion> = {}): KeyVersion => ({ writtenAt, expiresAt: 0, origin, tomb: false, valueHash: 42, ...extra });

function put(d: DigestState, key: string, v: KeyVersion): void {
  const bytes = utf8(key);
  d.setLive(bucketOf(bytes), bytesToBinaryString(bytes), keyHashOf(bytes), v);
}

function tomb(d: DigestState, key: string, at: number, origin = "n1"): void {
  const bytes = utf8(key);
  d.setTomb(bucketOf(bytes), bytesToBinaryString(bytes), keyHashOf(bytes), at, origin);
}

describe("sync digest", () => {
  test("digest - equal states give equal buckets and root, whatever the order of changes", () => {
    const a = new DigestState();
    const b = new DigestState();
    for (let i = 0; i < 2000; i++) put(a, `k${i}`, live(i));
    for (let i = 1999; i >= 0; i--) {
      put(b, `k${i}`, live(0, "other")); // an older state first, replaced below
      put(b, `k${i}`, live(i));
    }
    expect(b.liveCount).toBe(2000);
    expect(Buffer.from(a.buckets.buffer).equals(Buffer.from(b.buckets.buffer))).toBe(true);
    expect(a.root()).toBe(b.root());
  });

  test("digest - any difference in time, expiry, value or deletion shows in one bucket", () => {
    const base = new DigestState();
    put(base, "key", live(10));
    const variants: ((d: DigestState) => void)[] = [
      (d) => put(d, "key", live(11)),
      (d) => put(d, "key", live(10, "n1", { expiresAt: 99 })),
      (d) => put(d, "key", live(10, "n1", { valueHash: 43 })),
      (d) => tomb(d, "key", 10),
    ];
    for (const change of variants) {
      const d = new DigestState();
      put(d, "key", live(10));
      change(d);
      let differing = 0;
      for (let i = 0; i < BUCKETS; i++) if (d.buckets[i] !== base.buckets[i]) differing++;
      expect(differing).toBe(1);
      expect(d.root()).not.toBe(base.root());
    }
  });

  test("digest - the origin label alone does not count as a difference (same write, same value)", () => {
    const a = new DigestState();
    const b = new DigestState();
    put(a, "key", live(10, "127.0.0.1:7721"));
    put(b, "key", live(10, ""));
    expect(a.root()).toBe(b.root());
  });

  test("digest - forgetting every key returns to the empty digest", () => {
    const d = new DigestState();
    const empty = new DigestState().root();
    for (let i = 0; i < 100; i++) put(d, `k${i}`, live(i));
    tomb(d, "t", 5);
    for (let i = 0; i < 100; i++) {
      const bytes = utf8(`k${i}`);
      d.forget(bucketOf(bytes), bytesToBinaryString(bytes));
    }
    const t = utf8("t");
    d.forget(bucketOf(t), bytesToBinaryString(t));
    expect(d.liveCount + d.tombCount).toBe(0);
    expect(d.root()).toBe(empty);
  });

  test("digest - tombstones expire in order, a re-deleted key keeps its newer tombstone", () => {
    const d = new DigestState(1);
    tomb(d, "a", 100);
    tomb(d, "b", 200);
    tomb(d, "a", 300); // deleted again later
    expect(d.tombCount).toBe(2);
    expect(d.expireTombs(250)).toBe(1); // b only: a's first tombstone was replaced
    const a = utf8("a");
    expect(d.tombOf(bucketOf(a), bytesToBinaryString(a))).toEqual({ at: 300, origin: "n1" });
    expect(d.expireTombs(300)).toBe(1);
    expect(d.tombCount).toBe(0);
    expect(d.root()).toBe(new DigestState().root());
  });

  test("digest - tombstones laid out of time order (expiries, pulled ones) are freed by their own time", () => {
    // a key that expires now lays a tombstone dated at its write, before deletes laid earlier
    const d = new DigestState(1000);
    const t = 1_800_000_000_000;
    tomb(d, "deleted", t + 50_000);
    tomb(d, "expired", t + 1_000);
    tomb(d, "pulled", t);
    tomb(d, "same-slice", t + 1_999);
    expect(d.expireTombs(t + 1_998)).toBe(1); // a slice goes once all of it is past: "pulled"
    expect(d.expireTombs(t + 1_999)).toBe(2);
    expect(d.tombCount).toBe(1);
    expect(d.expireTombs(t + 49_999)).toBe(0);
    // a tombstone dated long before the slices left (after an idle spell), and a late one
    tomb(d, "ancient", 5);
    tomb(d, "late", t + 60_000);
    expect(d.expireTombs(t + 50_999, 1)).toBe(1);
    expect(d.expireTombs(t + 50_999)).toBe(1);
    expect(d.tombCount).toBe(1);
    expect(d.expireTombs(t + 60_999)).toBe(1);
    expect(d.root()).toBe(new DigestState().root());
  });

  test("digest - a set replaces a tombstone and a delete replaces a live key", () => {
    const d = new DigestState();
    tomb(d, "k", 1);
    put(d, "k", live(2));
    expect([d.liveCount, d.tombCount]).toEqual([1, 0]);
    tomb(d, "k", 3);
    expect([d.liveCount, d.tombCount]).toEqual([0, 1]);
    const k = utf8("k");
    expect(d.originOf(bucketOf(k), bytesToBinaryString(k))).toBeUndefined();
  });

  test("digest - flush forgets everything and the watermark changes the root", () => {
    const d = new DigestState();
    for (let i = 0; i < 10; i++) put(d, `k${i}`, live(i));
    d.flush({ at: 50, origin: "n1" });
    expect(d.liveCount).toBe(0);
    expect(d.root()).not.toBe(new DigestState().root());
  });

  test("digest - keys spread over the buckets", () => {
    const counts = new Uint32Array(BUCKETS);
    for (let i = 0; i < BUCKETS * 16; i++) counts[bucketOf(utf8(`user:${i}`))]!++;
    expect(Math.max(...counts)).toBeLessThan(48);
    expect(Math.min(...counts)).toBeGreaterThan(0);
  });
});

describe("sync digest sweep bookkeeping", () => {
  test("digest - counts keys with a time to live per bucket, so only those buckets are swept", () => {
    const d = new DigestState();
    const k = utf8("ttl-key");
    const b = bucketOf(k);
    put(d, "ttl-key", live(1, "n1", { expiresAt: 500 }));
    expect(d.ttlKeys[b]).toBe(1);
    put(d, "ttl-key", live(2, "n1", { expiresAt: 0 }));
    expect(d.ttlKeys[b]).toBe(0);
    put(d, "ttl-key", live(3, "n1", { expiresAt: 900 }));
    tomb(d, "ttl-key", 4);
    expect(d.ttlKeys[b]).toBe(0);
    expect(d.ttlKeys.reduce((a, c) => a + c, 0)).toBe(0);
  });
});
