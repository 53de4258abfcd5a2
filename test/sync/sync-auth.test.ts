// Sync requests to a real node that are not properly authenticated: wrong or missing key,
// replayed, tampered or stale batches are refused with 401, logged, and nothing is applied.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { HEADER_MAC, HEADER_NODE, HEADER_NONCE, HEADER_TIME, sign } from "../../src/cluster/sync/auth.ts";
import { encodeBatch } from "../../src/cluster/sync/codec.ts";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { addGossipPeers, AUTH_KEY, startSyncCluster, syncSettings, waitFor, waitLinked, type SyncCluster } from "./sync-cluster.ts";

let cluster: SyncCluster;
let intruder: NodeProcess;
let intruderClient: OwlClient;

beforeAll(async () => {
  cluster = await startSyncCluster(1);
  intruder = await startNode({ set: syncSettings({ GossipDataSyncAuthKey: "not-the-right-key-123456" }) });
  await addGossipPeers(intruder, [cluster.members[0]!.address]);
  intruderClient = await OwlClient.connect(intruder.tcpPort);
  await waitLinked(cluster);
  // the intruder has linked and tried its first digest round (refused)
  const linked = await waitFor(async () => {
    const status = (await (await fetch(`http://127.0.0.1:${intruder.httpPort}/sync/status`)).json()) as { peers: { digest: { state: string } }[] };
    return status.peers[0]?.digest.state === "error";
  }, 10_000, 50);
  if (linked < 0) throw new Error("intruder did not link");
}, 30_000);

afterAll(async () => {
  intruderClient?.close();
  await intruder?.stop();
  if (intruder) removeDir(intruder.dir);
  await cluster?.stopAll();
});

const url = (path: string): string => `http://127.0.0.1:${cluster.members[0]!.node.httpPort}${path}`;
const put = (key: string, value: string) => ({ kind: "put" as const, key: new TextEncoder().encode(key), value: new TextEncoder().encode(value), writtenAt: Date.now(), expiresAt: 0, origin: "127.0.0.1:1" });

function headers(sig: { time: string; nonce: string; mac: string }): Record<string, string> {
  return { "content-type": "application/octet-stream", [HEADER_TIME]: sig.time, [HEADER_NONCE]: sig.nonce, [HEADER_MAC]: sig.mac, [HEADER_NODE]: "test" };
}

async function post(path: string, body: Uint8Array, h: Record<string, string>): Promise<Response> {
  return fetch(url(path), { method: "POST", body: body as Uint8Array<ArrayBuffer>, headers: h });
}

async function has(key: string): Promise<boolean> {
  return (await cluster.members[0]!.client.call(`get ${key}`)).Status === 200;
}

async function logText(): Promise<string> {
  return Bun.file(`${cluster.members[0]!.node.logDir}/owlcache.log`).text();
}

describe("sync authentication (real node)", () => {
  test("auth - a node with the wrong key cannot write; the refusal is logged once, not per write", async () => {
    for (let i = 0; i < 20; i++) expect((await intruderClient.call(`set intruder${i} x`)).Status).toBe(200);
    await Bun.sleep(400);
    for (let i = 0; i < 20; i++) expect(await has(`intruder${i}`)).toBe(false);
    const refusals = (await logText()).split("\n").filter((l) => l.includes("sync request refused") && l.includes("bad-mac"));
    expect(refusals.length).toBe(1);
  });

  test("auth - a batch without signature headers is refused", async () => {
    const body = encodeBatch([put("unsigned", "x")], true);
    const r = await post("/sync/batch", body, { "content-type": "application/octet-stream" });
    expect(r.status).toBe(401);
    expect(await has("unsigned")).toBe(false);
  });

  test("auth - a correctly signed batch is applied once; the same batch replayed is refused", async () => {
    const body = encodeBatch([put("signed", "ok")], true);
    const h = headers(sign(AUTH_KEY, "/sync/batch", body, Date.now()));
    expect((await post("/sync/batch", body, h)).status).toBe(200);
    expect(await has("signed")).toBe(true);
    await cluster.members[0]!.client.call("delete signed");
    const replay = await post("/sync/batch", body, h);
    expect(replay.status).toBe(401);
    expect(await replay.text()).toContain("replayed");
    expect(await has("signed")).toBe(false);
  });

  test("auth - a tampered batch is refused and nothing in it is applied", async () => {
    const body = encodeBatch([put("tamper-a", "fine"), put("tamper-b", "evil")], true);
    const h = headers(sign(AUTH_KEY, "/sync/batch", body, Date.now()));
    const changed = body.slice();
    changed[changed.length - 1] = changed[changed.length - 1]! ^ 0x20;
    expect((await post("/sync/batch", changed, h)).status).toBe(401);
    expect(await has("tamper-a")).toBe(false);
    expect(await has("tamper-b")).toBe(false);
  });

  test("auth - a stale timestamp is refused even with a valid signature", async () => {
    const body = encodeBatch([put("stale", "x")], true);
    const r = await post("/sync/batch", body, headers(sign(AUTH_KEY, "/sync/batch", body, Date.now() - 120_000)));
    expect(r.status).toBe(401);
    expect(await r.text()).toContain("stale");
    expect(await has("stale")).toBe(false);
  });

  test("auth - a signed but malformed batch is a 400 and applies nothing; the node keeps serving", async () => {
    const good = encodeBatch([put("half-a", "x"), put("half-b", "y")], true);
    const body = good.subarray(0, good.length - 3);
    const r = await post("/sync/batch", body, headers(sign(AUTH_KEY, "/sync/batch", body, Date.now())));
    expect(r.status).toBe(400);
    expect(await has("half-a")).toBe(false);
    const json = new TextEncoder().encode('{"buckets":[99999]}');
    const bad = await post("/sync/keys", json, headers(sign(AUTH_KEY, "/sync/keys", json, Date.now())));
    expect(bad.status).toBe(400);
    // a round naming buckets that do not exist, or not a list, is refused the same way
    for (const text of ['{"buckets":[1],"round":[1,4096]}', '{"buckets":[1],"round":"all"}', '{"buckets":[1],"round":[-1]}']) {
      const round = new TextEncoder().encode(text);
      const refused = await post("/sync/keys", round, headers(sign(AUTH_KEY, "/sync/keys", round, Date.now())));
      expect(refused.status).toBe(400);
    }
    // a well-formed round answers the listing as without it
    const listing = async (text: string): Promise<{ entries: unknown[] }> => {
      const body = new TextEncoder().encode(text);
      const r = await post("/sync/keys", body, headers(sign(AUTH_KEY, "/sync/keys", body, Date.now())));
      expect(r.status).toBe(200);
      return (await r.json()) as { entries: unknown[] };
    };
    for (let i = 0; i < 50; i++) expect((await cluster.members[0]!.client.call(`set listed${i} v${i}`)).Status).toBe(200);
    const all = JSON.stringify([...Array(4096).keys()]);
    const withRound = await listing(`{"buckets":${all},"round":${all}}`);
    expect(withRound.entries.length).toBeGreaterThanOrEqual(50);
    expect(withRound).toEqual(await listing(`{"buckets":${all}}`));
    expect((await cluster.members[0]!.client.call("ping")).Status).toBe(200);
  });

  test("auth - digests and fetches need the key too (no reading the data without it)", async () => {
    const body = new TextEncoder().encode('{"keys":["c2lnbmVk"]}');
    const r = await post("/sync/fetch", body, headers(sign("wrong-key-0123456789", "/sync/fetch", body, Date.now())));
    expect(r.status).toBe(401);
    const refused = await waitFor(async () => (await logText()).includes("sync request refused"), 1000);
    expect(refused).toBeGreaterThanOrEqual(0);
  });
});
