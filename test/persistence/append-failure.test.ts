// An append the disk refuses, on a real process: the node is started under a file size limit
// (RLIMIT_FSIZE through `ulimit -f`, with SIGXFSZ ignored so write(2) fails with EFBIG instead of
// killing it), which makes owlcache.aof's writes fail past a point, as a full disk would. In
// every Appendfsync mode the write is never acknowledged and the node exits 1 naming the file.

import { expect, test } from "bun:test";
import { join } from "node:path";
import { nodesOfThisFile } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { dec, enc, readDataDir } from "./helpers.ts";

const { start } = nodesOfThisFile();

/** 256 blocks of 512 bytes (sh's unit): 128 KiB per file, room for ~120 writes of 1 KiB. */
const LIMITED = ["sh", "-c", 'trap "" XFSZ; ulimit -f 256; exec "$@"', "sh"];
const VALUE = "v".repeat(1000);

for (const fsync of ["everysec", "no", "always"] as const) {
  test(`Appendfsync ${fsync} - an append that fails (EFBIG) is never acknowledged; the node exits 1 naming owlcache.aof`, async () => {
    const node = await start({ set: { Appendonly: 1, Appendfsync: fsync }, wrap: LIMITED, env: { BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" } });
    const client = await OwlClient.connect(node.tcpPort);
    const acked: string[] = [];
    let unacked: string | undefined;
    for (let i = 0; i < 400 && unacked === undefined; i++) {
      try {
        const reply = await client.call(`set k${i} ${VALUE}`);
        expect(reply.Status).toBe(200);
        acked.push(`k${i}`);
      } catch {
        unacked = `k${i}`; // the connection closed without a reply
      }
    }
    expect(unacked).toBeDefined();
    expect(acked.length).toBeGreaterThan(50);
    expect(await node.exited).toBe(1);
    const aof = join(node.dataDir, "owlcache.aof");
    expect(node.stderr()).toContain(`owlcache: ${aof}: append log write failed (`);
    expect(node.stderr()).toContain("EFBIG");

    // Every acknowledged write is in the log, whole; the refused one is not (its torn part was cut off).
    const { store } = readDataDir(node.dataDir);
    for (const key of acked) expect(dec(store.get(enc(key))!.value)).toBe(VALUE);
    expect(store.get(enc(unacked!))).toBeUndefined();
    const again = await start({ dir: node.dir, set: { Appendonly: 1, Appendfsync: fsync } });
    expect(again.banner).toMatch(new RegExp(`restored\\s+${acked.length} keys`));
    expect(await again.stop()).toBe(0);
  });
}
