// The replica's side of persisted tombstones, in-process under a ManualClock: what it takes from
// a load (grace judged now, keys the store holds live skipped, the watermark), what it reports as
// it lays tombstones (the append log's journal), and what a snapshot captures.

import { describe, expect, test } from "bun:test";
import { bucketOf } from "../../src/cluster/sync/digest.ts";
import { Replica } from "../../src/cluster/sync/replica.ts";
import { LoadedTombs, type SavedWatermark } from "../../src/persistence/tombs.ts";
import { bytesToBinaryString, utf8 } from "../../src/store/bytes.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock } from "../../src/store/types.ts";
import { drainCapture } from "../persistence/helpers.ts";

const TTL = 60_000;
const NOW = 1_800_000_000_000;
const sink = { put: () => {}, del: () => {}, flush: () => {} };

function replicaAt(now: number) {
  const clock = new ManualClock(now);
  const keyspace = new Keyspace(new MapStore(clock), clock);
  return { clock, keyspace, make: () => new Replica(keyspace, () => "127.0.0.1:7721", TTL, sink) };
}

const tombOf = (r: Replica, key: string) => r.digest.tombOf(bucketOf(utf8(key)), bytesToBinaryString(utf8(key)));

describe("persisted tombstones (replica)", () => {
  test("restore - tombstones past their grace now are dropped, a live key's is skipped, the watermark is taken", () => {
    const { keyspace, make } = replicaAt(NOW);
    keyspace.set(utf8("live"), utf8("v"), 0, NOW - 10);
    const replica = make();
    const loaded = new LoadedTombs();
    loaded.lay(utf8("fresh"), NOW - TTL + 1000, "127.0.0.1:7731");
    loaded.lay(utf8("stale"), NOW - TTL, "127.0.0.1:7731");
    loaded.lay(utf8("live"), NOW - 20, "127.0.0.1:7731");
    loaded.raise({ at: NOW - TTL - 5, origin: "127.0.0.1:7700" });
    replica.restoreTombs(loaded);
    expect(tombOf(replica, "fresh")).toEqual({ at: NOW - TTL + 1000, origin: "127.0.0.1:7731" });
    expect(tombOf(replica, "stale")).toBeUndefined();
    expect(tombOf(replica, "live")).toBeUndefined();
    expect(replica.digest.tombCount).toBe(1);
    expect(replica.digest.watermark).toEqual({ at: NOW - TTL - 5, origin: "127.0.0.1:7700" });
  });

  test("journal - a local delete, an expiry, a remote delete and a flush each report what they lay", () => {
    const { clock, keyspace, make } = replicaAt(NOW);
    const replica = make();
    const laid: [string, number, string][] = [];
    const watermarks: SavedWatermark[] = [];
    replica.journal = { tomb: (key, at, origin) => laid.push([bytesToBinaryString(key), at, origin]), watermark: (w) => watermarks.push(w) };
    keyspace.set(utf8("a"), utf8("1"), 0, NOW);
    keyspace.delete(utf8("a"), NOW + 1);
    keyspace.set(utf8("b"), utf8("2"), NOW + 500, NOW + 2);
    clock.set(NOW + 600);
    keyspace.store.advance(clock.now());
    replica.apply([{ kind: "del", key: utf8("c"), writtenAt: NOW + 3, origin: "127.0.0.1:7731" }], false);
    expect(laid).toEqual([
      ["a", NOW + 1, "127.0.0.1:7721"],
      ["b", NOW + 2, "127.0.0.1:7721"],
      ["c", NOW + 3, "127.0.0.1:7731"],
    ]);
    // what a snapshot would keep now
    const captured = drainCapture(replica.captureTombs());
    expect(captured.rows.map(([k]) => k).toSorted()).toEqual(["a", "b", "c"]);
    expect(captured.watermark).toBeUndefined();
    keyspace.flush(NOW + 700);
    expect(watermarks).toEqual([{ at: NOW + 700, origin: "127.0.0.1:7721" }]);
    expect(drainCapture(replica.captureTombs())).toEqual({ rows: [], watermark: { at: NOW + 700, origin: "127.0.0.1:7721" } });
  });
});
