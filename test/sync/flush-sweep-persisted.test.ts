// A node stopped while it swept a peer's flush, with persistence on: the watermark was saved, the
// deletes the sweep had not made yet were not, so the keys the flush covers come back from the
// data files. On load the replica sees the watermark covers keys it holds and sweeps again: they
// are hidden from reads at once and gone once the sweep ends, in the files too.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Replica } from "../../src/cluster/sync/replica.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { Persistence } from "../../src/persistence/persistence.ts";
import { ReplayClock } from "../../src/persistence/replay-clock.ts";
import { fromUtf8, utf8 } from "../../src/store/bytes.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { ManualClock } from "../../src/store/types.ts";
import { readDataDir } from "../persistence/helpers.ts";

const NOW = 1_800_000_000_000;
const TTL = 60_000;
const OLD = 20_000;
const sink = { put: () => {}, del: () => {}, flush: () => {} };
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A node's keyspace and persistence over `dir` at time `now`, loaded, with a replica on top. */
async function start(dir: string, appendonly: boolean, now: number) {
  const clock = new ReplayClock(new ManualClock(now));
  const keyspace = new Keyspace(new CompactStore(clock), clock);
  const persistence = new Persistence({
    dir, keyspace, clock, log: silentLogger, appendonly, appendfsync: "always", intervalMs: 3_600_000, repair: false,
    engine: { onBeforeReply: () => {} }, onFatal: (message) => { throw new Error(message); }, tombGraceMs: TTL,
  });
  const restored = await persistence.open();
  const replica = new Replica(keyspace, () => "n1", TTL, sink);
  replica.journal = persistence.journal;
  if (restored.tombs) replica.restoreTombs(restored.tombs);
  persistence.setTombSource(() => replica.captureTombs());
  return { keyspace, persistence, replica };
}

const keysOf = (keyspace: Keyspace): string[] => [...keyspace.store.entries()].map(([k]) => fromUtf8(k)).sort();

describe("a peer's flush swept by slices, with persistence", () => {
  for (const appendonly of [true, false]) {
    test(`restart mid-sweep (${appendonly ? "append log" : "snapshot taken mid-sweep"}) - the load sweeps again: what the flush covers is hidden at once, then gone, from the files too`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "owl-flush-sweep-"));
      dirs.push(dir);
      const first = await start(dir, appendonly, NOW);
      for (let i = 0; i < OLD; i++) first.keyspace.set(utf8(`old${i}`), utf8("v"), 0, NOW - 10 - (i % 100));
      const newer = Array.from({ length: 100 }, (_, i) => `new${i}`);
      for (const k of newer) first.keyspace.set(utf8(k), utf8("v"), 0, NOW + 10);
      first.replica.apply([
        { kind: "del", key: utf8("gone-before"), writtenAt: NOW - 5, origin: "n2" },
        { kind: "del", key: utf8("gone-after"), writtenAt: NOW + 5, origin: "n2" },
      ], false);
      // the node dies after the sweep's first slice: its next turn never comes
      first.replica.turn = () => new Promise<void>(() => {});
      const w = { at: NOW, origin: "n2" };
      first.replica.applyFlush(w);
      expect(first.replica.flushSweep.running).toBe(true);
      expect(first.keyspace.store.size).toBeGreaterThan(newer.length + 1000);
      if (appendonly) await new Promise((resolve) => setTimeout(resolve, 20)); // the log's last batch reaches the file
      else await first.persistence.snapshot(true);

      const second = await start(dir, appendonly, NOW + 1000);
      const loaded = second.keyspace.store.size;
      expect(loaded).toBeGreaterThan(newer.length + 1000); // covered keys back from the files…
      expect(second.replica.digest.watermark).toEqual(w);
      expect(second.replica.flushSweep.running).toBe(true); // …and swept again
      const left = keysOf(second.keyspace).filter((k) => k.startsWith("old"));
      expect(left.length).toBeGreaterThan(0);
      for (const k of left.slice(-20)) expect(second.keyspace.get(utf8(k))).toBeUndefined();
      expect(fromUtf8(second.keyspace.get(utf8("new7"))!.value)).toBe("v");
      await second.replica.flushSweep.idle();
      expect(keysOf(second.keyspace)).toEqual(newer.toSorted());
      expect(second.replica.digest.tombCount).toBe(1);
      expect(second.replica.digest.liveCount).toBe(newer.length);
      if (appendonly) await new Promise((resolve) => setTimeout(resolve, 20));
      else await second.persistence.snapshot(true);

      // the sweep's deletes reached the files: a third start has nothing to sweep
      const { store } = readDataDir(dir, NOW + 2000);
      expect([...store.entries()].map(([k]) => fromUtf8(k)).sort()).toEqual(newer.toSorted());
      const third = await start(dir, appendonly, NOW + 2000);
      expect(third.replica.flushSweep.running).toBe(false);
      expect(keysOf(third.keyspace)).toEqual(newer.toSorted());
      for (const node of [third, second, first]) {
        node.replica.close();
        await node.persistence.close();
      }
    });
  }
});
