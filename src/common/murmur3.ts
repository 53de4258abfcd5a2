// MurmurHash3 (x86, 32-bit) over a byte range, bit for bit what Bun.hash.murmur32v3 returns for
// the same bytes and seed. In JavaScript for short inputs: a call into Bun's native hash costs
// ~30 ns whatever the length (about twice this loop for a 16-byte key), and it needs a view of
// the bytes, which costs as much again when they lie inside a larger buffer (the store's arena).

/** Past this many bytes the native hash's speed per byte wins over its fixed cost. */
const NATIVE_FROM = 256;

/** murmur3_32 of bytes [start, end) of `bytes` with `seed`, as an unsigned 32-bit integer. */
export function murmur3(bytes: Uint8Array, start: number, end: number, seed: number): number {
  const n = end - start;
  if (n >= NATIVE_FROM) return Bun.hash.murmur32v3(bytes.subarray(start, end), seed) >>> 0;
  let h = seed | 0;
  let i = start;
  for (const last = end - 3; i < last; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = end - i;
  if (tail > 0) {
    let k = bytes[i]!;
    if (tail > 1) k |= bytes[i + 1]! << 8;
    if (tail > 2) k |= bytes[i + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  return fmix32(h ^ n) >>> 0;
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit (a signed int32). */
export function fmix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * murmur3_32 of a binary string (one char per byte, as `bytesToBinaryString` makes), equal to
 * `murmur3` of those bytes: sync's tombstone table finds a key given as a string by the hash of
 * its bytes without converting it. Always the JavaScript loop (the native hash of a string
 * hashes its UTF-8, not its bytes).
 */
export function murmur3Binary(s: string, seed: number): number {
  const n = s.length;
  let h = seed | 0;
  let i = 0;
  for (const last = n - 3; i < last; i += 4) {
    let k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = n - i;
  if (tail > 0) {
    let k = s.charCodeAt(i);
    if (tail > 1) k |= s.charCodeAt(i + 1) << 8;
    if (tail > 2) k |= s.charCodeAt(i + 2) << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  return fmix32(h ^ n) >>> 0;
}
