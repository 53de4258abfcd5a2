// GET /health: is the node up, which version, for how long, how many keys (and how many left by
// TTL or MaxMemory), how much memory, its peers, replication and persistence state.

import { Elysia, t } from "elysia";
import type { PeerHealth } from "../../cluster/health.ts";
import { syncHealthSchema } from "../../cluster/sync/health-schema.ts";
import type { SyncHealth } from "../../cluster/sync/node.ts";
import type { PersistenceStatus } from "../../persistence/persistence.ts";
import type { Keyspace } from "../../store/keyspace.ts";
import type { Clock } from "../../store/types.ts";
import { VERSION } from "../../version.ts";

export interface HealthSource {
  readonly db: Keyspace;
  readonly clock: Clock;
  /** ms since the epoch */
  readonly startedAt: number;
  /** the cluster's peers and whether each answers (issue 5); absent: no `peers` field */
  readonly peers?: () => Promise<readonly PeerHealth[]>;
  /** replication state per gossip peer (issue 8); absent when sync is off */
  readonly sync?: () => SyncHealth;
  /** snapshot and append-log state (issue 4) */
  readonly persistence?: () => PersistenceStatus;
}

const persistenceSchema = t.Object(
  {
    appendonly: t.Boolean({ description: "whether writes go to the append log" }),
    appendfsync: t.Union([t.Literal("always"), t.Literal("everysec"), t.Literal("no")], { description: "when the append log is fsynced" }),
    unsavedChanges: t.Boolean({ description: "writes since the last snapshot" }),
    lastSnapshot: t.Optional(
      t.Object({
        ok: t.Boolean(),
        at: t.String({ description: "RFC 3339 time it finished" }),
        durationMs: t.Integer(),
        bytes: t.Integer({ description: "size of the file written (0 when it failed)" }),
      }),
    ),
  },
  { description: "persistence state" },
);

const peerSchema = t.Object({
  Group: t.Union([t.Literal("owlcache"), t.Literal("gossip")], { description: "the list the peer is on" }),
  Address: t.String({ description: "the peer's address as listed" }),
  Answers: t.Boolean({ description: "whether the peer answered a ping just now (or, while its breaker is open, lately)" }),
  Breaker: t.Union([t.Literal("closed"), t.Literal("open"), t.Literal("half-open")], { description: "open: skipped after failing too often" }),
  Message: t.Optional(t.String({ description: "why it does not answer, or that its ping is still out after 500 ms (`no answer within 500 ms yet; still asking`)" })),
});

export const healthSchema = t.Object({
  status: t.String({ description: "`ok` while the node serves requests", example: "ok" }),
  version: t.String({ description: "owlcache version", example: "0.1.0" }),
  uptime: t.Number({ description: "seconds since the node started", example: 3600 }),
  keys: t.Integer({ description: "live keys in the store", example: 42 }),
  expiredKeys: t.Integer({ description: "keys removed since the start because their time to live ran out", example: 7 }),
  evictedKeys: t.Integer({ description: "keys removed since the start to stay under MaxMemory", example: 0 }),
  memory: t.Object(
    {
      rss: t.Integer({ description: "resident set size of the process, bytes" }),
      heapUsed: t.Integer({ description: "JavaScript heap in use, bytes" }),
      storeBytes: t.Integer({ description: "bytes of keys and values held by the store" }),
    },
    { description: "memory use" },
  ),
  peers: t.Optional(t.Array(peerSchema, { description: "every peer of both cluster lists" })),
  sync: t.Optional(syncHealthSchema),
  persistence: t.Optional(persistenceSchema),
});

export function healthRoute(source: HealthSource) {
  return new Elysia({ name: "owlcache-health" }).get(
    "/health",
    async () => {
      const peers = source.peers ? [...(await source.peers())] : undefined;
      const memory = process.memoryUsage();
      const stats = source.db.store.stats();
      return {
        status: "ok",
        version: VERSION,
        uptime: Math.max(0, (source.clock.now() - source.startedAt) / 1000),
        keys: stats.keys,
        expiredKeys: stats.expired,
        evictedKeys: stats.evicted,
        memory: { rss: memory.rss, heapUsed: memory.heapUsed, storeBytes: stats.bytes },
        ...(peers ? { peers } : {}),
        ...(source.sync ? { sync: source.sync() } : {}),
        ...(source.persistence ? { persistence: source.persistence() } : {}),
      };
    },
    { response: { 200: healthSchema }, detail: { summary: "Node status", description: "Status, version, uptime, keys and memory of this node.", tags: ["node"] } },
  );
}
