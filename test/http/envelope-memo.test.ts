// EnvelopeMemo: reused only for the same host, key, value and write time; bounded.

import { describe, expect, test } from "bun:test";
import { EnvelopeMemo, MEMO_MAX_ENTRIES, MEMO_MAX_VALUE_BYTES } from "../../src/transport/http/envelope-memo.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("envelope memo", () => {
  test("memo - a hit needs the same host, key, value and write time", () => {
    const memo = new EnvelopeMemo();
    const body = bytes("{...}");
    memo.remember("h:1", "k", bytes("v"), 5, body);
    expect(memo.find("h:1", "k", bytes("v"), 5)).toBe(body);
    expect(memo.find("h:2", "k", bytes("v"), 5)).toBeUndefined();
    expect(memo.find("h:1", "k2", bytes("v"), 5)).toBeUndefined();
    expect(memo.find("h:1", "k", bytes("w"), 5)).toBeUndefined();
    expect(memo.find("h:1", "k", bytes("v"), 6)).toBeUndefined();
  });

  test("memo - keeps its own copy of the value, skips large values, stays bounded", () => {
    const memo = new EnvelopeMemo();
    const value = bytes("abc");
    memo.remember("h", "k", value, 1, bytes("x"));
    value[0] = 120; // the store reusing its memory must not fool the memo
    expect(memo.find("h", "k", bytes("abc"), 1)).toBeDefined();
    expect(memo.find("h", "k", value, 1)).toBeUndefined();
    memo.remember("h", "big", new Uint8Array(MEMO_MAX_VALUE_BYTES + 1), 1, bytes("x"));
    expect(memo.find("h", "big", new Uint8Array(MEMO_MAX_VALUE_BYTES + 1), 1)).toBeUndefined();
    for (let i = 0; i <= MEMO_MAX_ENTRIES; i++) memo.remember("h", `k${i}`, bytes("v"), 1, bytes("x"));
    expect(memo.find("h", `k${MEMO_MAX_ENTRIES}`, bytes("v"), 1)).toBeDefined();
    expect(memo.find("h", "k0", bytes("v"), 1)).toBeUndefined();
  });
});
