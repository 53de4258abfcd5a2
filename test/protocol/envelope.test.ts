import { describe, expect, test } from "bun:test";
import { CommandError } from "../../src/commands/errors.ts";
import { bulk, errorReply, int, NIL, OK, simple, StoredBulk } from "../../src/commands/reply.ts";
import { ByteWriter, Run } from "../../src/protocol/byte-writer.ts";
import { writeRespReply } from "../../src/protocol/resp-reply.ts";
import { encodeEnvelopeLine, envelopeFields, writeEnvelope } from "../../src/protocol/envelope.ts";

const enc = new TextEncoder();
const line = (...args: Parameters<typeof encodeEnvelopeLine>) => new TextDecoder().decode(encodeEnvelopeLine(...args));

describe("envelope", () => {
  test("envelope - field order and values of a get", () => {
    const t = Date.UTC(2026, 10, 26, 10, 0, 0);
    expect(line("get", enc.encode("hello"), bulk(enc.encode("world"), t), "127.0.0.1:7721")).toBe(
      '{"Cmd":"get","Status":200,"Results":"SUCCESS","Key":"hello","Data":"world","ResponseHost":"127.0.0.1:7721","KeyCreateTime":"2026-11-26T10:00:00.000Z"}\n',
    );
  });

  test("envelope - nil is 404 NOT_FOUND with Data null and the zero time", () => {
    const parsed = JSON.parse(line("get", enc.encode("k"), NIL, "h:1"));
    expect(parsed).toEqual({ Cmd: "get", Status: 404, Results: "NOT_FOUND", Key: "k", Data: null, ResponseHost: "h:1", KeyCreateTime: "0001-01-01T00:00:00Z" });
  });

  test("envelope - errors carry status, result and a Message after the other fields", () => {
    const text = line("expire", enc.encode("k"), errorReply(new CommandError(500, "bad seconds")), "h:1");
    expect(text.endsWith(',"Message":"bad seconds"}\n')).toBe(true);
    expect(JSON.parse(text).Results).toBe("ERROR");
    expect(JSON.parse(line("x", undefined, errorReply(new CommandError(501, "unknown")), "h")).Results).toBe("UNKNOWN_COMMAND");
    expect(JSON.parse(line("x", undefined, errorReply(new CommandError(401, "no")), "h")).Results).toBe("NOT_PASS");
  });

  test("envelope - values with %, quotes, backslashes, control bytes and non-ASCII stay valid JSON", () => {
    for (const value of ['100% "sure"', "back\\slash", "tab\tnew\nline\u0001", "日本語 ✓", "%s%d%%", "</script>"]) {
      const parsed = JSON.parse(line("get", enc.encode("k"), bulk(enc.encode(value), 1), "h"));
      expect(parsed.Data).toBe(value);
    }
  });

  test("envelope - invalid UTF-8 becomes U+FFFD, never broken JSON", () => {
    const parsed = JSON.parse(line("get", new Uint8Array([0xff, 0x41]), bulk(new Uint8Array([0xc3, 0x28]), 1), "h"));
    expect(parsed.Key).toBe("\ufffdA");
    expect(parsed.Data).toBe("\ufffd(");
  });

  test("envelope - ok, simple and int replies", () => {
    expect(JSON.parse(line("set", enc.encode("k"), OK, "h")).Data).toBeNull();
    expect(JSON.parse(line("ping", undefined, simple("PONG"), "h")).Data).toBe("PONG");
    expect(JSON.parse(line("n", undefined, int(42), "h")).Data).toBe(42);
  });

  test("envelope - envelopeFields matches the streamed encoding", () => {
    const reply = bulk(enc.encode('a"b'), Date.UTC(2026, 0, 1));
    expect(envelopeFields("get", "k", reply, "h:1")).toEqual(JSON.parse(line("get", enc.encode("k"), reply, "h:1")));
  });
});

describe("a value read in place (StoredBulk)", () => {
  /** The value inside a larger buffer, as the store's arena holds it. */
  const stored = (value: Uint8Array, writtenAt: number): StoredBulk => {
    const page = new Uint8Array(value.length + 40).fill(0x22); // quotes around it: must not leak
    page.set(value, 17);
    return Object.assign(new StoredBulk(), { bytes: page, start: 17, length: value.length, writtenAt });
  };
  const resp = (reply: Parameters<typeof writeRespReply>[1]): string => {
    const w = new ByteWriter(16);
    writeRespReply(w, reply, false);
    return new TextDecoder().decode(w.view());
  };
  const values = ["world", "", '100% "sure"', "日本語 ✓", "tab\tnew\nline", "x".repeat(65), "y".repeat(20_000)].map((v) => enc.encode(v));
  values.push(new Uint8Array([0xc3, 0x28]));

  test("StoredBulk - envelope and RESP bytes are those of a plain bulk of the same value", () => {
    for (const value of values) {
      expect(line("get", enc.encode("k"), stored(value, 1_800_000_000_000), "h:1")).toBe(line("get", enc.encode("k"), bulk(value, 1_800_000_000_000), "h:1"));
      expect(resp(stored(value, 1))).toBe(resp(bulk(value, 1)));
      expect(stored(value, 1).value).toEqual(value);
    }
  });
});

describe("ByteWriter runs", () => {
  test("run - appends exactly its bytes, at any offset, in a buffer of any size (its last word never writes out of bounds)", () => {
    for (let size = 1; size <= 12; size++) {
      for (let before = 0; before <= 5; before++) {
        for (let length = 0; length <= 13; length++) {
          const bytes = Uint8Array.from({ length }, (_, i) => 0x61 + i);
          const w = new ByteWriter(size);
          for (let i = 0; i < before; i++) w.byte(0x30 + i);
          w.run(new Run(bytes));
          w.byte(0x21);
          expect([...w.view()]).toEqual([...Array.from({ length: before }, (_, i) => 0x30 + i), ...bytes, 0x21]);
        }
      }
    }
  });
});

describe("ByteWriter runs, buffer replaced", () => {
  test("run - lands in the writer's current buffer after `buf` was replaced from outside (as the HTTP writer drops a huge one)", () => {
    const w = new ByteWriter(8);
    const r = new Run(new TextEncoder().encode("constant run"));
    w.run(r);
    w.length = 0;
    w.buf = new Uint8Array(64);
    w.run(r);
    expect(new TextDecoder().decode(w.view())).toBe("constant run");
  });
});

describe("the one-pass envelope of a value read in place", () => {

  /** A StoredBulk over `value` inside an arena-like page whose other bytes must never leak out. */
  const stored = (value: Uint8Array, writtenAt: number): StoredBulk => {
    const page = new Uint8Array(value.length + 40).fill(0x5c);
    page.set(value, 21);
    return Object.assign(new StoredBulk(), { bytes: page, start: 21, length: value.length, writtenAt });
  };
  const expected = (key: string, value: string, writtenAt: number): string =>
    JSON.stringify({ Cmd: "get", Status: 200, Results: "SUCCESS", Key: key, Data: value, ResponseHost: "127.0.0.1:7721", KeyCreateTime: writtenAt > 0 ? new Date(writtenAt).toISOString() : "0001-01-01T00:00:00Z" });

  test("one-pass envelope - equals JSON.stringify of the fields, whatever room the writer starts with", () => {
    const host = JSON.stringify("127.0.0.1:7721");
    const cases: [string, string, number][] = [
      ["k", "", 1],
      ["hello", "world", Date.UTC(2026, 10, 26, 10, 0, 0)],
      ["key:000000000001", "v".repeat(32), Date.UTC(2026, 11, 1, 23, 59, 59, 999)],
      ["a".repeat(64), "b".repeat(64), 1_800_000_000_123],
      ["a".repeat(65), "b".repeat(65), 1_800_000_000_123],
      ["k", "x".repeat(70_000), 1_800_000_000_123],
      ["k", "value", 0], // no write time: the zero time
      ["k", "far future", Date.UTC(12_000, 0, 1)], // a year past 9999: a longer minute run
      ["k", 'needs "escaping"', 1], // falls back to the general path, nothing of the first try left
      ["k\\", "plain", 1],
      ["k", "日本語", 1],
      ["k", "tab\there", 1],
    ];
    for (const initial of [1, 7, 64, 150, 4096]) {
      for (const [key, value, writtenAt] of cases) {
        const w = new ByteWriter(initial);
        w.byte(0x78); // something before it, as in a pipelined batch
        writeEnvelope(w, '"get"', enc.encode(key), stored(enc.encode(value), writtenAt), host);
        w.byte(0x79);
        expect(new TextDecoder().decode(w.view())).toBe(`x${expected(key, value, writtenAt)}y`);
      }
    }
  });

  test("one-pass envelope - the same after many replies in one buffer (runs written a word at a time)", () => {
    const w = new ByteWriter(16);
    let text = "";
    for (let i = 0; i < 500; i++) {
      const key = `key:${i}`;
      const value = "v".repeat(i % 70);
      writeEnvelope(w, '"get"', enc.encode(key), stored(enc.encode(value), 1_700_000_000_000 + i * 997), JSON.stringify("127.0.0.1:7721"));
      w.byte(10);
      text += `${expected(key, value, 1_700_000_000_000 + i * 997)}\n`;
    }
    expect(new TextDecoder().decode(w.view())).toBe(text);
  });
});

describe("rfc3339", () => {
  test("rfc3339 - matches toISOString for many instants", async () => {
    const { rfc3339 } = await import("../../src/protocol/envelope.ts");
    let t = Date.UTC(1999, 11, 31, 23, 59, 59, 999);
    for (let i = 0; i < 20000; i++) {
      t += 1 + ((i * 7919) % 100_003);
      expect(rfc3339(t)).toBe(new Date(t).toISOString());
    }
  });
});
