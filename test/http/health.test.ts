// /health of a real node: persistence state always, sync state when sync is on.
import { afterAll, describe, expect, test } from "bun:test";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { postForm, tokenFor } from "./http-helpers.ts";
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

  test("health - a peer that never answers costs /health at most half a second, not the 2.7 s client timeout", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const node = await startNode();
      nodes.push(node);
      const base = `http://127.0.0.1:${node.httpPort}`;
      const added = await postForm(base, { cmd: "add", address: `127.0.0.1:${silent.port}`, token: await tokenFor(base) }, "/server/");
      expect(added.status).toBe(200);
      const started = performance.now();
      const body = await health(node);
      expect(performance.now() - started).toBeLessThan(1500);
      expect(body.peers).toEqual([{ Group: "owlcache", Address: `127.0.0.1:${silent.port}`, Answers: false, Breaker: "closed", Message: "no answer within 500 ms yet; still asking" }]);
    } finally {
      silent.stop(true);
    }
  });

  test("health - shows each sync peer when sync is on", async () => {
    const node = await startNode({ set: syncSettings() });
    nodes.push(node);
    const body = await health(node);
    expect(body.sync).toBeDefined();
    expect(body.status).toBe("ok");
  });
});
