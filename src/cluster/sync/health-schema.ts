// The shape of sync's part of /health (and of GET /sync/status) as a TypeBox schema, so the
// health route can validate it and describe it in the OpenAPI document.

import { t } from "elysia";

export const syncPeerHealthSchema = t.Object({
  address: t.String({ description: "the peer as written in the gossip list" }),
  state: t.Union([t.Literal("unknown"), t.Literal("up"), t.Literal("down")], { description: "replication stream: up after a batch was accepted, down after a failure" }),
  lastSuccessfulSync: t.Union([t.String(), t.Null()], { description: "RFC 3339 time of the last accepted batch or anti-entropy round" }),
  queueDepth: t.Integer({ description: "records waiting for this peer (including a batch in flight)" }),
  dropped: t.Integer({ description: "records dropped because this peer fell too far behind (repaired by anti-entropy)" }),
  sent: t.Integer({ description: "records this peer accepted" }),
  batches: t.Integer({ description: "requests that carried them" }),
  lastError: t.String({ description: "the last error while the peer is down or the last round failed, else empty" }),
  digest: t.Object(
    {
      state: t.Union([t.Literal("pending"), t.Literal("equal"), t.Literal("repaired"), t.Literal("error")]),
      lastRound: t.Union([t.String(), t.Null()]),
      differingBuckets: t.Integer(),
      pulled: t.Integer(),
      pushed: t.Integer(),
      bytes: t.Integer({ description: "request and answer bytes of the last round" }),
    },
    { description: "the last anti-entropy round with this peer" },
  ),
});

export const syncHealthSchema = t.Object(
  {
    enabled: t.Literal(true),
    node: t.String({ description: "this node's address, the origin of its writes" }),
    keys: t.Integer({ description: "live keys in the digest" }),
    tombstones: t.Integer({ description: "deleted and expired keys remembered for GossipTombstoneTTL" }),
    root: t.String({ description: "root hash of the digest: equal on nodes holding the same data" }),
    flushedAt: t.Number({ description: "time of the last flush (ms since the epoch), 0 for none" }),
    flushSweep: t.Union(
      [
        t.Object({
          watermark: t.Object({ at: t.Number(), origin: t.String() }, { description: "the peer's flush being swept" }),
          done: t.Integer({ description: "keys and tombstones looked at so far" }),
          total: t.Integer({ description: "about how many there are: the keys and tombstones held when the sweep began" }),
        }),
        t.Null(),
      ],
      { description: "a peer's flush being swept by slices (reads already miss what it covers), null when none" },
    ),
    peers: t.Array(syncPeerHealthSchema),
  },
  { description: "sync (GroupDataSync 1): per gossip peer, replication and anti-entropy state" },
);
