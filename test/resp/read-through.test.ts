// RESP GET with read-through import (SPEC §8): a miss asks a real redis-server, the reply stays
// in pipeline order behind the asynchronous import, and the imported key is then local.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { NodeProcess } from "../helpers/node-process.ts";
import { RawClient, startRedisServer, startRespNode, type RedisServer } from "./helpers.ts";

let backend: RedisServer;
let node: NodeProcess;

beforeAll(async () => {
  backend = await startRedisServer();
  const seed = await RawClient.connect(backend.port);
  await seed.send("SET imported:a from-backend\r\n");
  expect(await seed.readReply()).toBe("+OK\r\n");
  seed.close();
  node = await startRespNode({ set: { Get_data_from_redis: 1, Redis_Addr: `127.0.0.1:${backend.port}` } });
}, 30_000);

afterAll(async () => {
  await Promise.all([node?.stop(), backend?.stop()]);
});

test("GET - a local miss is imported from Redis; pipelined replies stay in order", async () => {
  const c = await RawClient.connect(node.respPort);
  await c.send("PING first\r\nGET imported:a\r\nGET imported:none\r\nPING last\r\nDBSIZE\r\n");
  expect(await c.readReply()).toBe("$5\r\nfirst\r\n");
  expect(await c.readReply()).toBe("$12\r\nfrom-backend\r\n");
  expect(await c.readReply()).toBe("$-1\r\n");
  expect(await c.readReply()).toBe("$4\r\nlast\r\n");
  expect(await c.readReply()).toBe(":1\r\n"); // the imported key is now held locally
  c.close();
});
