// The shared owl case table, over TCP against a real `bun run start` process (its RESP port
// on too, to read times to live).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectTtl, owlCases, tcpLine } from "../cases/owl-cases.ts";
import { removeDir, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { RawClient, startRespNode } from "../resp/helpers.ts";

let node: NodeProcess;
let client: OwlClient;
let resp: RawClient;

beforeAll(async () => {
  node = await startRespNode();
  client = await OwlClient.connect(node.tcpPort);
  resp = await RawClient.connect(node.respPort);
});

afterAll(async () => {
  client?.close();
  resp?.close();
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
      if (c.then?.ttl !== undefined) await expectTtl(resp, c.key!, c.then.ttl);
      if (c.then) {
        const after = await client.call(`get ${c.key}`);
        expect(after.Status).toBe(c.then.status);
        if ("data" in c.then) expect(after.Data).toEqual(c.then.data);
      }
    });
  }
});
