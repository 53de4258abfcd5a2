// The data directory at start, on real processes: one server per directory (owlcache.lock, held
// with flock until the process ends, kill -9 included), and clear `owlcache:` messages for a
// DBfile that is a file, cannot be created or cannot be written, and for data files that are
// directories.

import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeDir, runMain, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { dec, enc, pipeline, readDataDir } from "./helpers.ts";

const started: NodeProcess[] = [];
const dirs = new Set<string>();

async function start(options: Parameters<typeof startNode>[0] = {}): Promise<NodeProcess> {
  const node = await startNode(options);
  started.push(node);
  dirs.add(node.dir);
  return node;
}

afterAll(async () => {
  for (const node of started) {
    if (node.proc.exitCode === null) {
      node.kill(9);
      await node.exited;
    }
  }
  for (const dir of dirs) {
    chmodSync(dir, 0o700);
    removeDir(dir);
  }
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "owl-datadir-"));
  dirs.add(dir);
  return dir;
}

/** Runs main with these DBfile and Logfile until it exits (a refused start). */
function runWith(dataDir: string, logDir: string, extra: Record<string, string | number> = {}, args: string[] = [], wrap: string[] = []) {
  const set = { DBfile: dataDir, Logfile: logDir, Tcpport: 0, Httpport: 0, Respport: 0, Pass: "test-password-123", ...extra };
  return runMain([...Object.entries(set).flatMap(([k, v]) => ["--set", `${k}=${v}`]), ...args], {}, undefined, wrap);
}

/** The last line on stderr: what the user reads. */
const lastLine = (stderr: string): string => stderr.trim().split("\n").at(-1)!;

describe("one server per data directory", () => {
  test("lock - a second server on the same DBfile refuses to start, naming the directory and the holder's pid; after kill -9 of the first, a new one starts", async () => {
    const settings = { Appendonly: 1, Appendfsync: "always" };
    const first = await start({ set: settings });
    expect((await pipeline(first.tcpPort, ["set a 1"])).failures).toBe(0);
    expect(readFileSync(join(first.dataDir, "owlcache.lock"), "utf8")).toBe(`${first.proc.pid}\n`);

    const second = await runWith(first.dataDir, join(first.dir, "log2"), settings);
    expect(second.code).toBe(1);
    expect(lastLine(second.stderr)).toBe(
      `owlcache: data directory ${first.dataDir} is in use by another owlcache (pid ${first.proc.pid}): it holds ${join(first.dataDir, "owlcache.lock")}. ` +
        "Two servers on one data directory would destroy each other's data; stop that one, or give this one another DBfile",
    );
    // The first one goes on undisturbed; reading its files needs no lock.
    expect((await pipeline(first.tcpPort, ["set b 2"])).failures).toBe(0);
    const { store } = readDataDir(first.dataDir);
    expect(dec(store.get(enc("a"))!.value)).toBe("1");
    expect(dec(store.get(enc("b"))!.value)).toBe("2");

    // kill -9 leaves the lock file behind, but not the lock.
    first.kill(9);
    await first.exited;
    const next = await start({ dir: first.dir, set: settings });
    expect(next.banner).toMatch(/restored\s+2 keys/);
    expect(readFileSync(join(first.dataDir, "owlcache.lock"), "utf8")).toBe(`${next.proc.pid}\n`);
    expect(await next.stop()).toBe(0);
  });
});

describe("clear start-up errors", () => {
  test("start - a DBfile that is a regular file, or that cannot be created, stops the start with an owlcache: message", async () => {
    const dir = tempDir();
    const file = join(dir, "afile");
    writeFileSync(file, "x");
    let run = await runWith(file, join(dir, "log"));
    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)).toBe(`owlcache: data directory ${file} is not a directory (a file of that name is in the way); point DBfile at a directory`);

    const under = join(file, "db");
    run = await runWith(under, join(dir, "log"));
    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)).toBe(
      `owlcache: data directory ${under} cannot be created (ENOTDIR: not a directory); point DBfile at a directory this user can create`,
    );
    expect(readFileSync(file, "utf8")).toBe("x");
  });

  for (const name of ["owlcache.db", "owlcache.aof"]) {
    test(`start - ${name} that is a directory stops the start naming it, with --repair too`, async () => {
      const dir = tempDir();
      const dataDir = join(dir, "db");
      mkdirSync(join(dataDir, name), { recursive: true });
      for (const args of [[], ["--repair"]]) {
        const run = await runWith(dataDir, join(dir, "log"), { Appendonly: 1 }, args);
        expect(run.code).toBe(1);
        expect(lastLine(run.stderr)).toBe(`owlcache: ${join(dataDir, name)} is a directory, not a data file; refusing to start. Move it out of the data directory`);
      }
    });
  }

  // As root, permission bits do not stop writes: the node runs without CAP_DAC_OVERRIDE (setpriv
  // drops it from the bounding set), so the directory's mode applies to it as to anyone.
  const root = process.getuid?.() === 0;
  const setpriv = Bun.which("setpriv");
  const unprivileged = root ? [setpriv ?? "setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"] : [];
  // (A container without CAP_SETPCAP cannot drop it: then there is no way to make the case here.)
  const canDrop = !root || (setpriv !== null && Bun.spawnSync([...unprivileged, "true"]).exitCode === 0);
  for (const appendonly of [0, 1]) {
    test.skipIf(!canDrop)(`start - a data directory that cannot be written is refused at start (Appendonly ${appendonly}), its data untouched`, async () => {
      const seeded = await start();
      const client = await OwlClient.connect(seeded.tcpPort);
      expect((await client.call("set kept yes")).Status).toBe(200);
      client.close();
      expect(await seeded.stop()).toBe(0);
      const before = readFileSync(join(seeded.dataDir, "owlcache.db"));
      chmodSync(seeded.dataDir, 0o555);
      try {
        const run = await runWith(seeded.dataDir, seeded.logDir, { Appendonly: appendonly }, [], unprivileged);
        expect(run.code).toBe(1);
        expect(lastLine(run.stderr)).toBe(
          `owlcache: data directory ${seeded.dataDir} is not writable (EACCES: permission denied): snapshots and the append log could not be saved. ` +
            "Refusing to start; make it writable for this user, or point DBfile elsewhere",
        );
      } finally {
        chmodSync(seeded.dataDir, 0o700);
      }
      expect(readFileSync(join(seeded.dataDir, "owlcache.db")).equals(before)).toBe(true);
    });
  }
});
