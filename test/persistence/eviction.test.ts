// MaxMemory and the data files, on real processes: evictions are in the append log, so kill -9
// and a restart bring back exactly the keys that were live (no lost hot keys, no evicted keys
// back); data loaded over a lowered MaxMemory is evicted down, and those evictions are logged too.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { nodesOfThisFile, runMain, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { pipeline, readDataDir } from "./helpers.ts";

const { start } = nodesOfThisFile();

async function killHard(node: NodeProcess): Promise<void> {
  node.kill(9);
  await node.exited;
}

const keyName = (i: number): string => `key${i.toString().padStart(4, "0")}`;

/** The keys of key0000..key(n-1) the node holds, asked one by one. */
async function liveKeys(node: NodeProcess, n: number): Promise<string[]> {
  const client = await OwlClient.connect(node.tcpPort);
  const live: string[] = [];
  for (let i = 0; i < n; i++) if ((await client.call(`exist ${keyName(i)}`)).Status === 200) live.push(keyName(i));
  client.close();
  return live;
}

interface Health {
  memory: { storeBytes: number };
  evictedKeys: number;
}

async function health(node: NodeProcess): Promise<Health> {
  return (await (await fetch(`http://127.0.0.1:${node.httpPort}/health`)).json()) as Health;
}

describe("MaxMemory with the append log", () => {
  test("Appendfsync always - after kill -9 the node holds exactly the keys live before it, the hot one included", async () => {
    const settings = { Appendonly: 1, Appendfsync: "always", MaxMemory: 20_000 };
    const node = await start({ set: settings });
    // 400 keys of 107 bytes into room for ~186; key0001 is read after every write, so LRU keeps it.
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) lines.push(`set ${keyName(i)} ${"0".repeat(100)}`, "get key0001");
    await pipeline(node.tcpPort, lines);
    const before = await liveKeys(node, 400);
    expect(before.length).toBeGreaterThan(150);
    expect(before.length).toBeLessThan(400);
    expect(before).toContain("key0001");
    expect((await health(node)).evictedKeys).toBe(400 - before.length);
    await killHard(node);

    // The files alone (read with no MaxMemory) say the same: every eviction is a logged delete.
    expect([...readDataDir(node.dataDir).store.entries()].map(([key]) => new TextDecoder().decode(key)).sort()).toEqual(before);
    const again = await start({ dir: node.dir, set: settings });
    expect(await liveKeys(again, 400)).toEqual(before);
    expect(await again.stop()).toBe(0);
  });

  test("MaxMemory lowered between runs - the load is evicted down, logged, and the evictions survive kill -9", async () => {
    const node = await start({ set: { Appendonly: 1 } });
    await pipeline(node.tcpPort, Array.from({ length: 100 }, (_, i) => `set ${keyName(i)} ${"v".repeat(93)}`)); // 100 bytes each
    expect(await node.stop()).toBe(0);

    const settings = { Appendonly: 1, Appendfsync: "always", MaxMemory: 5_000 };
    const lowered = await start({ dir: node.dir, set: settings });
    const kept = Number(/restored\s+(\d+) keys/.exec(lowered.banner)?.[1]);
    expect(kept).toBe(50);
    expect(lowered.banner).toContain("50 evicted: over MaxMemory");
    expect((await health(lowered)).memory.storeBytes).toBeLessThanOrEqual(5_000);
    const log = readFileSync(join(lowered.logDir, "owlcache.log"), "utf8");
    expect(log).toMatch(/"event":"evicted after load".*"keys":50/);
    const live = await liveKeys(lowered, 100);
    expect(live.length).toBe(50);
    await killHard(lowered);

    // A reload under the same limit evicts nothing more, and loses no key of the 50.
    const again = await start({ dir: node.dir, set: settings });
    expect(again.banner).toMatch(/restored\s+50 keys in \d+ ms\n/);
    expect(await liveKeys(again, 100)).toEqual(live);
    expect(await again.stop()).toBe(0);
  });

  for (const ending of ["snapshot", "append log"] as const) {
    test(`MaxMemory lowered below one stored value (${ending}) - the start stops naming the file, the size, MaxMemory and what to do`, async () => {
      const node = await start({ set: { Appendonly: 1, Appendfsync: "always" } });
      const client = await OwlClient.connect(node.tcpPort);
      expect((await client.call(`set big ${"b".repeat(5000)}`)).Status).toBe(200);
      expect((await client.call("set small s")).Status).toBe(200);
      client.close();
      if (ending === "snapshot") expect(await node.stop()).toBe(0);
      else await killHard(node);

      const file = join(node.dataDir, ending === "snapshot" ? "owlcache.db" : "owlcache.aof");
      const set = { DBfile: node.dataDir, Logfile: node.logDir, Tcpport: 0, Httpport: 0, Respport: 0, Pass: "test-password-123", Appendonly: 1, MaxMemory: 1000 };
      const run = await runMain(Object.entries(set).flatMap(([k, v]) => ["--set", `${k}=${v}`]));
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`owlcache: ${file}: holds key "big" with 5003 bytes of key and value, more than MaxMemory (1000 bytes)`);
      expect(run.stderr).toContain("raise MaxMemory to at least 5003");
      expect(run.stderr).not.toContain("Error:");
    });
  }
});
