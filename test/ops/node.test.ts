// The real process (`bun run src/main.ts`) with read-through to a real Redis and memcached:
// owl TCP and HTTP `get` import on a miss, /metrics and the status page are served.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { OwlClient } from "../helpers/owl-client.ts";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { freePort, memcachedSet, startMemcached, startRedis, type Server } from "../importers/backends.ts";
import { parseExposition } from "../metrics/exposition.ts";

describe("owlcache process with read-through and ops routes", () => {
  let redis: Server;
  let mc: Server;
  let node: NodeProcess;
  let base: string;

  beforeAll(async () => {
    [redis, mc] = await Promise.all([startRedis(), startMemcached()]);
    const client = new RedisClient(`redis://127.0.0.1:${redis.port}`);
    await client.set("from-redis", "value in redis");
    await client.set("over-http", "redis via http");
    client.close();
    await memcachedSet(mc.port, "from-memcached", "value in memcached");
    node = await startNode({
      set: {
        Get_data_from_redis: 1,
        Redis_Addr: `127.0.0.1:${redis.port}`,
        Get_redis_data_set_expire_time: 60,
        Get_data_from_memcache: 1,
        Memcache_list: `127.0.0.1:${mc.port}|127.0.0.1:${freePort()}`,
        HttpClientRequestTimeout: 500,
      },
    });
    base = `http://127.0.0.1:${node.httpPort}`;
  });

  afterAll(async () => {
    await node?.stop();
    if (node) removeDir(node.dir);
    await redis?.stop();
    await mc?.stop();
  });

  test("get - over TCP a miss is filled from Redis or memcached", async () => {
    const owl = await OwlClient.connect(node.tcpPort);
    try {
      expect(await owl.call("get from-redis")).toMatchObject({ Status: 200, Data: "value in redis", Key: "from-redis" });
      // several servers in Memcache_list: the key goes to the one CRC-32 picks, the other is dead
      const picked = Bun.hash.crc32("from-memcached") % 2 === 0;
      const answer = await owl.call("get from-memcached");
      expect(answer.Status).toBe(picked ? 200 : 404);
      if (picked) expect(answer.Data).toBe("value in memcached");
      expect(await owl.call("get nowhere")).toMatchObject({ Status: 404, Data: null });
      // pipelined: replies stay in order around an asynchronous import
      owl.write("set local 1\nget from-redis\nget local\n");
      expect((await owl.reply()).Cmd).toBe("set");
      expect((await owl.reply()).Data).toBe("value in redis");
      expect((await owl.reply()).Data).toBe("1");
    } finally {
      owl.close();
    }
  });

  test("get - over HTTP a miss is filled from Redis", async () => {
    const res = await fetch(`${base}/data/?cmd=get&key=over-http`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { Data: string }).Data).toBe("redis via http");
  });

  test("GET /metrics - counts commands by transport, read-through and connections", async () => {
    const owl = await OwlClient.connect(node.tcpPort);
    try {
      await owl.call("get from-redis");
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      const m = parseExposition(await res.text());
      expect(m.value("owl_commands_total", { command: "get", transport: "tcp" })).toBeGreaterThanOrEqual(4);
      expect(m.value("owl_commands_total", { command: "get", transport: "http" })).toBeGreaterThanOrEqual(1);
      expect(m.value("owl_readthrough_imports_total")).toBeGreaterThanOrEqual(2);
      expect(m.value("owl_readthrough_hits_total", { backend: `redis 127.0.0.1:${redis.port}` })).toBe(2);
      expect(m.value("owl_connections", { transport: "tcp" })).toBeGreaterThanOrEqual(1);
      expect(m.value("owl_keys")).toBeGreaterThanOrEqual(3);
      expect(m.value("process_resident_memory_bytes")).toBeGreaterThan(0);
      expect(m.value("owl_auth_failures_total", { reason: "password" }) ?? 0).toBe(0);
      expect((await owl.call("pass not-the-password")).Status).toBe(401);
      const after = parseExposition(await (await fetch(`${base}/metrics`)).text());
      expect(after.value("owl_auth_failures_total", { reason: "password" })).toBe(1);
    } finally {
      owl.close();
    }
  });

  test("GET /ui - the status page and its data are served; / redirects to it", async () => {
    const page = await fetch(`${base}/ui`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>owlcache status</title>");
    const root = await fetch(`${base}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    const status = (await (await fetch(`${base}/ui/status.json`)).json()) as { node: { address: string }; readThrough: unknown[] };
    expect(status.node.address).toBe(`127.0.0.1:${node.httpPort}`);
    expect(status.readThrough.length).toBe(3);
  });
});

test("start - a bad Memcache_list address stops the start with a message naming the key", async () => {
  const { runMain } = await import("../helpers/node-process.ts");
  const run = await runMain(["--set", "Get_data_from_memcache=1", "--set", "Memcache_list=localhost", "--set", "Tcpport=0", "--set", "Httpport=0", "--set", "Respport=0"]);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain("Memcache_list");
});
