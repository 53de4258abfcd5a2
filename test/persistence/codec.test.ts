// The snapshot and log codecs without files: round trips, point-in-time capture, and damage
// (truncation, flipped bits, unknown versions) reported with its offset.

import { describe, expect, test } from "bun:test";
import { captureStore } from "../../src/persistence/capture.ts";
import { decodeFile, SnapshotEncoder } from "../../src/persistence/file-codec.ts";
import { checksum, FILE_HEADER_BYTES, FormatError, LOG_MAGIC, SNAPSHOT_MAGIC, UnsupportedVersionError, encodeFileHeader } from "../../src/persistence/frame.ts";
import { BlockWriter, decodeRecords, type RecordVisitor } from "../../src/persistence/records.ts";
import { bytesToBinaryString } from "../../src/store/bytes.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock, type Store } from "../../src/store/types.ts";
import { dec, enc } from "./helpers.ts";

interface Rec {
  value: Uint8Array;
  expiresAt: number;
  writtenAt: number;
}

function encodeStore(store: Store, takenAt: number, generation = 7): Uint8Array {
  const view = captureStore(store);
  const encoder = new SnapshotEncoder(view, generation, takenAt);
  const chunks: Uint8Array[] = [];
  for (let c = encoder.nextChunk(); c; c = encoder.nextChunk()) chunks.push(c.slice());
  view.release();
  return new Uint8Array(Buffer.concat(chunks));
}

function decodeSnapshot(bytes: Uint8Array, repair = false): { recs: Map<string, Rec>; generation: number; damage?: FormatError } {
  const recs = new Map<string, Rec>();
  const visitor: RecordVisitor = {
    set: (key, value, expiresAt, writtenAt) => recs.set(bytesToBinaryString(key), { value: value.slice(), expiresAt, writtenAt }),
    expire: () => {},
    delete: () => {},
    flush: () => {},
  };
  const decoded = decodeFile(bytes, SNAPSHOT_MAGIC, repair, (payload, count, base) => decodeRecords(payload, count, base, visitor, true));
  return { recs, generation: decoded.header.generation, damage: decoded.damage };
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  crypto.getRandomValues(out.subarray(0, Math.min(n, 65536)));
  for (let i = 65536; i < n; i += 65536) out.copyWithin(i, 0, Math.min(65536, n - i));
  return out;
}

function storeWith(clock: ManualClock, count: number): { store: MapStore; expected: Map<string, Rec> } {
  const store = new MapStore(clock);
  const expected = new Map<string, Rec>();
  const add = (key: Uint8Array, value: Uint8Array, expiresAt: number, writtenAt: number) => {
    store.set(key, value, expiresAt, writtenAt);
    expected.set(bytesToBinaryString(key), { value, expiresAt, writtenAt });
  };
  for (let i = 0; i < count; i++) {
    const key = randomBytes(1 + Math.floor(Math.random() * 300));
    const value = randomBytes(Math.floor(Math.random() * 2000));
    const expiresAt = Math.random() < 0.5 ? 0 : clock.now() + 1 + Math.floor(Math.random() * 1e9);
    add(key, value, expiresAt, clock.now() - Math.floor(Math.random() * 1e9));
  }
  add(enc("empty"), new Uint8Array(0), 0, clock.now());
  add(new Uint8Array([0, 10, 13, 32, 255]), new Uint8Array([0, 0, 255, 10]), 0, clock.now());
  return { store, expected };
}

function expectSame(actual: Map<string, Rec>, expected: Map<string, Rec>): void {
  expect(actual.size).toBe(expected.size);
  for (const [key, want] of expected) {
    const got = actual.get(key);
    expect(got).toBeDefined();
    expect(got!.expiresAt).toBe(want.expiresAt);
    expect(got!.writtenAt).toBe(want.writtenAt);
    expect(Buffer.compare(got!.value, want.value)).toBe(0);
  }
}

describe("snapshot codec", () => {
  test("snapshot codec - random keys and values (empty, binary, one 16 MiB) round-trip", () => {
    const clock = new ManualClock();
    for (let round = 0; round < 3; round++) {
      const { store, expected } = storeWith(clock, 2000);
      const big = randomBytes(16 * 1024 * 1024);
      store.set(enc("big"), big, 0, clock.now());
      expected.set("big", { value: big, expiresAt: 0, writtenAt: clock.now() });
      const { recs, generation } = decodeSnapshot(encodeStore(store, clock.now(), 40 + round));
      expect(generation).toBe(40 + round);
      expectSame(recs, expected);
    }
  });

  test("snapshot codec - a store without snapshot() is captured through entries()", () => {
    const clock = new ManualClock();
    const { store, expected } = storeWith(clock, 500);
    Object.defineProperty(store, "snapshot", { value: undefined });
    expectSame(decodeSnapshot(encodeStore(store, clock.now())).recs, expected);
  });

  test("snapshot codec - an empty store is a valid snapshot", () => {
    const clock = new ManualClock();
    expect(decodeSnapshot(encodeStore(new MapStore(clock), clock.now())).recs.size).toBe(0);
  });

  test("snapshot codec - keys expired at capture time are left out", () => {
    const clock = new ManualClock();
    const store = new MapStore(clock);
    store.set(enc("old"), enc("x"), clock.now() + 1000, clock.now());
    store.set(enc("keep"), enc("y"), clock.now() + 5000, clock.now());
    const { recs } = decodeSnapshot(encodeStore(store, clock.now() + 1000));
    expect([...recs.keys()]).toEqual(["keep"]);
  });

  test("snapshot codec - a capture is a point-in-time view while the store keeps changing", () => {
    const clock = new ManualClock();
    const { store, expected } = storeWith(clock, 300);
    const view = captureStore(store);
    const keys = [...expected.keys()];
    for (let i = 0; i < keys.length; i += 3) store.delete(Buffer.from(keys[i]!, "latin1"));
    for (let i = 1; i < keys.length; i += 3) store.set(Buffer.from(keys[i]!, "latin1"), enc("changed"), 0, 1);
    for (let i = 2; i < keys.length; i += 3) store.setExpiry(Buffer.from(keys[i]!, "latin1"), clock.now() + 5, 2);
    store.set(enc("new key"), enc("later"), 0, 3);
    const encoder = new SnapshotEncoder(view, 1, clock.now());
    const chunks: Uint8Array[] = [];
    for (let c = encoder.nextChunk(); c; c = encoder.nextChunk()) chunks.push(c.slice());
    expectSame(decodeSnapshot(new Uint8Array(Buffer.concat(chunks))).recs, expected);
  });

  test("snapshot codec - an unknown format version is a clear error", () => {
    const header = encodeFileHeader(SNAPSHOT_MAGIC, 1, 0);
    new DataView(header.buffer).setUint32(8, 99, true);
    new DataView(header.buffer).setUint32(32, checksum(header.subarray(0, 32)), true);
    expect(() => decodeFile(header, SNAPSHOT_MAGIC, true, () => {})).toThrow(UnsupportedVersionError);
    expect(() => decodeFile(header, SNAPSHOT_MAGIC, false, () => {})).toThrow(/version 99 is not supported/);
  });

  test("snapshot codec - truncation at any point is reported with an offset inside the file", () => {
    const clock = new ManualClock();
    const bytes = encodeStore(storeWith(clock, 200).store, clock.now());
    for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 300))) {
      let error: unknown;
      try {
        decodeSnapshot(bytes.subarray(0, cut));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FormatError);
      expect((error as FormatError).offset).toBeLessThanOrEqual(cut);
    }
  });

  test("snapshot codec - a flipped bit anywhere is caught, at or before its offset", () => {
    const clock = new ManualClock();
    const bytes = encodeStore(storeWith(clock, 60).store, clock.now());
    for (let at = 0; at < bytes.length; at += 13) {
      const copy = bytes.slice();
      copy[at] = copy[at]! ^ 0x04;
      let error: unknown;
      try {
        decodeSnapshot(copy);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FormatError);
      expect((error as FormatError).offset).toBeLessThanOrEqual(at);
    }
  });

  test("snapshot codec - repair keeps every record of every intact block", () => {
    const clock = new ManualClock();
    const { store, expected } = storeWith(clock, 400);
    const bytes = encodeStore(store, clock.now());
    const damaged = bytes.slice();
    const at = Math.floor(bytes.length / 2);
    damaged[at] = damaged[at]! ^ 0xff;
    const { recs, damage } = decodeSnapshot(damaged, true);
    expect(damage).toBeInstanceOf(FormatError);
    // One block of at most 32 records is lost; every record kept is exactly as written.
    expect(recs.size).toBeGreaterThanOrEqual(expected.size - 32);
    expect(recs.size).toBeLessThan(expected.size);
    for (const [key, rec] of recs) expect(Buffer.compare(rec.value, expected.get(key)!.value)).toBe(0);
  });

  test("snapshot codec - repair counts bytes after the end block and a whole dropped block as damage, at their offsets", () => {
    const clock = new ManualClock();
    const { store, expected } = storeWith(clock, 100);
    const bytes = encodeStore(store, clock.now());
    const blocks = blockSpans(bytes);
    expect(blocks.length).toBeGreaterThan(3);

    const trailing = new Uint8Array(Buffer.concat([bytes, enc("garbage")]));
    const decoded = decodeFile(trailing, SNAPSHOT_MAGIC, true, () => {});
    expect(decoded.damage?.message).toBe(`corrupt at byte offset ${bytes.length}: bytes after the end block`);
    expect(decoded.records).toBe(expected.size);
    expect(decoded.skippedBlocks).toBe(0);
    expect(() => decodeSnapshot(trailing)).toThrow(`corrupt at byte offset ${bytes.length}: bytes after the end block`);

    // The second block cut out whole: every block left is intact, only the end block's count tells.
    const [start, end, count] = blocks[1]!;
    const dropped = new Uint8Array(Buffer.concat([bytes.subarray(0, start), bytes.subarray(end)]));
    const endAt = dropped.length - 24;
    const { recs, damage } = decodeSnapshot(dropped, true);
    expect(damage?.message).toBe(`corrupt at byte offset ${endAt}: end block counts ${expected.size} records, the file holds ${recs.size}`);
    expect(recs.size).toBe(expected.size - count);
    expect(decodeFile(dropped, SNAPSHOT_MAGIC, true, () => {}).records).toBe(recs.size);
  });
});

/** [start, end) and record count of each record block of a snapshot (the end block left out). */
function blockSpans(bytes: Uint8Array): [number, number, number][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const spans: [number, number, number][] = [];
  for (let at = FILE_HEADER_BYTES; at + 16 <= bytes.length; ) {
    const end = at + 16 + view.getUint32(at + 4, true);
    const count = view.getUint32(at + 8, true);
    if (count > 0) spans.push([at, end, count]);
    at = end;
  }
  return spans;
}

describe("append log codec", () => {
  test("append log codec - set, expire, delete and flush round-trip in order", () => {
    const w = new BlockWriter(16);
    w.beginBlock(123);
    w.set(enc("k"), enc("v v"), 99, 1);
    w.expire(enc("k"), 500, 2);
    w.delete(enc("gone"), 3);
    w.flush(4);
    w.set(enc("bin"), new Uint8Array([0, 255, 10]), 0, 5);
    w.sealBlock();
    const header = encodeFileHeader(LOG_MAGIC, 3, 0);
    const file = new Uint8Array(Buffer.concat([header, w.sealed()]));
    const seen: string[] = [];
    const visitor: RecordVisitor = {
      set: (k, v, e, t) => seen.push(`set ${dec(k)} ${Buffer.from(v).toString("hex")} ${e} ${t}`),
      expire: (k, e, t) => seen.push(`expire ${dec(k)} ${e} ${t}`),
      delete: (k, t) => seen.push(`delete ${dec(k)} ${t}`),
      flush: (t) => seen.push(`flush ${t}`),
    };
    const decoded = decodeFile(file, LOG_MAGIC, false, (payload, count, base) => {
      expect(new DataView(payload.buffer, payload.byteOffset).getFloat64(0, true)).toBe(123);
      decodeRecords(payload.subarray(8), count, base + 8, visitor, false);
    });
    expect(decoded.header.generation).toBe(3);
    expect(seen).toEqual(["set k 762076 99 1", "expire k 500 2", "delete gone 3", "flush 4", "set bin 00ff0a 0 5"]);
    expect(() => decodeFile(file.subarray(0, file.length - 1), LOG_MAGIC, false, () => {})).toThrow(/truncated at byte offset 36/);
    expect(FILE_HEADER_BYTES).toBe(36);
  });
});
