// A group read meets the largest value a peer may legitimately hold, of the bytes JSON escapes
// most (the audit's group_bigvalue.sh, at MaxValueBytes 1 MiB): read whole, and the peer stays in use.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addPeers, groupGet, setValue, startClusterNode, stopAll, type ClusterNode } from "./cluster-helpers.ts";

const MAX_VALUE = 1024 * 1024;
let a: ClusterNode, b: ClusterNode;

beforeAll(async () => {
  // a generous timeout: the answer is 6 MiB of JSON, the point here is its size
  const set = { MaxValueBytes: MAX_VALUE, HttpClientRequestTimeout: 5000 };
  [a, b] = await Promise.all([startClusterNode({ set }), startClusterNode({ set })]);
  await addPeers(a, b.address);
}, 30_000);

afterAll(async () => {
  await stopAll([a, b].filter(Boolean));
});

describe("group_data with the largest values", () => {
  test("group get - a peer's value of MaxValueBytes control bytes (6× once escaped) is read whole, and the peer is not dropped", async () => {
    const value = new Uint8Array(MAX_VALUE).fill(1);
    const set = await fetch(`${b.base}/data/?cmd=set&key=ctl&token=${b.token}`, { method: "POST", body: value, headers: { "content-type": "application/octet-stream" } });
    expect(set.status).toBe(200);
    await setValue(b, "other", "b's other");
    for (let i = 0; i < 3; i++) {
      const r = await groupGet(a, "ctl");
      expect(r.status).toBe(200);
      expect(r.entries.map((e) => [e.Address, e.Status, e.Message])).toEqual([[b.address, 200, undefined]]);
      expect(r.entries[0]!.Data).toBe("\u0001".repeat(MAX_VALUE));
    }
    expect((await groupGet(a, "other")).entries.map((e) => [e.Address, e.Data])).toEqual([[b.address, "b's other"]]);
  }, 30_000);
});
