// Settings that are well-formed text but cannot work (a taken port, an address that is no
// address, a log directory with a file in the way): one clean line naming the key, exit code 2
// as for every other config error — never a Bun stack trace.

import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeDir, runMain } from "../helpers/node-process.ts";

const dir = mkdtempSync(join(tmpdir(), "owl-bad-"));
afterAll(() => removeDir(dir));

const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
afterAll(() => taken.stop(true));

/** Runs a start with free ports and its own directories (unless `conf` sets them), plus `extra` arguments. */
async function start(extra: string[], conf = "# empty\n") {
  const run = mkdtempSync(join(dir, "run-"));
  writeFileSync(join(run, "owl.conf"), conf);
  const args = ["-config", join(run, "owl.conf")];
  for (const [k, v] of Object.entries({ Tcpport: 0, Httpport: 0, Respport: 0, DBfile: join(run, "db"), Logfile: join(run, "log"), Pass: "test-password-123" })) {
    if (!new RegExp(`^${k}\\s`, "m").test(conf)) args.push("--set", `${k}=${v}`);
  }
  return runMain([...args, ...extra], {}, run);
}

function expectClean(result: { code: number; stderr: string }, ...parts: (string | RegExp)[]) {
  expect(result.stderr).not.toMatch(/\n\s+at |error: |TypeError|Bun v/);
  expect(result.stderr.trim().split("\n").filter((line) => line.startsWith("owlcache: ")).length).toBe(1);
  for (const part of parts) expect(result.stderr).toMatch(part);
  expect(result.code).toBe(2);
}

test("start - a taken Tcpport or Respport is a clean message naming the key", async () => {
  expectClean(await start(["--set", `Tcpport=${taken.port}`]), `--set Tcpport: cannot listen on 127.0.0.1:${taken.port}`, "EADDRINUSE");
  expectClean(await start(["--set", `Respport=${taken.port}`]), `--set Respport: cannot listen on 127.0.0.1:${taken.port}`, "EADDRINUSE");
}, 30_000);

test("start - a Host that is no address: out of range, empty, or with a trailing comment", async () => {
  expectClean(await start(["--set", "Host=999.1.1.1"]), /--set Host: bad value "999\.1\.1\.1" for Host/);
  expectClean(await start(["--set", "Host="]), /--set Host: bad value "" for Host/);
  expectClean(await start([], "Host\n"), /owl\.conf:1: bad value "" for Host/);
  expectClean(await start([], "# x\nHost 127.0.0.1 # loopback\n"), /owl\.conf:2: bad value .* for Host: .*comment/);
}, 30_000);

test("start - Logfile empty, a regular file, or under a file", async () => {
  const file = join(dir, "a-file");
  writeFileSync(file, "x");
  expectClean(await start(["--set", "Logfile="]), /--set Logfile: bad value "" for Logfile/);
  expectClean(await start(["--set", `Logfile=${file}`]), `--set Logfile: Logfile ${file} cannot be the log directory (EEXIST)`);
  expectClean(await start(["--set", `Logfile=${file}/logs`]), "(ENOTDIR)");
  expectClean(await start([], `Logfile ${file}\n`), /owl\.conf:1: Logfile .* cannot be the log directory/);
}, 30_000);

test("start - a Redis_Addr that is no address, and a config path that is a directory", async () => {
  expectClean(await start(["--set", "Get_data_from_redis=1", "--set", "Redis_Addr=nothing:abc"]), /--set Redis_Addr: bad value "nothing:abc" for Redis_Addr/);
  const confDir = join(dir, "conf-dir");
  mkdirSync(confDir);
  expectClean(await runMain(["-config", confDir]), `config file ${confDir} cannot be read (it is a directory)`);
}, 30_000);
