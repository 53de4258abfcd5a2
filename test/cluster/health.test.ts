import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePeerAddress } from "../../src/cluster/address.ts";
import { Cluster } from "../../src/cluster/cluster.ts";
import { HEALTH_REUSE_MS, HEALTH_WAIT_MS } from "../../src/cluster/health.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { ManualClock } from "../../src/store/types.ts";
import { hangingPeer, refusedAddress, valuePeer, type FakePeer } from "./fake-peer.ts";

const peers: FakePeer[] = [];
const dir = mkdtempSync(join(tmpdir(), "owl-health-"));
afterAll(async () => {
  await Promise.all(peers.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
});

/** The settings a health test's Cluster needs: its directory, the client timeout and the errors that open a breaker. */
function clusterConfig(DBfile: string, HttpClientRequestTimeout: number, HttpClient_Request_Max_Error_Number: number) {
  return {
    DBfile, ResponseHost: "127.0.0.1", Open_Https: false, HttpsClient_InsecureSkipVerify: false,
    HttpClientRequestTimeout, HttpClientRequestLocalCacheLifeTime: 0,
    HttpClient_Request_Max_Error_Number, HttpClient_Request_Timeout_Sleeptime: 10, MaxValueBytes: 1 << 24, MaxKeyBytes: 4096,
  };
}

describe("peer health", () => {
  test("health - each peer of both lists and whether it answers; open breakers not asked", async () => {
    const good = valuePeer({});
    const hanging = hangingPeer();
    peers.push(good, hanging);
    const refused = await refusedAddress();
    const clock = new ManualClock();
    const cluster = new Cluster({
      config: clusterConfig(dir, 300, 1),
      local: () => undefined,
      clock,
      log: silentLogger,
    });
    cluster.setHttpPort(7721);
    const add = (list: "owlcache" | "gossip", a: string) => cluster.lists.of(list).add(parsePeerAddress(a)!);
    add("owlcache", good.address);
    add("owlcache", refused);
    add("owlcache", "127.0.0.1:7721");
    add("gossip", hanging.address);
    const started = performance.now();
    const first = await cluster.health.peers();
    expect(performance.now() - started).toBeLessThan(400);
    expect(first.map((p) => [p.Group, p.Address, p.Answers])).toEqual([
      ["owlcache", good.address, true],
      ["owlcache", refused, false],
      ["owlcache", "127.0.0.1:7721", true],
      ["gossip", hanging.address, false],
    ]);
    expect(first[1]!.Message).toBe("refused: connection refused");
    expect(first[3]!.Message).toStartWith("timeout:");
    expect(first[3]!.Breaker).toBe("open");
    // Shared for a second: no new requests.
    expect(await cluster.health.peers()).toBe(first);
    clock.tick(1000);
    const again = performance.now();
    const second = await cluster.health.peers();
    expect(performance.now() - again).toBeLessThan(100);
    expect(second[3]!.Message).toStartWith("skipped:");
    expect(hanging.requests.length).toBe(1);
    // The status page's view: without waiting, each peer once, this node left out.
    await Bun.sleep(10);
    expect(cluster.health.snapshot()).toEqual([
      { address: good.address, ok: true },
      { address: refused, ok: false, message: second[1]!.Message! },
      { address: hanging.address, ok: false, message: second[3]!.Message! },
    ]);
  });
});

test("health - a ping that throws at once is that peer's failure, and its probe is settled", async () => {
  const clock = new ManualClock();
  let broken = true;
  const cluster = new Cluster({
    config: clusterConfig(mkdtempSync(join(dir, "throws-")), 300, 1),
    local: () => undefined,
    clock,
    log: silentLogger,
    fetcher: {
      getKey: () => Promise.resolve({ kind: "missing" }),
      ping: () => {
        if (broken) throw new Error("broken before the request");
        return Promise.resolve({ kind: "missing" });
      },
    },
  });
  cluster.setHttpPort(7721);
  cluster.lists.owlcache.add(parsePeerAddress("127.0.0.1:1")!);
  const first = await cluster.health.peers();
  expect(first.map((p) => [p.Answers, p.Breaker, p.Message])).toEqual([[false, "open", "error: broken before the request"]]);
  clock.tick(10_000); // the breaker lets one probe through; it fails the same way
  expect((await cluster.health.peers())[0]!.Message).toBe("error: broken before the request");
  broken = false;
  clock.tick(10_000); // and the next probe is let through, not skipped for good
  expect((await cluster.health.peers()).map((p) => [p.Answers, p.Breaker])).toEqual([[true, "closed"]]);
});

test("health - a peer that never answers holds /health up at most HEALTH_WAIT_MS; its ping in flight is reused, not sent again", async () => {
  // A listener that accepts and never answers: the ping would wait the whole client timeout.
  const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  let accepted = 0;
  const counting = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open() { accepted++; }, data() {} } });
  const good = valuePeer({});
  peers.push(good);
  const clock = new ManualClock();
  const cluster = new Cluster({
    config: clusterConfig(mkdtempSync(join(dir, "slow-")), 2700, 3),
    local: () => undefined,
    clock,
    log: silentLogger,
  });
  cluster.setHttpPort(7721);
  try {
    cluster.lists.owlcache.add(parsePeerAddress(good.address)!);
    cluster.lists.owlcache.add(parsePeerAddress(`127.0.0.1:${silent.port}`)!);
    cluster.lists.gossip.add(parsePeerAddress(`127.0.0.1:${counting.port}`)!);
    const still = `no answer within ${HEALTH_WAIT_MS} ms yet; still asking`;
    let started = performance.now();
    const first = await cluster.health.peers();
    expect(performance.now() - started).toBeLessThan(1500);
    expect(first.map((p) => [p.Address, p.Answers, p.Breaker, p.Message])).toEqual([
      [good.address, true, "closed", undefined],
      [`127.0.0.1:${silent.port}`, false, "closed", still],
      [`127.0.0.1:${counting.port}`, false, "closed", still],
    ]);
    clock.tick(HEALTH_REUSE_MS); // past the shared result: a new check, but the pings in flight are reused
    started = performance.now();
    const second = await cluster.health.peers();
    expect(performance.now() - started).toBeLessThan(1500);
    expect(second.map((p) => p.Message)).toEqual([undefined, still, still]);
    expect(accepted).toBe(1);
    expect(good.requests.length).toBe(2);
  } finally {
    silent.stop(true);
    counting.stop(true);
  }
});
