import { describe, expect, test } from "bun:test";
import { encodeGet, isValidKey, parseGetAnswer } from "../../src/importers/memcached-text.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

function concat(...parts: (string | Uint8Array)[]): Uint8Array {
  const arrays = parts.map((p) => (typeof p === "string" ? bytes(p) : p));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

describe("memcached text protocol", () => {
  test("get - encodes the request with the key's bytes", () => {
    expect(new TextDecoder().decode(encodeGet(bytes("user:1")))).toBe("get user:1\r\n");
  });

  test("get - parses a value, binary-safe, at every split point", () => {
    const value = new Uint8Array(256).map((_, i) => i); // includes \r\n and "END" bytes
    const answer = concat(`VALUE k 0 ${value.length}\r\n`, value, "\r\nEND\r\n");
    for (let cut = 0; cut < answer.length; cut++) {
      expect(parseGetAnswer(answer, 0, cut).kind).toBe("pending");
    }
    const parsed = parseGetAnswer(answer, 0);
    expect(parsed.kind).toBe("value");
    if (parsed.kind === "value") {
      expect(parsed.value).toEqual(value);
      expect(parsed.end).toBe(answer.length);
    }
  });

  test("get - parses a cas field and an offset into a longer buffer", () => {
    const buf = concat("END\r\n", "VALUE k 5 3 99\r\nabc\r\nEND\r\n");
    const first = parseGetAnswer(buf, 0);
    expect(first).toEqual({ kind: "miss", end: 5 });
    const second = parseGetAnswer(buf, 5);
    expect(second.kind === "value" && new TextDecoder().decode(second.value)).toBe("abc");
  });

  test("get - the empty value is a value, not a miss", () => {
    const parsed = parseGetAnswer(bytes("VALUE k 0 0\r\n\r\nEND\r\n"), 0);
    expect(parsed.kind === "value" && parsed.value.length).toBe(0);
  });

  test("get - server error lines are per request", () => {
    expect(parseGetAnswer(bytes("SERVER_ERROR out of memory\r\n"), 0)).toEqual({ kind: "server-error", message: "SERVER_ERROR out of memory", end: 28 });
    expect(parseGetAnswer(bytes("CLIENT_ERROR bad command line format\r\n"), 0).kind).toBe("server-error");
    expect(parseGetAnswer(bytes("ERROR\r\n"), 0).kind).toBe("server-error");
  });

  test("get - garbage is a protocol error, never a value", () => {
    for (const text of ["+OK\r\n", "VALUE k 0\r\n", "VALUE k 0 -1\r\nEND\r\n", "VALUE k 0 3\r\nabcdEND\r\n\r\n", "VALUE k 0 3\r\nabc\r\nENX\r\n", "END\n"]) {
      expect(parseGetAnswer(bytes(text), 0).kind).toBe("protocol-error");
    }
    expect(parseGetAnswer(new Uint8Array(600).fill(65), 0).kind).toBe("protocol-error");
  });

  test("get - keys memcached cannot hold are recognised", () => {
    expect(isValidKey(bytes("a:b-c_d"))).toBe(true);
    expect(isValidKey(bytes("has space"))).toBe(false);
    expect(isValidKey(bytes("tab\there"))).toBe(false);
    expect(isValidKey(new Uint8Array(251).fill(97))).toBe(false);
    expect(isValidKey(new Uint8Array(250).fill(97))).toBe(true);
    expect(isValidKey(new Uint8Array(0))).toBe(false);
    expect(isValidKey(bytes("ключ"))).toBe(true); // UTF-8 bytes are fine
  });
});
