// Sync between three real nodes: writes, deletes and expiries made on any node reach the others.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSyncCluster, syncStatus, waitFor, waitLinked, type SyncCluster, type SyncMember } from "./sync-cluster.ts";

const VISIBLE_MS = 200;
let cluster: SyncCluster;
let members: SyncMember[];

beforeAll(async () => {
  cluster = await startSyncCluster(3);
  members = cluster.members;
  await waitLinked(cluster);
}, 30_000);

afterAll(async () => {
  await cluster?.stopAll();
});

async function visibleEverywhere(key: string, expected: string | null, ms = 2000): Promise<number> {
  return waitFor(async () => {
    for (const m of members) {
      const r = await m.client.call(`get ${key}`);
      if (expected === null ? r.Status !== 404 : r.Data !== expected) return false;
    }
    return true;
  }, ms, 5);
}

describe("sync replication (3 real nodes)", () => {
  test("set - a write on any node is visible on the others within 200 ms, with the same write time", async () => {
    for (const [i, m] of members.entries()) {
      const key = `from-${i}`;
      expect((await m.client.call(`set ${key} value written on node ${i}`)).Status).toBe(200);
      const took = await visibleEverywhere(key, `value written on node ${i}`);
      expect(took).toBeGreaterThanOrEqual(0);
      expect(took).toBeLessThan(VISIBLE_MS);
      const times = await Promise.all(members.map(async (o) => (await o.client.call(`get ${key}`)).KeyCreateTime));
      expect(new Set(times).size).toBe(1);
    }
  });

  test("set - the later write wins on every node, values byte for byte", async () => {
    await members[0]!.client.call("set race first");
    await Bun.sleep(2);
    await members[2]!.client.call("set race  second value with  spaces ");
    expect(await visibleEverywhere("race", " second value with  spaces ")).toBeGreaterThanOrEqual(0);
  });

  test("delete - removes the key on every node within 200 ms", async () => {
    await members[0]!.client.call("set doomed yes");
    expect(await visibleEverywhere("doomed", "yes")).toBeGreaterThanOrEqual(0);
    expect((await members[1]!.client.call("delete doomed")).Status).toBe(200);
    const took = await visibleEverywhere("doomed", null);
    expect(took).toBeGreaterThanOrEqual(0);
    expect(took).toBeLessThan(VISIBLE_MS);
  });

  test("expire - the time to live reaches every node and the key expires at the same absolute time", async () => {
    await members[0]!.client.call("set brief here");
    expect(await visibleEverywhere("brief", "here")).toBeGreaterThanOrEqual(0);
    const start = performance.now();
    expect((await members[2]!.client.call("expire brief 1")).Status).toBe(200);
    await Bun.sleep(500);
    for (const m of members) expect((await m.client.call("get brief")).Data).toBe("here");
    const gone = await Promise.all(
      members.map(async (m) => {
        await waitFor(async () => (await m.client.call("get brief")).Status === 404, 3000, 5);
        return performance.now() - start;
      }),
    );
    for (const t of gone) {
      expect(t).toBeGreaterThan(900);
      expect(t).toBeLessThan(1400);
    }
    expect(Math.max(...gone) - Math.min(...gone)).toBeLessThan(150);
  });

  test("expire - 0 removes the time to live everywhere", async () => {
    await members[1]!.client.call("set kept v");
    await members[1]!.client.call("expire kept 1");
    expect(await visibleEverywhere("kept", "v")).toBeGreaterThanOrEqual(0);
    await Bun.sleep(20); // the expire above has reached node 0 too (same batch as the set)
    expect((await members[0]!.client.call("expire kept 0")).Status).toBe(200);
    await Bun.sleep(1300);
    for (const m of members) expect((await m.client.call("get kept")).Data).toBe("v");
  });

  test("status - /sync/status shows every peer up, empty queues and the digest state", async () => {
    const status = await syncStatus(members[0]!);
    expect(status.peers.length).toBe(2);
    for (const p of status.peers) {
      expect(p.state).toBe("up");
      expect(p.queueDepth).toBe(0);
      expect(p.dropped).toBe(0);
      expect(p.lastSuccessfulSync).not.toBeNull();
      expect(["equal", "repaired"]).toContain(p.digest.state);
    }
  });
});
