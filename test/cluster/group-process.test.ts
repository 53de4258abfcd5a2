// Group reads across real owlcache processes: ordering, target, misses, tricky values, and peers
// that are stopped, frozen (SIGSTOP) or fake and misbehaving.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakePeer, type FakePeer } from "./fake-peer.ts";
import { addPeers, groupGet, median, PEER_TIMEOUT_MS, serverCmd, setValue, startClusterNode, stopAll, type ClusterNode } from "./cluster-helpers.ts";

let a: ClusterNode, b: ClusterNode, c: ClusterNode;
const fakes: FakePeer[] = [];

beforeAll(async () => {
  // 4 MiB values: an answer is read up to 6 × (4 MiB + 4 KiB) + 64 KiB, so a 50 MB one is over
  const set = { MaxValueBytes: 4 * 1024 * 1024 };
  [a, b, c] = await Promise.all([startClusterNode({ set }), startClusterNode({ set }), startClusterNode({ set })]);
  for (const node of [a, b, c]) await addPeers(node, a.address, b.address, c.address);
}, 60_000);

afterAll(async () => {
  await stopAll([a, b, c].filter(Boolean));
  await Promise.all(fakes.map((f) => f.stop()));
});

describe("group_data across processes", () => {
  test("group get - newest first with exact Data, Address and KeyCreateTime from every node", async () => {
    // Written in the order b, c, a, some milliseconds apart: newest first is a, c, b.
    const tb = await setValue(b, "shared", "value of b");
    await Bun.sleep(15);
    const tc = await setValue(c, "shared", "value of c");
    await Bun.sleep(15);
    const ta = await setValue(a, "shared", "value of a");
    expect(tb < tc && tc < ta).toBe(true);
    for (const asker of [a, b, c]) {
      const r = await groupGet(asker, "shared");
      expect(r.status).toBe(200);
      expect(r.body.ResponseHost).toBe(asker.address);
      expect(r.body.KeyCreateTime).toBe(ta);
      expect(r.entries).toEqual([
        { Address: a.address, Data: "value of a", KeyCreateTime: ta, Status: 200 },
        { Address: c.address, Data: "value of c", KeyCreateTime: tc, Status: 200 },
        { Address: b.address, Data: "value of b", KeyCreateTime: tb, Status: 200 },
      ]);
    }
  });

  test("group get - target asks only that node (a peer or itself)", async () => {
    await setValue(b, "t", "b's");
    await setValue(c, "t", "c's");
    expect((await groupGet(a, "t", b.address)).entries.map((e) => [e.Address, e.Data])).toEqual([[b.address, "b's"]]);
    expect((await groupGet(a, "t", `http://${c.address}`)).entries.map((e) => e.Data)).toEqual(["c's"]);
    const own = await groupGet(a, "t", a.address);
    expect(own.status).toBe(404);
    expect((await groupGet(a, "t", "127.0.0.1:1")).status).toBe(500);
  });

  test("group get - missing everywhere is 404 NOT_FOUND; a key only on a peer is found", async () => {
    const missing = await groupGet(a, "nowhere");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ Status: 404, Results: "NOT_FOUND", Data: null });
    const t = await setValue(c, "only-on-c", "here");
    expect((await groupGet(a, "only-on-c")).entries).toEqual([{ Address: c.address, Data: "here", KeyCreateTime: t, Status: 200 }]);
  });

  test("group get - values with %, quotes, newlines and non-ASCII travel intact", async () => {
    const key = 'k %25 "q" 日本';
    const values = ['100% "quoted" \\ %41 %zz', "line 1\nline 2\r\n\ttab", "日本語 🦉 Ünïcödé", "<script>alert(1)</script>"];
    await setValue(a, key, values[0]!);
    await setValue(b, key, values[1]!);
    await setValue(c, key, values[2]!);
    const r = await groupGet(a, key);
    expect(r.entries.map((e) => e.Data).sort()).toEqual(values.slice(0, 3).sort());
    expect(r.body.Key).toBe(key);
  });

  test("group get - a fake peer answering garbage or 50 MB is listed as a bad answer; the node carries on", async () => {
    const garbage = startFakePeer(() => new Response('{"Status":200,"Data":"100%'));
    const huge = new Uint8Array(50 * 1024 * 1024).fill(120);
    const big = startFakePeer(() => new Response(huge));
    let streamed = 0;
    const chunk = new Uint8Array(256 * 1024).fill(120);
    const bigStream = startFakePeer(() => new Response(new ReadableStream({ pull(ctl) { if (streamed >= huge.length) return ctl.close(); streamed += chunk.length; ctl.enqueue(chunk); } })));
    fakes.push(garbage, big, bigStream);
    await addPeers(a, garbage.address, big.address, bigStream.address);
    try {
      await setValue(a, "fake", "real");
      const r = await groupGet(a, "fake");
      expect(r.status).toBe(200);
      expect(r.entries[0]).toMatchObject({ Address: a.address, Data: "real", Status: 200 });
      const failures = Object.fromEntries(r.entries.filter((e) => e.Status === 500).map((e) => [e.Address, e.Message]));
      expect(failures[garbage.address]).toStartWith("bad answer:");
      expect(failures[big.address]).toContain("limit");
      expect(failures[bigStream.address]).toMatch(/limit|timeout/);
      expect(r.ms).toBeLessThan(PEER_TIMEOUT_MS + 100 + 200); // + room for pushing 32 MB over loopback
      expect((await groupGet(a, "fake", a.address)).status).toBe(200);
    } finally {
      for (const f of [garbage, big, bigStream]) await serverCmd(a, { cmd: "delete", address: f.address });
    }
  });
});

describe("failing peers across processes", () => {
  test("group get - a frozen peer costs one timeout, is listed, then skipped at no cost, and comes back after SIGCONT", async () => {
    await setValue(b, "frozen", "b");
    await setValue(c, "frozen", "c");
    const healthy: number[] = [];
    for (let i = 0; i < 7; i++) healthy.push((await groupGet(a, "frozen")).ms);
    c.node.kill("SIGSTOP");
    try {
      const first = await groupGet(a, "frozen");
      expect(first.ms).toBeLessThan(PEER_TIMEOUT_MS + 100);
      expect(first.entries.map((e) => e.Data)).toEqual(["b", null]);
      expect(first.entries[1]).toMatchObject({ Address: c.address, Status: 500, Message: `timeout: no answer within ${PEER_TIMEOUT_MS} ms` });
      expect((await groupGet(a, "frozen")).ms).toBeLessThan(PEER_TIMEOUT_MS + 100); // second failure trips the breaker
      const tripped: number[] = [];
      for (let i = 0; i < 7; i++) {
        const r = await groupGet(a, "frozen");
        tripped.push(r.ms);
        expect(r.entries[1]!.Message).toStartWith("skipped: 2 failures in a row (last: timeout");
      }
      expect(median(tripped)).toBeLessThan(median(healthy) + 50); // no peer request: no extra latency beyond noise
    } finally {
      c.node.kill("SIGCONT");
    }
    await Bun.sleep(1100); // HttpClient_Request_Timeout_Sleeptime 1
    // The first read starts a background probe; once it succeeds the peer is back in answers.
    const probing = await groupGet(a, "frozen");
    expect(probing.ms).toBeLessThan(PEER_TIMEOUT_MS);
    let back = probing;
    for (let i = 0; i < 20 && back.entries.some((e) => e.Status === 500); i++) {
      await Bun.sleep(50);
      back = await groupGet(a, "frozen");
    }
    expect(back.entries.map((e) => e.Data).sort()).toEqual(["b", "c"]);
  }, 30_000);

  test("group get - a stopped peer is listed as refused", async () => {
    const d = await startClusterNode();
    await addPeers(a, d.address);
    await stopAll([d]);
    try {
      await setValue(b, "stopped", "b");
      const r = await groupGet(a, "stopped");
      expect(r.status).toBe(200);
      expect(r.entries.find((e) => e.Address === d.address)).toEqual({ Address: d.address, Data: null, KeyCreateTime: "0001-01-01T00:00:00Z", Status: 500, Message: "refused: connection refused" });
    } finally {
      await serverCmd(a, { cmd: "delete", address: d.address });
    }
  });

  test("health - lists each peer and whether it answers", async () => {
    const dead = "127.0.0.1:1";
    await serverCmd(b, { cmd: "add", address: dead, group_type: "gossip" });
    await Bun.sleep(1000); // /health reuses its answer for a second
    const health = (await (await fetch(`${b.base}/health`)).json()) as { status: string; peers: { Group: string; Address: string; Answers: boolean; Message?: string }[] };
    expect(health.status).toBe("ok");
    const byAddress = Object.fromEntries(health.peers.map((p) => [`${p.Group} ${p.Address}`, p]));
    expect(byAddress[`owlcache ${a.address}`]!.Answers).toBe(true);
    expect(byAddress[`owlcache ${b.address}`]).toMatchObject({ Answers: true, Message: "this node" });
    expect(byAddress[`owlcache ${c.address}`]!.Answers).toBe(true);
    expect(byAddress[`gossip ${dead}`]).toMatchObject({ Answers: false, Message: "refused: connection refused" });
    // The status page (issue 9) shows the same, each peer once and without this node.
    const status = (await (await fetch(`${b.base}/ui/status.json`)).json()) as { peers: { address: string; ok: boolean; message?: string }[] };
    const shown = Object.fromEntries(status.peers.map((p) => [p.address, p]));
    expect(shown[a.address]!.ok).toBe(true);
    expect(shown[dead]).toMatchObject({ ok: false });
    expect(shown[b.address]).toBeUndefined();
  });
});
