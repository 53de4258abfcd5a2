// Read-through when backends die, hang or come back: a miss never becomes an error or waits
// longer than the timeout, a failing backend is skipped for Sleeptime, then asked again.

import { afterAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { freePort, memcachedSet, startGarbageServer, startMemcached, startRedis, startSilentServer, type Server } from "./backends.ts";
import { setup, valueOf } from "./harness.ts";

const TIMEOUT_MS = 400;
/** scheduling slack on a loaded 2-core machine */
const SLACK_MS = 600;

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

const started: Server[] = [];
afterAll(async () => {
  for (const server of started) await server.stop();
});

describe("read-through failures", () => {
  test("get - Redis stopped mid-test: misses answer within the timeout, Redis is skipped, then retried after Sleeptime", async () => {
    const redis = await startRedis();
    const port = redis.port;
    const client = new RedisClient(`redis://127.0.0.1:${port}`);
    await client.set("before", "1");
    client.close();
    const t = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${port}`, HttpClientRequestTimeout: TIMEOUT_MS });
    expect(valueOf(await t.get("before"))).toBe("1");
    await redis.stop();

    for (let i = 0; i < 2; i++) {
      const { result, ms } = await timed(() => t.get(`after-${i}`));
      expect(result).toEqual({ kind: "nil" });
      expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    }
    expect(t.loader.stats()[0]).toMatchObject({ state: "down", failures: 2, requests: 3 });
    const skipped = await timed(() => t.get("while-down"));
    expect(skipped.result).toEqual({ kind: "nil" });
    expect(skipped.ms).toBeLessThan(150);
    expect(t.execute("while-down-2")).toEqual({ kind: "nil" }); // answered at once, no promise
    expect(t.loader.stats()[0]).toMatchObject({ requests: 3, skipped: 2 });

    const back = await startRedis({ port });
    started.push(back);
    const again = new RedisClient(`redis://127.0.0.1:${port}`);
    await again.set("after-restart", "2");
    again.close();
    expect(await t.get("after-restart")).toEqual({ kind: "nil" }); // still within Sleeptime
    t.clock.tick(2000);
    expect(valueOf(await t.get("after-restart"))).toBe("2");
    expect(t.loader.stats()[0]!.state).toBe("up");
    expect(t.lines.map((l) => `${l.level} ${l.event}`)).toEqual([
      "warn read-through backend failing",
      "warn read-through backend down",
      "info read-through backend up",
    ]);
    expect(t.lines[1]!.fields).toMatchObject({ backend: `redis 127.0.0.1:${port}`, failures: 2, skippedForSeconds: 2 });
    t.loader.close();
  });

  test("get - memcached stopped mid-test: misses answer within the timeout, memcached is retried after Sleeptime", async () => {
    const mc = await startMemcached();
    const port = mc.port;
    await memcachedSet(port, "before", "1");
    const t = setup({ Get_data_from_memcache: true, Memcache_list: `127.0.0.1:${port}`, HttpClientRequestTimeout: TIMEOUT_MS, HttpClient_Request_Max_Error_Number: 1 });
    expect(valueOf(await t.get("before"))).toBe("1");
    await mc.stop();
    const { result, ms } = await timed(() => t.get("after"));
    expect(result).toEqual({ kind: "nil" });
    expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(t.loader.stats()[0]!.state).toBe("down");

    const back = await startMemcached({ port });
    started.push(back);
    await memcachedSet(port, "after", "2");
    expect(await t.get("after")).toEqual({ kind: "nil" });
    t.clock.tick(2000);
    expect(valueOf(await t.get("after"))).toBe("2");
    expect(t.lines.map((l) => l.event)).toEqual(["read-through backend down", "read-through backend up"]);
    t.loader.close();
  });

  test("get - a Redis that accepts and never answers costs at most the timeout", async () => {
    const silent = startSilentServer();
    started.push(silent);
    const t = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${silent.port}`, HttpClientRequestTimeout: TIMEOUT_MS });
    const both = await timed(() => Promise.all([t.get("a"), t.get("b")]));
    expect(both.result).toEqual([{ kind: "nil" }, { kind: "nil" }]);
    expect(both.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(both.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(t.loader.stats()[0]!.state).toBe("down");
    const skipped = await timed(() => t.get("c"));
    expect(skipped.ms).toBeLessThan(150);
    t.loader.close();
  });

  test("get - a memcached that accepts and never answers costs at most the timeout", async () => {
    const silent = startSilentServer();
    started.push(silent);
    const t = setup({ Get_data_from_memcache: true, Memcache_list: `127.0.0.1:${silent.port}`, HttpClientRequestTimeout: TIMEOUT_MS });
    const { result, ms } = await timed(() => t.get("a"));
    expect(result).toEqual({ kind: "nil" });
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(t.loader.stats()[0]).toMatchObject({ state: "failing", failures: 1 });
    t.loader.close();
  });

  test("get - a backend nobody listens on fails fast and never turns a miss into an error", async () => {
    const t = setup({
      Get_data_from_redis: true,
      Redis_Addr: `127.0.0.1:${freePort()}`,
      Get_data_from_memcache: true,
      Memcache_list: `127.0.0.1:${freePort()}`,
      HttpClientRequestTimeout: 2000,
    });
    const { result, ms } = await timed(() => t.get("k"));
    expect(result).toEqual({ kind: "nil" });
    expect(ms).toBeLessThan(1000);
    expect(t.loader.stats().map((s) => s.failures)).toEqual([1, 1]);
    t.loader.close();
  });

  test("get - a server that does not speak memcached's protocol is a failure, and the next request reconnects", async () => {
    const garbage = startGarbageServer("HTTP/1.1 400 Bad Request\r\n\r\n");
    started.push(garbage);
    const t = setup({ Get_data_from_memcache: true, Memcache_list: `127.0.0.1:${garbage.port}`, HttpClient_Request_Max_Error_Number: 5 });
    for (const key of ["a", "b"]) expect(await t.get(key)).toEqual({ kind: "nil" });
    expect(t.loader.stats()[0]).toMatchObject({ failures: 2, state: "failing" });
    expect(garbage.connections).toBe(2);
    t.loader.close();
  });

  test("get - a server that does not speak Redis's protocol is a failure, never an error reply", async () => {
    const garbage = startGarbageServer("VALUE x 0 1\r\n");
    started.push(garbage);
    const t = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${garbage.port}`, HttpClientRequestTimeout: TIMEOUT_MS });
    const { result, ms } = await timed(() => t.get("a"));
    expect(result).toEqual({ kind: "nil" });
    expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(t.loader.stats()[0]!.failures).toBe(1);
    t.loader.close();
  });
});
