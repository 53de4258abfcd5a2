// In-process sync clusters for tests: real Keyspaces and SyncNodes under one ManualClock, joined
// by a LoopNet, with small helpers to write and to see what each node holds.

import { SyncNode } from "../../src/cluster/sync/node.ts";
import type { LinkLimits } from "../../src/cluster/sync/peer-link.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { fromUtf8, utf8 } from "../../src/store/bytes.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock, type Store } from "../../src/store/types.ts";
import { LoopNet, ManualTimers } from "./loop.ts";

export const TOMB_TTL = 60_000;

export interface Member {
  name: string;
  keyspace: Keyspace;
  node: SyncNode;
  peers: string[];
}

/** Nodes named `names`, each listing the others when `connected`, started (their timers run on `timers`). */
export function cluster(names: string[], connected = true, limits?: LinkLimits, makeStore: (clock: ManualClock) => Store = (clock) => new MapStore(clock)) {
  const clock = new ManualClock();
  const timers = new ManualTimers(clock);
  const net = new LoopNet();
  const members: Member[] = names.map((name) => {
    const keyspace = new Keyspace(makeStore(clock), clock);
    const peers = connected ? names.filter((n) => n !== name) : [];
    const node = new SyncNode({
      keyspace,
      self: () => name,
      peers: { list: () => peers },
      transport: net.transport(),
      log: silentLogger,
      antiEntropyMs: 1000,
      tombstoneTtlMs: TOMB_TTL,
      timers,
      limits,
      confirmMs: 0,
    });
    net.responders.set(name, node.responder);
    return { name, keyspace, node, peers };
  });
  for (const m of members) m.node.start();
  return { clock, timers, net, members };
}

export function dump(keyspace: Keyspace): Record<string, [string, number, number]> {
  const out: Record<string, [string, number, number]> = {};
  for (const [k, e] of keyspace.store.entries()) out[fromUtf8(k)] = [fromUtf8(e.value), e.writtenAt, e.expiresAt];
  return out;
}

export const set = (m: Member, key: string, value: string, writtenAt?: number, expiresAt = 0) => m.keyspace.set(utf8(key), utf8(value), expiresAt, writtenAt);
export const del = (m: Member, key: string, writtenAt?: number) => m.keyspace.delete(utf8(key), writtenAt);
