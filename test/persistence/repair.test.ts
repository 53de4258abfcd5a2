// decodeFile under --repair on damaged files built block by block: a length past the end of the
// file. Intact blocks are always kept; without repair the same files are a FormatError naming
// the offset.

import { describe, expect, test } from "bun:test";
import { decodeFile, type DecodedFile } from "../../src/persistence/file-codec.ts";
import type { ByteSource } from "../../src/persistence/file-window.ts";
import { encodeFileHeader, FormatError, LOG_MAGIC, SNAPSHOT_MAGIC } from "../../src/persistence/frame.ts";
import { BlockWriter, decodeRecords, type RecordVisitor } from "../../src/persistence/records.ts";
import { dec, enc } from "./helpers.ts";

const NOW = 1_800_000_000_000;

type Rows = [key: string, value: Uint8Array][];

interface Built {
  bytes: Uint8Array;
  /** each record block: [start, end) in the file and its keys */
  spans: { start: number; end: number; keys: string[] }[];
}

const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** Record blocks (a log's start with their time), with or without the file header; a snapshot ends with its end block. */
function build(magic: string, blocks: Rows[], header = true): Built {
  const snapshot = magic === SNAPSHOT_MAGIC;
  const head = header ? encodeFileHeader(magic, 1, NOW) : new Uint8Array(0);
  const w = new BlockWriter(256);
  const spans: Built["spans"] = [];
  let records = 0;
  for (const rows of blocks) {
    const start = head.length + w.length;
    w.beginBlock(snapshot ? undefined : NOW);
    for (const [key, value] of rows) w.set(enc(key), value, 0, NOW);
    w.sealBlock();
    spans.push({ start, end: head.length + w.length, keys: rows.map(([key]) => key) });
    records += rows.length;
  }
  if (snapshot) w.end(records);
  return { bytes: concat(head, w.sealed()), spans };
}

/** `blocks` blocks of `per` records named `prefix:block:i`. */
function rows(prefix: string, blocks: number, per: number): Rows[] {
  return Array.from({ length: blocks }, (_, b) => Array.from({ length: per }, (_, i): [string, Uint8Array] => [`${prefix}:${b}:${i}`, enc(`value ${prefix} ${b} ${i}`)]));
}

/** The records read (key → value), the result; or the error thrown. */
function read(input: Uint8Array | ByteSource, magic: string, repair = true): { kept: Map<string, string>; decoded: DecodedFile } {
  const kept = new Map<string, string>();
  const visitor: RecordVisitor = {
    set: (key, value) => kept.set(dec(key), Buffer.from(value).toString("latin1")),
    expire: () => {},
    delete: () => {},
    flush: () => {},
  };
  const snapshot = magic === SNAPSHOT_MAGIC;
  const decoded = decodeFile(input, magic, repair, (payload, count, base) =>
    snapshot ? decodeRecords(payload, count, base, visitor, true) : decodeRecords(payload.subarray(8), count, base + 8, visitor, false),
  );
  return { kept, decoded };
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

const keysOf = (built: Built, skip: number[] = []): string[] => built.spans.flatMap((span, b) => (skip.includes(b) ? [] : span.keys)).sort();
const sorted = (kept: Map<string, string>): string[] => [...kept.keys()].sort();

describe("repair - a block whose length points past the end of the file", () => {
  for (const magic of [SNAPSHOT_MAGIC, LOG_MAGIC]) {
    const kind = magic === SNAPSHOT_MAGIC ? "snapshot" : "log";
    test(`repair - a ${kind} block claiming more bytes than the file has costs that block only`, () => {
      const built = build(magic, rows("k", 5, 3));
      const bytes = built.bytes.slice();
      const { start, end } = built.spans[2]!;
      new DataView(bytes.buffer).setUint32(start + 4, bytes.length, true);
      const error = thrown(() => read(bytes, magic, false)) as FormatError;
      expect(error).toBeInstanceOf(FormatError);
      expect(error.message).toStartWith(`truncated at byte offset ${start}: block needs`);

      const { kept, decoded } = read(bytes, magic);
      expect(sorted(kept)).toEqual(keysOf(built, [2]));
      expect(decoded.damage?.offset).toBe(start);
      expect(decoded.skippedBlocks).toBe(1);
      expect(decoded.skippedBytes).toBe(end - start);
      expect(decoded.records).toBe(12);
    });
  }

  test("repair - a log torn inside its last block and appended to afterwards keeps the appended blocks", () => {
    const first = build(LOG_MAGIC, [...rows("a", 3, 2), [["big", new Uint8Array(2000).fill(7)]]]);
    const torn = first.bytes.subarray(0, first.spans[3]!.start + 300);
    const later = build(LOG_MAGIC, rows("b", 2, 2), false);
    const { kept, decoded } = read(concat(torn, later.bytes), LOG_MAGIC);
    expect(sorted(kept)).toEqual([...keysOf(first, [3]), ...keysOf(later)].sort());
    expect(decoded.damage?.offset).toBe(first.spans[3]!.start);
    expect(decoded.skippedBytes).toBe(300);
  });
});
