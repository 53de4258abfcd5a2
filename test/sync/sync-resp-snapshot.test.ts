// Sync with the other parts of a real node: writes over the Redis protocol replicate like any
// other, and a node restarted from its own (now old) snapshot converges without resurrecting
// what was deleted while it was down.

import { afterEach, expect, test } from "bun:test";
import { dumpKeys, freePort, startSyncCluster, waitConverged, waitFor, waitLinked, type SyncCluster, type SyncMember } from "./sync-cluster.ts";

let cluster: SyncCluster | undefined;

afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

function redisCli(port: number, ...args: string[]): string {
  const r = Bun.spawnSync(["redis-cli", "-p", String(port), ...args], { stdout: "pipe", stderr: "pipe" });
  return r.stdout.toString().trim();
}

test("resp - SET, EXPIRE, DEL and FLUSHDB over the Redis protocol replicate to the peers", async () => {
  cluster = await startSyncCluster(2, {}, () => ({ Respport: freePort() }));
  await waitLinked(cluster);
  const [a, b] = cluster.members as [SyncMember, SyncMember];
  expect(a.node.respPort).toBeGreaterThan(0);
  expect(redisCli(a.node.respPort, "SET", "from-resp", "hello")).toBe("OK");
  expect(await waitFor(async () => (await b.client.call("get from-resp")).Data === "hello", 2000, 5)).toBeGreaterThanOrEqual(0);
  redisCli(a.node.respPort, "MSET", "m1", "x", "m2", "y");
  redisCli(a.node.respPort, "INCR", "counter");
  redisCli(a.node.respPort, "INCR", "counter");
  expect(await waitFor(async () => (await b.client.call("get counter")).Data === "2", 2000, 5)).toBeGreaterThanOrEqual(0);
  expect((await b.client.call("get m2")).Data).toBe("y");
  expect(redisCli(a.node.respPort, "EXPIRE", "counter", "100")).toBe("1");
  expect(await waitFor(() => Number(redisCli(b.node.respPort, "TTL", "counter")) > 90, 2000, 5)).toBeGreaterThanOrEqual(0);
  expect(redisCli(b.node.respPort, "DEL", "m1")).toBe("1");
  expect(await waitFor(async () => (await a.client.call("get m1")).Status === 404, 2000, 5)).toBeGreaterThanOrEqual(0);
  expect(redisCli(b.node.respPort, "FLUSHDB")).toBe("OK");
  expect(await waitFor(async () => (await a.client.call("get from-resp")).Status === 404, 2000, 5)).toBeGreaterThanOrEqual(0);
  expect(redisCli(a.node.respPort, "DBSIZE")).toBe("0");
}, 30_000);

test("snapshot - a node restarted from its old snapshot converges and does not bring deleted keys back", async () => {
  cluster = await startSyncCluster(3, { set: { HttpClientRequestTimeout: 500 } });
  await waitLinked(cluster);
  const [a, b] = cluster.members as [SyncMember, SyncMember, SyncMember];
  const keys = Array.from({ length: 30 }, (_, i) => `snap${i}`);
  for (const k of keys) await a.client.call(`set ${k} before`);
  expect(await waitConverged(cluster.members, 3000)).toBeGreaterThanOrEqual(0);
  // c stops (SIGTERM: it writes its snapshot), the others delete and change keys meanwhile
  await cluster.restart(2, "term", async () => {
    for (const [i, k] of keys.entries()) {
      if (i % 3 === 0) await b.client.call(`delete ${k}`);
      else if (i % 3 === 1) await a.client.call(`set ${k} after`);
    }
  });
  const c = cluster.members[2]!;
  expect(c.node.banner).toMatch(/restored\s+30 keys/);
  expect(await waitConverged(cluster.members, 2500)).toBeGreaterThanOrEqual(0);
  const expected = await dumpKeys(a, keys);
  expect(await dumpKeys(c, keys)).toEqual(expected);
  expect(expected["snap0"]).toBeNull();
  expect(expected["snap1"]![0]).toBe("after");
  // and the deleted keys stay deleted on the others too (c did not push them back)
  await Bun.sleep(1200);
  expect(await dumpKeys(b, keys)).toEqual(expected);
}, 30_000);
