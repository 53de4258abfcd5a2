import { describe, expect, test } from "bun:test";
import { parseGetAnswer, parseRfc3339 } from "../../src/cluster/peer-answer.ts";

describe("peer answer", () => {
  test("rfc3339 - ours, Go's nanoseconds and offsets", () => {
    expect(parseRfc3339("2026-11-26T10:00:00.000Z")).toBe(Date.UTC(2026, 10, 26, 10));
    expect(parseRfc3339("2026-11-26T18:00:00+08:00")).toBe(Date.UTC(2026, 10, 26, 10));
    expect(parseRfc3339("2019-05-01T10:00:00.123456789Z")).toBeCloseTo(Date.UTC(2019, 4, 1, 10) + 123.456789, 3);
    // sub-millisecond digits still order two writes within one millisecond
    expect(parseRfc3339("2019-05-01T10:00:00.0001Z")).toBeGreaterThan(parseRfc3339("2019-05-01T10:00:00Z"));
    expect(parseRfc3339("0001-01-01T00:00:00Z")).toBe(-62135596800000);
    for (const bad of ["", "0", "2026-11-26", "2026-13-01T00:00:00Z", "2026-11-26T10:00:00", "yesterday"]) expect(parseRfc3339(bad)).toBeNaN();
  });

  test("get answer - a value with its time", () => {
    const body = JSON.stringify({ Cmd: "get", Status: 200, Results: "SUCCESS", Key: "k", Data: '100% "q"\n日本', ResponseHost: "h", KeyCreateTime: "2026-11-26T10:00:00.000Z" });
    expect(parseGetAnswer(body)).toEqual({ kind: "value", data: '100% "q"\n日本', keyCreateTime: "2026-11-26T10:00:00.000Z", writtenAt: Date.UTC(2026, 10, 26, 10) });
  });

  test("get answer - 404 is a miss", () => {
    expect(parseGetAnswer('{"Status":404,"Data":null}')).toEqual({ kind: "missing" });
  });

  test("get answer - anything else is a bad answer, never a throw", () => {
    const cases: [string, string][] = [
      ["<html>", "not JSON"],
      ["", "not JSON"],
      ["[1,2]", "not a JSON envelope"],
      ["null", "not a JSON envelope"],
      ['{"Status":"200"}', "no Status"],
      ['{"Status":500,"Message":"boom"}', "peer answered Status 500: boom"],
      ['{"Status":200,"Data":5,"KeyCreateTime":"2026-11-26T10:00:00Z"}', "Data is not a string"],
      ['{"Status":200,"Data":"v"}', "KeyCreateTime is not a string"],
      ['{"Status":200,"Data":"v","KeyCreateTime":"soon"}', "KeyCreateTime is not an RFC 3339 time"],
    ];
    for (const [body, why] of cases) {
      const outcome = parseGetAnswer(body);
      expect(outcome.kind).toBe("failed");
      if (outcome.kind === "failed") {
        expect(outcome.reason).toBe("bad answer");
        expect(outcome.message).toContain(why);
      }
    }
  });
});
