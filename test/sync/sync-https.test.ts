// Sync between two real nodes serving HTTPS (self-signed certificate, peers not verified):
// addresses without a scheme use the node's own, and writes replicate both ways.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSyncCluster, syncStatus, waitFor, type SyncCluster, type SyncMember } from "./sync-cluster.ts";

let cluster: SyncCluster | undefined;
const certDir = mkdtempSync(join(tmpdir(), "owl-sync-tls-"));

beforeAll(async () => {
  const made = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
    "-keyout", join(certDir, "key.pem"), "-out", join(certDir, "cert.pem")], { stderr: "pipe" });
  if (made.exitCode !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
  cluster = await startSyncCluster(2, {
    set: {
      Open_Https: 1,
      Https_CertFile: join(certDir, "cert.pem"),
      Https_KeyFile: join(certDir, "key.pem"),
      HttpsClient_InsecureSkipVerify: 1,
    },
  });
}, 30_000);

afterAll(async () => {
  await cluster?.stopAll();
  rmSync(certDir, { recursive: true, force: true });
});

test("sync - replicates over HTTPS", async () => {
  const [a, b] = cluster!.members as [SyncMember, SyncMember];
  expect(a.node.banner).toContain("https://");
  const status = (m: SyncMember) => syncStatus(m);
  expect(await waitFor(async () => (await status(a)).peers.length === 1, 10_000, 50)).toBeGreaterThanOrEqual(0);
  expect(await waitFor(async () => (await status(b)).peers.length === 1, 10_000, 50)).toBeGreaterThanOrEqual(0);
  await a.client.call("set tls-a over https");
  await b.client.call("set tls-b back again");
  expect(await waitFor(async () => (await b.client.call("get tls-a")).Data === "over https", 3000)).toBeGreaterThanOrEqual(0);
  expect(await waitFor(async () => (await a.client.call("get tls-b")).Data === "back again", 3000)).toBeGreaterThanOrEqual(0);
  expect((await status(a)).peers[0]!.state).toBe("up");
});
