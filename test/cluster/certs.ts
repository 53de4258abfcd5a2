// Self-signed certificates made with openssl for HTTPS peers in tests.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCert {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly dir: string;
  remove(): void;
}

/** A self-signed certificate for 127.0.0.1 and localhost. */
export function selfSignedCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), "owl-cert-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const result = Bun.spawnSync([
    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
  ], { stdout: "ignore", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`openssl failed: ${result.stderr.toString()}`);
  return {
    cert: readFileSync(certFile, "utf8"),
    key: readFileSync(keyFile, "utf8"),
    certFile,
    keyFile,
    dir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function openssl(args: string[], cwd: string): void {
  const result = Bun.spawnSync(["openssl", ...args], { cwd, stdout: "ignore", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.toString()}`);
}

/** A test CA and a certificate for 127.0.0.1 it signed; `caFile` is what a client must trust. */
export function caSignedCert(): TestCert & { readonly caFile: string } {
  const dir = mkdtempSync(join(tmpdir(), "owl-ca-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=owlcache test CA"], dir);
  openssl(["req", ...ec, "-keyout", "key.pem", "-out", "node.csr", "-subj", "/CN=127.0.0.1"], dir);
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(["x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "cert.pem", "-days", "2", "-extfile", "ext.cnf"], dir);
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  return {
    cert: readFileSync(certFile, "utf8"),
    key: readFileSync(keyFile, "utf8"),
    certFile,
    keyFile,
    caFile: join(dir, "ca.pem"),
    dir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
