// A real node restarted while a peer's flush was being swept (the watermark saved, the keys it
// covers back from the data files): from the moment its TCP port takes a connection, reads miss
// what the flush covers; the owl port used to open before sync had resumed the sweep.

import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Replica } from "../../src/cluster/sync/replica.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { Persistence } from "../../src/persistence/persistence.ts";
import { ReplayClock } from "../../src/persistence/replay-clock.ts";
import { utf8 } from "../../src/store/bytes.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { systemClock } from "../../src/store/types.ts";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { freePort, syncSettings } from "./sync-cluster.ts";

const OLD = 20_000;
const dirs: string[] = [];
const nodes: NodeProcess[] = [];
afterAll(async () => {
  for (const node of nodes) if (node.proc.exitCode === null) await node.stop();
  for (const dir of dirs) removeDir(dir);
});

/** A data directory as a node leaves it when killed during a sweep: old keys, a newer one, and the flush's watermark. */
async function dataDirMidSweep(dataDir: string, now: number): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const clock = new ReplayClock(systemClock);
  const keyspace = new Keyspace(new CompactStore(clock), clock);
  const persistence = new Persistence({
    dir: dataDir, keyspace, clock, log: silentLogger, appendonly: true, appendfsync: "always", intervalMs: 3_600_000, repair: false,
    engine: { onBeforeReply: () => {} }, onFatal: (message) => { throw new Error(message); }, tombGraceMs: 86_400_000,
  });
  await persistence.open();
  const replica = new Replica(keyspace, () => "n1", 86_400_000, { put: () => {}, del: () => {}, flush: () => {} });
  replica.journal = persistence.journal;
  persistence.setTombSource(() => replica.captureTombs());
  for (let i = 0; i < OLD; i++) keyspace.set(utf8(`old${i}`), utf8("covered"), 0, now - 10);
  keyspace.set(utf8("new"), utf8("kept"), 0, now + 10);
  replica.turn = () => new Promise<void>(() => {}); // the node dies after the first slice
  replica.applyFlush({ at: now, origin: "n2" });
  expect(replica.flushSweep.running).toBe(true);
  await persistence.close();
}

/** Connects as soon as the port takes connections and reads `keys` at once: the first answers. */
async function firstReads(port: number, keys: readonly string[], deadline: number): Promise<string[]> {
  for (;;) {
    let answers = "";
    const done = Promise.withResolvers<void>();
    try {
      await Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          open: (socket) => void socket.write(keys.map((k) => `get ${k}\n`).join("")),
          data: (_socket, chunk) => {
            answers += Buffer.from(chunk).toString();
            if (answers.split("\n").length > keys.length + 1) done.resolve();
          },
          close: () => done.resolve(),
        },
      });
    } catch {
      if (Date.now() > deadline) throw new Error("the node's TCP port never opened");
      await Bun.sleep(1);
      continue;
    }
    await Promise.race([done.promise, Bun.sleep(5_000)]);
    return answers.split("\n").slice(1, keys.length + 1);
  }
}

test("restart mid-sweep (real node) - the first reads on the owl port miss what the flush covers", async () => {
  const dir = mkdtempSync(join(tmpdir(), "owl-sweep-restart-"));
  dirs.push(dir);
  const now = Date.now();
  await dataDirMidSweep(join(dir, "db_file"), now);
  const tcpPort = freePort();
  const keys = ["old19999", "old0", "old10000", "new"];
  const [answers, node] = await Promise.all([
    firstReads(tcpPort, keys, Date.now() + 20_000),
    startNode({ dir, set: syncSettings({ Tcpport: tcpPort, Appendonly: 1 }) }),
  ]);
  nodes.push(node);
  const found = answers.map((line) => (JSON.parse(line) as { Data: unknown }).Data);
  expect(found).toEqual([null, null, null, "kept"]);
});
