// decodeFile under --repair on damaged files built block by block: a length past the end, a
// flipped byte in a value (whose bytes may look like blocks), blocks after an end block, a byte
// flipped at every offset of a small file, random damage. Intact blocks are always kept; without
// repair the same files are a FormatError naming the offset.

import { describe, expect, test } from "bun:test";
import { FormatError, LOG_MAGIC, SNAPSHOT_MAGIC } from "../../src/persistence/frame.ts";
import { enc, source } from "./helpers.ts";
import { build, concat, keysOf, read, rows, sorted, randomBlocks, thrown, type Rows } from "./repair-files.ts";

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

describe("repair - a block whose checksum fails", () => {
  /** A whole valid block holding records named ghost:*, as some value's bytes might. */
  const ghost = build(SNAPSHOT_MAGIC, [[["ghost:0", enc("boo")], ["ghost:1", enc("boo")]]], false);
  const ghostBlock = ghost.bytes.subarray(0, ghost.spans[0]!.end);
  const blocks = rows("k", 5, 3);
  blocks[2]!.push(["holds-blocks", concat(enc("OWLB\x10\0\0\0"), ghostBlock, enc("OWLE"))]);

  test("repair - a flipped byte in a value costs only its block; blocks inside the value are not read as records", () => {
    const built = build(SNAPSHOT_MAGIC, blocks);
    const { start, end } = built.spans[2]!;
    const bytes = built.bytes.slice();
    bytes[start + 16 + 30] = bytes[start + 16 + 30]! ^ 0x01; // in the first record's key or value
    expect((thrown(() => read(bytes, SNAPSHOT_MAGIC, false)) as FormatError).message).toBe(`corrupt at byte offset ${start}: block checksum mismatch`);

    const { kept, decoded } = read(bytes, SNAPSHOT_MAGIC);
    expect(sorted(kept)).toEqual(keysOf(built, [2]));
    expect(decoded.damage?.offset).toBe(start);
    expect(decoded.skippedBlocks).toBe(1);
    expect(decoded.skippedBytes).toBe(end - start);
  });

  test("repair - a length grown over the next blocks, or shrunk into its payload, still keeps those blocks", () => {
    const built = build(SNAPSHOT_MAGIC, blocks);
    const { start, end } = built.spans[1]!;
    const length = end - start - 16;
    // Grown to end exactly where block 4 starts: blocks 2 and 3 lie inside the claimed span.
    for (const claimed of [built.spans[4]!.start - start - 16, length - 5, length + 1]) {
      const bytes = built.bytes.slice();
      new DataView(bytes.buffer).setUint32(start + 4, claimed, true);
      const { kept, decoded } = read(bytes, SNAPSHOT_MAGIC);
      expect(sorted(kept)).toEqual(keysOf(built, [1]));
      expect(decoded.skippedBytes).toBe(end - start);
    }
  });

  test("repair - two damaged blocks in a row cost those two", () => {
    const built = build(SNAPSHOT_MAGIC, blocks);
    const bytes = built.bytes.slice();
    for (const span of built.spans.slice(1, 3)) bytes[span.end - 1] = bytes[span.end - 1]! ^ 0x40;
    const { kept, decoded } = read(bytes, SNAPSHOT_MAGIC);
    expect(sorted(kept)).toEqual(keysOf(built, [1, 2]));
    expect(decoded.skippedBytes).toBe(built.spans[2]!.end - built.spans[1]!.start);
  });
});

describe("repair - blocks after an end block", () => {
  const first = build(SNAPSHOT_MAGIC, rows("a", 3, 4));

  test("repair - garbage and then valid blocks after the end block: the blocks are kept", () => {
    const later = build(SNAPSHOT_MAGIC, rows("b", 2, 4), false);
    const bytes = concat(first.bytes, enc("garbage"), later.bytes);
    const at = first.bytes.length;
    expect((thrown(() => read(bytes, SNAPSHOT_MAGIC, false)) as FormatError).message).toBe(`corrupt at byte offset ${at}: bytes after the end block`);

    const { kept, decoded } = read(bytes, SNAPSHOT_MAGIC);
    expect(sorted(kept)).toEqual([...keysOf(first), ...keysOf(later)].sort());
    expect(decoded.damage?.message).toBe(`corrupt at byte offset ${at}: bytes after the end block`);
    expect(decoded.skippedBlocks).toBe(0);
    expect(decoded.skippedBytes).toBe(7);
    expect(decoded.records).toBe(20);
  });

  test("repair - a whole snapshot appended after another: both are kept, the later record of a key wins", () => {
    const later = build(SNAPSHOT_MAGIC, [[["a:0:0", enc("newer")], ["c", enc("c")]]]);
    const { kept, decoded } = read(concat(first.bytes, later.bytes), SNAPSHOT_MAGIC);
    expect(sorted(kept)).toEqual([...keysOf(first), "c"].sort());
    expect(kept.get("a:0:0")).toBe("newer");
    expect(decoded.damage?.offset).toBe(first.bytes.length);
    expect(decoded.skippedBytes).toBe(36); // the second file's header
  });

  test("repair - a torn snapshot appended to: the intact blocks of both parts are kept", () => {
    const torn = first.bytes.subarray(0, first.spans[2]!.start + 20);
    const later = build(SNAPSHOT_MAGIC, rows("b", 2, 4));
    const { kept } = read(concat(torn, later.bytes), SNAPSHOT_MAGIC);
    expect(sorted(kept)).toEqual([...keysOf(first, [2]), ...keysOf(later)].sort());
  });
});

describe("repair - a byte flipped at any offset of a small file", () => {
  // Values that look like blocks (markers with lengths that fit, overrun, or are absurd), none of them valid.
  const blocks: Rows[] = [
    [["a", enc("one")], ["b", enc("OWLB\x08\0\0\0\x01\0\0\0\0\0\0\0")]],
    [["c", enc("xxOWLE\x08\0\0\0")], ["d", new Uint8Array(40).fill(0x4f)]],
    [["e", enc("OWLB\xff\xff\xff\x7f")], ["f", enc("")], ["g", enc("OWLBOWLE")]],
    [["h", new Uint8Array(100).fill(3)]],
    [["i", enc("OWLB\x40\0\0\0")], ["j", enc("last")]],
  ];
  const masks = [0x01, 0x07, 0x10, 0x80, 0xff];

  for (const magic of [SNAPSHOT_MAGIC, LOG_MAGIC]) {
    const kind = magic === SNAPSHOT_MAGIC ? "snapshot" : "log";
    test(`repair - ${kind}: every flip is caught; repair never throws and keeps every record of every intact block`, () => {
      const built = build(magic, blocks);
      const all = new Map(blocks.flat().map(([key, value]) => [key, Buffer.from(value).toString("latin1")]));
      for (let at = 0; at < built.bytes.length; at++) {
        const hit = built.spans.findIndex((span) => at >= span.start && at < span.end);
        const intact = keysOf(built, [hit]);
        for (const mask of masks) {
          const bytes = built.bytes.slice();
          bytes[at] = bytes[at]! ^ mask;
          const where = `flip ${mask} at ${at}`;
          expect(thrown(() => read(bytes, magic, false)), where).toBeInstanceOf(FormatError);
          for (const input of [bytes, source(bytes, 5)]) {
            const { kept, decoded } = read(input, magic);
            expect(decoded.damage, where).toBeInstanceOf(FormatError);
            for (const key of intact) expect(kept.get(key), `${where}: ${key}`).toBe(all.get(key)!);
            for (const [key, value] of kept) expect(all.get(key), `${where}: ${key}`).toBe(value);
            expect(decoded.skippedBytes, where).toBeLessThanOrEqual(built.bytes.length);
          }
        }
      }
    });

    test(`repair - ${kind}: a file cut at any offset keeps every block before the cut`, () => {
      const built = build(magic, blocks);
      for (let cut = 0; cut < built.bytes.length; cut++) {
        const whole = built.spans.filter((span) => span.end <= cut).flatMap((span) => span.keys).sort();
        const { kept, decoded } = read(built.bytes.subarray(0, cut), magic);
        expect(sorted(kept), `cut at ${cut}`).toEqual(whole);
        // (a log may end at any block edge; a snapshot only after its end block)
        const clean = magic === LOG_MAGIC && (cut === 36 || built.spans.some((span) => span.end === cut));
        expect(decoded.damage === undefined, `cut at ${cut}`).toBe(clean);
      }
    });
  }
});

describe("repair - random damage", () => {
  test("repair - flips, overwritten runs, cuts and inserted bytes, a few at once: never a throw, every untouched block kept", () => {
    const seed = 20261202;
    const { random, int, noise, blocks, all } = randomBlocks(seed, 8, 120);
    for (const magic of [SNAPSHOT_MAGIC, LOG_MAGIC]) {
      const built = build(magic, blocks);
      const original = built.bytes;
      for (let trial = 0; trial < 300; trial++) {
        // Each damage: where it starts, how many original bytes it touches, what replaces them.
        const damages = Array.from({ length: 1 + int(3) }, () => {
          const at = int(original.length);
          const kind = int(4);
          const length = kind === 0 ? 1 : 1 + int(64);
          const bytes = kind === 0 ? Uint8Array.of(original[at]! ^ (1 + int(255))) : kind === 1 ? noise(length) : kind === 2 ? new Uint8Array(0) : noise(length);
          return { at, touched: kind === 3 ? 1 : length, removed: kind === 3 ? 0 : length, bytes };
        });
        let bytes = original;
        for (const d of [...damages].sort((x, y) => y.at - x.at)) {
          bytes = concat(bytes.subarray(0, d.at), d.bytes, bytes.subarray(Math.min(bytes.length, d.at + d.removed)));
        }
        const where = `seed ${seed} ${magic.trim()} trial ${trial}: ${damages.map((d) => `${d.at}+${d.removed}/${d.bytes.length}`).join(" ")}`;
        const untouched = built.spans.filter((span) => damages.every((d) => d.at + d.touched <= span.start || d.at >= span.end));
        const { kept } = read(bytes, magic);
        for (const key of untouched.flatMap((span) => span.keys)) expect(kept.get(key), `${where}: ${key}`).toBe(all.get(key)!);
        for (const [key, value] of kept) expect(all.get(key), `${where}: ${key}`).toBe(value);
      }
    }
  });
});
