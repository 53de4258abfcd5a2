// Shared by the repair tests: data files built block by block (with where each block lies), and
// what decodeFile keeps of them under --repair.

import { decodeFile, type DecodedFile } from "../../src/persistence/file-codec.ts";
import type { ByteSource } from "../../src/persistence/file-window.ts";
import { encodeFileHeader, SNAPSHOT_MAGIC } from "../../src/persistence/frame.ts";
import { BlockWriter, decodeRecords, type RecordVisitor } from "../../src/persistence/records.ts";
import { seededRandom } from "../helpers/random.ts";
import { dec, enc } from "./helpers.ts";

export const NOW = 1_800_000_000_000;

export type Rows = [key: string, value: Uint8Array][];

export interface Built {
  bytes: Uint8Array;
  /** each record block: [start, end) in the file and its keys */
  spans: { start: number; end: number; keys: string[] }[];
}

export const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** Record blocks (a log's start with their time), with or without the file header; a snapshot ends with its end block. */
export function build(magic: string, blocks: Rows[], header = true): Built {
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
export function rows(prefix: string, blocks: number, per: number): Rows[] {
  return Array.from({ length: blocks }, (_, b) => Array.from({ length: per }, (_, i): [string, Uint8Array] => [`${prefix}:${b}:${i}`, enc(`value ${prefix} ${b} ${i}`)]));
}

/** The records read (key → value), the result; or the error thrown. */
export function read(input: Uint8Array | ByteSource, magic: string, repair = true): { kept: Map<string, string>; decoded: DecodedFile } {
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

export function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** The keys of every block but those numbered in `skip`, sorted. */
export const keysOf = (built: Built, skip: number[] = []): string[] => built.spans.flatMap((span, b) => (skip.includes(b) ? [] : span.keys)).sort();
export const sorted = (kept: Map<string, string>): string[] => [...kept.keys()].sort();

/**
 * Seeded damage material: its random source, its noise (random bytes), and 12 blocks of 1 to `maxRows` rows whose values
 * are random bytes below `maxValue` long, now and then holding a block marker with whatever
 * length follows it.
 */
export function randomBlocks(seed: number, maxRows: number, maxValue: number): { int: (n: number) => number; random: () => number; noise: (n: number) => Uint8Array; blocks: Rows[]; all: Map<string, string> } {
  const random = seededRandom(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const noise = (n: number): Uint8Array => {
    const out = new Uint8Array(n).map(() => int(256));
    if (n >= 8 && random() < 0.3) out.set(enc(random() < 0.5 ? "OWLB" : "OWLE"), int(n - 7));
    return out;
  };
  const blocks = Array.from({ length: 12 }, (_, b) => Array.from({ length: 1 + int(maxRows) }, (_, i): [string, Uint8Array] => [`k:${b}:${i}`, noise(int(maxValue))]));
  const all = new Map(blocks.flat().map(([key, value]) => [key, Buffer.from(value).toString("latin1")]));
  return { int, random, noise, blocks, all };
}
