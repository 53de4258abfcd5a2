// Sync's tombstones and flush watermark in the data files (format version 2): round trips through
// the snapshot and the log, old version 1 files (written by the main branch's encoder, kept as
// fixtures) loading as before, damage in the new records reported with its offset, --repair
// keeping what is whole, and a node without sync reading past them.

import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOG_FILE } from "../../src/persistence/append-log.ts";
import { decodeFile, SnapshotEncoder } from "../../src/persistence/file-codec.ts";
import { encodeFileHeader, FormatError, LOG_MAGIC, SNAPSHOT_MAGIC, TOMBS_VERSION } from "../../src/persistence/frame.ts";
import { loadData, LoadError, SNAPSHOT_FILE } from "../../src/persistence/loader.ts";
import { BlockWriter, decodeRecords, type RecordVisitor } from "../../src/persistence/records.ts";
import { ReplayClock } from "../../src/persistence/replay-clock.ts";
import type { TombCapture } from "../../src/persistence/tombs.ts";
import { bytesToBinaryString } from "../../src/store/bytes.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock, type Store } from "../../src/store/types.ts";
import { Persistence } from "../../src/persistence/persistence.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { Replica } from "../../src/cluster/sync/replica.ts";
import { captureOf, dec, enc, type TombRow } from "./helpers.ts";

const NOW = 1_800_000_000_000;
const FIXTURES = join(import.meta.dir, "fixtures");
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "owl-tombs-"));
  dirs.push(dir);
  return dir;
}

function snapshotBytes(store: Store, tombs?: TombCapture, generation = 1): Uint8Array {
  const encoder = new SnapshotEncoder(store.snapshot!(), generation, NOW, tombs);
  const chunks: Uint8Array[] = [];
  for (let c = encoder.nextChunk(); c; c = encoder.nextChunk()) chunks.push(c.slice());
  return new Uint8Array(Buffer.concat(chunks));
}

function tombRows(n: number): TombRow[] {
  return Array.from({ length: n }, (_, i): TombRow => [`gone:${i}`, NOW - 10_000 + i, i % 3 === 0 ? "" : `127.0.0.1:${7721 + (i % 2)}`]);
}

function capture(n: number, watermark = true): TombCapture {
  return captureOf(tombRows(n), watermark ? { at: NOW - 20_000, origin: "127.0.0.1:7731" } : undefined);
}

function storeOf(n: number): MapStore {
  const store = new MapStore(new ManualClock(NOW));
  for (let i = 0; i < n; i++) store.set(enc(`live:${i}`), enc(`v${i}`), 0, NOW - 5_000 + i);
  return store;
}

function load(dir: string, options: { tombstones?: boolean; repair?: boolean; now?: number } = {}) {
  const store = new MapStore(new ManualClock(options.now ?? NOW));
  const clock = new ReplayClock(new ManualClock(options.now ?? NOW));
  const result = loadData({ dir, store, clock, repair: options.repair ?? false, tombstones: options.tombstones ?? true });
  return { store, result };
}

function logWith(write: (w: BlockWriter) => void, version: number, generation = 1): Uint8Array {
  const w = new BlockWriter();
  w.beginBlock(NOW + 1);
  write(w);
  w.sealBlock();
  return new Uint8Array(Buffer.concat([encodeFileHeader(LOG_MAGIC, generation, NOW, version), w.sealed()]));
}

const origin = (s: string) => enc(s);

describe("tombstones in the data files", () => {
  test("snapshot codec - tombstones and the watermark round-trip after the keys, in a version 2 file", () => {
    const bytes = snapshotBytes(storeOf(50), capture(100));
    const seen: { sets: number; tombs: [string, number, string][]; watermark?: [number, string] } = { sets: 0, tombs: [] };
    const visitor: RecordVisitor = {
      set: () => seen.sets++,
      expire: () => {},
      delete: () => {},
      flush: () => {},
      tomb: (key, at, o) => seen.tombs.push([bytesToBinaryString(key), at, o]),
      watermark: (at, o) => (seen.watermark = [at, o]),
    };
    const decoded = decodeFile(bytes, SNAPSHOT_MAGIC, false, (payload, count, base, version) => decodeRecords(payload, count, base, visitor, true, version >= TOMBS_VERSION));
    expect(decoded.header.version).toBe(TOMBS_VERSION);
    expect(decoded.records).toBe(50 + 100 + 1);
    expect(seen.sets).toBe(50);
    expect(seen.tombs).toEqual(tombRows(100));
    expect(seen.watermark).toEqual([NOW - 20_000, "127.0.0.1:7731"]);
  });

  test("snapshot codec - with nothing of sync's to keep the file is version 1, byte for byte as without sync", () => {
    const store = storeOf(20);
    const plain = snapshotBytes(store);
    expect(new DataView(plain.buffer).getUint32(8, true)).toBe(1);
    expect(snapshotBytes(store, captureOf([], undefined))).toEqual(plain);
  });

  test("snapshot codec - many tombstones span chunks and blocks; the end block counts them", () => {
    const tombs = capture(30_000, false);
    const bytes = snapshotBytes(storeOf(10), tombs);
    let count = 0;
    const visitor: RecordVisitor = { set: () => {}, expire: () => {}, delete: () => {}, flush: () => {}, tomb: () => count++ };
    const decoded = decodeFile(bytes, SNAPSHOT_MAGIC, false, (p, c, b, v) => decodeRecords(p, c, b, visitor, true, v >= TOMBS_VERSION));
    expect(count).toBe(30_000);
    expect(decoded.records).toBe(30_010);
  });

  test("snapshot codec - the tombstones are walked part by part as chunks need them, not all in the capture's pause", () => {
    const rows = tombRows(60_000);
    let taken = 0;
    const source = captureOf(rows, undefined, 100);
    const counting: TombCapture = { ...source, more: (visit) => source.more((k, at, o) => (taken++, visit(k, at, o))) };
    const encoder = new SnapshotEncoder(storeOf(10).snapshot!(), 1, NOW, counting);
    expect(taken).toBe(0);
    const chunks: Uint8Array[] = [];
    const takenByChunk: number[] = [];
    for (let c = encoder.nextChunk(); c; c = encoder.nextChunk()) {
      chunks.push(c.slice());
      takenByChunk.push(taken);
    }
    // ~35 bytes a tombstone here: a 256 KiB chunk holds ~7,500, and a part more at most is taken
    expect(takenByChunk[0]).toBeLessThan(8_000);
    expect(takenByChunk.length).toBeGreaterThan(8);
    expect(takenByChunk.at(-1)).toBe(60_000);
    let count = 0;
    const visitor: RecordVisitor = { set: () => {}, expire: () => {}, delete: () => {}, flush: () => {}, tomb: () => count++ };
    const decoded = decodeFile(new Uint8Array(Buffer.concat(chunks)), SNAPSHOT_MAGIC, false, (p, c, b, v) => decodeRecords(p, c, b, visitor, true, v >= TOMBS_VERSION));
    expect(count).toBe(60_000);
    expect(encoder.tombstones).toBe(60_000);
    expect(decoded.records).toBe(60_010);
  });

  test("records - a tombstone record in a version 1 file is damage at its offset", () => {
    const bytes = logWith((w) => w.tomb(enc("k"), NOW, origin("a:1")), 1);
    const visitor: RecordVisitor = { set: () => {}, expire: () => {}, delete: () => {}, flush: () => {}, tomb: () => {} };
    expect(() =>
      decodeFile(bytes, LOG_MAGIC, false, (p, c, b, v) => decodeRecords(p.subarray(8), c, b + 8, visitor, false, v >= TOMBS_VERSION)),
    ).toThrow(/unexpected record type 5/);
  });

  test("load - old version 1 files written by the main branch load as before, and sync starts with the keys they dropped as expired", () => {
    const dir = tempDir();
    copyFileSync(join(FIXTURES, "v1-owlcache.db"), join(dir, SNAPSHOT_FILE));
    copyFileSync(join(FIXTURES, "v1-owlcache.aof"), join(dir, LOG_FILE));
    // 6 s later: "short-lived" (expiring at NOW + 5 s) expired while the node was down
    const { store, result } = load(dir, { now: NOW + 6_000 });
    expect(result.damaged).toEqual([]);
    expect(result.logs.map((l) => l.version)).toEqual([1]);
    expect(store.size).toBe(40 - 1 + 1); // 40 old keys, one deleted in the log, one logged
    expect(dec(store.get(enc("logged"))!.value)).toBe("in the log");
    expect(store.get(enc("old:1"))).toBeUndefined();
    expect(store.get(enc("old:2"))!.expiresAt).toBe(NOW + 7_200_000);
    expect([...result.tombs!.tombs]).toEqual([["short-lived", { at: NOW - 500, origin: "" }]]);
    // without sync: the same keys, nothing else kept
    const plain = load(dir, { now: NOW + 6_000, tombstones: false });
    expect(plain.store.size).toBe(store.size);
    expect(plain.result.tombs).toBeUndefined();
  });

  test("load - snapshot tombstones, then the log's in order: a flush clears them, a watermark drops those it covers", () => {
    const dir = tempDir();
    writeFileSync(join(dir, SNAPSHOT_FILE), snapshotBytes(storeOf(3), capture(6, false)));
    writeFileSync(
      join(dir, LOG_FILE),
      logWith((w) => {
        w.delete(enc("live:0"), NOW + 1);
        w.tomb(enc("live:0"), NOW + 1, origin("127.0.0.1:7721"));
        // the same version found expired later in the load keeps its known origin
        w.tomb(enc("gone:1"), NOW - 9_999, origin("127.0.0.1:7722"));
        w.watermark(NOW - 9_997, origin("127.0.0.1:7700"));
      }, TOMBS_VERSION),
    );
    const { store, result } = load(dir);
    expect(store.size).toBe(2);
    const tombs = result.tombs!;
    expect(tombs.watermark).toEqual({ at: NOW - 9_997, origin: "127.0.0.1:7700" });
    // gone:0..2 are older than the watermark; gone:3 is at its time with the unknown origin "",
    // which orders before every address, so it is covered too
    expect([...tombs.tombs.keys()].sort()).toEqual(["gone:4", "gone:5", "live:0"]);
    expect(tombs.tombs.get("live:0")).toEqual({ at: NOW + 1, origin: "127.0.0.1:7721" });

    writeFileSync(join(dir, LOG_FILE), logWith((w) => w.flush(NOW + 2), TOMBS_VERSION));
    expect(load(dir).result.tombs!.tombs.size).toBe(0);
  });

  test("load - a node without sync reads past tombstones and keeps none", () => {
    const dir = tempDir();
    writeFileSync(join(dir, SNAPSHOT_FILE), snapshotBytes(storeOf(5), capture(10)));
    writeFileSync(join(dir, LOG_FILE), logWith((w) => w.tomb(enc("x"), NOW, origin("a:1")), TOMBS_VERSION));
    const { store, result } = load(dir, { tombstones: false });
    expect(store.size).toBe(5);
    expect(result.tombs).toBeUndefined();
    expect(result.logRecords).toBe(0);
  });

  test("load - a damaged tombstone block is reported with path and offset; --repair keeps the keys and the whole tombstones", () => {
    const dir = tempDir();
    const bytes = snapshotBytes(storeOf(64), capture(96, false));
    // the keys fill blocks 1-2 (32 records each); flip a byte inside the second tombstone block
    const blocks: number[] = [];
    decodeFile(bytes, SNAPSHOT_MAGIC, false, (_p, _c, base) => blocks.push(base));
    const target = blocks[3]! + 20;
    bytes[target] = bytes[target]! ^ 0xff;
    const path = join(dir, SNAPSHOT_FILE);
    writeFileSync(path, bytes);
    let error: unknown;
    try {
      load(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LoadError);
    expect(String(error)).toContain(`${path}: corrupt at byte offset ${blocks[3]! - 16}: block checksum mismatch`);
    const repaired = load(dir, { repair: true });
    expect(repaired.store.size).toBe(64);
    expect(repaired.result.tombs!.tombs.size).toBe(64);
    expect(repaired.result.damaged[0]!.error).toBeInstanceOf(FormatError);
    expect(readFileSync(repaired.result.damaged[0]!.asidePath)).toEqual(Buffer.from(bytes));
  });

  test("records - an implausible origin length is damage, not a huge allocation", () => {
    const bytes = logWith((w) => w.tomb(enc("k"), NOW, origin("a:1")), TOMBS_VERSION);
    // the origin length field of the record: header 36, block header 16, block time 8, tag 1, key length 4
    const at = 36 + 16 + 8 + 1 + 4;
    new DataView(bytes.buffer).setUint32(at, 1 << 30, true);
    // (the block checksum would catch it first: check decodeRecords alone)
    const payload = bytes.subarray(36 + 16 + 8);
    expect(() => decodeRecords(payload, 1, 0, { set: () => {}, expire: () => {}, delete: () => {}, flush: () => {}, tomb: () => {} }, false, true)).toThrow(/origin length \d+ is implausible/);
  });
});

describe("tombstones and the snapshot schedule", () => {
  for (const appendonly of [false, true]) {
    test(`snapshot - a tombstone dropped while the snapshot is written (its key written again) survives a crash ${appendonly ? "in the append log" : "in the snapshot (no append log)"}`, async () => {
      const dir = tempDir();
      const clock = new ReplayClock(new ManualClock(NOW));
      const keyspace = new Keyspace(new MapStore(clock), clock);
      const persistence = new Persistence({
        dir, keyspace, clock, log: silentLogger, appendonly, appendfsync: "always", intervalMs: 3_600_000, repair: false,
        engine: { onBeforeReply: () => {} }, onFatal: (message) => { throw new Error(message); }, tombGraceMs: 60_000,
      });
      await persistence.open();
      const replica = new Replica(keyspace, () => "127.0.0.1:7721", 60_000, { put: () => {}, del: () => {}, flush: () => {} });
      replica.journal = persistence.journal;
      persistence.setTombSource(() => replica.captureTombs());
      keyspace.set(enc("K"), enc("v0"), 0, NOW);
      keyspace.delete(enc("K"), NOW + 1);
      expect(replica.digest.tombCount).toBe(1);
      // The capture is taken at once; the write goes on while K is written again (its tombstone
      // goes), and the node then dies before its next snapshot.
      const writing = persistence.snapshot(true);
      keyspace.set(enc("K"), enc("v2"), 0, NOW + 2);
      await writing;
      const { store, result } = load(dir, { now: NOW + 3 });
      if (appendonly) {
        // the log replays the new write: K is live, as acknowledged
        expect(dec(store.get(enc("K"))!.value)).toBe("v2");
      } else {
        // v2 was never saved (no log), but the delete of v0 was: a peer holding v0 cannot bring it back
        expect(store.get(enc("K"))).toBeUndefined();
        expect(result.tombs!.tombs.get("K")).toEqual({ at: NOW + 1, origin: "127.0.0.1:7721" });
      }
      replica.close();
      await persistence.close();
    });
  }

  test("snapshot - a tombstone laid with no change to the keyspace (an expiry, a remote delete of a missing key) is still saved", async () => {
    const dir = tempDir();
    const clock = new ReplayClock(new ManualClock(NOW));
    const keyspace = new Keyspace(new MapStore(clock), clock);
    const persistence = new Persistence({
      dir, keyspace, clock, log: silentLogger, appendonly: false, appendfsync: "no", intervalMs: 3_600_000, repair: false,
      engine: { onBeforeReply: () => {} }, onFatal: (message) => { throw new Error(message); }, tombGraceMs: 60_000,
    });
    await persistence.open();
    keyspace.set(enc("k"), enc("v"), 0, NOW);
    expect(await persistence.snapshot(false)).toBeDefined();
    expect(await persistence.snapshot(false)).toBeUndefined(); // nothing changed
    persistence.setTombSource(() => captureOf([["gone", NOW, "127.0.0.1:7731"]], undefined));
    persistence.journal!.tomb(enc("gone"), NOW, "127.0.0.1:7731");
    expect(persistence.status().unsavedChanges).toBe(true);
    expect((await persistence.snapshot(false))!.tombstones).toBe(1);
    expect(await persistence.close()).toBe(true);
    expect([...load(dir).result.tombs!.tombs]).toEqual([["gone", { at: NOW, origin: "127.0.0.1:7731" }]]);
  });
});
