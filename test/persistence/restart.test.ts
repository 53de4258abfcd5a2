// Restarts of a real owlcache process: the append log under kill -9, expiry across a restart,
// the final snapshot at stop, and refusal / --repair for damaged files.

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checksum, decodeFileHeader, LOG_MAGIC, SNAPSHOT_MAGIC, TOMBS_VERSION } from "../../src/persistence/frame.ts";
import { loadData } from "../../src/persistence/loader.ts";
import { ReplayClock } from "../../src/persistence/replay-clock.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock } from "../../src/store/types.ts";
import { nodesOfThisFile, runMain, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { syncSettings } from "../sync/sync-cluster.ts";
import { dec, enc, flipBit, pipeline, readDataDir, truncateFile } from "./helpers.ts";

const { start } = nodesOfThisFile();

async function killHard(node: NodeProcess): Promise<void> {
  node.kill(9);
  await node.exited;
}

/** Runs main on `dir`'s data until it exits (a refused start), with its exit code and stderr. */
function runOn(node: NodeProcess, extra: string[] = []) {
  const set = { DBfile: node.dataDir, Logfile: node.logDir, Tcpport: 0, Httpport: 0, Respport: 0, Pass: "test-password-123" };
  return runMain([...Object.entries(set).flatMap(([k, v]) => ["--set", `${k}=${v}`]), ...extra]);
}


describe("append log", () => {
  test("Appendfsync always - every acknowledged write survives kill -9 with its value and TTL", async () => {
    const node = await start({ set: { Appendonly: 1, Appendfsync: "always" } });
    const client = await OwlClient.connect(node.tcpPort);
    const before = Date.now();
    for (let i = 0; i < 200; i++) {
      expect((await client.call(`set one:${i} value ${i}`)).Status).toBe(200);
      if (i % 2 === 0) expect((await client.call(`expire one:${i} 1000`)).Status).toBe(200);
    }
    expect((await client.call("delete one:7")).Status).toBe(200);
    const lines = Array.from({ length: 3000 }, (_, i) => `set many:${i} ${"x".repeat(i % 50)}`);
    expect((await pipeline(node.tcpPort, lines)).failures).toBe(0);
    const after = Date.now();
    await killHard(node);

    const { store } = readDataDir(node.dataDir);
    expect(store.size).toBe(200 - 1 + 3000);
    for (let i = 0; i < 200; i++) {
      const entry = store.get(enc(`one:${i}`));
      if (i === 7) {
        expect(entry).toBeUndefined();
        continue;
      }
      expect(dec(entry!.value)).toBe(`value ${i}`);
      if (i % 2 === 0) {
        expect(entry!.expiresAt).toBeGreaterThanOrEqual(before + 1_000_000);
        expect(entry!.expiresAt).toBeLessThanOrEqual(after + 1_000_000);
      } else expect(entry!.expiresAt).toBe(0);
    }
    expect(dec(store.get(enc("many:2999"))!.value)).toBe("x".repeat(2999 % 50));

    const again = await start({ dir: node.dir, set: { Appendonly: 1, Appendfsync: "always" } });
    expect(again.banner).toMatch(/restored\s+3199 keys in \d+ ms/);
    const c2 = await OwlClient.connect(again.tcpPort);
    expect((await c2.call("get one:10")).Data).toBe("value 10");
    expect((await c2.call("get one:7")).Status).toBe(404);
    c2.close();
    expect(await again.stop()).toBe(0);
  });

  test("Appendfsync always - writes of many connections at once, gathered into one log write per turn, all survive kill -9", async () => {
    const node = await start({ set: { Appendonly: 1, Appendfsync: "always" } });
    // 20 connections pipelining at the same time: their writes share group commits.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, c) => pipeline(node.tcpPort, Array.from({ length: 500 }, (_, i) => `set conn${c}:${i} v${c}-${i}`))),
    );
    for (const result of results) expect(result.failures).toBe(0);
    await killHard(node);
    const { store } = readDataDir(node.dataDir);
    expect(store.size).toBe(20 * 500);
    for (let c = 0; c < 20; c++) for (const i of [0, 250, 499]) expect(dec(store.get(enc(`conn${c}:${i}`))!.value)).toBe(`v${c}-${i}`);
  });

  test("append log - clients that vanish while their replies wait for the group commit do not stop the others", async () => {
    const node = await start({ set: { Appendonly: 1, Appendfsync: "always" } });
    // Ten clients send writes and close at once, without reading a reply.
    await Promise.all(
      Array.from({ length: 10 }, async (_, c) => {
        const socket = await Bun.connect({ hostname: "127.0.0.1", port: node.tcpPort, socket: { data() {} } });
        socket.write(Array.from({ length: 200 }, (_, i) => `set gone${c}:${i} v\n`).join(""));
        socket.end();
      }),
    );
    const results = await Promise.all(Array.from({ length: 5 }, (_, c) => pipeline(node.tcpPort, Array.from({ length: 300 }, (_, i) => `set kept${c}:${i} v${i}`))));
    for (const result of results) expect(result.failures).toBe(0);
    const client = await OwlClient.connect(node.tcpPort);
    expect((await client.call("get kept4:299")).Data).toBe("v299");
    client.close();
    await killHard(node);
    const { store } = readDataDir(node.dataDir);
    for (let c = 0; c < 5; c++) expect(dec(store.get(enc(`kept${c}:0`))!.value)).toBe("v0");
  });

  test("Appendfsync everysec - writes acknowledged before kill -9 are there (the OS holds the last second)", async () => {
    const node = await start({ set: { Appendonly: 1, Appendfsync: "everysec", Task_DataBackupSeconds: 1 } });
    const client = await OwlClient.connect(node.tcpPort);
    // Keep writing across at least two snapshots, so log rotation happens under load.
    let acked = 0;
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      expect((await client.call(`set e:${acked} v${acked}`)).Status).toBe(200);
      acked++;
    }
    await killHard(node);
    const logFile = readFileSync(join(node.logDir, "owlcache.log"), "utf8");
    expect(logFile).toContain('"event":"snapshot"');
    const { store } = readDataDir(node.dataDir);
    // A process kill leaves written bytes in the page cache, so here nothing at all may be missing;
    // only a power loss could cost the last second.
    expect(store.size).toBe(acked);
    expect(dec(store.get(enc(`e:${acked - 1}`))!.value)).toBe(`v${acked - 1}`);
  });
});

describe("snapshots across restarts", () => {
  test("startup - keys that expired while down are gone and TTLs keep counting", async () => {
    const node = await start();
    const client = await OwlClient.connect(node.tcpPort);
    for (const line of ["set short a", "expire short 1", "set medium b", "expire medium 3", "set forever c"]) {
      expect((await client.call(line)).Status).toBe(200);
    }
    const setAt = Date.now();
    client.close();
    expect(await node.stop()).toBe(0);
    await Bun.sleep(Math.max(0, setAt + 1200 - Date.now()));
    const again = await start({ dir: node.dir });
    expect(again.banner).toMatch(/restored\s+2 keys in \d+ ms \(1 expired while down\)/);
    const c2 = await OwlClient.connect(again.tcpPort);
    expect((await c2.call("get short")).Status).toBe(404);
    expect((await c2.call("get forever")).Data).toBe("c");
    if (Date.now() < setAt + 2500) expect((await c2.call("get medium")).Data).toBe("b");
    // The remaining TTL runs on from before the stop, not from the restart.
    await Bun.sleep(Math.max(0, setAt + 3100 - Date.now()));
    expect((await c2.call("get medium")).Status).toBe(404);
    c2.close();
    expect(await again.stop()).toBe(0);
  });

  test("graceful stop - writes a final snapshot; an unchanged store writes nothing", async () => {
    const node = await start({ set: { Task_DataBackup: 60 } });
    const lines = Array.from({ length: 1000 }, (_, i) => `set g:${i} ${i}`);
    expect((await pipeline(node.tcpPort, lines)).failures).toBe(0);
    const db = join(node.dataDir, "owlcache.db");
    expect(existsSync(db)).toBe(false);
    expect(await node.stop()).toBe(0);
    expect(readDataDir(node.dataDir).store.size).toBe(1000);

    const first = statSync(db);
    const again = await start({ dir: node.dir, set: { Task_DataBackupSeconds: 1 } });
    expect(again.banner).toMatch(/restored\s+1000 keys/);
    const client = await OwlClient.connect(again.tcpPort);
    expect((await client.call("get g:999")).Data).toBe("999");
    client.close();
    await Bun.sleep(1300); // a scheduled check passes with nothing changed
    expect(await again.stop()).toBe(0);
    const second = statSync(db);
    expect(second.ino).toBe(first.ino);
    expect(second.mtimeMs).toBe(first.mtimeMs);
    expect(readdirSync(node.dataDir).filter((n) => n.includes("tmp"))).toEqual([]);
  });
});

describe("a node that turns sync on", () => {
  const logVersion = (path: string): number => decodeFileHeader(readFileSync(path), LOG_MAGIC).version;

  test("sync on over a version 1 append log - the old log is replayed, a version 2 log follows it, deletes stay deleted across kill -9, and the next snapshot replaces both", async () => {
    const always = { Appendonly: 1, Appendfsync: "always", Task_DataBackup: 60 };
    const plain = await start({ set: always });
    let client = await OwlClient.connect(plain.tcpPort);
    for (const line of ["set a 1", "set b 2", "set c 3", "delete c"]) expect((await client.call(line)).Status).toBe(200);
    client.close();
    await killHard(plain);
    expect(readdirSync(plain.dataDir).filter((n) => n.startsWith("owlcache.aof"))).toEqual(["owlcache.aof"]);
    expect(logVersion(join(plain.dataDir, "owlcache.aof"))).toBe(1);

    const synced = await start({ dir: plain.dir, set: syncSettings(always) });
    client = await OwlClient.connect(synced.tcpPort);
    expect((await client.call("get a")).Data).toBe("1");
    expect((await client.call("get c")).Status).toBe(404);
    for (const line of ["delete a", "set d 4"]) expect((await client.call(line)).Status).toBe(200);
    client.close();
    await killHard(synced);
    // The version 1 log is left as it was; the new records went to the next generation's log.
    const logs = readdirSync(synced.dataDir).filter((n) => n.startsWith("owlcache.aof")).sort();
    expect(logs).toEqual(["owlcache.aof", "owlcache.aof.1"]);
    expect(logVersion(join(synced.dataDir, "owlcache.aof"))).toBe(1);
    expect(logVersion(join(synced.dataDir, "owlcache.aof.1"))).toBe(TOMBS_VERSION);
    const clock = new ReplayClock(new ManualClock(Date.now()));
    const loaded = loadData({ dir: synced.dataDir, store: new MapStore(clock), clock, repair: false, tombstones: true });
    expect(loaded.damaged).toEqual([]);
    expect(loaded.logs.map((l) => l.version)).toEqual([1, TOMBS_VERSION]);
    expect(loaded.keys).toBe(2);
    expect([...loaded.tombs!.tombs.keys()]).toEqual(["a"]);

    const again = await start({ dir: plain.dir, set: syncSettings(always) });
    client = await OwlClient.connect(again.tcpPort);
    expect((await client.call("get a")).Status).toBe(404);
    expect((await client.call("get b")).Data).toBe("2");
    expect((await client.call("get c")).Status).toBe(404);
    expect((await client.call("get d")).Data).toBe("4");
    expect((await client.call("set e 5")).Status).toBe(200);
    client.close();
    // The final snapshot holds everything (a version 2 file, with the tombstone); both logs go,
    // and the log that follows it is a version 2 one.
    expect(await again.stop()).toBe(0);
    expect(readdirSync(again.dataDir).filter((n) => n.startsWith("owlcache.aof"))).toEqual(["owlcache.aof"]);
    expect(logVersion(join(again.dataDir, "owlcache.aof"))).toBe(TOMBS_VERSION);
    expect(decodeFileHeader(readFileSync(join(again.dataDir, "owlcache.db")), SNAPSHOT_MAGIC).version).toBe(TOMBS_VERSION);
    const final = loadData({ dir: again.dataDir, store: new MapStore(clock), clock, repair: false, tombstones: true });
    expect(final.keys).toBe(3);
    expect([...final.tombs!.tombs.keys()]).toEqual(["a"]);
  });
});

describe("damaged files", () => {
  async function nodeWithSnapshot(keys: number): Promise<NodeProcess> {
    const node = await start();
    const lines = Array.from({ length: keys }, (_, i) => `set d:${i} value-${i}`);
    expect((await pipeline(node.tcpPort, lines)).failures).toBe(0);
    expect(await node.stop()).toBe(0);
    return node;
  }

  test("startup - a truncated snapshot stops the start with its path and offset", async () => {
    const node = await nodeWithSnapshot(500);
    const db = join(node.dataDir, "owlcache.db");
    const size = statSync(db).size;
    truncateFile(db, size - 30);
    const run = await runOn(node);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(db);
    expect(run.stderr).toMatch(/truncated at byte offset \d+/);
    expect(readFileSync(db).length).toBe(size - 30); // never overwritten
  });

  test("startup - a flipped bit in the snapshot stops the start; --repair keeps the intact records and sets the file aside", async () => {
    const node = await nodeWithSnapshot(2000);
    const db = join(node.dataDir, "owlcache.db");
    const original = readFileSync(db);
    const at = Math.floor(original.length / 2);
    flipBit(db, at);
    const run = await runOn(node);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(db);
    const offset = Number(/corrupt at byte offset (\d+)/.exec(run.stderr)?.[1]);
    expect(offset).toBeLessThanOrEqual(at);
    expect(offset).toBeGreaterThan(at - 32 * 1024);

    const repaired = await start({ dir: node.dir, args: ["--repair"] });
    const kept = Number(/restored\s+(\d+) keys/.exec(repaired.banner)?.[1]);
    expect(kept).toBeGreaterThanOrEqual(2000 - 32);
    expect(kept).toBeLessThan(2000);
    const client = await OwlClient.connect(repaired.tcpPort);
    expect((await client.call("get d:0")).Data).toBe("value-0");
    expect((await client.call("get d:1999")).Data).toBe("value-1999");
    client.close();
    expect(await repaired.stop()).toBe(0);
    const aside = readdirSync(node.dataDir).filter((n) => n.startsWith("owlcache.db.damaged-"));
    expect(aside.length).toBe(1);
    const damagedCopy = readFileSync(join(node.dataDir, aside[0]!));
    expect(damagedCopy.length).toBe(original.length);
    expect(damagedCopy[at]).not.toBe(original[at]);
    // The repaired snapshot is whole: a plain start accepts it.
    expect(readDataDir(node.dataDir).store.size).toBe(kept);
  });

  for (const damage of ["bytes after its end block", "a whole block dropped"] as const) {
    test(`--repair - a snapshot with ${damage} is repaired: logged with path, offset and records kept, set aside, rewritten whole`, async () => {
      const node = await nodeWithSnapshot(100);
      const db = join(node.dataDir, "owlcache.db");
      const original = readFileSync(db);
      let damaged: Buffer;
      if (damage === "bytes after its end block") damaged = Buffer.concat([original, Buffer.from("garbage")]);
      else {
        // Blocks of 32 records: header, then 32 + 32 + 32 + 4 records, then the end block. Cut the second.
        const second = 36 + 16 + original.readUInt32LE(36 + 4);
        const third = second + 16 + original.readUInt32LE(second + 4);
        damaged = Buffer.concat([original.subarray(0, second), original.subarray(third)]);
      }
      writeFileSync(db, damaged);
      const kept = damage === "a whole block dropped" ? 68 : 100;
      const offset = damage === "a whole block dropped" ? damaged.length - 24 : original.length;
      const run = await runOn(node);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${db}: corrupt at byte offset ${offset}`);

      const repaired = await start({ dir: node.dir, args: ["--repair"] });
      expect(repaired.banner).toMatch(new RegExp(`restored\\s+${kept} keys`));
      expect(await repaired.stop()).toBe(0);
      const log = readFileSync(join(node.logDir, "owlcache.log"), "utf8");
      const line = JSON.parse(log.split("\n").find((l) => l.includes('"event":"repair"'))!) as Record<string, unknown>;
      expect(line).toMatchObject({ file: db, offset, keptRecords: kept });
      const aside = readdirSync(node.dataDir).filter((n) => n.startsWith("owlcache.db.damaged-"));
      expect(aside.length).toBe(1);
      expect(readFileSync(join(node.dataDir, aside[0]!)).equals(damaged)).toBe(true);

      // The next plain start accepts the files: no loop back to --repair.
      const again = await start({ dir: node.dir });
      expect(again.banner).toMatch(new RegExp(`restored\\s+${kept} keys`));
      expect(await again.stop()).toBe(0);
    });
  }

  test("startup - a snapshot of an unknown version is refused, never repaired", async () => {
    const node = await nodeWithSnapshot(10);
    const db = join(node.dataDir, "owlcache.db");
    const bytes = readFileSync(db);
    bytes.writeUInt32LE(3, 8);
    bytes.writeUInt32LE(checksum(bytes.subarray(0, 32)), 32);
    writeFileSync(db, bytes);
    for (const extra of [[], ["--repair"]]) {
      const run = await runOn(node, extra);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${db}: format version 3 is not supported`);
    }
  });

  test("startup - a truncated or bit-flipped append log stops the start; --repair keeps every whole batch", async () => {
    const node = await start({ set: { Appendonly: 1, Appendfsync: "always" } });
    const client = await OwlClient.connect(node.tcpPort);
    for (let i = 0; i < 40; i++) expect((await client.call(`set a:${i} v${i}`)).Status).toBe(200);
    await killHard(node);
    const aof = join(node.dataDir, "owlcache.aof");
    const good = readFileSync(aof);

    truncateFile(aof, good.length - 3);
    let run = await runOn(node, ["--set", "Appendonly=1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(aof);
    expect(run.stderr).toMatch(/truncated at byte offset \d+/);

    writeFileSync(aof, good);
    flipBit(aof, Math.floor(good.length / 2));
    run = await runOn(node, ["--set", "Appendonly=1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/owlcache\.aof: corrupt at byte offset \d+/);

    const repaired = await start({ dir: node.dir, args: ["--repair"], set: { Appendonly: 1, Appendfsync: "always" } });
    expect(repaired.banner).toMatch(/restored\s+39 keys/); // one write per batch: one batch lost
    const c2 = await OwlClient.connect(repaired.tcpPort);
    expect((await c2.call("get a:39")).Data).toBe("v39");
    expect((await c2.call("set after repair")).Status).toBe(200);
    c2.close();
    await killHard(repaired);
    expect(readdirSync(node.dataDir).some((n) => n.startsWith("owlcache.aof.damaged-"))).toBe(true);
    const { store } = readDataDir(node.dataDir);
    expect(store.size).toBe(40);
    expect(dec(store.get(enc("after"))!.value)).toBe("repair");
  });

  test("startup - an append log with a damaged header is refused; --repair replays its intact blocks", async () => {
    const settings = { Appendonly: 1, Appendfsync: "always" };
    const node = await start({ set: settings });
    expect((await pipeline(node.tcpPort, ["set h1 one", "set h2 two"])).failures).toBe(0);
    await killHard(node);
    const aof = join(node.dataDir, "owlcache.aof");
    flipBit(aof, 3);
    const run = await runOn(node, ["--set", "Appendonly=1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${aof}: corrupt at byte offset 0`);
    const repaired = await start({ dir: node.dir, args: ["--repair"], set: settings });
    expect(repaired.banner).toMatch(/restored\s+2 keys/);
    expect(await repaired.stop()).toBe(0);
    expect(readDataDir(node.dataDir).store.size).toBe(2);
  });

  test("startup - a log whose snapshot is missing is refused; --repair starts from the log", async () => {
    const settings = { Appendonly: 1, Appendfsync: "always" };
    const node = await start({ set: settings });
    expect((await pipeline(node.tcpPort, ["set before snapshot"])).failures).toBe(0);
    expect(await node.stop()).toBe(0); // snapshot generation 1 and an empty log that follows it
    const again = await start({ dir: node.dir, set: settings });
    expect((await pipeline(again.tcpPort, ["set after snapshot"])).failures).toBe(0);
    await killHard(again);
    const db = join(node.dataDir, "owlcache.db");
    rmSync(db);
    const run = await runOn(node, ["--set", "Appendonly=1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`owlcache.aof: follows generation 1, but ${db} is missing`);
    const repaired = await start({ dir: node.dir, args: ["--repair"], set: settings });
    expect(repaired.banner).toMatch(/restored\s+1 keys/);
    expect(await repaired.stop()).toBe(0);
    // The repair wrote a snapshot the log follows again: a plain start accepts the files.
    expect(readDataDir(node.dataDir).store.size).toBe(1);
  });
});
