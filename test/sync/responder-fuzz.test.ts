// Bad input to the sync endpoints, past authentication (a peer with the key but a bug, or a body
// damaged in a way the MAC happened not to catch): random bytes and randomly damaged valid bodies
// for every path. Each must be answered or refused with BadSyncRequest/CodecError (a 400), never
// another exception, never a hang; a refused batch applies nothing, and the node keeps answering.

import { describe, expect, test } from "bun:test";
import { CodecError, encodeBatch } from "../../src/cluster/sync/codec.ts";
import { SyncNode } from "../../src/cluster/sync/node.ts";
import type { SyncRecord } from "../../src/cluster/sync/records.ts";
import { BadSyncRequest } from "../../src/cluster/sync/serve.ts";
import { SYNC_PATHS, type SyncPath } from "../../src/cluster/sync/types.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { fromUtf8, utf8 } from "../../src/store/bytes.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { ManualClock } from "../../src/store/types.ts";
import { seededRandom } from "../helpers/random.ts";
import { LoopNet, ManualTimers } from "./loop.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const ROUNDS = 400;

function node() {
  const clock = new ManualClock(1_800_000_000_000);
  const keyspace = new Keyspace(new CompactStore(clock), clock);
  for (let i = 0; i < 200; i++) keyspace.set(utf8(`key${i}`), utf8(`value${i}`), i % 3 === 0 ? clock.now() + 60_000 : 0);
  const sync = new SyncNode({
    keyspace,
    self: () => "127.0.0.1:1",
    peers: { list: () => [] },
    transport: new LoopNet().transport(),
    log: silentLogger,
    antiEntropyMs: 1000,
    tombstoneTtlMs: 60_000,
    timers: new ManualTimers(clock),
    confirmMs: 0,
  });
  return { clock, keyspace, sync };
}

/** Well-formed bodies for each path, to be damaged. */
function validBodies(now: number): Record<SyncPath, Uint8Array> {
  const records: SyncRecord[] = [
    { kind: "put", key: utf8("fresh"), value: utf8("new value"), writtenAt: now + 5, expiresAt: 0, origin: "127.0.0.1:2" },
    { kind: "put", key: utf8("key1"), value: utf8("over"), writtenAt: now + 6, expiresAt: now + 60_000, origin: "127.0.0.1:2" },
    { kind: "del", key: utf8("key2"), writtenAt: now + 7, origin: "127.0.0.1:2" },
  ];
  const json = (v: unknown) => utf8(JSON.stringify(v));
  return {
    "/sync/batch": encodeBatch(records, true),
    "/sync/digest": json({ root: 12345, watermark: { at: 0, origin: "" } }),
    "/sync/keys": json({ buckets: [1, 2, 3, 4095], round: [1, 2, 3, 4095] }),
    "/sync/fetch": json({ keys: [Buffer.from("key5").toString("base64"), Buffer.from("nope").toString("base64")] }),
  };
}

/** The whole store: key → value, write time and expiry. */
function dump(keyspace: Keyspace): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, e] of keyspace.store.entries()) out.set(fromUtf8(k), `${fromUtf8(e.value)}|${e.writtenAt}|${e.expiresAt}`);
  return out;
}

function damaged(body: Uint8Array, random: () => number): Uint8Array {
  const out = body.slice();
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * out.length);
    const kind = random();
    if (kind < 0.6) out[at] = Math.floor(random() * 256);
    else if (kind < 0.8) out[at] = out[at]! ^ (1 << Math.floor(random() * 8));
    else return out.subarray(0, at); // cut short
  }
  return out;
}

function randomBytes(random: () => number): Uint8Array {
  return Uint8Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256));
}

describe("sync responder under bad input", () => {
  test(`fuzz - random and damaged bodies on every sync path are answered or refused, never thrown otherwise (seed ${SEED})`, async () => {
    const random = seededRandom(SEED);
    const { clock, keyspace, sync } = node();
    const valid = validBodies(clock.now());
    const outcomes = { answered: 0, refused: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      for (const path of SYNC_PATHS) {
        const body = random() < 0.3 ? randomBytes(random) : damaged(valid[path], random);
        const before = path === "/sync/batch" ? undefined : dump(keyspace);
        try {
          await sync.responder.answer(path, body);
          outcomes.answered++;
        } catch (error) {
          if (!(error instanceof BadSyncRequest || error instanceof CodecError)) {
            throw new Error(`seed ${SEED}, round ${round}, ${path}: ${String(error)} for body ${Buffer.from(body).toString("hex")}`);
          }
          outcomes.refused++;
        }
        // only a batch writes
        if (before !== undefined) expect(dump(keyspace)).toEqual(before);
      }
    }
    // both outcomes were reached: the damage was neither always fatal nor always harmless
    expect(outcomes.answered).toBeGreaterThan(50);
    expect(outcomes.refused).toBeGreaterThan(50);
    // the node still answers well-formed requests, and the keys no batch touched are intact
    expect(await sync.responder.answer("/sync/digest", valid["/sync/digest"])).toBeInstanceOf(Uint8Array);
    expect(fromUtf8(keyspace.store.get(utf8("key10"))!.value)).toBe("value10");
  });

  test("fuzz - a damaged batch that is refused applies none of its records", async () => {
    const random = seededRandom(SEED + 1);
    const { clock, keyspace, sync } = node();
    const records: SyncRecord[] = Array.from({ length: 50 }, (_, i) => ({
      kind: "put",
      key: utf8(`batch${i}`),
      value: utf8(`v${i}`),
      writtenAt: clock.now() + 1,
      expiresAt: 0,
      origin: "127.0.0.1:2",
    }));
    const good = encodeBatch(records, true);
    let refused = 0;
    for (let round = 0; round < 300; round++) {
      const before = dump(keyspace);
      try {
        await sync.responder.answer("/sync/batch", damaged(good, random));
      } catch (error) {
        expect(error).toBeInstanceOf(CodecError);
        refused++;
        expect(dump(keyspace)).toEqual(before);
      }
    }
    expect(refused).toBeGreaterThan(100);
  });
});
