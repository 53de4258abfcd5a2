import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePeerAddress } from "../../src/cluster/address.ts";
import { Cluster, type ClusterConfig } from "../../src/cluster/cluster.ts";
import type { LocalValue } from "../../src/cluster/group-read.ts";
import { PeerClient, type PeerFetcher } from "../../src/cluster/peer-client.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { ManualClock } from "../../src/store/types.ts";
import { hangingPeer, refusedAddress, startFakePeer, valuePeer, type FakePeer } from "./fake-peer.ts";

const TIMEOUT = 300;
const SELF_PORT = 7721;
const T0 = Date.UTC(2026, 10, 26, 10);
const iso = (ms: number) => new Date(ms).toISOString();

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});
function peer(p: FakePeer): FakePeer {
  cleanups.push(() => p.stop());
  return p;
}

function makeCluster(local: Record<string, LocalValue> = {}, overrides: Partial<ClusterConfig> = {}, fetcher?: PeerFetcher) {
  const dir = mkdtempSync(join(tmpdir(), "owl-group-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock(T0 + 60_000);
  const config: ClusterConfig = {
    DBfile: dir,
    ResponseHost: "127.0.0.1",
    Open_Https: false,
    HttpsClient_InsecureSkipVerify: false,
    HttpClientRequestTimeout: TIMEOUT,
    HttpClientRequestLocalCacheLifeTime: 0,
    HttpClient_Request_Max_Error_Number: 2,
    HttpClient_Request_Timeout_Sleeptime: 2,
    MaxValueBytes: 16 * 1024 * 1024,
    MaxKeyBytes: 4096,
    ...overrides,
  };
  const cluster = new Cluster({ config, local: (key) => local[key], clock, log: silentLogger, ...(fetcher ? { fetcher } : {}) });
  cluster.setHttpPort(SELF_PORT);
  const add = (...addresses: string[]) => addresses.forEach((a) => cluster.lists.owlcache.add(parsePeerAddress(a)!));
  return { cluster, clock, add };
}

describe("group read", () => {
  test("group get - every node, newest first, exact data, address and time", async () => {
    const a = peer(valuePeer({ k: ["from a", T0 + 2000] }));
    const b = peer(valuePeer({ k: ["from b", T0 + 1000] }));
    const empty = peer(valuePeer({}));
    const { cluster, add } = makeCluster({ k: { data: "mine", writtenAt: T0 + 1500 } });
    add(a.address, `http://${b.address}`, empty.address);
    const result = await cluster.reader.read("k");
    expect(result).toEqual({
      status: 200,
      entries: [
        { Address: a.address, Data: "from a", KeyCreateTime: iso(T0 + 2000), Status: 200 },
        { Address: `127.0.0.1:${SELF_PORT}`, Data: "mine", KeyCreateTime: iso(T0 + 1500), Status: 200 },
        { Address: `http://${b.address}`, Data: "from b", KeyCreateTime: iso(T0 + 1000), Status: 200 },
      ],
    });
  });

  test("group get - missing everywhere is 404; only on a peer is found", async () => {
    const a = peer(valuePeer({ only: ["peer value", T0] }));
    const { cluster, add } = makeCluster();
    add(a.address);
    expect(await cluster.reader.read("none")).toEqual({ status: 404, entries: [] });
    expect((await cluster.reader.read("only")).entries).toEqual([{ Address: a.address, Data: "peer value", KeyCreateTime: iso(T0), Status: 200 }]);
  });

  test("group get - own address in the list is answered in-process, never over HTTP", async () => {
    const { cluster, add } = makeCluster({ k: { data: "mine", writtenAt: T0 } });
    add(`localhost:${SELF_PORT}`, `http://127.0.0.1:${SELF_PORT}`);
    const result = await cluster.reader.read("k");
    expect(result.entries).toEqual([{ Address: `127.0.0.1:${SELF_PORT}`, Data: "mine", KeyCreateTime: iso(T0), Status: 200 }]);
    expect((await cluster.reader.read("k", `localhost:${SELF_PORT}`)).entries.length).toBe(1);
  });

  test("group get - target asks only that node; an unlisted target is refused", async () => {
    const a = peer(valuePeer({ k: ["a", T0] }));
    const b = peer(valuePeer({ k: ["b", T0] }));
    const { cluster, add } = makeCluster({ k: { data: "mine", writtenAt: T0 } });
    add(a.address, b.address);
    expect((await cluster.reader.read("k", b.address)).entries.map((e) => e.Data)).toEqual(["b"]);
    expect(a.requests.length).toBe(0);
    expect((await cluster.reader.read("k", `127.0.0.1:${SELF_PORT}`)).entries.map((e) => e.Data)).toEqual(["mine"]);
    const unlisted = await cluster.reader.read("k", "127.0.0.1:1");
    expect(unlisted.status).toBe(500);
    expect(unlisted.message).toContain("not in the owlcache server list");
    expect((await cluster.reader.read("k", "not an address")).status).toBe(500);
  });

  test("group get - failed peers are listed last with why; total time is one timeout", async () => {
    const good = peer(valuePeer({ k: ["good", T0] }));
    const hanging = [peer(hangingPeer()), peer(hangingPeer()), peer(hangingPeer())];
    const garbage = peer(startFakePeer(() => new Response("{not json")));
    const refused = await refusedAddress();
    const { cluster, add } = makeCluster();
    add(good.address, ...hanging.map((h) => h.address), garbage.address, refused);
    const started = performance.now();
    const result = await cluster.reader.read("k");
    expect(performance.now() - started).toBeLessThan(TIMEOUT + 100);
    expect(result.status).toBe(200);
    expect(result.entries[0]).toEqual({ Address: good.address, Data: "good", KeyCreateTime: iso(T0), Status: 200 });
    const failures = result.entries.slice(1);
    expect(failures.map((e) => e.Address)).toEqual([...hanging.map((h) => h.address), garbage.address, refused].sort());
    for (const f of failures) {
      expect(f.Status).toBe(500);
      expect(f.Data).toBeNull();
    }
    const why = Object.fromEntries(failures.map((f) => [f.Address, f.Message!.split(":")[0]]));
    expect(why[garbage.address]).toBe("bad answer");
    expect(why[refused]).toBe("refused");
    expect(why[hanging[0]!.address]).toBe("timeout");
  });

  test("group get - a peer failing max times in a row is skipped at no cost, then probed again in the background", async () => {
    const hanging = peer(hangingPeer());
    const { cluster, clock, add } = makeCluster({ k: { data: "mine", writtenAt: T0 } });
    add(hanging.address);
    for (let i = 0; i < 2; i++) await cluster.reader.read("k");
    expect(hanging.requests.length).toBe(2);
    const started = performance.now();
    const skipped = await cluster.reader.read("k");
    expect(performance.now() - started).toBeLessThan(100) // no request at all: far below the 300 ms timeout;
    expect(hanging.requests.length).toBe(2);
    expect(skipped.entries[1]!.Message).toMatch(/^skipped: 2 failures in a row \(last: timeout: no answer within 300 ms\); next try in 2\.0 s$/);
    clock.tick(2000);
    // One probe, in the background: neither the read that starts it nor any other waits on it.
    const probeStart = performance.now();
    const probing = await cluster.reader.read("k");
    await cluster.reader.read("other");
    expect(performance.now() - probeStart).toBeLessThan(100);
    expect(probing.entries[1]!.Message).toContain("checking in the background");
    await Bun.sleep(TIMEOUT + 50);
    expect(hanging.requests.length).toBe(3);
    expect(cluster.book.state(parsePeerAddress(hanging.address)!.hostPort)).toBe("open");
  });

  test("group get - an answer refused for its declared size is no breaker failure; one streamed past the limit is", async () => {
    // the limit for 1 KiB values and keys: 6 × 2 KiB + 64 KiB; a peer configured for larger values answers more
    const big = JSON.stringify({ Status: 200, Data: "x".repeat(100 * 1024), KeyCreateTime: iso(T0) });
    const larger = peer(startFakePeer((r) => (new URL(r.url).searchParams.get("key") === "big" ? new Response(big) : Response.json({ Status: 200, Data: "small", KeyCreateTime: iso(T0) }))));
    const endless = peer(startFakePeer(() => new Response(new ReadableStream({ pull: (c) => c.enqueue(new Uint8Array(64 * 1024).fill(32)) }))));
    const { cluster, add } = makeCluster({}, { MaxValueBytes: 1024, MaxKeyBytes: 1024 });
    add(larger.address, endless.address);
    for (let i = 0; i < 3; i++) {
      const result = await cluster.reader.read("big");
      const why = Object.fromEntries(result.entries.map((e) => [e.Address, e.Message]));
      expect(why[larger.address]).toBe(`bad answer: answer of ${big.length} bytes is over the ${6 * 2048 + 65536}-byte limit`);
      if (i < 2) expect(why[endless.address]).toBe(`bad answer: answer is over the ${6 * 2048 + 65536}-byte limit`);
      else expect(why[endless.address]).toStartWith("skipped: 2 failures in a row");
    }
    expect(larger.requests.length).toBe(3);
    expect(cluster.book.state(parsePeerAddress(larger.address)!.hostPort)).toBe("closed");
    expect((await cluster.reader.read("small")).entries.map((e) => [e.Address, e.Data])).toContainEqual([larger.address, "small"]);
  });

  test("group get - a peer that comes back is used again after its probe succeeds", async () => {
    let up = false;
    const flaky = peer(startFakePeer(() => (up ? Response.json({ Status: 200, Data: "back", KeyCreateTime: iso(T0) }) : new Response("down", { status: 502 }))));
    const { cluster, clock, add } = makeCluster();
    add(flaky.address);
    await cluster.reader.read("k");
    await cluster.reader.read("k");
    up = true;
    expect((await cluster.reader.read("k")).entries[0]!.Message).toStartWith("skipped:");
    clock.tick(2000);
    expect((await cluster.reader.read("k")).entries[0]!.Message).toContain("checking in the background");
    await Bun.sleep(50);
    expect((await cluster.reader.read("k")).entries[0]!.Data).toBe("back");
    expect(cluster.book.state(parsePeerAddress(flaky.address)!.hostPort)).toBe("closed");
  });

  test("group get - concurrent identical reads share one request per peer", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = peer(startFakePeer(async () => {
      await gate;
      return Response.json({ Status: 200, Data: "v", KeyCreateTime: iso(T0) });
    }));
    const { cluster, add } = makeCluster();
    add(slow.address);
    const reads = Array.from({ length: 20 }, () => cluster.reader.read("k"));
    await Bun.sleep(30);
    release();
    const results = await Promise.all(reads);
    expect(slow.requests.length).toBe(1);
    for (const r of results) expect(r.entries[0]!.Data).toBe("v");
  });

  test("group get - answers are reused for the cache lifetime, then asked again", async () => {
    const a = peer(valuePeer({ k: ["v", T0] }));
    const { cluster, clock, add } = makeCluster({}, { HttpClientRequestLocalCacheLifeTime: 5000 });
    add(a.address);
    await cluster.reader.read("k");
    await cluster.reader.read("k");
    await cluster.reader.read("missing");
    await cluster.reader.read("missing");
    expect(a.requests.length).toBe(2);
    clock.tick(5000);
    await cluster.reader.read("k");
    expect(a.requests.length).toBe(3);
  });

  test("group get - lifetime 0 never reuses an answer", async () => {
    const a = peer(valuePeer({ k: ["v", T0] }));
    const { cluster, add } = makeCluster();
    add(a.address);
    for (let i = 0; i < 3; i++) await cluster.reader.read("k");
    expect(a.requests.length).toBe(3);
  });

  test("group get - a deleted peer is no longer asked nor answered from the cache", async () => {
    const a = peer(valuePeer({ k: ["v", T0] }));
    const { cluster, add } = makeCluster({}, { HttpClientRequestLocalCacheLifeTime: 60_000 });
    add(a.address);
    expect((await cluster.reader.read("k")).status).toBe(200);
    cluster.lists.owlcache.delete(parsePeerAddress(a.address)!);
    expect((await cluster.reader.read("k")).status).toBe(404);
  });

  test("group get - a peer taken off both lists is forgotten (breaker, last failure); one still on the other list is not", async () => {
    const down = await refusedAddress();
    const gone = await refusedAddress();
    const { cluster, add } = makeCluster();
    add(down, gone);
    const both = parsePeerAddress(down)!;
    const owlOnly = parsePeerAddress(gone)!;
    cluster.lists.gossip.add(both);
    await cluster.reader.read("k");
    await cluster.reader.read("k");
    expect(cluster.book.state(both.hostPort)).toBe("open");
    expect(cluster.book.state(owlOnly.hostPort)).toBe("open");
    cluster.lists.owlcache.delete(both);
    cluster.lists.owlcache.delete(owlOnly);
    expect(cluster.book.knows(owlOnly.hostPort)).toBe(false);
    expect(cluster.book.state(both.hostPort)).toBe("open"); // still a gossip peer: its record stays
    cluster.lists.gossip.delete(both);
    expect(cluster.book.knows(both.hostPort)).toBe(false);
  });

  test("group get - a peer taken off the list while its request is out stays forgotten when the request fails", async () => {
    const hung = peer(hangingPeer());
    const { cluster, add } = makeCluster();
    add(hung.address);
    const reading = cluster.reader.read("k");
    await Bun.sleep(20);
    cluster.lists.owlcache.delete(parsePeerAddress(hung.address)!);
    expect((await reading).entries.some((e) => e.Status === 500)).toBe(true); // timed out
    expect(cluster.book.knows(parsePeerAddress(hung.address)!.hostPort)).toBe(false);
  });
});

describe("group read - keys that are no well-formed UTF-16", () => {
  test("group get - a lone surrogate key is asked as U+FFFD (as UTF-8 makes it), and answers", async () => {
    const a = peer(valuePeer({ "\ufffd": ["from a", T0 + 1000], "x\ufffdy": ["inner", T0] }));
    const { cluster, add } = makeCluster({ "\ud800": { data: "mine", writtenAt: T0 } });
    add(a.address);
    const result = await cluster.reader.read("\ud800");
    expect(result.status).toBe(200);
    expect(result.entries.map((e) => [e.Address, e.Data, e.Status])).toEqual([
      [a.address, "from a", 200],
      [`127.0.0.1:${SELF_PORT}`, "mine", 200],
    ]);
    expect((await cluster.reader.read("x\udc00y")).entries.map((e) => e.Data)).toEqual(["inner"]);
    expect(a.requests).toEqual([`?cmd=get&key=${encodeURIComponent("\ufffd")}`, `?cmd=get&key=${encodeURIComponent("x\ufffdy")}`]);
  });

  test("group get - a probe whose fetcher throws at once is recorded as a failure, and the peer is probed again later", async () => {
    let up = false;
    const flaky = peer(startFakePeer(() => (up ? Response.json({ Status: 200, Data: "back", KeyCreateTime: iso(T0) }) : new Response("down", { status: 502 }))));
    const real = new PeerClient({ timeoutMs: TIMEOUT, maxAnswerBytes: 1 << 20, https: false, insecureSkipVerify: false });
    // Whatever goes wrong before the request is out (here a synchronous throw) must settle the probe.
    const fetcher: PeerFetcher = {
      getKey: (address, key) => {
        if (key === "throws") throw new Error("broken before the request");
        return real.getKey(address, key);
      },
      ping: (address) => real.ping(address),
    };
    const { cluster, clock, add } = makeCluster({}, {}, fetcher);
    add(flaky.address);
    const id = parsePeerAddress(flaky.address)!.hostPort;
    await cluster.reader.read("k");
    await cluster.reader.read("k");
    expect(cluster.book.state(id)).toBe("open");
    clock.tick(2000);
    const probing = await cluster.reader.read("throws");
    expect(probing.entries[0]!.Message).toContain("checking in the background");
    await Bun.sleep(10);
    expect(cluster.book.state(id)).toBe("open"); // the probe failed: skipped for another sleep
    expect(cluster.book.record(id).lastFailure).toBe("error: broken before the request");
    up = true;
    clock.tick(2000);
    expect((await cluster.reader.read("k")).entries[0]!.Message).toContain("checking in the background");
    await Bun.sleep(50);
    expect((await cluster.reader.read("k")).entries[0]!.Data).toBe("back");
    expect(cluster.book.state(id)).toBe("closed");
  });

  test("group get - a fetcher that throws at once on a closed breaker fails that peer only", async () => {
    const fetcher: PeerFetcher = {
      getKey: () => {
        throw new Error("broken before the request");
      },
      ping: () => Promise.resolve({ kind: "missing" }),
    };
    const { cluster, add } = makeCluster({ k: { data: "mine", writtenAt: T0 } }, {}, fetcher);
    add("127.0.0.1:1");
    const result = await cluster.reader.read("k");
    expect(result.entries.map((e) => [e.Data, e.Message])).toEqual([["mine", undefined], [null, "error: broken before the request"]]);
  });
});
