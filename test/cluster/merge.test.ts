import { describe, expect, test } from "bun:test";
import { mergeAnswers } from "../../src/cluster/merge.ts";
import { failed } from "../../src/cluster/peer-answer.ts";

const value = (data: string, writtenAt: number) => ({ kind: "value" as const, data, writtenAt, keyCreateTime: `t${writtenAt}` });

describe("merge", () => {
  test("merge - newest first, ties by address, misses left out, failures last by address", () => {
    const result = mergeAnswers([
      { address: "c:1", outcome: value("old", 100) },
      { address: "z:1", outcome: failed("timeout", "no answer within 300 ms") },
      { address: "b:1", outcome: value("new", 300) },
      { address: "a:1", outcome: { kind: "missing" } },
      { address: "d:1", outcome: value("tie-d", 200) },
      { address: "a:2", outcome: value("tie-a", 200) },
      { address: "y:1", outcome: failed("refused", "connection refused") },
    ]);
    expect(result.status).toBe(200);
    expect(result.entries).toEqual([
      { Address: "b:1", Data: "new", KeyCreateTime: "t300", Status: 200 },
      { Address: "a:2", Data: "tie-a", KeyCreateTime: "t200", Status: 200 },
      { Address: "d:1", Data: "tie-d", KeyCreateTime: "t200", Status: 200 },
      { Address: "c:1", Data: "old", KeyCreateTime: "t100", Status: 200 },
      { Address: "y:1", Data: null, KeyCreateTime: "0001-01-01T00:00:00Z", Status: 500, Message: "refused: connection refused" },
      { Address: "z:1", Data: null, KeyCreateTime: "0001-01-01T00:00:00Z", Status: 500, Message: "timeout: no answer within 300 ms" },
    ]);
  });

  test("merge - 404 when nobody holds the key; failures still listed", () => {
    expect(mergeAnswers([{ address: "a:1", outcome: { kind: "missing" } }])).toEqual({ status: 404, entries: [] });
    const r = mergeAnswers([
      { address: "a:1", outcome: { kind: "missing" } },
      { address: "b:1", outcome: failed("bad answer", "not JSON") },
    ]);
    expect(r.status).toBe(404);
    expect(r.entries.map((e) => e.Message)).toEqual(["bad answer: not JSON"]);
    expect(r.message).toContain("1 node did not answer");
  });
});
