// decodeFile under --repair when a damaged block's length lands exactly on an intact block (or on
// the end of the file) and more damage lies inside the span it claims: every intact block is kept,
// all but the damaged ones, and the walk stays linear in the blocks (counted checksum calls, not
// time, so a loaded machine cannot fail it).

import { describe, expect, spyOn, test } from "bun:test";
import { LOG_MAGIC, SNAPSHOT_MAGIC } from "../../src/persistence/frame.ts";
import { enc, source } from "./helpers.ts";
import { build, concat, keysOf, read, rows, randomBlocks, sorted, type Built } from "./repair-files.ts";

const MAGICS = [SNAPSHOT_MAGIC, LOG_MAGIC];
const kindOf = (magic: string): string => (magic === SNAPSHOT_MAGIC ? "snapshot" : "log");

/** Sets the length of block `b` so that it ends at file offset `to`. */
function growTo(built: Built, bytes: Uint8Array, b: number, to: number): void {
  const { start } = built.spans[b]!;
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(start + 4, to - start - 16, true);
}

/** Where the last record block ends: the end block of a snapshot, the end of a log. */
const lastEnd = (built: Built, magic: string): number => (magic === SNAPSHOT_MAGIC ? built.spans.at(-1)!.end : built.bytes.length);

/** The checksum calls and bytes checksummed while `run` runs (every block read, whole or not, is one). */
function checksumWork(run: () => void): { calls: number; bytes: number } {
  const crc32 = Bun.hash.crc32;
  let calls = 0;
  let bytes = 0;
  const spy = spyOn(Bun.hash, "crc32").mockImplementation((data, seed) => {
    calls++;
    bytes += typeof data === "string" ? data.length : data.byteLength;
    return crc32(data, seed);
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return { calls, bytes };
}

describe("repair - a length grown onto an intact block, more damage inside its span", () => {
  for (const magic of MAGICS) {
    const kind = kindOf(magic);

    test(`repair - ${kind}: block 0 grown to the end, a byte flipped in the last block: every other block is kept`, () => {
      // The review's case: 0 records were kept (the walk jumped to the claimed end), skippedBlocks said 1.
      const blocks = 400;
      const built = build(magic, rows("k", blocks, 4));
      const bytes = built.bytes.slice();
      growTo(built, bytes, 0, lastEnd(built, magic));
      const last = built.spans[blocks - 1]!;
      bytes[last.start + 20] = bytes[last.start + 20]! ^ 0xff;
      for (const input of [bytes, source(bytes, 7)]) {
        const { kept, decoded } = read(input, magic);
        expect(sorted(kept)).toEqual(keysOf(built, [0, blocks - 1]));
        expect(decoded.records).toBe(4 * (blocks - 2));
        expect(decoded.damage?.offset).toBe(built.spans[0]!.start);
        expect(decoded.skippedBlocks).toBe(2);
        expect(decoded.skippedBytes).toBe(built.spans[0]!.end - built.spans[0]!.start + last.end - last.start);
      }
    });

    test(`repair - ${kind}: a grown length, then any other block damaged (value, length or marker): only those two are lost`, () => {
      const blocks = 7;
      const built = build(magic, rows("k", blocks, 3));
      const ends = [...built.spans.slice(2).map((span) => span.start), lastEnd(built, magic)];
      for (let d = 0; d < blocks - 1; d++) {
        for (const to of ends.filter((end) => end > built.spans[d + 1]!.start)) {
          for (let x = 0; x < blocks; x++) {
            if (x === d) continue;
            const span = built.spans[x]!;
            // a value byte; the length by 1 (lands inside itself) and by 64 KiB (past the end); the marker
            for (const [at, mask] of [[span.end - 2, 0x20], [span.start + 4, 0x01], [span.start + 6, 0x01], [span.start + 1, 0x04]] as const) {
              const bytes = built.bytes.slice();
              growTo(built, bytes, d, to);
              bytes[at] = bytes[at]! ^ mask;
              const where = `block ${d} grown to ${to}, flip ${mask} at ${at} (block ${x})`;
              const { kept, decoded } = read(bytes, magic);
              expect(sorted(kept), where).toEqual(keysOf(built, [d, x]));
              // (two blocks side by side make one stretch with no intact block in it, counted as one)
              expect(decoded.skippedBlocks, where).toBe(Math.abs(x - d) === 1 ? 1 : 2);
            }
          }
        }
      }
    });

    test(`repair - ${kind}: a length grown and its payload damaged too, another block damaged: blocks leading up to the claimed end are kept`, () => {
      const blocks = 6;
      const built = build(magic, rows("k", blocks, 3));
      for (const x of [1, 3, blocks - 1]) {
        const bytes = built.bytes.slice();
        growTo(built, bytes, 0, lastEnd(built, magic));
        bytes[built.spans[0]!.end - 2] = bytes[built.spans[0]!.end - 2]! ^ 0x20; // the length is no longer all that is wrong
        bytes[built.spans[x]!.end - 2] = bytes[built.spans[x]!.end - 2]! ^ 0x20;
        const { kept, decoded } = read(bytes, magic);
        expect(sorted(kept), `block ${x}`).toEqual(keysOf(built, [0, x]));
        expect(decoded.skippedBlocks, `block ${x}`).toBe(x === 1 ? 1 : 2);
      }
    });
  }

  test("repair - a flipped byte in a block whose value holds a whole snapshot: the snapshot's blocks are not read as records", () => {
    // (two blocks and an end block in a row inside a value: a run of intact blocks alone says nothing)
    const inner = build(SNAPSHOT_MAGIC, rows("ghost", 2, 2)).bytes;
    const blocks = rows("k", 5, 3);
    blocks[2]!.splice(1, 0, ["holds-a-file", inner]);
    const built = build(SNAPSHOT_MAGIC, blocks);
    const { start } = built.spans[2]!;
    const bytes = built.bytes.slice();
    bytes[start + 16 + 30] = bytes[start + 16 + 30]! ^ 0x01;
    const { kept, decoded } = read(bytes, SNAPSHOT_MAGIC);
    expect(sorted(kept)).toEqual(keysOf(built, [2]));
    expect(decoded.skippedBlocks).toBe(1);
  });

  test("repair - a grown length over blocks that follow a value holding a block: the blocks after it are kept, the value's are not", () => {
    const ghost = build(SNAPSHOT_MAGIC, [[["ghost:0", enc("boo")]]], false);
    const blocks = rows("k", 6, 3);
    blocks[1]!.splice(1, 0, ["holds-a-block", concat(ghost.bytes.subarray(0, ghost.spans[0]!.end), enc("tail"))]);
    const built = build(SNAPSHOT_MAGIC, blocks);
    const bytes = built.bytes.slice();
    growTo(built, bytes, 1, built.spans[5]!.start);
    bytes[built.spans[4]!.end - 2] = bytes[built.spans[4]!.end - 2]! ^ 0x20;
    const { kept } = read(bytes, SNAPSHOT_MAGIC);
    expect(sorted(kept)).toEqual(keysOf(built, [1, 4]));
  });
});

describe("repair - a grown length and random damage", () => {
  test("repair - a length grown to a random block edge, flips elsewhere: nothing wrong kept; when the length was all its block lost, every untouched block kept", () => {
    const seed = 20261203;
    const { random, int, blocks, all } = randomBlocks(seed, 6, 100);
    for (const magic of MAGICS) {
      const built = build(magic, blocks);
      for (let trial = 0; trial < 1500; trial++) {
        const d = int(built.spans.length - 1);
        const ends = [...built.spans.slice(d + 2).map((span) => span.start), lastEnd(built, magic)];
        const to = ends[int(ends.length)]!;
        const bytes = built.bytes.slice();
        growTo(built, bytes, d, to);
        const hits = Array.from({ length: int(3) }, () => 36 + int(bytes.length - 36));
        for (const at of hits) bytes[at] = bytes[at]! ^ (1 + int(255));
        const where = `seed ${seed} ${magic.trim()} trial ${trial}: block ${d} grown to ${to}, flips at ${hits.join(" ")}`;
        const { kept } = read(bytes, magic);
        for (const [key, value] of kept) expect(all.get(key), `${where}: ${key}`).toBe(value);
        const grown = built.spans[d]!;
        if (hits.some((at) => at >= grown.start && at < grown.end)) continue; // (more than its length damaged: see the README)
        const untouched = built.spans.filter((span, b) => b !== d && hits.every((at) => at < span.start || at >= span.end));
        for (const key of untouched.flatMap((span) => span.keys)) expect(kept.get(key), `${where}: ${key}`).toBe(all.get(key)!);
      }
    }
  });
});

describe("repair - the walk is linear in the blocks", () => {
  // Checksum calls (two per block read): the main walk reads each block once, the search inside a
  // claimed span once more at most (a damaged block's own payload is read a few times). Searching
  // again from each marker of a failed run read blocks²/2 blocks (1.6 s at 4,000 blocks, 6.4 s at
  // 8,000, minutes at a million keys).
  const damages: Record<string, (built: Built, bytes: Uint8Array, magic: string) => void> = {
    "grown length, last block flipped": (built, bytes, magic) => {
      growTo(built, bytes, 0, lastEnd(built, magic));
      bytes[built.spans.at(-1)!.start + 20]! ^= 0xff;
    },
    "grown length and payload, last block flipped": (built, bytes, magic) => {
      growTo(built, bytes, 0, lastEnd(built, magic));
      bytes[built.spans[0]!.start + 20]! ^= 0x01;
      bytes[built.spans.at(-1)!.start + 20]! ^= 0xff;
    },
    "grown length and payload, last block's length damaged (no run leads to the end)": (built, bytes, magic) => {
      growTo(built, bytes, 0, lastEnd(built, magic));
      bytes[built.spans[0]!.start + 20]! ^= 0x01;
      bytes[built.spans.at(-1)!.start + 7]! ^= 0x80;
    },
  };
  for (const magic of MAGICS) {
    for (const [name, damage] of Object.entries(damages)) {
      test(`repair - ${kindOf(magic)}: ${name}: at most 5 checksum calls per block, 4x the file's bytes`, () => {
        const work = [250, 1000].map((blocks) => {
          const built = build(magic, rows("k", blocks, 4));
          const bytes = built.bytes.slice();
          damage(built, bytes, magic);
          const { calls, bytes: hashed } = checksumWork(() => read(bytes, magic));
          expect(calls, `${blocks} blocks`).toBeLessThanOrEqual(5 * blocks + 20);
          expect(hashed, `${blocks} blocks`).toBeLessThanOrEqual(4 * bytes.length);
          return calls;
        });
        expect(work[1]! / work[0]!).toBeLessThan(4.5);
      });
    }
  }
});
