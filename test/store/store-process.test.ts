// The compact store as the default store of a real owlcache process: MaxMemory refusals answer
// 500 over TCP, a flood evicts instead of growing, and pipelined reads see the bytes they read.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { OwlClient } from "../helpers/owl-client.ts";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";

const MAX_MEMORY = 20_000;
let node: NodeProcess;
let client: OwlClient;

beforeAll(async () => {
  node = await startNode({ set: { MaxMemory: MAX_MEMORY } });
  client = await OwlClient.connect(node.tcpPort);
});

afterAll(async () => {
  client?.close();
  await node?.stop();
  removeDir(node.dir);
});

describe("compact store in a real process", () => {
  test("set - a value larger than MaxMemory answers 500 and stores nothing", async () => {
    const reply = await client.call(`set huge ${"x".repeat(MAX_MEMORY)}`);
    expect(reply).toMatchObject({ Cmd: "set", Status: 500, Results: "ERROR", Key: "huge" });
    expect(reply.Message).toContain("MaxMemory");
    expect((await client.call("get huge")).Status).toBe(404);
    expect((await client.call("set fits ok")).Status).toBe(200);
    expect((await client.call("get fits")).Data).toBe("ok");
  });

  test("set - a pipelined write flood evicts old keys and keeps serving", async () => {
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) lines.push(`set flood:${i} ${"v".repeat(100)}`);
    client.write(lines.join("\n") + "\n");
    for (let i = 0; i < 2000; i++) expect((await client.reply()).Status).toBe(200);
    expect((await client.call("get flood:1999")).Data).toBe("v".repeat(100));
    let present = 0;
    client.write(Array.from({ length: 2000 }, (_, i) => `exist flood:${i}`).join("\n") + "\n");
    for (let i = 0; i < 2000; i++) if ((await client.reply()).Status === 200) present++;
    // ~110 bytes a key under 20,000 bytes: at most ~181 keys can be held.
    expect(present).toBeGreaterThan(50);
    expect(present).toBeLessThanOrEqual(Math.ceil((MAX_MEMORY * 1.05) / 110));
    // The evictions and the bound show in the metrics.
    const metrics = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\d+)`, "m").exec(metrics)?.[1]);
    expect(value("owl_evicted_keys_total")).toBeGreaterThanOrEqual(2000 - present);
    expect(value("owl_memory_used_bytes")).toBeLessThanOrEqual(MAX_MEMORY);
  });

  test("get - a read answered in the same batch as an overwrite shows the bytes it read", async () => {
    await client.call("set same first-value");
    client.write("get same\nset same second\nget same\ndelete same\nset other third-value\nget same\n");
    expect((await client.reply()).Data).toBe("first-value");
    expect((await client.reply()).Status).toBe(200);
    expect((await client.reply()).Data).toBe("second");
    expect((await client.reply()).Status).toBe(200);
    expect((await client.reply()).Status).toBe(200);
    expect((await client.reply()).Status).toBe(404);
  });
});
