// The JavaScript murmur3 must equal Bun's native one bit for bit: sync's digests and tie-breaks
// compare hashes across nodes (and across versions of this code).
import { describe, expect, test } from "bun:test";
import { murmur3, murmur3Binary } from "../../src/common/murmur3.ts";
import { bytesToBinaryString } from "../../src/store/bytes.ts";
import { seededRandom } from "../helpers/random.ts";

describe("murmur3", () => {
  test("murmur3 - equals Bun.hash.murmur32v3 for every length to past the native cut-over, any seed, ranges inside a buffer", () => {
    const seed = 20261130;
    const random = seededRandom(seed);
    for (let length = 0; length <= 300; length++) {
      for (const hashSeed of [0, 0x5eed, 0x0b1, 0xffffffff, Math.floor(random() * 2 ** 32)]) {
        const buf = new Uint8Array(length + 20).map(() => Math.floor(random() * 256));
        const start = Math.floor(random() * 10);
        const bytes = buf.slice(start, start + length);
        const want = Bun.hash.murmur32v3(bytes, hashSeed) >>> 0;
        expect(murmur3(bytes, 0, length, hashSeed), `seed ${seed} length ${length}`).toBe(want);
        expect(murmur3(buf, start, start + length, hashSeed), `seed ${seed} length ${length} in a buffer`).toBe(want);
      }
    }
  });

  test("murmur3 - known values of the reference implementation", () => {
    const enc = new TextEncoder();
    expect(murmur3(new Uint8Array(0), 0, 0, 0)).toBe(0);
    expect(murmur3(new Uint8Array(0), 0, 0, 1)).toBe(0x514e28b7);
    expect(murmur3(enc.encode("hello"), 0, 5, 0)).toBe(0x248bfa47);
    expect(murmur3(enc.encode("The quick brown fox jumps over the lazy dog"), 0, 43, 0)).toBe(0x2e4ff723);
  });

  test("murmur3Binary - a binary string hashes as its bytes, every length to past the native cut-over and 0x00/0xff bytes", () => {
    const random = seededRandom(20261201);
    for (let length = 0; length <= 1100; length += length < 300 ? 1 : 97) {
      for (const fill of ["random", 0x00, 0xff]) {
        const bytes = new Uint8Array(length).map(() => (fill === "random" ? Math.floor(random() * 256) : (fill as number)));
        for (const seed of [0, 0x5eed]) {
          expect(murmur3Binary(bytesToBinaryString(bytes), seed), `length ${length} fill ${fill}`).toBe(Bun.hash.murmur32v3(bytes, seed) >>> 0);
        }
      }
    }
  });
});
