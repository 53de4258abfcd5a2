// The metrics fed by other parts (persistence, cluster) move in a real node.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { postForm, tokenFor } from "../http/http-helpers.ts";

let node: NodeProcess;
let base: string;

beforeAll(async () => {
  node = await startNode({ set: { Task_DataBackupSeconds: 1, HttpClientRequestTimeout: 300, HttpClientRequestLocalCacheLifeTime: 0 } });
  base = `http://127.0.0.1:${node.httpPort}`;
});
afterAll(async () => {
  await node?.stop();
  removeDir(node.dir);
});

const metric = async (name: string): Promise<string> => {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text.split("\n").filter((l) => l.startsWith(name)).join("\n");
};

describe("metric wires", () => {
  test("metrics - a snapshot is counted with its size", async () => {
    const client = await OwlClient.connect(node.tcpPort);
    await client.call("set snap-key snap-value");
    client.close();
    const deadline = Date.now() + 8000;
    while (!/owl_snapshots_total\{result="ok"\} [1-9]/.test(await metric("owl_snapshots_total")) && Date.now() < deadline) await Bun.sleep(200);
    expect(await metric("owl_snapshots_total")).toMatch(/result="ok"\} [1-9]/);
    expect(await metric("owl_snapshot_size_bytes")).toMatch(/owl_snapshot_size_bytes [1-9]\d*/);
  });

  test("metrics - a peer that refuses is counted as a peer failure", async () => {
    const token = await tokenFor(base);
    const dead = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = dead.port;
    dead.stop(true);
    expect((await postForm(base, { cmd: "add", address: `127.0.0.1:${port}`, token }, "/server/")).body.Status).toBe(200);
    await fetch(`${base}/group_data/?cmd=get&key=anything`);
    expect(await metric("owl_peer_failures_total")).toContain(`peer="127.0.0.1:${port}"`);
  });
});
