// --repair end to end: a real node's snapshot damaged three ways at once (a block whose length runs
// past the file's end, a flipped byte in a value, a second snapshot appended after the end block),
// refused by a plain start, then loaded by a real `--repair` start that keeps every intact block.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeFile } from "../../src/persistence/file-codec.ts";
import { SNAPSHOT_MAGIC } from "../../src/persistence/frame.ts";
import { decodeRecords } from "../../src/persistence/records.ts";
import { nodesOfThisFile, runMain, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { dec, pipeline } from "./helpers.ts";

const { start } = nodesOfThisFile();

/** A stopped node whose snapshot holds `keys` keys `prefix:i` = `value-i`, and that snapshot's bytes. */
async function snapshotOf(prefix: string, keys: number): Promise<{ node: NodeProcess; bytes: Buffer }> {
  const node = await start();
  expect((await pipeline(node.tcpPort, Array.from({ length: keys }, (_, i) => `set ${prefix}:${i} value-${i}`))).failures).toBe(0);
  expect(await node.stop()).toBe(0);
  return { node, bytes: readFileSync(join(node.dataDir, "owlcache.db")) };
}

/** Each record block of a snapshot: [start, end) and its keys. */
function blocksOf(bytes: Uint8Array): { start: number; end: number; keys: string[] }[] {
  const blocks: { start: number; end: number; keys: string[] }[] = [];
  const none = () => {};
  decodeFile(bytes, SNAPSHOT_MAGIC, false, (payload, count, base) => {
    const keys: string[] = [];
    decodeRecords(payload, count, base, { set: (key) => keys.push(dec(key)), expire: none, delete: none, flush: none }, true);
    blocks.push({ start: base - 16, end: base + payload.length, keys });
  });
  return blocks;
}

/** Runs main on `node`'s data until it exits (a refused start). */
function runOn(node: NodeProcess) {
  const set = { DBfile: node.dataDir, Logfile: node.logDir, Tcpport: 0, Httpport: 0, Respport: 0, Pass: "test-password-123" };
  return runMain(Object.entries(set).flatMap(([k, v]) => ["--set", `${k}=${v}`]));
}

describe("--repair end to end", () => {
  test("--repair - a length past the end, a flipped value byte and a snapshot appended after the end block: every intact block is kept", async () => {
    const { node, bytes: original } = await snapshotOf("d", 200);
    const { bytes: appended } = await snapshotOf("e", 50);
    const blocks = blocksOf(original);
    expect(blocks.length).toBe(7); // 6 × 32 + 8 records
    const [long, flipped] = [blocks[1]!, blocks[3]!];
    const damaged = Buffer.concat([original, appended]);
    damaged.writeUInt32LE(damaged.length, long.start + 4); // its length now runs past the end of the file
    damaged[flipped.start + 100] = damaged[flipped.start + 100]! ^ 0x20; // inside a key or value
    const db = join(node.dataDir, "owlcache.db");
    writeFileSync(db, damaged);

    const refused = await runOn(node);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${db}: truncated at byte offset ${long.start}: block needs`);
    expect(readFileSync(db).equals(damaged)).toBe(true);

    const repaired = await start({ dir: node.dir, args: ["--repair"] });
    const kept = 200 - long.keys.length - flipped.keys.length + 50;
    expect(repaired.banner).toMatch(new RegExp(`restored\\s+${kept} keys`));
    const client = await OwlClient.connect(repaired.tcpPort);
    for (const key of [blocks[2]!.keys[0]!, blocks[6]!.keys.at(-1)!, "e:0", "e:49"]) {
      expect((await client.call(`get ${key}`)).Data, key).toBe(`value-${key.split(":")[1]}`);
    }
    expect((await client.call(`get ${long.keys[0]}`)).Status).toBe(404);
    expect((await client.call(`get ${flipped.keys[0]}`)).Status).toBe(404);
    client.close();
    expect(await repaired.stop()).toBe(0);

    const log = readFileSync(join(node.logDir, "owlcache.log"), "utf8");
    const line = JSON.parse(log.split("\n").find((l) => l.includes('"event":"repair"'))!) as Record<string, unknown>;
    expect(line).toMatchObject({
      file: db,
      offset: long.start,
      keptRecords: kept,
      skippedBlocks: 2,
      // the two blocks, and the appended file's header
      skippedBytes: long.end - long.start + (flipped.end - flipped.start) + 36,
    });
    const aside = readdirSync(node.dataDir).filter((n) => n.startsWith("owlcache.db.damaged-"));
    expect(aside.map((n) => readFileSync(join(node.dataDir, n)).equals(damaged))).toEqual([true]);

    // The repaired snapshot is whole: a plain start accepts it.
    const again = await start({ dir: node.dir });
    expect(again.banner).toMatch(new RegExp(`restored\\s+${kept} keys`));
    expect(await again.stop()).toBe(0);
  });
});
