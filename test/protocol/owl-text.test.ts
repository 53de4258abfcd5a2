import { describe, expect, test } from "bun:test";
import { commandEnd, LineFramer, lineFirstArguments, splitArgs, trimmedEnd, type LineSink } from "../../src/protocol/owl-text.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Feeds chunks to a framer and records what it produced. */
function frame(chunks: Uint8Array[], max = 64): string[] {
  const out: string[] = [];
  const sink: LineSink = {
    line: (b, start, end) => (out.push(dec.decode(b.subarray(start, end))), true),
    tooLong: () => (out.push("<too long>"), true),
  };
  const framer = new LineFramer(max);
  for (const chunk of chunks) framer.push(chunk, sink);
  return out;
}

describe("LineFramer", () => {
  const input = "set a hello world\r\nget a\n\nping\r\n" + "x".repeat(100) + "\nget b\n";
  const expected = ["set a hello world", "get a", "", "ping", "<too long>", "get b"];

  test("framer - whole input in one chunk", () => {
    expect(frame([enc.encode(input)])).toEqual(expected);
  });

  test("framer - input split at every byte boundary gives the same lines", () => {
    const bytes = enc.encode(input);
    for (let i = 0; i <= bytes.length; i++) {
      expect(frame([bytes.subarray(0, i), bytes.subarray(i)])).toEqual(expected);
    }
  });

  test("framer - input fed one byte at a time", () => {
    const bytes = enc.encode(input);
    expect(frame(Array.from(bytes, (_b, i) => bytes.subarray(i, i + 1)))).toEqual(expected);
  });

  test("framer - a line of exactly the limit passes, one byte more is too long", () => {
    expect(frame([enc.encode("a".repeat(64) + "\r\n" + "b".repeat(65) + "\n")])).toEqual(["a".repeat(64), "<too long>"]);
  });

  test("framer - an over-long line split across chunks reports once and recovers", () => {
    const chunks = [enc.encode("y".repeat(50)), enc.encode("y".repeat(50)), enc.encode("y".repeat(50) + "\nping\n")];
    expect(frame(chunks)).toEqual(["<too long>", "ping"]);
  });

  test("framer - a paused sink keeps the rest and resume continues in order", () => {
    const framer = new LineFramer(64);
    const seen: string[] = [];
    let allow = 1;
    const sink: LineSink = {
      line: (b, start, end) => (seen.push(dec.decode(b.subarray(start, end))), --allow > 0),
      tooLong: () => true,
    };
    expect(framer.push(enc.encode("a\nb\nc"), sink)).toBe(false);
    expect(seen).toEqual(["a"]);
    framer.hold(enc.encode("\nd\n"));
    allow = 100;
    expect(framer.resume(sink)).toBe(true);
    expect(seen).toEqual(["a", "b", "c", "d"]);
  });

  test("framer - buffered is what a line begun holds: its buffer, up to twice what came, never past the limit + 1", () => {
    const framer = new LineFramer(1000);
    const lines: number[] = [];
    const sink: LineSink = { line: (_b, start, end) => (lines.push(end - start), true), tooLong: () => (lines.push(-1), true) };
    const bytes = (n: number) => new Uint8Array(n).fill(120);
    framer.push(bytes(100), sink);
    expect(framer.buffered).toBe(256); // the first buffer
    framer.push(bytes(200), sink);
    expect(framer.buffered).toBe(512); // 300 bytes came, in a buffer doubled to 512
    framer.push(bytes(300), sink);
    expect(framer.buffered).toBe(1001); // 600 came; doubled to 1024, but a line holds 1001 at most
    framer.push(enc.encode("\n"), sink);
    expect(lines).toEqual([600]);
    expect(framer.buffered).toBe(0);
    framer.push(bytes(300), sink); // a first chunk past 256 gets a buffer of its size
    expect(framer.buffered).toBe(300);
  });

  test("framer - random bytes never throw and never hang", () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0), seed);
    for (let round = 0; round < 300; round++) {
      const bytes = new Uint8Array(rand() % 400);
      for (let i = 0; i < bytes.length; i++) bytes[i] = rand() % 4 === 0 ? 10 : rand() & 255;
      const cut = bytes.length ? rand() % bytes.length : 0;
      const lines = frame([bytes.subarray(0, cut), bytes.subarray(cut)], 32);
      const whole = frame([bytes], 32);
      expect(lines).toEqual(whole);
    }
  });

  test("framer - random bytes cut into many chunks give the same lines as whole", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0), seed >>> 8);
    for (let round = 0; round < 300; round++) {
      const bytes = new Uint8Array(rand() % 600);
      for (let i = 0; i < bytes.length; i++) bytes[i] = rand() % 24 === 0 ? 10 : rand() % 8 === 0 ? 13 : 120;
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + (rand() % 40);
        chunks.push(bytes.subarray(at, at + size));
        at += size;
      }
      expect(frame(chunks, 48)).toEqual(frame([bytes], 48));
    }
  });
});

describe("splitArgs", () => {
  const split = (line: string, limit?: number) => {
    const bytes = enc.encode(line);
    const nameEnd = commandEnd(bytes, 0, bytes.length);
    return [dec.decode(bytes.subarray(0, nameEnd)), ...splitArgs(bytes, nameEnd, bytes.length, limit).map((a) => dec.decode(a))];
  };

  test("set - the value is everything after the space that follows the key", () => {
    expect(split("set k  hello  world ", 2)).toEqual(["set", "k", " hello  world "]);
  });
  test("set - no value gives one argument, a trailing space an empty value", () => {
    expect(split("set k", 2)).toEqual(["set", "k"]);
    expect(split("set k ", 2)).toEqual(["set", "k", ""]);
  });
  test("split - words on single spaces", () => {
    expect(split("get k info")).toEqual(["get", "k", "info"]);
    expect(split("get")).toEqual(["get"]);
    expect(split("get ")).toEqual(["get", ""]);
    expect(split("get  k")).toEqual(["get", "", "k"]);
  });
  test("split - limit 1 keeps spaces in the only argument", () => {
    expect(split("ping hello there", 1)).toEqual(["ping", "hello there"]);
  });
});

describe("trimmedEnd", () => {
  const trim = (line: string, from = 0) => line.slice(0, trimmedEnd(enc.encode(line), from, line.length));
  test("trim - trailing spaces go, inner and leading ones stay, never before from", () => {
    expect(trim("get k  ")).toBe("get k");
    expect(trim("get  k")).toBe("get  k");
    expect(trim("get k\t")).toBe("get k\t");
    expect(trim("get   ", 3)).toBe("get");
    expect(trim("   ")).toBe("");
  });
});

describe("look-ahead for prefetch (lineFirstArguments)", () => {
  const look = (text: string, slots = 64): string[] => {
    const buf = enc.encode(text);
    const at = new Int32Array(2 * slots);
    const n = lineFirstArguments(buf, 0, at);
    return Array.from({ length: n }, (_, i) => dec.decode(buf.subarray(at[2 * i]!, at[2 * i + 1]!)));
  };

  test("look-ahead - the first argument of each complete line, as splitArgs splits it", () => {
    expect(look("get k1\nset k2 a value\r\nexpire k3 10\nget k4\r\n")).toEqual(["k1", "k2", "k3", "k4"]);
    const line = enc.encode("set k2 a value");
    expect(dec.decode(splitArgs(line, commandEnd(line, 0, line.length), line.length)[0]!)).toBe("k2");
  });

  test("look-ahead - stops at a line without an argument; an unfinished line is not read", () => {
    expect(look("get k1\nping\nget k3\n")).toEqual(["k1"]);
    expect(look("get k1\n\nget k3\n")).toEqual(["k1"]);
    expect(look("get k1\nget k2")).toEqual(["k1"]);
    expect(look("get \n")).toEqual([]);
    expect(look("")).toEqual([]);
  });

  test("look-ahead - never more than the table holds", () => {
    expect(look("get a\nget b\nget c\n", 2)).toEqual(["a", "b"]);
  });
});
