// Anti-entropy under the transport's answer limit: a listing (it grows with the keyspace) or a
// fetch (its values may have grown since they were listed) that a peer declares longer than sync
// reads is asked for again in halves; what cannot be halved fails the round.

import { describe, expect, test } from "bun:test";
import { antiEntropyRound } from "../../src/cluster/sync/anti-entropy.ts";
import { AnswerTooLarge } from "../../src/cluster/read-capped.ts";
import { cluster, dump, set, TOMB_TTL, type Member } from "./loop-cluster.ts";

/** above a digest answer (4096 bucket hashes in base64: ~22 KB), below a listing of 32 buckets here */
const LIMIT = 24 * 1024;
const limits = { tombTtlMs: TOMB_TTL, pushBytes: 1 << 20, confirm: async () => {} };

describe("anti-entropy and the answer limit", () => {
  test("anti-entropy - listings and fetches declared over the limit are asked for in halves; the round converges", async () => {
    const { net, members } = cluster(["a", "b"], false);
    const [a, b] = members as [Member, Member];
    // (long keys: a listing of 32 buckets, ~310 keys here, is ~60 KB)
    const pad = "k".repeat(100);
    for (let i = 0; i < 40_000; i++) set(b, `key:${i}:${pad}`, "value");
    net.maxAnswerBytes = LIMIT;
    const result = await antiEntropyRound(a.node.replica, net.transport(), "b", limits);
    expect(result.pulled).toBe(40_000);
    expect(dump(a.keyspace)).toEqual(dump(b.keyspace));
    const listings = net.requests.filter((r) => r.path === "/sync/keys").length;
    // 4096 buckets in 128 listings of 32, each asked for again in halves (and quarters)
    expect(listings).toBeGreaterThan(3 * 128);
    // 40 fetches of 1,000 keys (~150 KB each) without the limit
    expect(net.requests.filter((r) => r.path === "/sync/fetch").length).toBeGreaterThanOrEqual(80);
  });

  test("anti-entropy - one value longer than the limit cannot be halved: the round fails", async () => {
    const { net, members } = cluster(["a", "b"], false);
    const [a, b] = members as [Member, Member];
    set(b, "big", "x".repeat(LIMIT));
    net.maxAnswerBytes = LIMIT;
    const error = await antiEntropyRound(a.node.replica, net.transport(), "b", limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnswerTooLarge);
    expect(a.keyspace.store.has(new TextEncoder().encode("big"))).toBe(false);
  });
});
