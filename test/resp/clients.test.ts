// Real Redis clients against a real owlcache process: redis-cli (commands and --pipe), Bun's
// built-in RedisClient, ioredis and redis-benchmark; and the same keys seen over the owl protocol.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import Redis from "ioredis";
import type { NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { run, startRespNode } from "./helpers.ts";

let node: NodeProcess;

beforeAll(async () => {
  node = await startRespNode();
}, 30_000);

afterAll(async () => {
  await node?.stop();
});

const cli = async (...args: string[]): Promise<string> => {
  const { stdout, code } = await run(["redis-cli", "-p", String(node.respPort), ...args]);
  expect(code).toBe(0);
  return stdout.trim();
};

describe("redis-cli", () => {
  test("redis-cli - set, get, expire, ttl, del, mget, mset, incr", async () => {
    expect(await cli("SET", "cli:a", "hello world")).toBe("OK");
    expect(await cli("GET", "cli:a")).toBe("hello world");
    expect(await cli("EXPIRE", "cli:a", "100")).toBe("1");
    expect(Number(await cli("TTL", "cli:a"))).toBeGreaterThanOrEqual(99);
    expect(await cli("MSET", "cli:b", "1", "cli:c", "2")).toBe("OK");
    expect(await cli("MGET", "cli:a", "cli:b", "cli:missing")).toBe("hello world\n1");
    expect(await cli("INCR", "cli:b")).toBe("2");
    expect(await cli("DEL", "cli:a", "cli:b", "cli:c")).toBe("3");
    expect(await cli("GET", "cli:a")).toBe("");
    expect(await cli("FOO", "bar")).toContain("ERR unknown command 'FOO', with args beginning with: 'bar'");
  });

  test("redis-cli - a pipeline of many commands through --pipe", async () => {
    let input = "";
    for (let i = 0; i < 2000; i++) input += `*3\r\n$3\r\nSET\r\n$${`pipe:${i}`.length}\r\npipe:${i}\r\n$${String(i).length}\r\n${i}\r\n`;
    input += "*2\r\n$4\r\nINCR\r\n$8\r\npipe:100\r\n";
    const { stdout, code } = await run(["redis-cli", "-p", String(node.respPort), "--pipe"], input);
    expect(code).toBe(0);
    expect(stdout).toContain("errors: 0, replies: 2001");
    expect(await cli("GET", "pipe:100")).toBe("101");
  });

  test("redis-cli - interactive start-up (COMMAND DOCS) and INFO work", async () => {
    const { stdout, code } = await run(["redis-cli", "-p", String(node.respPort)], "PING\nDBSIZE\nINFO keyspace\n");
    expect(code).toBe(0);
    expect(stdout).toContain("PONG");
    expect(stdout).toContain("db0:keys=");
  });
});

describe("bun RedisClient", () => {
  test("bun RedisClient - RESP3 handshake, commands and a pipeline", async () => {
    const client = new RedisClient(`redis://127.0.0.1:${node.respPort}`);
    try {
      expect(await client.set("bun:a", "value")).toBe("OK");
      expect(await client.get("bun:a")).toBe("value");
      expect(await client.get("bun:missing")).toBeNull();
      expect(await client.expire("bun:a", 100)).toBe(1);
      expect(await client.ttl("bun:a")).toBeGreaterThanOrEqual(99);
      expect(await client.send("MSET", ["bun:b", "5", "bun:c", "6"])).toBe("OK");
      expect(await client.send("MGET", ["bun:b", "bun:c", "bun:missing"])).toEqual(["5", "6", null]);
      expect(await client.incr("bun:b")).toBe(6);
      expect(await client.del("bun:a")).toBe(1);
      // Commands issued together go out pipelined on the one connection.
      const results = await Promise.all(Array.from({ length: 500 }, (_, i) => client.incr("bun:counter")));
      expect(results.at(-1)).toBe(500);
    } finally {
      client.close();
    }
  });
});

describe("ioredis", () => {
  test("ioredis - commands and a pipeline", async () => {
    const client = new Redis({ port: node.respPort, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    try {
      expect(await client.set("io:a", "v1", "EX", 100)).toBe("OK");
      expect(await client.get("io:a")).toBe("v1");
      expect(await client.ttl("io:a")).toBeGreaterThanOrEqual(99);
      expect(await client.expire("io:a", 200)).toBe(1);
      expect(await client.pttl("io:a")).toBeGreaterThan(199_000);
      expect(await client.mset("io:b", "1", "io:c", "2")).toBe("OK");
      expect(await client.mget("io:a", "io:b", "io:missing")).toEqual(["v1", "1", null]);
      expect(await client.incr("io:b")).toBe(2);
      expect(await client.del("io:a", "io:b")).toBe(2);
      const pipeline = client.pipeline();
      for (let i = 0; i < 1000; i++) pipeline.set(`io:p:${i}`, String(i));
      pipeline.incrby("io:p:7", 10).get("io:p:7").get("io:p:999");
      const results = (await pipeline.exec())!;
      expect(results.length).toBe(1003);
      expect(results.every(([error]) => error === null)).toBe(true);
      expect(results.slice(-3).map(([, value]) => value)).toEqual([17, "17", "999"]);
      await expect(client.incr("io:p:nope:" + "x")).resolves.toBe(1);
      await expect(client.call("INCRBY", "io:p:7", "abc")).rejects.toThrow("value is not an integer or out of range");
    } finally {
      client.disconnect();
    }
  });
});

describe("cross protocol", () => {
  test("cross protocol - a key set over RESP is read over TCP and the other way round", async () => {
    const owl = await OwlClient.connect(node.tcpPort);
    try {
      expect(await cli("SET", "both:a", "from resp")).toBe("OK");
      const got = await owl.call("get both:a");
      expect(got.Status).toBe(200);
      expect(got.Data).toBe("from resp");
      expect(got.KeyCreateTime).not.toBe("0001-01-01T00:00:00Z");
      expect((await owl.call("set both:b from owl with spaces")).Status).toBe(200);
      expect(await cli("GET", "both:b")).toBe("from owl with spaces");
      expect((await owl.call("expire both:b 50")).Status).toBe(200);
      expect(Number(await cli("TTL", "both:b"))).toBeGreaterThanOrEqual(49);
      expect(await cli("DEL", "both:a")).toBe("1");
      expect((await owl.call("get both:a")).Status).toBe(404);
    } finally {
      owl.close();
    }
  });
});

describe("redis-benchmark", () => {
  test("redis-benchmark - ping, set, get, incr, mset complete with no errors", async () => {
    const { stdout, stderr, code } = await run(
      ["redis-benchmark", "-p", String(node.respPort), "-t", "ping,set,get,incr,mset", "-n", "20000", "-c", "20", "-q"],
      undefined,
      120_000,
    );
    expect(code).toBe(0);
    expect(stderr + stdout).not.toMatch(/error|ERR/i);
    for (const name of ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET"]) expect(stdout).toMatch(new RegExp(`${name}.*requests per second`));
  }, 120_000);
});
