// EnvelopeMemo: reused only for the same host, key, value and write time; bounded.

import { describe, expect, test } from "bun:test";
import { EnvelopeMemo, MEMO_MAX_ENTRIES, MEMO_MAX_VALUE_BYTES } from "../../src/transport/http/envelope-memo.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

/** The memoised body for (host, key, value, write time), or undefined. */
function find(memo: EnvelopeMemo, host: string, key: string, value: Uint8Array, writtenAt: number): Uint8Array | undefined {
  const entry = memo.entry(key);
  return entry?.answers(host, value, writtenAt) ? entry.body : undefined;
}

describe("envelope memo", () => {
  test("memo - a hit needs the same host, key, value and write time", () => {
    const memo = new EnvelopeMemo();
    const body = bytes("{...}");
    memo.remember("h:1", "k", bytes("k"), bytes("v"), 5, body);
    expect(find(memo, "h:1", "k", bytes("v"), 5)).toBe(body);
    expect(find(memo, "h:2", "k", bytes("v"), 5)).toBeUndefined();
    expect(find(memo, "h:1", "k2", bytes("v"), 5)).toBeUndefined();
    expect(find(memo, "h:1", "k", bytes("w"), 5)).toBeUndefined();
    expect(find(memo, "h:1", "k", bytes("v"), 6)).toBeUndefined();
  });

  test("memo - keeps its own copies of the key and value, skips large values, stays bounded", () => {
    const memo = new EnvelopeMemo();
    const key = bytes("k");
    const value = bytes("abc");
    memo.remember("h", "k", key, value, 1, bytes("x"));
    value[0] = 120; // the store reusing its memory must not fool the memo
    key[0] = 120; // nor a caller reusing the argument
    expect(find(memo, "h", "k", bytes("abc"), 1)).toBeDefined();
    expect(find(memo, "h", "k", value, 1)).toBeUndefined();
    expect(memo.entry("k")?.keyBytes).toEqual(bytes("k"));
    memo.remember("h", "big", bytes("big"), new Uint8Array(MEMO_MAX_VALUE_BYTES + 1), 1, bytes("x"));
    expect(find(memo, "h", "big", new Uint8Array(MEMO_MAX_VALUE_BYTES + 1), 1)).toBeUndefined();
    for (let i = 0; i <= MEMO_MAX_ENTRIES; i++) memo.remember("h", `k${i}`, bytes(`k${i}`), bytes("v"), 1, bytes("x"));
    expect(find(memo, "h", `k${MEMO_MAX_ENTRIES}`, bytes("v"), 1)).toBeDefined();
    expect(find(memo, "h", "k0", bytes("v"), 1)).toBeUndefined();
  });
});
