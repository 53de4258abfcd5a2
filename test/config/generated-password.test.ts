// SPEC §5: a generated password is printed once, in the banner. A first start that fails after
// writing it (here: a taken port) must not leave a password nobody was shown.

import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PASSWORD_FILE } from "../../src/auth/password.ts";
import { nodesOfThisFile, removeDir, runMain } from "../helpers/node-process.ts";

const nodes = nodesOfThisFile();
const dir = mkdtempSync(join(tmpdir(), "owl-genpw-"));
afterAll(() => removeDir(dir));

test("start - a first start that fails removes the password it generated; the next start shows one", async () => {
  const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const dataDir = join(dir, "db_file");
  writeFileSync(join(dir, "none.conf"), "# empty\n");
  const args = ["-config", join(dir, "none.conf"), "--set", `DBfile=${dataDir}`, "--set", `Logfile=${join(dir, "log_file")}`];
  const failed = await runMain([...args, "--set", "Httpport=0", "--set", "Respport=0", "--set", `Tcpport=${taken.port}`], {}, dir);
  taken.stop(true);
  expect(failed.code).toBe(2);
  expect(failed.stdout).not.toContain("password");
  expect(existsSync(join(dataDir, PASSWORD_FILE))).toBe(false);

  const node = await nodes.start({ dir, set: { Pass: "" } });
  const shown = /password\s+(\S+)\s+\(generated/.exec(node.banner)?.[1];
  expect(shown).toBeDefined();
  expect(readFileSync(join(dataDir, PASSWORD_FILE), "utf8").trim()).toBe(shown!);
  expect(await node.stop()).toBe(0);
}, 30_000);

test("start - a failure no start check names (the password file is a directory) still ends the start non-zero, with the reason on stderr", async () => {
  // Errors that escape the start must not be taken for a running node's bugs (logged, node goes
  // on): that exited 0, or left a node listening with half its parts.
  const own = mkdtempSync(join(tmpdir(), "owl-genpw-dir-"));
  try {
    const dataDir = join(own, "db_file");
    mkdirSync(join(dataDir, PASSWORD_FILE), { recursive: true });
    writeFileSync(join(own, "none.conf"), "# empty\n");
    const args = ["-config", join(own, "none.conf"), "--set", `DBfile=${dataDir}`, "--set", `Logfile=${join(own, "log_file")}`];
    const failed = await runMain([...args, "--set", "Httpport=0", "--set", "Respport=0", "--set", "Tcpport=0", "--set", "Pass="], {}, own);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain("EISDIR");
  } finally {
    removeDir(own);
  }
});
