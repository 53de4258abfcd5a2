// An expired newer write against an older value held by a node that missed it, with real nodes
// (the audit's sync_resurrect.sh part C): the older value must not come back.

import { afterEach, describe, expect, test } from "bun:test";
import { postForm, tokenFor } from "../http/http-helpers.ts";
import { httpBase, startSyncCluster, syncStatus, waitConverged, waitFor, waitLinked, type SyncCluster } from "./sync-cluster.ts";

let cluster: SyncCluster | undefined;

afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

describe("sync expiry (2 real nodes)", () => {
  test("expiry - a newer write whose TTL ran out while a node was down is not undone by that node's older value", async () => {
    cluster = await startSyncCluster(2, { set: { HttpClientRequestTimeout: 500 } });
    await waitLinked(cluster);
    const [x, y] = cluster.members as [typeof cluster.members[0], typeof cluster.members[0]];
    await x.client.call("set k old");
    expect(await waitConverged(cluster.members, 3000)).toBeGreaterThanOrEqual(0);
    expect((await y.client.call("get k")).Data).toBe("old");

    await cluster.restart(1, "term", async () => {
      // while y is down: a newer write of k with a time to live of 1 s ...
      const set = await postForm(httpBase(x.node), { cmd: "set", key: "k", valuedata: "new", exptime: "1", token: await tokenFor(httpBase(x.node)) });
      expect(set.status).toBe(200);
      // ... then enough other writes that y's queue overflows (64 MiB): k's record is dropped
      const filler = "f".repeat(1_000_000);
      for (let i = 0; i < 72; i++) expect((await x.client.call(`set filler ${filler}`)).Status).toBe(200);
      expect(await waitFor(async () => (await syncStatus(x)).peers[0]!.dropped > 0, 3000)).toBeGreaterThanOrEqual(0);
      expect(await waitFor(async () => (await x.client.call("get k")).Status === 404, 3000)).toBeGreaterThanOrEqual(0);
    });
    // y is back with its snapshot's "old"; anti-entropy must take the expiry as the newer version
    expect(await waitConverged(cluster.members, 5000)).toBeGreaterThanOrEqual(0);
    expect((await x.client.call("get k")).Status).toBe(404);
    expect((await cluster.members[1]!.client.call("get k")).Status).toBe(404);
    expect((await syncStatus(x)).tombstones).toBe(1);
  }, 30_000);
});
