// Sync configuration checked at start: sync without an auth key is refused with a clear message.

import { expect, test } from "bun:test";
import { runMain } from "../helpers/node-process.ts";

test("config - GroupDataSync 1 without GossipDataSyncAuthKey refuses to start and names the key", async () => {
  const { code, stderr } = await runMain(["--set", "GroupDataSync=1", "--set", "Tcpport=0", "--set", "Httpport=0", "--set", "Respport=0", "--set", "Pass=test-password-123", "--set", "DBfile=./db", "--set", "Logfile=./log"]);
  expect(code).toBe(2);
  expect(stderr).toContain("GossipDataSyncAuthKey");
});

test("config - GossipTombstoneTTL below a minute is refused", async () => {
  const { code, stderr } = await runMain(["--set", "GossipTombstoneTTL=5"]);
  expect(code).toBe(2);
  expect(stderr).toContain("GossipTombstoneTTL");
});
