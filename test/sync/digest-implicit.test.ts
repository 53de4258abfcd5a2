// The digest keeps most live keys "implicit" (no per-key entry: share recomputed from the store,
// origin from the bucket's default). Random local writes, expires, deletes and remote records with
// several origins and equal write times, on keys crowded into a few buckets, must leave the same
// bucket hashes as a digest rebuilt key by key, and every key's origin as last-writer-wins gave it.

import { describe, expect, test } from "bun:test";
import { bucketOf, DigestState, keyHashOf } from "../../src/cluster/sync/digest.ts";
import { SyncNode } from "../../src/cluster/sync/node.ts";
import type { SyncRecord } from "../../src/cluster/sync/records.ts";
import { valueHash } from "../../src/cluster/sync/version.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { bytesToBinaryString, fromUtf8, utf8 } from "../../src/store/bytes.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock, type Store } from "../../src/store/types.ts";
import { LoopNet } from "./loop.ts";
import { seededRandom } from "../helpers/random.ts";


/** keys crowded into three buckets, so buckets mix implicit and tracked keys and origins */
function crowdedKeys(): string[] {
  const byBucket = new Map<number, string[]>();
  for (let i = 0; i < 200_000; i++) {
    const k = `key-${i}`;
    const b = bucketOf(utf8(k));
    if (b > 2) continue;
    const list = byBucket.get(b) ?? [];
    list.push(k);
    byBucket.set(b, list);
  }
  return [...byBucket.values()].flatMap((l) => l.slice(0, 6));
}

/** how often a check saw a bucket mixing implicit and tracked keys (the test must reach it) */
let mixed = 0;

function check(node: SyncNode, keyspace: Keyspace, origins: Map<string, string>): void {
  const d = node.replica.digest;
  for (let b = 0; b < 3; b++) if (d.implicit[b]! > 0 && d.hasTracked(b)) mixed++;
  // a digest rebuilt key by key from the store and the tombstones
  const ref = new DigestState();
  for (const [key, e] of keyspace.store.entries()) {
    ref.setLive(bucketOf(key), bytesToBinaryString(key), keyHashOf(key), { writtenAt: e.writtenAt, expiresAt: e.expiresAt, origin: "x", tomb: false, valueHash: valueHash(e.value) });
  }
  for (let b = 0; b < 3; b++) {
    for (const k of d.tombKeys(b)) {
      const t = d.tombOf(b, k)!;
      const key = utf8(k);
      ref.setTomb(b, k, keyHashOf(key), t.at, t.origin);
    }
  }
  expect(Array.from(d.buckets)).toEqual(Array.from(ref.buckets));
  expect(d.liveCount).toBe(keyspace.store.size);
  for (const [key] of keyspace.store.entries()) {
    const k = bytesToBinaryString(key);
    expect(node.replica.versionOf(bucketOf(key), k, key)?.origin).toBe(origins.get(fromUtf8(key))!);
  }
}

function run(seed: number, makeStore: (clock: ManualClock) => Store, evicts: boolean): void {
  const rnd = seededRandom(seed);
  const clock = new ManualClock();
  const keyspace = new Keyspace(makeStore(clock), clock);
  const keys = crowdedKeys();
  const origins = new Map<string, string>();
  // a few keys before sync starts (unknown origin)
  for (const k of keys.slice(0, 5)) {
    keyspace.set(utf8(k), utf8(`seed-${k}`), 0, clock.now() - 1000);
    origins.set(k, "");
  }
  const node = new SyncNode({ keyspace, self: () => "n-self", peers: { list: () => [] }, transport: new LoopNet().transport(), log: silentLogger, antiEntropyMs: 1000, tombstoneTtlMs: 60_000, evicts });
  const remotes = ["n-a", "n-z", ""];
  check(node, keyspace, origins);
  for (let step = 0; step < 2000; step++) {
    const k = keys[Math.floor(rnd() * keys.length)]!;
    const key = utf8(k);
    const r = rnd();
    if (rnd() < 0.3) clock.tick(1);
    const ttl = rnd() < 0.25 ? clock.now() + 10_000 : 0;
    if (r < 0.3) {
      keyspace.set(key, utf8(`v${step}`), ttl);
      origins.set(k, "n-self");
    } else if (r < 0.4) {
      if (keyspace.expire(key, ttl)) origins.set(k, "n-self");
    } else if (r < 0.5) {
      keyspace.delete(key);
      origins.delete(k);
    } else {
      // a remote record: same, older or newer write time, any origin
      const origin = remotes[Math.floor(rnd() * remotes.length)]!;
      // (now and then older than the tombstone grace: a delete that old is not applied)
      const writtenAt = rnd() < 0.05 ? clock.now() - 70_000 : clock.now() - Math.floor(rnd() * 3);
      const record: SyncRecord =
        rnd() < 0.15
          ? { kind: "del", key, writtenAt, origin }
          : { kind: "put", key, value: utf8(`r${step % 4}`), writtenAt, expiresAt: ttl, origin };
      const applied = node.replica.apply([record], rnd() < 0.5).applied === 1;
      if (applied) {
        if (record.kind === "del") origins.delete(k);
        else origins.set(k, origin);
      }
    }
    check(node, keyspace, origins);
  }
  // time runs out for every key with a TTL: the sweep takes them out of the digest
  clock.tick(20_000);
  keyspace.store.advance(clock.now());
  for (let i = 0; i < 300; i++) node.replica.sweep(16, evicts);
  for (const [key] of keyspace.store.entries()) expect(keyspace.store.get(key)?.expiresAt).toBe(0);
  check(node, keyspace, origins);
  node.stop();
}

describe("sync digest with implicit keys", () => {
  for (const [name, makeStore] of [
    ["MapStore", (c: ManualClock) => new MapStore(c)],
    ["CompactStore", (c: ManualClock) => new CompactStore(c)],
  ] as const) {
    test(`digest - random local and remote writes keep bucket hashes and origins exact (${name})`, () => {
      mixed = 0;
      for (const seed of [1, 2, 3]) run(seed, makeStore, false);
      expect(mixed).toBeGreaterThan(1000);
    }, 30_000);
  }
  test("digest - a remote record that is not written leaves the next local write's bookkeeping intact", () => {
    const clock = new ManualClock();
    const keyspace = new Keyspace(new CompactStore(clock), clock);
    const node = new SyncNode({ keyspace, self: () => "n-self", peers: { list: () => [] }, transport: new LoopNet().transport(), log: silentLogger, antiEntropyMs: 1000, tombstoneTtlMs: 60_000 });
    const origins = new Map<string, string>();
    for (const k of ["a", "b", "c"]) {
      keyspace.set(utf8(k), utf8("v1"));
      origins.set(k, "n-self");
    }
    clock.tick(100_000);
    // a delete older than the tombstone grace, of a key with an older entry: looked up, not applied
    keyspace.set(utf8("old"), utf8("x"), 0, clock.now() - 80_000);
    origins.set("old", "n-self");
    expect(node.replica.apply([{ kind: "del", key: utf8("old"), writtenAt: clock.now() - 70_000, origin: "n-a" }], false).applied).toBe(0);
    keyspace.set(utf8("b"), utf8("v2"));
    check(node, keyspace, origins);
    node.stop();
  });

  test("digest - the same with every key tracked (a store that evicts)", () => {
    run(4, (c) => new MapStore(c), true);
  }, 30_000);
});
