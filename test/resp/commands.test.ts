// Redis-dialect commands through the engine with a ManualClock (expiry without sleeping), the
// reply encoder, and the commands the differential test cannot compare (INFO, COMMAND, HELLO, …).

import { describe, expect, test } from "bun:test";
import { Engine } from "../../src/commands/engine.ts";
import { CommandError } from "../../src/commands/errors.ts";
import type { RespSession } from "../../src/commands/redis-connection.ts";
import { int64Reply, mapReply } from "../../src/commands/redis-reply.ts";
import { array, bulk, errorReply, int, NIL, OK, simple, type Reply } from "../../src/commands/reply.ts";
import { commandTable } from "../../src/commands/table.ts";
import { ByteWriter } from "../../src/protocol/byte-writer.ts";
import { writeRespReply } from "../../src/protocol/resp-reply.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock } from "../../src/store/types.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function setup() {
  const clock = new ManualClock();
  const db = new Keyspace(new MapStore(clock), clock);
  const engine = new Engine({ table: commandTable, db, limits: { maxKeyBytes: 64, maxValueBytes: 1024 }, auth: { verifyPassword: (p) => new TextDecoder().decode(p) === "secret-password-1", issueToken: () => "token" } });
  const session: RespSession = { dialect: "resp", transport: "resp", client: "test", canRead: true, canWrite: true, protocol: 2, id: 7 };
  const call = (...words: string[]): string => {
    const name = enc.encode(words[0]!);
    const reply = engine.execute(session, engine.lookupBytes("resp", name), words[0]!.toLowerCase(), words.slice(1).map((w) => enc.encode(w)));
    if (reply instanceof Promise) throw new Error("unexpected async reply");
    return encode(reply, session.protocol === 3);
  };
  return { clock, db, call, session };
}

function encode(reply: Reply, resp3 = false): string {
  const w = new ByteWriter(16);
  writeRespReply(w, reply, resp3);
  return dec.decode(w.view());
}

describe("encoder", () => {
  test("encode - every reply kind in RESP2 and RESP3", () => {
    expect(encode(OK)).toBe("+OK\r\n");
    expect(encode(simple("PONG"))).toBe("+PONG\r\n");
    expect(encode(bulk(enc.encode("a\r\nb")))).toBe("$4\r\na\r\nb\r\n");
    expect(encode(NIL)).toBe("$-1\r\n");
    expect(encode(NIL, true)).toBe("_\r\n");
    expect(encode(int(-42))).toBe(":-42\r\n");
    expect(encode(int(1234567890123))).toBe(":1234567890123\r\n");
    expect(encode(int64Reply(9223372036854775806n))).toBe(":9223372036854775806\r\n");
    expect(encode(array([int(1), NIL]))).toBe("*2\r\n:1\r\n$-1\r\n");
    expect(encode(mapReply([bulk(enc.encode("k")), int(1)]))).toBe("*2\r\n$1\r\nk\r\n:1\r\n");
    expect(encode(mapReply([bulk(enc.encode("k")), int(1)]), true)).toBe("%1\r\n$1\r\nk\r\n:1\r\n");
    expect(encode(errorReply(new CommandError(500, "bad\r\nthing")))).toBe("-ERR bad  thing\r\n");
    expect(encode(errorReply(new CommandError(401, "x", "NOAUTH")))).toBe("-NOAUTH x\r\n");
  });
});

describe("expiry with a manual clock", () => {
  test("SET PX - the key is gone once its time has passed; TTL and PTTL count down", () => {
    const { clock, call } = setup();
    expect(call("SET", "k", "v", "PX", "1500")).toBe("+OK\r\n");
    expect(call("PTTL", "k")).toBe(":1500\r\n");
    expect(call("TTL", "k")).toBe(":2\r\n"); // rounded as redis-server does
    clock.tick(1000);
    expect(call("TTL", "k")).toBe(":1\r\n");
    clock.tick(500);
    expect(call("GET", "k")).toBe("$-1\r\n");
    expect(call("TTL", "k")).toBe(":-2\r\n");
  });

  test("SET KEEPTTL, INCR and APPEND keep the time to live; plain SET drops it", () => {
    const { clock, call } = setup();
    call("SET", "n", "1", "EX", "10");
    expect(call("INCR", "n")).toBe(":2\r\n");
    expect(call("APPEND", "n", "0")).toBe(":2\r\n");
    expect(call("SET", "n", "5", "KEEPTTL")).toBe("+OK\r\n");
    clock.tick(4000);
    expect(call("TTL", "n")).toBe(":6\r\n");
    expect(call("SET", "n", "5")).toBe("+OK\r\n");
    expect(call("TTL", "n")).toBe(":-1\r\n");
  });

  test("EXPIRE - a time already past deletes the key; PERSIST removes the time to live", () => {
    const { call } = setup();
    call("SET", "a", "1");
    expect(call("EXPIRE", "a", "-1")).toBe(":1\r\n");
    expect(call("EXISTS", "a")).toBe(":0\r\n");
    call("SET", "b", "1");
    expect(call("PEXPIRE", "b", "5000", "NX")).toBe(":1\r\n");
    expect(call("PEXPIRE", "b", "9000", "NX")).toBe(":0\r\n");
    expect(call("EXPIRE", "b", "100", "GT")).toBe(":1\r\n");
    expect(call("PERSIST", "b")).toBe(":1\r\n");
    expect(call("PERSIST", "b")).toBe(":0\r\n");
    expect(call("TTL", "b")).toBe(":-1\r\n");
  });

  test("SET - limits of this node: empty keys and oversized values are refused", () => {
    const { call } = setup();
    expect(call("SET", "", "v")).toBe("-ERR empty key\r\n");
    expect(call("SET", "k", "x".repeat(1025))).toBe("-ERR value longer than 1024 bytes\r\n");
    expect(call("APPEND", "k2", "x".repeat(1000))).toBe(":1000\r\n");
    expect(call("APPEND", "k2", "x".repeat(100))).toBe("-ERR value longer than 1024 bytes\r\n");
  });
});

describe("server and connection commands", () => {
  test("HELLO - 2 and 3 switch the reply protocol; others are NOPROTO", () => {
    const { call, session } = setup();
    expect(call("HELLO", "4")).toBe("-NOPROTO unsupported protocol version\r\n");
    expect(call("HELLO", "x")).toBe("-ERR Protocol version is not an integer or out of range\r\n");
    expect(call("HELLO", "3", "BOGUS")).toBe("-ERR Syntax error in HELLO option 'BOGUS'\r\n");
    expect(call("HELLO", "3")).toStartWith("%8\r\n$6\r\nserver\r\n$8\r\nowlcache\r\n");
    expect(session.protocol).toBe(3);
    expect(call("GET", "missing")).toBe("_\r\n");
    expect(call("HELLO", "2")).toStartWith("*16\r\n");
    expect(call("GET", "missing")).toBe("$-1\r\n");
  });

  test("CLIENT - SETNAME, GETNAME, SETINFO, ID and errors", () => {
    const { call } = setup();
    expect(call("CLIENT", "GETNAME")).toBe("$-1\r\n");
    expect(call("CLIENT", "SETNAME", "worker-1")).toBe("+OK\r\n");
    expect(call("CLIENT", "GETNAME")).toBe("$8\r\nworker-1\r\n");
    expect(call("CLIENT", "SETNAME", "a b")).toBe("-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
    expect(call("CLIENT", "SETINFO", "LIB-NAME", "ioredis")).toBe("+OK\r\n");
    expect(call("CLIENT", "SETINFO", "color", "x")).toBe("-ERR Unrecognized option 'color'\r\n");
    expect(call("CLIENT", "ID")).toBe(":7\r\n");
    expect(call("CLIENT", "KILL")).toBe("-ERR unknown subcommand 'KILL'. Try CLIENT HELP.\r\n");
  });

  test("COMMAND, CONFIG GET and INFO - enough for redis-cli, redis-benchmark and client libraries", () => {
    const { call } = setup();
    const count = Number(/^:(\d+)/.exec(call("COMMAND", "COUNT"))![1]);
    expect(count).toBe(commandTable.filter((s) => s.dialects.includes("resp")).length);
    expect(call("COMMAND", "INFO", "get", "nope")).toBe("*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*1\r\n+readonly\r\n:1\r\n:1\r\n:1\r\n*0\r\n*0\r\n*0\r\n*0\r\n$-1\r\n");
    expect(call("COMMAND", "DOCS")).toBe("*0\r\n");
    expect(call("CONFIG", "GET", "save")).toBe("*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
    expect(call("CONFIG", "GET", "appendonly")).toBe("*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
    call("SET", "a", "1");
    const info = call("INFO");
    expect(info).toContain("redis_version:");
    expect(info).toContain("db0:keys=1,expires=0,");
    for (const section of ["# Server", "# Memory", "# Persistence", "# Stats", "# Keyspace"]) expect(info).toContain(section);
    call("SET", "b", "2", "EX", "100");
    call("SET", "c", "3", "PX", "5000");
    // Only the sections asked for, case-insensitively; an unknown one adds nothing (as redis-server).
    expect(call("INFO", "KEYSPACE")).toBe("$44\r\n# Keyspace\r\ndb0:keys=3,expires=2,avg_ttl=0\r\n\r\n");
    const two = call("INFO", "stats", "keyspace");
    expect(two).toContain("# Stats\r\nexpired_keys:0\r\n");
    expect(two).toContain("# Keyspace");
    expect(two).not.toContain("# Server");
    expect(call("INFO", "nosuch")).toBe("$0\r\n\r\n");
    expect(call("INFO", "everything")).toContain("# Server");
    call("PERSIST", "b");
    expect(call("INFO", "keyspace")).toContain("db0:keys=3,expires=1,");
    expect(call("SELECT", "0")).toBe("+OK\r\n");
    expect(call("SELECT", "1")).toBe("-ERR DB index is out of range\r\n");
  });
});

describe("MaxMemory", () => {
  /** A RESP caller over a fresh compact store holding at most `maxMemory` bytes of keys and values. */
  function callerWithMaxMemory(maxMemory: number): (...words: string[]) => string {
    const clock = new ManualClock();
    const db = new Keyspace(new CompactStore(clock, { maxMemory }), clock);
    const engine = new Engine({ table: commandTable, db, limits: { maxKeyBytes: 64, maxValueBytes: 1 << 20 }, auth: { verifyPassword: () => true, issueToken: () => "token" } });
    const session: RespSession = { dialect: "resp", transport: "resp", client: "test", canRead: true, canWrite: true, protocol: 2, id: 1 };
    const call = (...words: string[]): string => {
      const reply = engine.execute(session, engine.lookupBytes("resp", enc.encode(words[0]!)), words[0]!.toLowerCase(), words.slice(1).map((w) => enc.encode(w)));
      if (reply instanceof Promise) throw new Error("unexpected async reply");
      return encode(reply);
    };
    return call;
  }

  test("MSET - a pair larger than MaxMemory refuses the whole command: no pair is stored, nothing evicted", () => {
    const call = callerWithMaxMemory(5000);
    expect(call("SET", "old", "kept")).toBe("+OK\r\n");
    expect(call("MSET", "pa", "small", "pb", "z".repeat(5000))).toBe("-OOM value too large: 5002 bytes of key and value exceed MaxMemory (5000 bytes)\r\n");
    expect(call("EXISTS", "pa", "pb")).toBe(":0\r\n");
    expect(call("GET", "old")).toBe("$4\r\nkept\r\n");
    expect(call("MSET", "pa", "small", "pb", "z".repeat(4000))).toBe("+OK\r\n");
    expect(call("EXISTS", "pa", "pb")).toBe(":2\r\n");
  });

  test("MSET - pairs that each fit but not together are refused whole, instead of evicting each other", () => {
    const call = callerWithMaxMemory(5000);
    expect(call("SET", "old", "kept")).toBe("+OK\r\n");
    const third = "z".repeat(1998);
    expect(call("MSET", "p1", third, "p2", third, "p3", third)).toBe("-OOM value too large: 6000 bytes of keys and values of MSET exceed MaxMemory (5000 bytes)\r\n");
    expect(call("EXISTS", "p1", "p2", "p3")).toBe(":0\r\n");
    expect(call("GET", "old")).toBe("$4\r\nkept\r\n");
    // A key given twice is stored once (the last pair wins): these fit.
    expect(call("MSET", "p1", third, "p2", third, "p1", "small")).toBe("+OK\r\n");
    expect(call("MGET", "p1", "p2")).toBe(`*2\r\n$5\r\nsmall\r\n$1998\r\n${third}\r\n`);
  });
});

/** One case per Redis-dialect command: [command words, expected reply] steps on a fresh keyspace. */
const cases: [string, [string[], string][]][] = [
  ["GET - the value, nil when missing, arity checked", [[["SET", "k", "v"], "+OK\r\n"], [["GET", "k"], "$1\r\nv\r\n"], [["get", "nope"], "$-1\r\n"], [["GET"], "-ERR wrong number of arguments for 'get' command\r\n"]]],
  ["SET - NX, XX and GET combine as in redis-server", [[["SET", "k", "1", "NX"], "+OK\r\n"], [["SET", "k", "2", "NX"], "$-1\r\n"], [["SET", "k", "3", "XX", "GET"], "$1\r\n1\r\n"], [["SET", "k", "4", "NX", "XX"], "-ERR syntax error\r\n"], [["SET", "k", "4", "EX", "0"], "-ERR invalid expire time in 'set' command\r\n"], [["SET", "k", "4", "EX", "x"], "-ERR value is not an integer or out of range\r\n"]]],
  ["MGET - values in order with nil for missing keys", [[["SET", "a", "1"], "+OK\r\n"], [["MGET", "a", "b"], "*2\r\n$1\r\n1\r\n$-1\r\n"]]],
  ["MSET - pairs only", [[["MSET", "a", "1", "b", "2"], "+OK\r\n"], [["MSET", "a", "1", "b"], "-ERR wrong number of arguments for 'mset' command\r\n"], [["GET", "b"], "$1\r\n2\r\n"]]],
  ["INCR - counts from 0 and refuses non-integers", [[["INCR", "n"], ":1\r\n"], [["SET", "s", "1.5"], "+OK\r\n"], [["INCR", "s"], "-ERR value is not an integer or out of range\r\n"], [["SET", "m", "9223372036854775807"], "+OK\r\n"], [["INCR", "m"], "-ERR increment or decrement would overflow\r\n"]]],
  ["DECR - goes below zero", [[["DECR", "n"], ":-1\r\n"], [["DECR", "n"], ":-2\r\n"]]],
  ["INCRBY - 64-bit exact", [[["SET", "n", "9223372036854775000"], "+OK\r\n"], [["INCRBY", "n", "800"], ":9223372036854775800\r\n"], [["INCRBY", "n", "x"], "-ERR value is not an integer or out of range\r\n"]]],
  ["DECRBY - the most negative decrement is refused", [[["DECRBY", "n", "5"], ":-5\r\n"], [["DECRBY", "n", "-9223372036854775808"], "-ERR decrement would overflow\r\n"]]],
  ["APPEND - creates or extends, answers the length", [[["APPEND", "k", "ab"], ":2\r\n"], [["APPEND", "k", "cd"], ":4\r\n"], [["GET", "k"], "$4\r\nabcd\r\n"]]],
  ["STRLEN - 0 for a missing key", [[["STRLEN", "k"], ":0\r\n"], [["SET", "k", "hello"], "+OK\r\n"], [["STRLEN", "k"], ":5\r\n"]]],
  ["DEL - counts the keys that existed", [[["MSET", "a", "1", "b", "2"], "+OK\r\n"], [["DEL", "a", "b", "c"], ":2\r\n"]]],
  ["EXISTS - repeats count again", [[["SET", "a", "1"], "+OK\r\n"], [["EXISTS", "a", "a", "b"], ":2\r\n"]]],
  ["EXPIRE - flags are checked before the number", [[["SET", "a", "1"], "+OK\r\n"], [["EXPIRE", "a", "x", "NX", "XX"], "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"], [["EXPIRE", "a", "10", "ZZ"], "-ERR Unsupported option ZZ\r\n"], [["EXPIRE", "missing", "10"], ":0\r\n"], [["EXPIRE", "a", "0"], ":1\r\n"], [["GET", "a"], "$-1\r\n"]]],
  ["PEXPIRE - milliseconds", [[["SET", "a", "1"], "+OK\r\n"], [["PEXPIRE", "a", "2500"], ":1\r\n"], [["PTTL", "a"], ":2500\r\n"]]],
  ["TTL - -2 missing, -1 without expiry", [[["TTL", "a"], ":-2\r\n"], [["SET", "a", "1"], "+OK\r\n"], [["TTL", "a"], ":-1\r\n"]]],
  ["PTTL - -2 missing, -1 without expiry", [[["PTTL", "a"], ":-2\r\n"], [["SET", "a", "1", "PX", "100"], "+OK\r\n"], [["PTTL", "a"], ":100\r\n"]]],
  ["PERSIST - 0 for a key without expiry", [[["SET", "a", "1"], "+OK\r\n"], [["PERSIST", "a"], ":0\r\n"]]],
  ["KEYS - glob patterns", [[["MSET", "user:1", "a", "user:2", "b", "other", "c"], "+OK\r\n"], [["KEYS", "user:[2-9]"], "*1\r\n$6\r\nuser:2\r\n"], [["KEYS", "nothing*"], "*0\r\n"]]],
  ["SCAN - a page of keys, MATCH filters, bad options are errors", [[["MSET", "a1", "x", "b1", "x"], "+OK\r\n"], [["SCAN", "0", "MATCH", "a*", "COUNT", "100"], "*2\r\n$1\r\n0\r\n*1\r\n$2\r\na1\r\n"], [["SCAN", "x"], "-ERR invalid cursor\r\n"], [["SCAN", "-0", "MATCH", "a*"], "*2\r\n$1\r\n0\r\n*1\r\n$2\r\na1\r\n"], [["SCAN", "-1"], "*2\r\n$1\r\n0\r\n*0\r\n"], [["SCAN", "18446744073709551615"], "*2\r\n$1\r\n0\r\n*0\r\n"], [["SCAN", "18446744073709551616"], "-ERR invalid cursor\r\n"], [["SCAN", "-18446744073709551616"], "-ERR invalid cursor\r\n"], [["SCAN", "1-"], "-ERR invalid cursor\r\n"], [["SCAN", "-"], "-ERR invalid cursor\r\n"], [["SCAN", "+"], "-ERR invalid cursor\r\n"], [["SCAN", "0", "COUNT", "0"], "-ERR syntax error\r\n"], [["SCAN", "0", "TYPE", "hash"], "*2\r\n$1\r\n0\r\n*0\r\n"]]],
  ["DBSIZE - counts keys", [[["DBSIZE"], ":0\r\n"], [["MSET", "a", "1", "b", "2"], "+OK\r\n"], [["DBSIZE"], ":2\r\n"]]],
  ["FLUSHDB - empties the keyspace", [[["SET", "a", "1"], "+OK\r\n"], [["FLUSHDB", "ASYNC"], "+OK\r\n"], [["DBSIZE"], ":0\r\n"], [["FLUSHDB", "LATER"], "-ERR syntax error\r\n"]]],
  ["PING - PONG or the message", [[["PING"], "+PONG\r\n"], [["PING", "hi"], "$2\r\nhi\r\n"], [["PING", "a", "b"], "-ERR wrong number of arguments for 'ping' command\r\n"]]],
  ["ECHO - the message", [[["ECHO", "hello"], "$5\r\nhello\r\n"]]],
  ["AUTH - right and wrong passwords, user default only", [[["AUTH", "secret-password-1"], "+OK\r\n"], [["AUTH", "default", "secret-password-1"], "+OK\r\n"], [["AUTH", "nope"], "-WRONGPASS invalid username-password pair or user is disabled.\r\n"], [["AUTH", "bob", "secret-password-1"], "-WRONGPASS invalid username-password pair or user is disabled.\r\n"], [["AUTH", "a", "b", "c"], "-ERR syntax error\r\n"]]],
  ["SELECT - only database 0", [[["SELECT", "0"], "+OK\r\n"], [["SELECT", "x"], "-ERR value is not an integer or out of range\r\n"], [["SELECT", "3"], "-ERR DB index is out of range\r\n"]]],
  ["QUIT - answers OK", [[["QUIT"], "+OK\r\n"]]],
  ["HELLO - without a version keeps RESP2", [[["HELLO"], "*16\r\n$6\r\nserver\r\n$8\r\nowlcache\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n"]]],
  ["CLIENT - without a subcommand is an arity error", [[["CLIENT"], "-ERR wrong number of arguments for 'client' command\r\n"]]],
  ["INFO - has a keyspace section", [[["INFO"], "# Server\r\n"]]],
  ["COMMAND - COUNT and LIST", [[["COMMAND", "LIST"], "*31\r\n"]]],
  ["CONFIG - GET matches names by glob; other subcommands are unknown", [[["CONFIG", "GET", "*only"], "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"], [["CONFIG", "SET", "a", "b"], "-ERR unknown subcommand 'SET'. Try CONFIG HELP.\r\n"]]],
];

describe("commands", () => {
  for (const [name, steps] of cases) {
    test(name, () => {
      const { call } = setup();
      for (const [words, expected] of steps) {
        const got = call(...words);
        // Long replies (HELLO, INFO, COMMAND) are checked by their start.
        if (expected.length < got.length && !expected.startsWith("-") && expected.endsWith("\r\n") && got.length > 40) expect(got).toContain(expected);
        else expect(got).toBe(expected);
      }
    });
  }
});
