// A node listing or repairing many keys for a peer must keep serving its clients: the passes over
// the store, the listing's key lookups and JSON, and the records pushed go by slices with real
// turns of the event loop between them (a soak run saw one turn of 0.1–1.2 s at 200k–1M keys).
// Counted structurally (turns that ran while the work went on), never by timing.

import { describe, expect, test } from "bun:test";
import { antiEntropyRound } from "../../src/cluster/sync/anti-entropy.ts";
import { BUCKETS, bucketOf } from "../../src/cluster/sync/digest.ts";
import { LIST_SLICE, Replica } from "../../src/cluster/sync/replica.ts";
import { json, parseJson, parseListed, SyncResponder } from "../../src/cluster/sync/serve.ts";
import { utf8 } from "../../src/store/bytes.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { ManualClock } from "../../src/store/types.ts";
import { SyncNode, SyncStopped } from "../../src/cluster/sync/node.ts";
import { realTimers } from "../../src/cluster/sync/types.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { LoopNet } from "./loop.ts";

const TTL = 60_000;
const KEYS = 30_000;
const sink = { put: () => {}, del: () => {}, flush: () => {} };

function node(clock: ManualClock, name: string) {
  const keyspace = new Keyspace(new CompactStore(clock), clock);
  const replica = new Replica(keyspace, () => name, TTL, sink);
  return { keyspace, replica, responder: new SyncResponder(replica) };
}

/** Counts turns of the event loop (setImmediate callbacks) until `stop`; `each` runs on every one. */
function turnCounter(each: (turn: number) => void = () => {}) {
  let turns = 0;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    turns++;
    each(turns);
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop(): number {
      stopped = true;
      return turns;
    },
  };
}

const allBuckets = Array.from({ length: BUCKETS }, (_, b) => b);

/** The keys (as text) of a listing answer. */
const listedKeys = (answer: Uint8Array): string[] => parseListed(parseJson(answer)).map((e) => Buffer.from(e[0], "base64").toString());

/** keys whose buckets are among the first 32 (one listing of an anti-entropy round) */
const CROWDED = 5_000;
function crowdedKeys(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (bucketOf(utf8(`key:${i}`)) < 32) out.push(`key:${i}`);
  return out;
}

describe("sync work in slices", () => {
  test(`listing - a peer's listing of ${KEYS} keys gives the event loop a turn every ${LIST_SLICE} keys; the answer is whole`, async () => {
    const clock = new ManualClock();
    const a = node(clock, "a");
    for (let i = 0; i < KEYS; i++) a.keyspace.set(utf8(`key:${i}`), utf8(`value:${i}`), 0);
    const counter = turnCounter();
    const answer = await a.responder.answer("/sync/keys", json({ buckets: allBuckets, round: allBuckets }));
    const turns = counter.stop();
    const entries = parseListed(parseJson(answer));
    expect(entries.length).toBe(KEYS);
    expect(new Set(entries.map((e) => Buffer.from(e[0], "base64").toString())).size).toBe(KEYS);
    // the same bytes as one JSON.stringify of the whole answer
    expect(answer).toEqual(json({ entries }));
    // the store pass, the lookups and the JSON each went by slices (a single stretch before: 0 turns)
    expect(turns).toBeGreaterThanOrEqual((2 * KEYS) / LIST_SLICE);
  });

  test(`anti-entropy - a round that lists ${CROWDED} keys at once and pushes them runs between turns; writes and deletes made meanwhile converge`, async () => {
    const clock = new ManualClock();
    const a = node(clock, "a");
    const b = node(clock, "b");
    // keys of the first 32 buckets only: one listing of the round holds them all
    const keys = crowdedKeys(CROWDED);
    for (const k of keys) a.keyspace.set(utf8(k), utf8(`value of ${k}`), 0);
    clock.tick(1);
    a.keyspace.delete(utf8(keys[7]!));
    const net = new LoopNet();
    net.responders.set("a", a.responder);
    net.responders.set("b", b.responder);
    const limits = { tombTtlMs: TTL, pushBytes: 1 << 20, confirm: async () => {} };
    // While the round goes on, a's clients keep writing: deletes of keys it may have pushed
    // already, and a new key (a's stream to b is off here: only anti-entropy carries them).
    const counter = turnCounter((turn) => {
      if (turn !== 4) return;
      clock.tick(1);
      a.keyspace.delete(utf8(keys[0]!));
      a.keyspace.delete(utf8(keys.at(-1)!));
      a.keyspace.set(utf8(keys[1]!), utf8("rewritten"), 0);
    });
    const first = await antiEntropyRound(a.replica, net.transport(), "b", limits);
    const turns = counter.stop();
    expect(first.pushed).toBeGreaterThanOrEqual(CROWDED - 3);
    // a's listing of them and its pushes each went by slices (in-process requests give no turn)
    expect(turns).toBeGreaterThanOrEqual((2 * CROWDED) / LIST_SLICE);
    await antiEntropyRound(a.replica, net.transport(), "b", limits);
    expect(b.replica.digest.root()).toBe(a.replica.digest.root());
    expect(b.keyspace.store.size).toBe(CROWDED - 3);
    for (const gone of [keys[0]!, keys[7]!, keys.at(-1)!]) expect(b.keyspace.store.has(utf8(gone))).toBe(false);
    expect(new TextDecoder().decode(b.keyspace.store.get(utf8(keys[1]!))!.value)).toBe("rewritten");
  });

  test("index - a peer's round asked again while its pass is under way (a retry after a timeout) waits for that pass, and soon after gets the index it made", async () => {
    const clock = new ManualClock();
    const a = node(clock, "a");
    for (let i = 0; i < KEYS; i++) a.keyspace.set(utf8(`key:${i}`), utf8(`value:${i}`), 0);
    const first = a.replica.indexImplicit(allBuckets, true);
    const retry = a.replica.indexImplicit(allBuckets, true);
    // the same pass serves both: one index, not a second pass over the store
    const [made, again] = await Promise.all([first, retry]);
    expect(again).toBe(made);
    expect(await a.replica.indexImplicit(allBuckets, true)).toBe(made);
    // another round's buckets, and this node's own round, get a pass of their own
    expect(await a.replica.indexImplicit(allBuckets.slice(0, 32), true)).not.toBe(made);
    expect(await a.replica.indexImplicit(allBuckets)).not.toBe(made);
    // a later round of the same buckets sees keys written since: a new pass, and listings use it
    clock.tick(6_000);
    a.keyspace.set(utf8("key:late"), utf8("late"), 0);
    const later = await a.replica.indexImplicit(allBuckets, true);
    expect(later).not.toBe(made);
    const lateBucket = bucketOf(utf8("key:late"));
    expect(later.keys.get(lateBucket)).toContain("key:late");
    expect(listedKeys(await a.responder.answer("/sync/keys", json({ buckets: [lateBucket] })))).toContain("key:late");
  });

  test("index - listings without a round do not keep an old index alive: a key written since is listed once it is LISTING_INDEX_MS old", async () => {
    const clock = new ManualClock();
    const a = node(clock, "a");
    for (let i = 0; i < 2_000; i++) a.keyspace.set(utf8(`key:${i}`), utf8("v"), 0);
    // a peer catching up names its round: an index is made now
    await a.responder.answer("/sync/keys", json({ buckets: allBuckets.slice(0, 32), round: allBuckets }));
    a.keyspace.set(utf8("key:late"), utf8("late"), 0);
    const bucket = bucketOf(utf8("key:late"));
    const seen: boolean[] = [];
    for (let round = 0; round < 5; round++) {
      clock.tick(10_000); // GossipAntiEntropyInterval's default; each round lists the bucket alone
      seen.push(listedKeys(await a.responder.answer("/sync/keys", json({ buckets: [bucket] }))).includes("key:late"));
    }
    // the index served the first two rounds (it misses the key), then went: no longer than 30 s
    expect(seen).toEqual([false, false, true, true, true]);
  });

  test("index - this node's own round ending (its index dropped) leaves a peer's round its own index: no pass over the store per listing", async () => {
    const clock = new ManualClock();
    const store = new CompactStore(clock);
    const keyspace = new Keyspace(store, clock);
    const replica = new Replica(keyspace, () => "a", TTL, sink);
    const responder = new SyncResponder(replica);
    for (let i = 0; i < 20_000; i++) keyspace.set(utf8(`key:${i}`), utf8("v"), 0);
    let passes = 0;
    const scan = store.scan.bind(store);
    store.scan = (cursor, count) => {
      if (cursor === 0) passes++;
      return scan(cursor, count);
    };
    const own = await replica.indexImplicit(allBuckets); // this node's round over the same buckets
    await responder.answer("/sync/keys", json({ buckets: allBuckets.slice(0, 32), round: allBuckets })); // the peer's
    expect(passes).toBe(2);
    replica.dropIndex(own);
    for (let i = 32; i < 32 * 6; i += 32) await responder.answer("/sync/keys", json({ buckets: allBuckets.slice(i, i + 32) }));
    expect(passes).toBe(2);
  });

  test("stop - a listing paused between its slices ends at its next turn once the node has stopped", async () => {
    const clock = new ManualClock();
    const keyspace = new Keyspace(new CompactStore(clock), clock);
    for (let i = 0; i < KEYS; i++) keyspace.set(utf8(`key:${i}`), utf8(`value:${i}`), 0);
    const sync = new SyncNode({
      keyspace, self: () => "127.0.0.1:1", peers: { list: () => [] }, transport: new LoopNet().transport(), log: silentLogger,
      antiEntropyMs: 1000, tombstoneTtlMs: TTL, timers: realTimers, confirmMs: 0,
    });
    const listing = sync.responder.answer("/sync/keys", json({ buckets: allBuckets, round: allBuckets }));
    sync.stop();
    expect(await listing.then(() => "answered", (error: unknown) => error)).toBeInstanceOf(SyncStopped);
  });
});
