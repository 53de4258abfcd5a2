// Byte helpers shared by stores and codecs: keys travel as bytes; some places need a string form.

const utf8Decoder = new TextDecoder("utf-8");
const utf8Encoder = new TextEncoder();

/**
 * A lossless one-char-per-byte string of `bytes`, for use as a Map key. (TextDecoder's "latin1"
 * is windows-1252 and maps 0x80-0x9F elsewhere, so bytes are widened by hand.)
 */
export function bytesToBinaryString(bytes: Uint8Array): string {
  // fromCharCode over the bytes makes one flat string; building it with += would leave a rope
  // per key, which costs JSC ~140 bytes a key for as long as the key lives.
  if (bytes.length <= 4096) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
}

export function binaryStringToBytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "latin1"));
}

/** Arguments up to this long are copied rather than viewed (see `argumentBytes`). */
export const SMALL_ARG_BYTES = 64;

/**
 * Bytes `start..end` of a request buffer as an argument: a view when long, a copy when short.
 * In JavaScriptCore a view is the dearer of the two for small sizes: it needs an ArrayBuffer
 * behind the input (made on the first view of each chunk) and a heavyweight array object,
 * while a small fresh array lives in the GC heap; measured ~90 ns per view against ~25 ns for
 * copying a 15-byte key (bench/resp-path.bench.ts). Values of any size stay zero-copy.
 */
export function argumentBytes(buf: Uint8Array, start: number, end: number): Uint8Array {
  const length = end - start;
  if (length > SMALL_ARG_BYTES) return buf.subarray(start, end);
  const copy = new Uint8Array(length);
  for (let i = 0; i < length; i++) copy[i] = buf[start + i]!;
  return copy;
}

/** Up to this many bytes a loop copies faster than TypedArray#set, whose fixed cost dominates. */
export const SHORT_COPY_BYTES = 64;

/** Copies `src` into `target` at `at` (by loop when short). */
export function copyShort(target: Uint8Array, at: number, src: Uint8Array): void {
  copyRange(target, at, src, 0, src.length);
}

/** Copies bytes `start..end` of `src` into `target` at `at`, making no view when the run is short. */
export function copyRange(target: Uint8Array, at: number, src: Uint8Array, start: number, end: number): void {
  if (end - start > SHORT_COPY_BYTES) {
    target.set(src.subarray(start, end), at);
    return;
  }
  for (let i = start; i < end; i++) target[at + i - start] = src[i]!;
}

/**
 * A buffer for a request or line gathered across chunks, with room for `need` bytes: `buf` when it
 * has it, else a new one holding its first `used` bytes, sized to the largest of `need`, `least`
 * and twice `buf` (doubling, so the copies stay linear), but never past `cap` unless `need` is.
 */
export function roomFor(buf: Uint8Array | null, used: number, need: number, least: number, cap: number): Uint8Array {
  if (buf !== null && buf.length >= need) return buf;
  const size = Math.min(Math.max(need, least, 2 * (buf?.length ?? 0)), Math.max(need, cap));
  const bigger = new Uint8Array(size);
  if (buf !== null) copyRange(bigger, 0, buf, 0, used);
  return bigger;
}

export function utf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

export function asciiLower(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    s += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
  }
  return s;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}


/**
 * A copy of `bytes` in memory of its own. (Not `.slice()`: Bun hands socket data over as Buffer,
 * whose `slice` is a view, so a "copy" would keep the whole socket chunk alive.)
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
