// decodeFile reading a file a chunk at a time (FileWindow over a ByteSource) must see exactly what
// it sees with the whole file in memory: the same blocks, and the same damage at the same offset,
// with and without --repair, across chunk edges and blocks bigger than a chunk.

import { describe, expect, test } from "bun:test";
import { decodeFile, SnapshotEncoder } from "../../src/persistence/file-codec.ts";
import { CHUNK_READ_BYTES, type ByteSource } from "../../src/persistence/file-window.ts";
import { SNAPSHOT_MAGIC } from "../../src/persistence/frame.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock } from "../../src/store/types.ts";
import { enc, source } from "./helpers.ts";

const NOW = 1_800_000_000_000;

/** ~3 MiB snapshot: small records, a value bigger than a chunk, small records again. */
function snapshotFile(): Uint8Array {
  const store = new MapStore(new ManualClock(NOW));
  for (let i = 0; i < 20_000; i++) store.set(enc(`key:${i}`), new Uint8Array(20 + (i % 90)).fill(i & 0xff), 0, NOW);
  store.set(enc("big"), new Uint8Array(CHUNK_READ_BYTES + 12_345).fill(9), 0, NOW);
  for (let i = 0; i < 5_000; i++) store.set(enc(`late:${i}`), new Uint8Array(i % 300).fill(1), 0, NOW);
  const encoder = new SnapshotEncoder(store.snapshot!(), 1, NOW);
  const chunks: Uint8Array[] = [];
  for (let c = encoder.nextChunk(); c; c = encoder.nextChunk()) chunks.push(c.slice());
  return new Uint8Array(Buffer.concat(chunks));
}


/** Every block seen (offset, count, payload checksum), the damage and the skipped count; or the error. */
function walk(input: Uint8Array | ByteSource, repair: boolean): string[] {
  const seen: string[] = [];
  try {
    const decoded = decodeFile(input, SNAPSHOT_MAGIC, repair, (payload, count, base) => seen.push(`${base} ${count} ${Bun.hash.crc32(payload)}`));
    seen.push(`damage ${decoded.damage?.message} skipped ${decoded.skippedBlocks}`);
  } catch (error) {
    seen.push(`error ${(error as Error).message}`);
  }
  return seen;
}

function expectSameWalk(bytes: Uint8Array): void {
  for (const repair of [false, true]) {
    const whole = walk(bytes, repair);
    expect(walk(source(bytes), repair)).toEqual(whole);
    expect(walk(source(bytes, 4093), repair)).toEqual(whole);
  }
}

describe("decodeFile from a ByteSource", () => {
  const file = snapshotFile();

  test("chunked reads - an intact file gives the same blocks as the file in memory", () => {
    expect(file.length).toBeGreaterThan(2 * CHUNK_READ_BYTES);
    const whole = walk(file, false);
    expect(whole.at(-1)).toBe("damage undefined skipped 0");
    expectSameWalk(file);
  });

  test("chunked reads - truncation anywhere is reported at the same offset", () => {
    const cuts = [0, 10, 36, 37, 52, CHUNK_READ_BYTES - 5, CHUNK_READ_BYTES + 3, file.length - 2 * CHUNK_READ_BYTES, file.length - 30, file.length - 1];
    for (const cut of cuts) expectSameWalk(file.subarray(0, cut));
  });

  test("chunked reads - a flipped byte anywhere is found at the same offset; repair keeps the same blocks", () => {
    const at = [3, 40, 5000, CHUNK_READ_BYTES - 2, CHUNK_READ_BYTES + 100, Math.floor(file.length / 2), file.length - 20, file.length - 3];
    for (const offset of at) {
      const damaged = file.slice();
      damaged[offset] = damaged[offset]! ^ 0x10;
      expectSameWalk(damaged);
    }
  });

  test("chunked reads - bytes after the end block and a missing end block", () => {
    expectSameWalk(new Uint8Array(Buffer.concat([file, new Uint8Array(7)])));
    expectSameWalk(file.subarray(0, file.length - 24));
  });
});
