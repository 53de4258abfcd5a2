// Read-through against a real redis-server and a real memcached (SPEC §8), through the engine's
// `get` as every transport runs it.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { memcachedSet, startMemcached, startRedis, type Server } from "./backends.ts";
import { enc, setup, valueOf } from "./harness.ts";

describe("read-through from Redis", () => {
  let redis: Server;
  let client: RedisClient;
  beforeAll(async () => {
    redis = await startRedis();
    client = new RedisClient(`redis://127.0.0.1:${redis.port}`);
  });
  afterAll(async () => {
    client.close();
    await redis.stop();
  });

  test("get - a local miss imports the value from Redis and keeps it", async () => {
    await client.set("greeting", "hello from redis");
    const t = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${redis.port}` });
    expect(valueOf(await t.get("greeting"))).toBe("hello from redis");
    expect(t.db.get(enc("greeting"))?.expiresAt).toBe(0); // expire time 0 = no expiry
    await client.del("greeting");
    expect(valueOf(await t.get("greeting"))).toBe("hello from redis"); // now served locally
    expect(t.loader.stats()[0]).toMatchObject({ requests: 1, hits: 1, failures: 0, state: "up" });
    t.loader.close();
  });

  test("get - a key Redis does not hold stays 404", async () => {
    const t = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${redis.port}` });
    expect(await t.get("nowhere")).toEqual({ kind: "nil" });
    expect(t.db.has(enc("nowhere"))).toBe(false);
    expect(t.engine.misses).toBe(1);
    t.loader.close();
  });

  test("get - the imported value gets Get_redis_data_set_expire_time", async () => {
    await client.set("short", "lived");
    const t = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${redis.port}`, Get_redis_data_set_expire_time: 30 });
    expect(valueOf(await t.get("short"))).toBe("lived");
    expect(t.db.get(enc("short"))?.expiresAt).toBe(t.clock.now() + 30_000);
    t.clock.tick(30_000);
    await client.del("short");
    expect(await t.get("short")).toEqual({ kind: "nil" });
    t.loader.close();
  });

  test("get - binary keys and values come through byte for byte", async () => {
    const key = new Uint8Array([0, 1, 255, 13, 10, 32]);
    const value = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
    await client.set(Buffer.from(key), Buffer.from(value));
    const t = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${redis.port}` });
    const reply = await t.get(key);
    expect(reply.kind === "bulk" && reply.value).toEqual(value);
    t.loader.close();
  });

  test("get - Redis_DB selects the database, a non-string key is a miss", async () => {
    const other = new RedisClient(`redis://127.0.0.1:${redis.port}/3`);
    await other.set("in-db-3", "three");
    await client.send("RPUSH", ["a-list", "x"]);
    other.close();
    const t = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${redis.port}`, Redis_DB: 3 });
    expect(valueOf(await t.get("in-db-3"))).toBe("three");
    const t0 = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${redis.port}` });
    expect(await t0.get("in-db-3")).toEqual({ kind: "nil" });
    expect(await t0.get("a-list")).toEqual({ kind: "nil" });
    expect(t0.loader.stats()[0]!.failures).toBe(0);
    t.loader.close();
    t0.loader.close();
  });

  test("get - concurrent misses of one key make one Redis request", async () => {
    await client.set("popular", "v");
    const t = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${redis.port}` });
    const replies = await Promise.all(Array.from({ length: 50 }, () => t.get("popular")));
    expect(replies.map(valueOf)).toEqual(Array(50).fill("v"));
    expect(t.loader.stats()[0]!.requests).toBe(1);
    expect(t.loader.imports).toBe(1);
    t.loader.close();
  });

  test("get - a local write made while Redis answers is kept", async () => {
    await client.set("raced", "from redis");
    const t = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${redis.port}` });
    const pending = t.get("raced");
    t.db.set(enc("raced"), enc("local and newer"));
    expect(valueOf(await pending)).toBe("local and newer");
    expect(t.loader.imports).toBe(0);
    t.loader.close();
  });

  test("get - a value larger than MaxValueBytes is not imported", async () => {
    await client.set("huge", "x".repeat(2000));
    const t = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${redis.port}`, MaxValueBytes: 1000 });
    expect(await t.get("huge")).toEqual({ kind: "nil" });
    expect(t.loader.refused).toBe(1);
    t.loader.close();
  });

  test("get - a value larger than MaxMemory is refused quietly, like one over MaxValueBytes", async () => {
    await client.set("over-memory", "x".repeat(2000));
    const t = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${redis.port}` }, 1000);
    expect(await t.get("over-memory")).toEqual({ kind: "nil" });
    expect(t.loader.refused).toBe(1);
    expect(t.db.has(enc("over-memory"))).toBe(false);
    expect(t.lines.filter((line) => line.level === "error")).toEqual([]);
    t.loader.close();
  });

  test("get - Redis_Password authenticates", async () => {
    const locked = await startRedis({ password: "s3cret-p@ss/word" });
    try {
      const admin = new RedisClient(`redis://:${encodeURIComponent("s3cret-p@ss/word")}@127.0.0.1:${locked.port}`);
      await admin.set("guarded", "ok");
      admin.close();
      const t = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${locked.port}`, Redis_Password: "s3cret-p@ss/word" });
      expect(valueOf(await t.get("guarded"))).toBe("ok");
      const wrong = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${locked.port}`, Redis_Password: "nope-nope-nope" });
      expect(await wrong.get("guarded")).toEqual({ kind: "nil" });
      expect(wrong.loader.stats()[0]!.failures).toBe(1);
      t.loader.close();
      wrong.loader.close();
    } finally {
      await locked.stop();
    }
  });
});

describe("read-through from memcached", () => {
  let mc: Server;
  beforeAll(async () => {
    mc = await startMemcached();
  });
  afterAll(async () => {
    await mc.stop();
  });

  test("get - a local miss imports the value from memcached with its expiry", async () => {
    await memcachedSet(mc.port, "mc:greeting", "hello from memcached");
    const t = setup({ Get_data_from_memcache: true, Memcache_list: `127.0.0.1:${mc.port}`, Get_memcache_data_set_expire_time: 5 });
    expect(valueOf(await t.get("mc:greeting"))).toBe("hello from memcached");
    expect(t.db.get(enc("mc:greeting"))?.expiresAt).toBe(t.clock.now() + 5000);
    expect(await t.get("mc:absent")).toEqual({ kind: "nil" });
    t.loader.close();
  });

  test("get - binary values come through byte for byte", async () => {
    const value = new Uint8Array(300_000).map((_, i) => (i * 13) % 256);
    await memcachedSet(mc.port, "mc:binary", value);
    const t = setup({ Get_data_from_memcache: true, Memcache_list: `127.0.0.1:${mc.port}` });
    const replies = await Promise.all([t.get("mc:binary"), t.get("mc:absent-2"), t.get("mc:binary")]);
    expect(replies[0]!.kind === "bulk" && replies[0]!.value).toEqual(value);
    expect(replies[1]).toEqual({ kind: "nil" });
    expect(t.loader.stats()[0]!.requests).toBe(2);
    t.loader.close();
  });

  test("get - keys memcached cannot hold are not asked for", async () => {
    const t = setup({ Get_data_from_memcache: true, Memcache_list: `127.0.0.1:${mc.port}` });
    expect(await t.get("with space")).toEqual({ kind: "nil" });
    expect(await t.get("k".repeat(300))).toEqual({ kind: "nil" });
    expect(t.loader.stats()[0]!.requests).toBe(0);
    t.loader.close();
  });

  test("get - several servers share keys by CRC-32 like gomemcache", async () => {
    const second = await startMemcached();
    try {
      const list = `127.0.0.1:${mc.port} | 127.0.0.1:${second.port}`;
      const keys = Array.from({ length: 20 }, (_, i) => `spread:${i}`);
      const ports = [mc.port, second.port];
      for (const key of keys) await memcachedSet(ports[Bun.hash.crc32(key) % 2]!, key, `v-${key}`);
      const t = setup({ Get_data_from_memcache: true, Memcache_list: list });
      for (const key of keys) expect(valueOf(await t.get(key))).toBe(`v-${key}`);
      expect(t.loader.stats().map((s) => s.requests)).toEqual([0, 1].map((n) => keys.filter((k) => Bun.hash.crc32(k) % 2 === n).length));
      t.loader.close();
    } finally {
      await second.stop();
    }
  });

  test("get - Redis is preferred when both hold the key", async () => {
    const redis = await startRedis();
    try {
      const client = new RedisClient(`redis://127.0.0.1:${redis.port}`);
      await client.set("both", "redis");
      client.close();
      await memcachedSet(mc.port, "both", "memcached");
      await memcachedSet(mc.port, "only-mc", "memcached");
      const t = setup({ Get_data_from_redis: true, Redis_Addr: `127.0.0.1:${redis.port}`, Get_data_from_memcache: true, Memcache_list: `127.0.0.1:${mc.port}` });
      expect(valueOf(await t.get("both"))).toBe("redis");
      expect(valueOf(await t.get("only-mc"))).toBe("memcached");
      t.loader.close();
    } finally {
      await redis.stop();
    }
  });
});
