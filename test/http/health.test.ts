// /health of a real node: persistence state always, sync state when sync is on.
import { afterAll, describe, expect, test } from "bun:test";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { syncSettings } from "../sync/sync-cluster.ts";

const nodes: NodeProcess[] = [];
afterAll(async () => {
  for (const node of nodes) {
    await node.stop();
    removeDir(node.dir);
  }
});

const health = async (node: NodeProcess) => (await fetch(`http://127.0.0.1:${node.httpPort}/health`)).json() as Promise<Record<string, any>>;

describe("/health", () => {
  test("health - shows persistence state and whether writes wait for a snapshot", async () => {
    const node = await startNode({ set: { Appendonly: 1, Appendfsync: "always" } });
    nodes.push(node);
    const before = await health(node);
    expect(before.persistence).toMatchObject({ appendonly: true, appendfsync: "always", unsavedChanges: false });
    expect(before.sync).toBeUndefined();
    const client = await OwlClient.connect(node.tcpPort);
    await client.call("set h1 v");
    client.close();
    expect((await health(node)).persistence.unsavedChanges).toBe(true);
  });

  test("health - shows each sync peer when sync is on", async () => {
    const node = await startNode({ set: syncSettings() });
    nodes.push(node);
    const body = await health(node);
    expect(body.sync).toBeDefined();
    expect(body.status).toBe("ok");
  });
});
