// Redis-dialect commands through the engine with a ManualClock (expiry without sleeping), the
// reply encoder, and the commands the differential test cannot compare (INFO, COMMAND, HELLO, …).

import { describe, expect, test } from "bun:test";
import { PasswordAuthenticator } from "../../src/auth/authenticator.ts";
import { Engine } from "../../src/commands/engine.ts";
import { CommandError } from "../../src/commands/errors.ts";
import type { RespSession } from "../../src/commands/redis-connection.ts";
import { int64Reply, mapReply } from "../../src/commands/redis-reply.ts";
import { array, bulk, errorReply, int, NIL, OK, simple, type Reply } from "../../src/commands/reply.ts";
import { commandTable } from "../../src/commands/table.ts";
import { ByteWriter } from "../../src/protocol/byte-writer.ts";
import { writeRespReply } from "../../src/protocol/resp-reply.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock } from "../../src/store/types.ts";
import { CommandIndex } from "../../src/transport/resp-server.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function setup() {
  const clock = new ManualClock();
  const db = new Keyspace(new MapStore(clock), clock);
  const engine = new Engine({ table: commandTable, db, limits: { maxKeyBytes: 64, maxValueBytes: 1024 }, auth: new PasswordAuthenticator("secret-password-1") });
  const index = new CommandIndex(engine.commands("resp"));
  const session: RespSession = { dialect: "resp", transport: "resp", client: "test", canRead: true, canWrite: true, protocol: 2, id: 7 };
  const call = (...words: string[]): string => {
    const name = enc.encode(words[0]!);
    const reply = engine.execute(session, index.find(name), words[0]!.toLowerCase(), words.slice(1).map((w) => enc.encode(w)));
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
    expect(info).toContain("db0:keys=1,");
    expect(call("SELECT", "0")).toBe("+OK\r\n");
    expect(call("SELECT", "1")).toBe("-ERR DB index is out of range\r\n");
  });

  test("table - every Redis-dialect command is exercised by a test in test/resp", async () => {
    const glob = new Bun.Glob("*.test.ts");
    let source = "";
    for await (const file of glob.scan(import.meta.dir)) source += await Bun.file(`${import.meta.dir}/${file}`).text();
    const untested = commandTable
      .filter((s) => s.dialects.includes("resp"))
      .map((s) => s.name.toUpperCase())
      .filter((name) => !source.includes(`"${name}"`) && !source.includes(` ${name} `) && !source.includes(`"${name} `));
    expect(untested).toEqual([]);
  });
});
