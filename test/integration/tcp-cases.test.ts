// The shared owl case table, over TCP against a real `bun run start` process.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { owlCases, tcpLine } from "../cases/owl-cases.ts";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";

let node: NodeProcess;
let client: OwlClient;

beforeAll(async () => {
  node = await startNode();
  client = await OwlClient.connect(node.tcpPort);
});

afterAll(async () => {
  client?.close();
  await node?.stop();
  removeDir(node.dir);
});

describe("owl cases over TCP", () => {
  for (const c of owlCases.filter((c) => c.only !== "http")) {
    test(c.name, async () => {
      for (const [cmd, key, value] of c.setup ?? []) {
        expect((await client.call(tcpLine({ cmd, key, value }))).Status).toBe(200);
      }
      const reply = await client.call(tcpLine(c));
      expect(reply.Status).toBe(c.status);
      if ("data" in c) expect(reply.Data).toEqual(c.data);
      expect(reply.ResponseHost).toBe(`127.0.0.1:${node.tcpPort}`);
      if (c.then) {
        const after = await client.call(`get ${c.key}`);
        expect(after.Status).toBe(c.then.status);
        if ("data" in c.then) expect(after.Data).toEqual(c.then.data);
      }
    });
  }
});
