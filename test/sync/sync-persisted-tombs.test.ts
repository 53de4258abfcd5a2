// Tombstones and the flush watermark survive a restart (the audit's sync_resurrect.sh parts A, B
// and D), with real nodes: X deletes, lets a newer write expire, or flushes while Y is down, X
// restarts (SIGTERM: from its snapshot; kill -9 with Appendonly 1 / Appendfsync always: from its
// append log), then Y returns with the old values. None of them may come back on either node.

import { afterEach, describe, expect, test } from "bun:test";
import { postForm, tokenFor } from "../http/http-helpers.ts";
import { freePort, httpBase, startSyncCluster, syncStatus, waitConverged, waitLinked, type SyncCluster, type SyncMember } from "./sync-cluster.ts";

let cluster: SyncCluster | undefined;

afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

const MODES: { how: "term" | "kill"; set: Record<string, string | number> }[] = [
  { how: "term", set: { HttpClientRequestTimeout: 500 } },
  { how: "kill", set: { HttpClientRequestTimeout: 500, Appendonly: 1, Appendfsync: "always" } },
];

function redisCli(port: number, ...args: string[]): string {
  return Bun.spawnSync(["redis-cli", "-p", String(port), ...args], { stdout: "pipe", stderr: "pipe" }).stdout.toString().trim();
}

async function setWithTtl(m: SyncMember, key: string, value: string, seconds: number): Promise<void> {
  const base = httpBase(m.node);
  const r = await postForm(base, { cmd: "set", key, valuedata: value, exptime: String(seconds), token: await tokenFor(base) });
  expect(r.status).toBe(200);
}

async function values(m: SyncMember, keys: readonly string[]): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (const key of keys) {
    const r = await m.client.call(`get ${key}`);
    out.push(r.Status === 200 ? String(r.Data) : null);
  }
  return out;
}

describe("persisted tombstones (2 real nodes)", () => {
  for (const mode of MODES) {
    test(`restart (${mode.how}) - a delete and expiries while the peer is down stay done after X restarts and Y returns`, async () => {
      cluster = await startSyncCluster(2, { set: mode.set });
      await waitLinked(cluster);
      const [x] = cluster.members as [SyncMember, SyncMember];
      const keys = ["del_k", "exp_before", "exp_down", "kept"];
      for (const k of keys) await x.client.call(`set ${k} old-value`);
      expect(await waitConverged(cluster.members, 3000)).toBeGreaterThanOrEqual(0);

      await cluster.restart(1, "term", async () => {
        // Y is down: it keeps every old value
        await x.client.call("delete del_k");
        await setWithTtl(x, "exp_before", "new-value", 1); // expires before X's restart
        await setWithTtl(x, "exp_down", "new-value", 3); // expires while X is down
        await Bun.sleep(1300);
        expect((await x.client.call("get exp_before")).Status).toBe(404);
        await cluster!.restart(0, mode.how, () => Bun.sleep(2000));
      });
      const [x2, y2] = cluster.members as [SyncMember, SyncMember];
      expect(await waitConverged(cluster.members, 4000)).toBeGreaterThanOrEqual(0);
      await Bun.sleep(1200); // another anti-entropy round: nothing may come back
      expect(await values(x2, keys)).toEqual([null, null, null, "old-value"]);
      expect(await values(y2, keys)).toEqual([null, null, null, "old-value"]);
      expect((await syncStatus(x2)).tombstones).toBeGreaterThanOrEqual(3);
    }, 40_000);

    test(`restart (${mode.how}) - a FLUSHDB while the peer is down stays done after X restarts and Y returns`, async () => {
      const respPort = freePort();
      cluster = await startSyncCluster(2, { set: mode.set }, (i): Record<string, number> => (i === 0 ? { Respport: respPort } : {}));
      await waitLinked(cluster);
      const [x] = cluster.members as [SyncMember, SyncMember];
      await x.client.call("set fl_k before-flush");
      expect(await waitConverged(cluster.members, 3000)).toBeGreaterThanOrEqual(0);
      await cluster.restart(1, "term", async () => {
        expect(redisCli(respPort, "FLUSHDB")).toBe("OK");
        await x.client.call("set after_flush yes");
        await cluster!.restart(0, mode.how);
      });
      const [x2, y2] = cluster.members as [SyncMember, SyncMember];
      expect(await waitConverged(cluster.members, 4000)).toBeGreaterThanOrEqual(0);
      await Bun.sleep(1200);
      expect(await values(x2, ["fl_k", "after_flush"])).toEqual([null, "yes"]);
      expect(await values(y2, ["fl_k", "after_flush"])).toEqual([null, "yes"]);
    }, 40_000);
  }
});
