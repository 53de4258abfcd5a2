// The RESP hot path without sockets: parse a pipelined batch of GET/SET requests, run them
// through the engine and encode the replies (what one data event costs, minus the syscalls).

import { bench, group, run } from "mitata";
import { Engine } from "../src/commands/engine.ts";
import { commandTable } from "../src/commands/table.ts";
import type { RespSession } from "../src/commands/redis-connection.ts";
import { ByteWriter } from "../src/protocol/byte-writer.ts";
import { RespParser, type RespSink } from "../src/protocol/resp.ts";
import { writeRespReply } from "../src/protocol/resp-reply.ts";
import { Keyspace } from "../src/store/keyspace.ts";
import { MapStore } from "../src/store/map-store.ts";
import { systemClock } from "../src/store/types.ts";

const keyspace = new Keyspace(new MapStore(systemClock), systemClock);
const engine = new Engine({ table: commandTable, db: keyspace, limits: { maxKeyBytes: 4096, maxValueBytes: 1 << 24 }, auth: { verifyPassword: () => true, issueToken: () => "token" } });
const session: RespSession = { dialect: "resp", transport: "resp", client: "bench", canRead: true, canWrite: true, protocol: 2, id: 1 };
const out = new ByteWriter();
const sink: RespSink = {
  command(name, args) {
    const spec = engine.lookupBytes("resp", name);
    const reply = engine.execute(session, spec, spec!.name, args);
    if (reply instanceof Promise) throw new Error("async");
    writeRespReply(out, reply, false);
    return true;
  },
  protocolError(e) {
    throw e;
  },
};

const enc = new TextEncoder();
function batch(cmd: string, n: number): Uint8Array {
  let s = "";
  for (let i = 0; i < n; i++) {
    const key = `key:${String(i * 7919 % 100000).padStart(12, "0")}`;
    s += cmd === "GET" ? `*2\r\n$3\r\nGET\r\n$${key.length}\r\n${key}\r\n` : `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$3\r\nxxx\r\n`;
  }
  return enc.encode(s);
}
for (let i = 0; i < 100000; i++) keyspace.set(enc.encode(`key:${String(i).padStart(12, "0")}`), enc.encode("xxx"));
const gets = batch("GET", 16);
const sets = batch("SET", 16);
const get1 = batch("GET", 1);
const parser = new RespParser();

// Each iteration gets a fresh chunk, as Bun hands over a new array for every read.
group("16 pipelined requests", () => {
  bench("GET x16: parse + execute + encode", () => {
    parser.push(gets.slice(), sink);
    out.reset();
  });
  bench("SET x16: parse + execute + encode", () => {
    parser.push(sets.slice(), sink);
    out.reset();
  });
  bench("GET x1: parse + execute + encode", () => {
    parser.push(get1.slice(), sink);
    out.reset();
  });
  bench("parse only x16", () => {
    parser.push(gets.slice(), { command: () => true, protocolError: () => {} });
  });
});

await run();
