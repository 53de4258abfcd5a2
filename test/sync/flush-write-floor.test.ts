// A client's write on a node whose clock is behind the node that flushed (Keyspace.writeFloor):
// stamped after the flush it follows, so it is read right after, survives the sweep and goes to
// peers, through the real command path (the HTTP app, app.handle).

import { expect, test } from "bun:test";
import { Replica } from "../../src/cluster/sync/replica.ts";
import type { Watermark } from "../../src/cluster/sync/version.ts";
import { utf8 } from "../../src/store/bytes.ts";
import { makeApp } from "../http/app-fixture.ts";
import { TOMB_TTL } from "./loop-cluster.ts";

/** The app over a keyspace with a replica on top, holding 20,000 keys written before `now`. */
async function appWithSync(late: boolean) {
  const app = makeApp();
  const now = app.clock.now();
  const sent: { key: string; writtenAt: number }[] = [];
  const sink = { put: (key: Uint8Array, _v: Uint8Array, writtenAt: number) => void sent.push({ key: Buffer.from(key).toString(), writtenAt }), del: () => {}, flush: () => {} };
  const replica = new Replica(app.keyspace, () => "n1", TOMB_TTL, sink);
  for (let i = 0; i < 20_000; i++) app.keyspace.set(utf8(`old${i}`), utf8("v"), 0, now - 5);
  // (a key written after the flush keeps it from being taken at once: it is swept by slices)
  if (late) app.keyspace.set(utf8("late"), utf8("v"), 0, now + 6_000);
  sent.length = 0;
  const token = await app.tokens.issue("local");
  const set = (key: string, value: string) => app.request(`/data/?cmd=set&key=${key}&valuedata=${value}&token=${token}`);
  const get = async (key: string) => {
    const r = await app.request(`/data/?cmd=get&key=${key}`);
    return r.status === 200 ? ((await r.json()) as { Data: string }).Data : r.status;
  };
  return { ...app, now, replica, sent, set, get };
}

test("set - a client's set after a peer's flush stamped ahead of this node's clock is read right after, during the sweep and once it ends", async () => {
  const n = await appWithSync(true);
  const w: Watermark = { at: n.now + 5_000, origin: "z" }; // the flushing node's clock is 5 s ahead
  expect(n.replica.applyFlush(w)).toBe(true);
  expect(n.replica.flushSweep.running).toBe(true);
  expect((await n.set("mine", "v1")).status).toBe(200);
  expect(await n.get("mine")).toBe("v1");
  await n.replica.flushSweep.idle();
  expect(await n.get("mine")).toBe("v1");
  expect(await n.get("old7")).toBe(404);
  // stamped just past the flush, sent on as such, and held as such for anti-entropy
  expect(n.sent).toEqual([{ key: "mine", writtenAt: w.at + 1 }]);
  expect(n.replica.recordOf(utf8("mine"))).toMatchObject({ kind: "put", writtenAt: w.at + 1 });
});

test("set - after a peer's flush taken at once, a client's set goes to peers; a local flush then is newer than the peer's", async () => {
  const n = await appWithSync(false);
  const w: Watermark = { at: n.now + 5_000, origin: "z" };
  expect(n.replica.applyFlush(w)).toBe(true);
  expect(n.replica.flushSweep.running).toBe(false);
  expect((await n.set("mine", "v1")).status).toBe(200);
  expect(await n.get("mine")).toBe("v1");
  expect(n.replica.recordOf(utf8("mine"))).toMatchObject({ kind: "put", writtenAt: w.at + 1 });
  n.clock.tick(1_000); // still behind
  n.keyspace.flush();
  expect(n.replica.digest.watermark).toEqual({ at: w.at + 1, origin: "n1" });
});
