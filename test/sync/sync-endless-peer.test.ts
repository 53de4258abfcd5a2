// A gossip peer that answers every sync request with a body that never ends (the audit's
// sync_huge_answer.sh): the node reads each answer up to its limit, counts the peer as failing,
// and its memory does not follow the stream.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { startFakePeer, type FakePeer } from "../cluster/fake-peer.ts";
import { addGossipPeers, syncSettings, syncStatus, waitFor, type SyncMember } from "./sync-cluster.ts";

let node: NodeProcess;
let client: OwlClient;
let endless: FakePeer;

beforeAll(async () => {
  const chunk = new Uint8Array(1 << 20).fill(97);
  endless = startFakePeer(() => new Response(new ReadableStream({ pull: (c) => c.enqueue(chunk) }), { headers: { "content-type": "application/octet-stream" } }));
  node = await startNode({ set: syncSettings({ HttpClientRequestTimeout: 1000 }) });
  client = await OwlClient.connect(node.tcpPort);
}, 30_000);

afterAll(async () => {
  client?.close();
  await node?.stop();
  if (node) removeDir(node.dir);
  await endless?.stop();
});

/** the node's resident memory, from /proc (not /health: that pings the peers) */
const rss = async (): Promise<number> => Number(/VmRSS:\s+(\d+) kB/.exec(await Bun.file(`/proc/${node.proc.pid}/status`).text())![1]) * 1024;

describe("sync with a peer that never stops answering (real node)", () => {
  test("answer limit - each answer is cut off at its limit and the peer is down; the node's memory stays put", async () => {
    const before = await rss();
    await addGossipPeers(node, [endless.address]);
    const member = { node } as SyncMember;
    expect(await waitFor(async () => (await syncStatus(member)).peers.length === 1, 3000)).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < 20; i++) await client.call(`set k${i} v`);
    let peak = before;
    const took = await waitFor(async () => {
      peak = Math.max(peak, await rss());
      const peer = (await syncStatus(member)).peers[0];
      return peer?.state === "down" && peer.digest.state === "error";
    }, 10_000, 50);
    expect(took).toBeGreaterThanOrEqual(0);
    // rounds and batches keep failing the same way for a few seconds: memory does not climb
    for (let i = 0; i < 30; i++) {
      peak = Math.max(peak, await rss());
      await Bun.sleep(100);
    }
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
    const log = await Bun.file(`${node.logDir}/owlcache.log`).text();
    expect(log).toContain("/sync/digest answer is over the 65536-byte limit");
    expect(log).toContain("/sync/batch answer is over the 65536-byte limit");
  }, 30_000);
});
