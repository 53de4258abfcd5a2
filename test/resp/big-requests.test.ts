// Requests with very many arguments over a real socket: what redis-server accepts in one command
// (MSET of 600,000 pairs), owlcache accepts too, within the input limits.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { NodeProcess } from "../helpers/node-process.ts";
import { INPUT_LIMIT } from "../../src/transport/input-budget.ts";
import { RawClient, startRespNode } from "./helpers.ts";

let node: NodeProcess;
/** a node whose stream clients may hold 4 MB of unfinished requests between them */
let budgeted: NodeProcess;

beforeAll(async () => {
  const starting = [startRespNode().then((n) => (node = n)), startRespNode({ set: { MaxInputBufferBytes: 4_000_000 } }).then((n) => (budgeted = n))];
  for (const r of await Promise.allSettled(starting)) if (r.status === "rejected") throw r.reason;
}, 30_000);

afterAll(async () => {
  await Promise.all([node?.stop(), budgeted?.stop()]);
});

/** `*<1 + 2 pairs>` MSET k<i> v<i>... as one RESP request, written straight into one buffer. */
function msetRequest(pairs: number): Uint8Array {
  const parts: string[] = [`*${1 + 2 * pairs}\r\n$4\r\nMSET\r\n`];
  for (let i = 0; i < pairs; i++) {
    const key = `k${i}`;
    const value = `v${i}`;
    parts.push(`$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`);
  }
  return new TextEncoder().encode(parts.join(""));
}

describe("many arguments", () => {
  test("MSET - 600,000 pairs (1.2 million arguments) in one command are stored, as redis-server does", async () => {
    const pairs = 600_000;
    const c = await RawClient.connect(node.respPort);
    await c.send(msetRequest(pairs));
    expect(await c.readReply(60_000)).toBe("+OK\r\n");
    await c.send("DBSIZE\r\n");
    expect(await c.readReply()).toBe(`:${pairs}\r\n`);
    for (const i of [0, 1, 299_999, pairs - 1]) {
      await c.send(`GET k${i}\r\n`);
      expect(await c.readReply()).toBe(`$${`v${i}`.length}\r\nv${i}\r\n`);
    }
    c.close();
  }, 60_000);

  test("input budget - the offsets of a request's elements count: 3 MB of empty elements hold over 4 MB and the client is closed", async () => {
    const c = await RawClient.connect(budgeted.respPort);
    // 500,000 elements of 6 bytes: 3 MB of input, 4 MB of offsets (8 bytes an element) more.
    await c.send(`*2000000\r\n$4\r\nMSET\r\n` + "$0\r\n\r\n".repeat(500_000));
    await c.waitClosed(10_000);
    expect(c.pending).toBe(`-ERR ${INPUT_LIMIT}\r\n`);
    const other = await RawClient.connect(budgeted.respPort);
    await other.send("DBSIZE\r\n");
    expect(await other.readReply()).toBe(":0\r\n");
    other.close();
  }, 30_000);
});
