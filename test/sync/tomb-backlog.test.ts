// Tombstones freed as fast as they come due: each housekeeping tick (250 ms) frees at most one
// batch (TOMB_EXPIRE_BATCH, a few ms of the event loop); a full batch is followed by another
// shortly, so a node laying more than 40,000 tombstones a second (keys with a short TTL) does not
// keep a backlog that grows without end. In-process, under a ManualClock.

import { describe, expect, test } from "bun:test";
import { TOMB_EXPIRE_BATCH } from "../../src/cluster/sync/digest.ts";
import { utf8 } from "../../src/store/bytes.ts";
import { cluster, TOMB_TTL, type Member } from "./loop-cluster.ts";

describe("sync tombstone expiry backlog", () => {
  test("a backlog of due tombstones larger than one batch is freed within one housekeeping tick", async () => {
    const { timers, members } = cluster(["a"], false);
    const [a] = members as [Member];
    const count = 6 * TOMB_EXPIRE_BATCH;
    for (let i = 0; i < count; i++) {
      const key = utf8(`k${i}`);
      a.keyspace.set(key, utf8("v"));
      a.keyspace.delete(key);
    }
    expect(a.node.health().tombstones).toBe(count);
    // every tombstone is due once its grace and its slice (≤ 1 s) have passed
    await timers.advance(TOMB_TTL + 1_000);
    const left = a.node.health().tombstones;
    await timers.advance(300);
    // one tick alone would free one batch; the catch-up passes (25 ms apart) free the rest
    expect(left - a.node.health().tombstones).toBeGreaterThan(TOMB_EXPIRE_BATCH);
    expect(a.node.health().tombstones).toBe(0);
    a.node.stop();
  });
});
