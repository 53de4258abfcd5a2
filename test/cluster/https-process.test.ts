// An HTTPS cluster (Open_Https 1) with certificates made by openssl: self-signed peers are
// accepted only with HttpsClient_InsecureSkipVerify 1; a CA-signed peer passes verification.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { caSignedCert, selfSignedCert, type TestCert } from "./certs.ts";
import { addPeers, setValue, startClusterNode, stopAll, type ClusterNode } from "./cluster-helpers.ts";

let selfSigned: TestCert;
let caSigned: TestCert & { caFile: string };
const nodes: ClusterNode[] = [];
const https = (cert: TestCert, extra: Record<string, string | number> = {}) => ({ Open_Https: 1, Https_CertFile: cert.certFile, Https_KeyFile: cert.keyFile, ...extra });

let plain: ClusterNode; // self-signed certificate
let signed: ClusterNode; // certificate from the test CA
let verifying: ClusterNode; // trusts the test CA, verifies peers
let skipping: ClusterNode; // HttpsClient_InsecureSkipVerify 1

beforeAll(async () => {
  selfSigned = selfSignedCert();
  caSigned = caSignedCert();
  [plain, signed, verifying, skipping] = await Promise.all([
    startClusterNode({ set: https(selfSigned) }, "https"),
    startClusterNode({ set: https(caSigned) }, "https"),
    startClusterNode({ set: https(selfSigned), env: { NODE_EXTRA_CA_CERTS: caSigned.caFile } }, "https"),
    startClusterNode({ set: https(selfSigned, { HttpsClient_InsecureSkipVerify: 1 }) }, "https"),
  ]);
  nodes.push(plain, signed, verifying, skipping);
  await setValue(plain, "k", "from the self-signed node");
  await setValue(signed, "k", "from the CA-signed node");
  await addPeers(verifying, plain.address, signed.address);
  await addPeers(skipping, plain.address, `https://${signed.address}`);
}, 60_000);

afterAll(async () => {
  await stopAll(nodes);
  selfSigned?.remove();
  caSigned?.remove();
});

async function groupGetTls(node: ClusterNode, key: string) {
  const answer = await fetch(`${node.base}/group_data/?cmd=get&key=${key}`, { tls: { rejectUnauthorized: false } } as RequestInit);
  return (await answer.json()) as { Status: number; Data: { Address: string; Data: string | null; Status: number; Message?: string }[] };
}

describe("HTTPS cluster", () => {
  test("https - verifying node: CA-signed peer answers, self-signed peer is listed as a certificate failure", async () => {
    const r = await groupGetTls(verifying, "k");
    expect(r.Status).toBe(200);
    expect(r.Data.map((e) => [e.Address, e.Data, e.Status])).toEqual([
      [signed.address, "from the CA-signed node", 200],
      [plain.address, null, 500],
    ]);
    expect(r.Data[1]!.Message).toStartWith("tls: certificate not accepted");
  });

  test("https - with InsecureSkipVerify 1 self-signed peers answer", async () => {
    const r = await groupGetTls(skipping, "k");
    expect(r.Data.map((e) => e.Data).sort()).toEqual(["from the CA-signed node", "from the self-signed node"]);
  });

});
