// kill -9 at random moments while a snapshot of 200k keys is being written: every restart must
// load the old or the new snapshot whole, never a torn one.

import { afterAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { dec, enc, pipeline, readDataDir } from "./helpers.ts";

const KEYS = 200_000;
const KILLS = 20;
let node: NodeProcess | undefined;
let dir: string | undefined;

afterAll(async () => {
  if (node && node.proc.exitCode === null) {
    node.kill(9);
    await node.exited;
  }
  if (dir) removeDir(dir);
});

/** Resolves once a snapshot temp file exists (the write is under way). */
async function snapshotInProgress(dataDir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (readdirSync(dataDir).some((name) => name.startsWith("owlcache.db.tmp-"))) return;
    await Bun.sleep(1);
  }
  throw new Error("no snapshot started");
}

test(
  "snapshot - kill -9 at 20 random moments while writing 200k keys: every restart loads the old or new snapshot",
  async () => {
    // Task_DataBackupSeconds 1: a snapshot a second whenever something changed (the test hook).
    const settings = { Task_DataBackupSeconds: 1 };
    node = await startNode({ set: settings });
    dir = node.dir;
    const lines = Array.from({ length: KEYS }, (_, i) => `set k:${i} ${i}`);
    expect((await pipeline(node.tcpPort, lines, 120_000)).failures).toBe(0);
    expect(await node.stop()).toBe(0);

    let restored = KEYS;
    let torn = 0;
    for (let round = 0; round < KILLS; round++) {
      node = await startNode({ dir, set: settings, timeoutMs: 60_000 });
      const count = Number(/restored\s+(\d+) keys/.exec(node.banner)?.[1]);
      // The old snapshot (previous count) or the new one (+1 marker), nothing else.
      expect([restored, restored + 1]).toContain(count);
      restored = count;
      expect((await pipeline(node.tcpPort, [`set k:${round} changed-${round}`, `set marker:${round} ${round}`])).failures).toBe(0);
      await snapshotInProgress(node.dataDir, 5000);
      // A 200k-key snapshot takes longer than this on any disk, so most kills land mid-write.
      await Bun.sleep(Math.random() * 80);
      node.kill(9);
      await node.exited;
      if (readdirSync(node.dataDir).some((name) => name.startsWith("owlcache.db.tmp-"))) torn++;
    }
    // Enough kills must have landed mid-write (a temp file left behind), or the test proves nothing.
    expect(torn).toBeGreaterThanOrEqual(KILLS / 4);

    const { store, result } = readDataDir(node.dataDir);
    expect(result.keys).toBeGreaterThanOrEqual(restored);
    expect(dec(store.get(enc("k:150000"))!.value)).toBe("150000");
    for (let round = 0; round < KILLS; round++) {
      const marker = store.get(enc(`marker:${round}`));
      // The marker was written after the change, so a snapshot holding it holds the change too.
      if (marker) expect(dec(store.get(enc(`k:${round}`))!.value)).toBe(`changed-${round}`);
    }
  },
  180_000,
);
