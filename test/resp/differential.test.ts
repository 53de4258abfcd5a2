// Differential test: one random command sequence (every supported command, bad arguments
// included) goes to a real redis-server and to owlcache; every reply must match byte for byte.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { NodeProcess } from "../helpers/node-process.ts";
import { encodeCommand, RawClient, startRedisServer, startRespNode, type RedisServer } from "./helpers.ts";

const PASSWORD = "test-password-123";
const COMMANDS = 12_000;
const BATCH = 200;

let redis: RedisServer;
let owl: NodeProcess;

beforeAll(async () => {
  // Settle both before failing, so that afterAll stops whichever did start.
  const starting = [startRedisServer(["--requirepass", PASSWORD]).then((r) => (redis = r)), startRespNode({ set: { Pass: PASSWORD, TcpAuth: 1 } }).then((n) => (owl = n))];
  for (const r of await Promise.allSettled(starting)) if (r.status === "rejected") throw r.reason;
}, 30_000);

afterAll(async () => {
  await Promise.all([redis?.stop(), owl?.stop()]);
});

/** A seeded generator so a failure can be replayed. */
function generator(seed: number) {
  let s = seed;
  const rand = (n: number): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor((s / 2147483648) * n);
  };
  const pick = <T>(items: readonly T[]): T => items[rand(items.length)]!;
  const key = (): string => `k${rand(12)}`;
  const keys = (): string[] => Array.from({ length: 1 + rand(4) }, key);
  const value = (): string =>
    pick(["v", "hello world", "", "12", "-7", "0", "010", "1.5", " 3", "+4", "-0", "9223372036854775807", "-9223372036854775808",
      "9223372036854775806", "99999999999999999999", String(rand(1000)), "x".repeat(rand(40))]);
  const integer = (): string =>
    pick(["1", "5", "-3", "0", "abc", "", "1.5", "100", "-100", "9223372036854775807", "-9223372036854775808", "01", String(rand(50))]);
  const seconds = (): string => pick(["100", "1000", "0", "-5", "abc", "", "200", "9223372036854775", "99999999999999999999", "1.0"]);
  const ms = (): string => pick(["100000", "500000", "0", "-1", "xyz", "300000"]);
  const mixCase = (name: string): string => (rand(4) === 0 ? name.toLowerCase() : rand(3) === 0 ? name[0] + name.slice(1).toLowerCase() : name);
  const setOptions = (): string[] => {
    const opts: string[] = [];
    const now = Math.floor(Date.now() / 1000);
    for (let i = rand(4); i > 0; i--) {
      opts.push(
        ...pick<string[]>([
          ["NX"], ["XX"], ["GET"], ["KEEPTTL"], ["EX", seconds()], ["PX", ms()], ["EXAT", String(now + 1000)],
          ["PXAT", String((now + 2000) * 1000)], ["EX"], ["FOO"], ["nx"], ["get"],
        ]),
      );
    }
    return opts;
  };
  const expireFlags = (): string[] => (rand(3) === 0 ? Array.from({ length: 1 + rand(2) }, () => pick(["NX", "XX", "GT", "LT", "gt", "ZZ"])) : []);
  const next = (): string[] => {
    const r = rand(100);
    if (r < 14) return [mixCase("SET"), key(), value(), ...setOptions()];
    if (r < 26) return [mixCase("GET"), key()];
    if (r < 30) return ["DEL", ...keys()];
    if (r < 33) return ["EXISTS", ...keys()];
    if (r < 38) return [pick(["EXPIRE", "expire"]), key(), seconds(), ...expireFlags()];
    if (r < 41) return ["PEXPIRE", key(), ms(), ...expireFlags()];
    if (r < 45) return ["TTL", key()];
    if (r < 47) return ["PTTL", key()];
    if (r < 49) return ["PERSIST", key()];
    if (r < 52) return ["MGET", ...keys()];
    if (r < 55) return ["MSET", ...Array.from({ length: 1 + rand(5) }, (_, i) => (i % 2 === 0 ? key() : value()))];
    if (r < 60) return [pick(["INCR", "DECR"]), key()];
    if (r < 65) return [pick(["INCRBY", "DECRBY"]), key(), integer()];
    if (r < 68) return ["APPEND", key(), value()];
    if (r < 70) return ["STRLEN", key()];
    if (r < 72) return rand(2) ? ["PING"] : ["PING", value()];
    if (r < 73) return ["ECHO", value()];
    if (r < 74) return ["SELECT", pick(["0", "abc", "-1", "99", "1.5"])];
    if (r < 76) return ["DBSIZE"];
    if (r < 78) return ["KEYS", pick(["*", "k?", "k1*", "k[0-4]", "k[^1]", "zz*", "k\\1", "*1"])];
    if (r < 80) return ["SCAN", "0", "COUNT", "1000", ...(rand(2) ? ["MATCH", pick(["k1*", "*", "k?"])] : [])];
    if (r < 81) return ["SCAN", pick(["abc", "0"]), ...pick<string[]>([["COUNT", "0"], ["COUNT", "x"], ["FOO", "1"], ["MATCH"]])];
    if (r < 82) return rand(10) === 0 ? ["FLUSHDB"] : ["FLUSHDB", pick(["SYNC", "BAD"])];
    if (r < 85) return [pick(["FOO", "sett", "GETT", "xyz"]), ...keys()];
    if (r < 86) return rand(2) ? ["CLIENT", "SETNAME", pick(["w-1", "a b", "", "x\ny"])] : ["CLIENT", pick(["GETNAME", "SETNAME"])];
    // wrong arity for a random command
    return [pick(["GET", "SET", "DEL", "EXISTS", "EXPIRE", "PEXPIRE", "TTL", "PTTL", "PERSIST", "MGET", "MSET", "INCR", "DECR",
      "INCRBY", "DECRBY", "APPEND", "STRLEN", "ECHO", "SELECT", "KEYS", "SCAN", "DBSIZE", "PING"]), ...(rand(2) ? [] : ["a", "b", "c"])];
  };
  return { next };
}

const dec = new TextDecoder();

/** Items of a flat RESP array reply, for order-free comparison of KEYS and SCAN. */
function normalise(command: string[], reply: string): string {
  const name = command[0]!.toUpperCase();
  if ((name === "KEYS" || name === "SCAN") && (reply.startsWith("*"))) {
    const lines = reply.split("\r\n");
    const bulks: string[] = [];
    for (let i = 0; i < lines.length; i++) if (lines[i]!.startsWith("$")) bulks.push(lines[++i]!);
    if (name === "SCAN") return `scan cursor=${bulks[0]} keys=${bulks.slice(1).sort().join(",")}`;
    return `keys ${bulks.sort().join(",")}`;
  }
  return reply;
}

function ttlClose(command: string[], a: string, b: string): boolean {
  const name = command[0]!.toUpperCase();
  if ((name !== "TTL" && name !== "PTTL") || !a.startsWith(":") || !b.startsWith(":")) return false;
  const slack = name === "TTL" ? 1 : 1000;
  const x = Number(a.slice(1));
  const y = Number(b.slice(1));
  return x >= 0 && y >= 0 && Math.abs(x - y) <= slack;
}

async function exchange(client: RawClient, commands: string[][]): Promise<string[]> {
  const parts = commands.map((c) => encodeCommand(c));
  await client.send(Buffer.concat(parts));
  const replies: string[] = [];
  for (let i = 0; i < commands.length; i++) replies.push(dec.decode(await client.readReplyBytes()));
  return replies;
}

test("differential - 12,000 random commands answer byte for byte as redis-server", async () => {
  const [a, b] = await Promise.all([RawClient.connect(redis.port), RawClient.connect(owl.respPort)]);
  const { next } = generator(20261126);
  const preamble = [["GET", "k1"], ["PING"], ["AUTH", "wrong-password"], ["AUTH", "someone", PASSWORD], ["AUTH", "a", "b", "c"], ["FOO"], ["AUTH", PASSWORD], ["AUTH", "default", PASSWORD]];
  const mismatches: string[] = [];
  let sent = 0;
  const kinds = new Map<string, number>();
  let batch = preamble;
  while (sent < COMMANDS) {
    const [x, y] = await Promise.all([exchange(a, batch), exchange(b, batch)]);
    for (let i = 0; i < batch.length; i++) {
      kinds.set(x[i]![0]!, (kinds.get(x[i]![0]!) ?? 0) + 1);
      const rx = normalise(batch[i]!, x[i]!);
      const ry = normalise(batch[i]!, y[i]!);
      if (rx !== ry && !ttlClose(batch[i]!, rx, ry)) {
        mismatches.push(`#${sent + i} ${JSON.stringify(batch[i])}\n  redis: ${JSON.stringify(rx)}\n  owl:   ${JSON.stringify(ry)}`);
      }
    }
    sent += batch.length;
    batch = Array.from({ length: BATCH }, next);
  }
  a.close();
  b.close();
  if (mismatches.length > 0) console.log(`${mismatches.length} mismatches:\n${mismatches.slice(0, 25).join("\n")}`);
  expect(mismatches).toEqual([]);
  // The sequence exercised every reply type, errors and nils included.
  for (const kind of ["+", "-", ":", "$", "*"]) expect(kinds.get(kind) ?? 0).toBeGreaterThan(300);
}, 120_000);
