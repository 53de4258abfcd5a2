// The shared owl case table over the TCP text protocol against a real node (loopback: no auth).
// (If the TCP engineer's own runner of this table exists, one of the two can go.)

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { removeDir, startNode, type NodeProcess } from "../helpers/node-process.ts";
import { OwlClient } from "../helpers/owl-client.ts";
import { owlCases, tcpLine } from "./owl-cases.ts";

describe("owl cases over TCP", () => {
  let node: NodeProcess;
  let client: OwlClient;

  beforeAll(async () => {
    node = await startNode();
    client = await OwlClient.connect(node.tcpPort);
  });

  afterAll(async () => {
    client.close();
    await node.stop();
    removeDir(node.dir);
  });

  for (const c of owlCases.filter((x) => x.only !== "http")) {
    test(c.name, async () => {
      const reply = await client.call(tcpLine(c));
      expect(reply.Status).toBe(c.status);
      expect(reply.Cmd).toBe(c.cmd.toLowerCase());
      if (c.data !== undefined) expect(reply.Data).toEqual(c.data);
      if (c.status >= 500) expect(typeof reply.Message).toBe("string");
    });
  }
});
