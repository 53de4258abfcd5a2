import { describe, expect, test } from "bun:test";
import { CodecError, decodeBatch, encodeBatch, forEachRecord } from "../../src/cluster/sync/codec.ts";
import type { SyncRecord } from "../../src/cluster/sync/records.ts";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

const records: SyncRecord[] = [
  { kind: "put", key: bytes("k1"), value: bytes("hello world"), writtenAt: 1_800_000_000_123, expiresAt: 0, origin: "127.0.0.1:7721" },
  { kind: "put", key: new Uint8Array([0, 255, 10, 32]), value: new Uint8Array(), writtenAt: 5, expiresAt: 1_800_000_060_000, origin: "127.0.0.1:7722" },
  { kind: "del", key: bytes("gone"), writtenAt: 6, origin: "127.0.0.1:7721" },
  { kind: "flush", writtenAt: 7, origin: "https://node-ü:1" },
];

/** forEachRecord's records, copied out of its reused object and buffers */
function visited(body: Uint8Array): { inOrder: boolean; records: SyncRecord[] } {
  const out: SyncRecord[] = [];
  const inOrder = forEachRecord(body, (r) => {
    if (r.kind === "put") out.push({ kind: "put", key: r.key.slice(), value: r.value.slice(), writtenAt: r.writtenAt, expiresAt: r.expiresAt, origin: r.origin });
    else if (r.kind === "del") out.push({ kind: "del", key: r.key.slice(), writtenAt: r.writtenAt, origin: r.origin });
    else out.push({ kind: "flush", writtenAt: r.writtenAt, origin: r.origin });
  });
  return { inOrder, records: out };
}

describe("sync batch codec", () => {
  test("codec - forEachRecord visits what decodeBatch decodes (short and long keys and values)", () => {
    const long = new Uint8Array(300).map((_, i) => i & 255);
    const mixed: SyncRecord[] = [...records, { kind: "put", key: long, value: long.subarray(7), writtenAt: 9, expiresAt: 0, origin: "127.0.0.1:7721" }, records[0]!];
    expect(visited(encodeBatch(mixed, true))).toEqual({ inOrder: true, records: mixed });
    expect(visited(encodeBatch(mixed, false)).inOrder).toBe(false);
  });

  test("codec - forEachRecord refuses a malformed batch before visiting any record", () => {
    const full = encodeBatch(records, true);
    for (let n = 0; n < full.length; n++) {
      let calls = 0;
      expect(() => forEachRecord(full.subarray(0, n), () => calls++)).toThrow(CodecError);
      expect(calls).toBe(0);
    }
  });

  test("codec - forEachRecord hands each next 64 records' keys to prefetch before applying them", () => {
    // 3,000 records: past the size of its first table of key ranges, so that it grows too
    const many: SyncRecord[] = Array.from({ length: 3000 }, (_, i) =>
      i % 7 === 3 ? { kind: "del", key: bytes(`key-${i}`), writtenAt: i, origin: "o" } : { kind: "put", key: bytes(`key-${i}`), value: bytes(`v${i}`), writtenAt: i, expiresAt: 0, origin: "o" },
    );
    const body = encodeBatch(many, true);
    const events: string[] = [];
    forEachRecord(
      body,
      (r) => events.push(`apply ${new TextDecoder().decode(r.key)}`),
      (buf, at, count) => {
        const keys = Array.from({ length: count }, (_, i) => new TextDecoder().decode(buf.subarray(at[2 * i]!, at[2 * i + 1]!)));
        events.push(`prefetch ${keys.join(",")}`);
      },
    );
    const expected: string[] = [];
    for (let i = 0; i < many.length; i++) {
      if (i % 64 === 0) expected.push(`prefetch ${many.slice(i, i + 64).map((_, j) => `key-${i + j}`).join(",")}`);
      expected.push(`apply key-${i}`);
    }
    expect(events).toEqual(expected);
    // a malformed batch reaches neither
    expect(() => forEachRecord(body.subarray(0, body.length - 1), () => events.push("x"), () => events.push("y"))).toThrow(CodecError);
    expect(events.length).toBe(expected.length);
  });

  test("codec - forEachRecord tells each record's index and the batch's count, with or without prefetch", () => {
    const body = encodeBatch(records, true);
    for (const prefetch of [undefined, () => {}]) {
      const seen: [number, number][] = [];
      forEachRecord(body, (_r, _inOrder, index, count) => seen.push([index, count]), prefetch);
      expect(seen).toEqual([[0, 4], [1, 4], [2, 4], [3, 4]]);
    }
  });

  test("codec - records round-trip byte for byte, with the in-order flag", () => {
    const decoded = decodeBatch(encodeBatch(records, true));
    expect(decoded.inOrder).toBe(true);
    expect(decoded.records).toEqual(records);
    expect(decodeBatch(encodeBatch(records, false)).inOrder).toBe(false);
    expect(decodeBatch(encodeBatch([], false)).records).toEqual([]);
  });

  test("codec - every truncation is a CodecError, never a crash or a partial batch", () => {
    const full = encodeBatch(records, true);
    for (let n = 0; n < full.length; n++) expect(() => decodeBatch(full.subarray(0, n))).toThrow(CodecError);
  });

  test("codec - bad magic, unknown kind, unknown origin, trailing bytes, bad times are refused", () => {
    const full = encodeBatch(records.slice(0, 1), true);
    const flip = (at: number, value: number): Uint8Array => {
      const copy = full.slice();
      copy[at] = value;
      return copy;
    };
    expect(() => decodeBatch(flip(0, 0x41))).toThrow("not a sync batch");
    const firstRecord = 4 + 1 + 2 + 2 + "127.0.0.1:7721".length + 4;
    expect(() => decodeBatch(flip(firstRecord, 9))).toThrow("unknown kind");
    expect(() => decodeBatch(flip(firstRecord + 1, 5))).toThrow("unknown origin");
    expect(() => decodeBatch(new Uint8Array([...full, 0]))).toThrow("trailing");
    const negative = full.slice();
    new DataView(negative.buffer).setFloat64(firstRecord + 3, -1, true);
    expect(() => decodeBatch(negative)).toThrow("bad time");
    const empty = encodeBatch([{ kind: "del", key: new Uint8Array(), writtenAt: 1, origin: "a" }], false);
    expect(() => decodeBatch(empty)).toThrow("empty key");
  });

  test("codec - large values are views of the body (no copy per record); short ones are copies", () => {
    const big = new Uint8Array(1000).fill(7);
    const body = encodeBatch([records[0]!, { kind: "put", key: new TextEncoder().encode("big"), value: big, writtenAt: 5, expiresAt: 0, origin: "a" }], false);
    const [small, large] = decodeBatch(body).records;
    expect(large!.kind === "put" && large!.value.buffer).toBe(body.buffer);
    expect(large!.kind === "put" && large!.value).toEqual(big);
    expect(small!.kind === "put" && small!.value.buffer).not.toBe(body.buffer);
    expect(small!.kind === "put" && new TextDecoder().decode(small!.value)).toBe("hello world");
  });
});
