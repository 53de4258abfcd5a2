// HTTPS with a self-signed certificate made by openssl in the test, and clear start-up errors
// for a missing, unreadable or invalid certificate.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeDir, runMain, startNode, type NodeProcess } from "../helpers/node-process.ts";

const dir = mkdtempSync(join(tmpdir(), "owl-tls-"));
const cert = join(dir, "cert.pem");
const key = join(dir, "key.pem");

function makeCertificate(): void {
  const result = Bun.spawnSync([
    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
    "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
  ], { stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`openssl failed: ${result.stderr.toString()}`);
}

describe("https", () => {
  let node: NodeProcess;

  beforeAll(async () => {
    makeCertificate();
    node = await startNode({ set: { Open_Https: 1, Https_CertFile: cert, Https_KeyFile: key } });
  });

  afterAll(async () => {
    await node?.stop();
    if (node) removeDir(node.dir);
    rmSync(dir, { recursive: true, force: true });
  });

  test("https - the banner shows https:// and the API answers over TLS", async () => {
    expect(node.banner).toContain(`  http      https://127.0.0.1:${node.httpPort}`);
    expect(node.banner).toContain(`  docs      https://127.0.0.1:${node.httpPort}/swagger`);
    const tls = { ca: readFileSync(cert, "utf8") };
    const base = `https://127.0.0.1:${node.httpPort}`;
    const pass = (await (await fetch(`${base}/data/?cmd=pass&pass=test-password-123`, { tls })).json()) as { Data: string };
    const set = await fetch(`${base}/data/`, { method: "POST", body: new URLSearchParams({ cmd: "set", key: "s", valuedata: "secure", token: pass.Data }), tls });
    expect(set.status).toBe(200);
    const get = (await (await fetch(`${base}/data/?cmd=get&key=s`, { tls })).json()) as { Data: string; ResponseHost: string };
    expect(get).toMatchObject({ Data: "secure", ResponseHost: `127.0.0.1:${node.httpPort}` });
  });

  test("https - plain HTTP to the HTTPS port gets no answer", async () => {
    const failed = await fetch(`http://127.0.0.1:${node.httpPort}/health`, { signal: AbortSignal.timeout(5000) }).then(
      (r) => r.status === 200 && false,
      () => true,
    );
    expect(failed).toBe(true);
  });

  test("https - a missing certificate file stops the start with a message naming it", async () => {
    const missing = join(dir, "nope.pem");
    const run = await runMain(["-config", "/dev/null", "--set", "Open_Https=1", "--set", `Https_CertFile=${missing}`, "--set", `Https_KeyFile=${key}`, "--set", "Httpport=0", "--set", "Tcpport=0", "--set", "Respport=0", "--set", `DBfile=${join(dir, "db")}`, "--set", `Logfile=${join(dir, "log")}`, "--set", "Pass=test-password-123"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("Https_CertFile");
    expect(run.stderr).toContain(missing);
    expect(run.stderr).toContain("ENOENT");
  });

  test("https - an unreadable key file and an invalid certificate are clear start-up errors", async () => {
    const notAFile = join(dir, "a-directory");
    mkdirSync(notAFile, { recursive: true });
    const common = ["-config", "/dev/null", "--set", "Open_Https=1", "--set", "Httpport=0", "--set", "Tcpport=0", "--set", "Respport=0", "--set", `DBfile=${join(dir, "db")}`, "--set", `Logfile=${join(dir, "log")}`, "--set", "Pass=test-password-123"];
    const unreadable = await runMain([...common, "--set", `Https_CertFile=${cert}`, "--set", `Https_KeyFile=${notAFile}`]);
    expect(unreadable.code).not.toBe(0);
    expect(unreadable.stderr).toContain(`Https_KeyFile ${notAFile}`);
    const garbage = join(dir, "garbage.pem");
    writeFileSync(garbage, "not a certificate\n");
    const invalid = await runMain([...common, "--set", `Https_CertFile=${garbage}`, "--set", `Https_KeyFile=${key}`]);
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain(garbage);
  });
});
