// The RESP request parser: whole and split input, inline commands, limits and every malformation.

import { describe, expect, test } from "bun:test";
import { DEFAULT_RESP_LIMITS, firstArguments, RespParser, RespProtocolError, type RespSink } from "../../src/protocol/resp.ts";
import { seededRandom } from "../helpers/random.ts";
import { splitInline } from "../../src/protocol/resp-inline.ts";
import { ARGUMENT_BYTES } from "../../src/protocol/offset-table.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

class Collect implements RespSink {
  commands: string[][] = [];
  error: RespProtocolError | undefined;
  pauseAfter = Infinity;
  command(name: Uint8Array, args: Uint8Array[]): boolean {
    this.commands.push([dec.decode(name), ...args.map((a) => dec.decode(a))]);
    return this.commands.length < this.pauseAfter;
  }
  protocolError(error: RespProtocolError): void {
    this.error = error;
  }
}

function parseAll(chunks: (string | Uint8Array)[], parser = new RespParser()): Collect {
  const sink = new Collect();
  for (const chunk of chunks) parser.push(typeof chunk === "string" ? enc.encode(chunk) : chunk, sink);
  return sink;
}

const PIPELINE =
  "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n" + // a value holding CR LF
  "PING\r\n" +
  "*2\r\n$3\r\nGET\r\n$0\r\n\r\n" +
  "*0\r\n" +
  "\r\n" +
  'set "a b" \'c\\\'d\' "\\x41\\n"\n' +
  "*1\r\n$4\r\nQUIT\r\n";
const EXPECTED = [["SET", "key", "va\r\nl"], ["PING"], ["GET", ""], ["set", "a b", "c'd", "A\n"], ["QUIT"]];

describe("resp parser", () => {
  test("parse - a pipeline of arrays and inline commands in one chunk", () => {
    const sink = parseAll([PIPELINE]);
    expect(sink.error).toBeUndefined();
    expect(sink.commands).toEqual(EXPECTED);
  });

  test("parse - split at every byte boundary gives the same commands", () => {
    const bytes = enc.encode(PIPELINE);
    for (let i = 0; i <= bytes.length; i++) {
      const sink = parseAll([bytes.subarray(0, i), bytes.subarray(i)]);
      expect(sink.error).toBeUndefined();
      expect(sink.commands).toEqual(EXPECTED);
    }
  });

  test("parse - split into three pieces at every pair of boundaries", () => {
    const bytes = enc.encode("*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\nPING x\r\n");
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const sink = parseAll([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
        expect(sink.commands).toEqual([["ECHO", "hello world"], ["PING", "x"]]);
      }
    }
  });

  test("parse - one byte at a time", () => {
    const bytes = enc.encode(PIPELINE);
    const parser = new RespParser();
    const sink = new Collect();
    for (let i = 0; i < bytes.length; i++) parser.push(bytes.subarray(i, i + 1), sink);
    expect(sink.commands).toEqual(EXPECTED);
  });

  test("parse - long arguments are views of the input; short ones are small copies", () => {
    const long = "v".repeat(100);
    const chunk = enc.encode(`*3\r\n$3\r\nSET\r\n$3\r\nabc\r\n$100\r\n${long}\r\n`);
    let args: Uint8Array[] = [];
    new RespParser().push(chunk, { command: (_name, a) => ((args = a), true), protocolError: () => {} });
    expect(dec.decode(args[0])).toBe("abc");
    expect(args[0]!.buffer).not.toBe(chunk.buffer);
    expect(dec.decode(args[1])).toBe(long);
    expect(args[1]!.buffer).toBe(chunk.buffer);
  });

  test("parse - a 5 MiB value arriving in 1000 chunks", () => {
    const value = new Uint8Array(5 * 1024 * 1024).map((_, i) => 97 + (i % 26));
    const head = enc.encode(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${value.length}\r\n`);
    const all = new Uint8Array(head.length + value.length + 2 + 6);
    all.set(head);
    all.set(value, head.length);
    all.set(enc.encode("\r\nPING\r\n"), head.length + value.length);
    const parser = new RespParser();
    let got: Uint8Array | undefined;
    const names: string[] = [];
    const sink: RespSink = {
      command(name, args) {
        names.push(dec.decode(name));
        if (args[1]) got = args[1].slice();
        return true;
      },
      protocolError: (e) => {
        throw e;
      },
    };
    const step = Math.ceil(all.length / 1000);
    for (let i = 0; i < all.length; i += step) parser.push(all.subarray(i, i + step), sink);
    expect(names).toEqual(["SET", "PING"]);
    expect(got!.length).toBe(value.length);
    expect(Buffer.from(got!).equals(Buffer.from(value))).toBe(true);
    expect(parser.buffered).toBe(0);
  });

  test("limits - 4 Mi elements are accepted (MSET of 2 Mi − 1 pairs), one more is not", () => {
    expect(DEFAULT_RESP_LIMITS.maxArgs).toBe(4 * 1024 * 1024);
    const sink = parseAll([`*${DEFAULT_RESP_LIMITS.maxArgs}\r\n$4\r\nMSET\r\n`]);
    expect(sink.error).toBeUndefined();
    // MSET of 2 Mi pairs is 2 Mi × 2 + 1 elements: one too many
    expect(parseAll([`*${2 * 1024 * 1024 * 2 + 1}\r\n`]).error?.code).toBe("invalid-multibulk-length");
  });

  test("buffered - an incomplete request counts its elements' offsets (8 bytes each) and the arguments they become (72 bytes each), and lets them go once complete", () => {
    const parser = new RespParser();
    const elements = 100_000;
    const header = `*${elements + 2}\r\n$4\r\nMSET\r\n`;
    const body = enc.encode("$0\r\n\r\n".repeat(elements));
    const sink = parseAll([header], parser);
    for (let at = 0; at < body.length; at += 4096) parser.push(body.subarray(at, at + 4096), sink);
    const read = elements + 1; // with MSET
    // the request's buffer: at least what came, at most twice that (it doubles as it grows)
    expect(parser.buffered).toBeGreaterThanOrEqual(header.length + body.length + (8 + ARGUMENT_BYTES) * read);
    expect(parser.buffered).toBeLessThanOrEqual(2 * (header.length + body.length) + (16 + ARGUMENT_BYTES) * read);
    expect(sink.commands).toEqual([]);
    parser.push(enc.encode("$0\r\n\r\n"), sink);
    expect(sink.commands.length).toBe(1);
    expect(sink.commands[0]!.length).toBe(elements + 2);
    expect(parser.buffered).toBe(0);
  });

  test("buffered - a copied argument (17 to 64 bytes) counts its bytes past the 16 its 72 hold; a longer one is a view", () => {
    const parser = new RespParser();
    const sizes = [1, 16, 17, 40, 64, 65, 1000];
    const request = `*${sizes.length + 2}\r\n$3\r\nDEL\r\n` + sizes.map((n) => `$${n}\r\n${"x".repeat(n)}\r\n`).join("");
    const sink = parseAll([request], parser); // one element short: the request is pending
    const expected = [3, ...sizes].map((n) => (n > 16 && n <= 64 ? ARGUMENT_BYTES - 16 + n : ARGUMENT_BYTES));
    expect(request.length).toBeLessThan(4096); // held in the smallest buffer, 4 KiB
    expect(parser.buffered).toBe(4096 + expected.reduce((a, b) => a + b, 0));
    expect(sink.commands).toEqual([]);
  });

  test("buffered - a bulk header announcing 16 MiB counts the 16 MiB it allocates, not the 40 bytes that came", () => {
    const parser = new RespParser();
    const value = 16 * 1024 * 1024;
    const start = `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${value}\r\nxy`;
    const sink = parseAll([start], parser);
    expect(sink.commands).toEqual([]);
    expect(parser.buffered).toBeGreaterThanOrEqual(value);
    parser.push(new Uint8Array(value - 2).fill(120), sink);
    parser.push(enc.encode("\r\n"), sink);
    expect(sink.commands.length).toBe(1);
    expect(parser.buffered).toBe(0);
  });

  test("parse - a paused sink keeps the rest until resume", () => {
    const parser = new RespParser();
    const sink = new Collect();
    sink.pauseAfter = 1;
    expect(parser.push(enc.encode("PING a\r\nPING b\r\n*1\r\n$4\r\nPI"), sink)).toBe(false);
    expect(sink.commands).toEqual([["PING", "a"]]);
    parser.hold(enc.encode("NG\r\n"));
    sink.pauseAfter = Infinity;
    expect(parser.resume(sink)).toBe(true);
    expect(sink.commands).toEqual([["PING", "a"], ["PING", "b"], ["PING"]]);
  });

  const malformed: [string, string, string][] = [
    ["*abc\r\n", "invalid-multibulk-length", "invalid multibulk length"],
    ["*01\r\n", "invalid-multibulk-length", "invalid multibulk length"],
    [`*${DEFAULT_RESP_LIMITS.maxArgs + 1}\r\n`, "invalid-multibulk-length", "invalid multibulk length"],
    ["*1\r\n+PING\r\n", "expected-dollar", "expected '$', got '+'"],
    ["*1\r\n$-1\r\n", "invalid-bulk-length", "invalid bulk length"],
    ["*1\r\n$x\r\n", "invalid-bulk-length", "invalid bulk length"],
    [`*1\r\n$${DEFAULT_RESP_LIMITS.maxBulkBytes + 1}\r\n`, "invalid-bulk-length", "invalid bulk length"],
    ["*1\r\n$4\r\nPINGxx", "expected-crlf", "expected CRLF after a bulk string"],
    ["*1\r\n$4\rx", "expected-crlf", "expected CRLF after the bulk length"],
    ["*1\rx", "expected-crlf", "expected CRLF after the array length"],
    ["*" + "1".repeat(40), "too-big-mbulk-count", "too big mbulk count string"],
    ["*1\r\n$" + "1".repeat(40), "too-big-bulk-count", "too big bulk count string"],
    ['SET "a\r\n', "unbalanced-quotes", "unbalanced quotes in request"],
    ['SET "a"b\r\n', "unbalanced-quotes", "unbalanced quotes in request"],
    ["x".repeat(DEFAULT_RESP_LIMITS.maxInlineBytes + 10), "too-big-inline", "too big inline request"],
  ];
  for (const [input, code, message] of malformed) {
    test(`parse - ${code}: ${JSON.stringify(input.slice(0, 24))}`, () => {
      const parser = new RespParser();
      const sink = parseAll(["PING\r\n", input], parser);
      expect(sink.commands).toEqual([["PING"]]); // what came before is still served
      expect(sink.error).toBeInstanceOf(RespProtocolError);
      expect(sink.error!.code).toBe(code as never);
      expect(sink.error!.message).toBe(message);
      expect(parser.failed).toBe(true);
      expect(parser.push(enc.encode("PING\r\n"), sink)).toBe(false); // nothing after an error
    });
  }

  test("parse - unauthenticated clients get redis-server's tighter limits", () => {
    const parser = new RespParser();
    parser.unauthenticated = true;
    expect(parseAll(["*11\r\n"], parser).error?.code).toBe("unauthenticated-multibulk-length");
    const other = new RespParser();
    other.unauthenticated = true;
    expect(parseAll(["*1\r\n$16385\r\n"], other).error?.code).toBe("unauthenticated-bulk-length");
  });

  test("parse - a request above maxRequestBytes is refused", () => {
    const parser = new RespParser({ ...DEFAULT_RESP_LIMITS, maxRequestBytes: 1000 });
    const sink = parseAll(["*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$900\r\n", "x".repeat(500), "x".repeat(500)], parser);
    expect(sink.error?.code).toBe("request-too-big");
  });

  test("parse - fuzzed bytes never throw and never loop", () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = enc.encode("*$\r\n0123456789-abcXYZ \"'\\");
    for (let round = 0; round < 2000; round++) {
      const parser = new RespParser();
      const sink = new Collect();
      const bytes = new Uint8Array(1 + rand(80)).map(() => (rand(4) === 0 ? rand(256) : alphabet[rand(alphabet.length)]!));
      let at = 0;
      while (at < bytes.length) {
        const n = 1 + rand(10);
        parser.push(bytes.subarray(at, at + n), sink);
        at += n;
      }
      expect(sink.commands.length).toBeLessThanOrEqual(bytes.length);
    }
  });
});

describe("look-ahead for prefetch (firstArguments)", () => {
  /** The ranges found, as text. */
  const look = (text: string | Uint8Array, slots = 64): string[] => {
    const buf = typeof text === "string" ? enc.encode(text) : text;
    const at = new Int32Array(2 * slots);
    const n = firstArguments(buf, 0, at);
    return Array.from({ length: n }, (_, i) => dec.decode(buf.subarray(at[2 * i]!, at[2 * i + 1]!)));
  };
  const req = (...words: string[]): string => `*${words.length}\r\n` + words.map((w) => `$${enc.encode(w).length}\r\n${w}\r\n`).join("");

  test("look-ahead - the first argument of each complete request, in order", () => {
    expect(look(req("GET", "k1") + req("SET", "k2", "v a\r\nl") + req("MGET", "k3", "k4") + req("GET", ""))).toEqual(["k1", "k2", "k3", ""]);
  });

  test("look-ahead - stops at an incomplete request, an inline command, a one-element request or a malformed header", () => {
    expect(look(req("GET", "k1") + req("GET", "k2").slice(0, -3))).toEqual(["k1"]);
    expect(look(req("GET", "k1") + "GET k2\r\n" + req("GET", "k3"))).toEqual(["k1"]);
    expect(look(req("GET", "k1") + req("PING") + req("GET", "k3"))).toEqual(["k1"]);
    expect(look(req("GET", "k1") + "*2\r\n$x\r\nGET\r\n")).toEqual(["k1"]);
    expect(look(req("GET", "k1") + "*2\r\n$-1\r\n")).toEqual(["k1"]);
    expect(look("")).toEqual([]);
  });

  test("look-ahead - never more than the table holds", () => {
    expect(look(Array.from({ length: 10 }, (_, i) => req("GET", `k${i}`)).join(""), 4)).toEqual(["k0", "k1", "k2", "k3"]);
  });

  test("look-ahead - agrees with the parser on random pipelines, and stays inside the buffer on random bytes", () => {
    const seed = 20261130;
    const random = seededRandom(seed);
    const word = (): string => String.fromCharCode(...Array.from({ length: Math.floor(random() * 12) }, () => Math.floor(random() * 256)));
    for (let round = 0; round < 300; round++) {
      const requests = Array.from({ length: 1 + Math.floor(random() * 20) }, () => req("SET", ...Array.from({ length: 1 + Math.floor(random() * 3) }, word)));
      const bytes = enc.encode(requests.join(""));
      const parsed = parseAll([bytes]).commands.map((c) => c[1]!);
      expect(look(bytes), `seed ${seed} round ${round}`).toEqual(parsed.slice(0, 64));
    }
    const at = new Int32Array(128);
    const alphabet = enc.encode("*$\r\n0123456789-2");
    for (let round = 0; round < 2000; round++) {
      const bytes = new Uint8Array(1 + Math.floor(random() * 80)).map(() => alphabet[Math.floor(random() * alphabet.length)]!);
      const n = firstArguments(bytes, 0, at);
      for (let i = 0; i < n; i++) {
        expect(0 <= at[2 * i]! && at[2 * i]! <= at[2 * i + 1]! && at[2 * i + 1]! <= bytes.length, `seed ${seed} round ${round}`).toBe(true);
      }
    }
  });
});

describe("inline splitting", () => {
  const words = (s: string) => splitInline(enc.encode(s))?.map((w) => dec.decode(w));
  test("inline - words, quotes and escapes as sdssplitargs", () => {
    expect(words("  set   a  b ")).toEqual(["set", "a", "b"]);
    expect(words('set "a\\tb" \'x y\'')).toEqual(["set", "a\tb", "x y"]);
    expect(words('ab"cd"')).toEqual(["abcd"]);
    expect(words('"\\x4a\\x4"')).toEqual(["Jx4"]);
    expect(words("")).toEqual([]);
    expect(words('"open')).toBeUndefined();
    expect(words("'open")).toBeUndefined();
  });
});
