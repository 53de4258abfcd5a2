// GET /health: is the node up, which version, for how long, how many keys, how much memory.

import { Elysia, t } from "elysia";
import type { Keyspace } from "../../store/keyspace.ts";
import type { Clock } from "../../store/types.ts";
import { VERSION } from "../../version.ts";

export interface HealthSource {
  readonly db: Keyspace;
  readonly clock: Clock;
  /** ms since the epoch */
  readonly startedAt: number;
}

export const healthSchema = t.Object({
  status: t.String({ description: "`ok` while the node serves requests", examples: ["ok"] }),
  version: t.String({ description: "owlcache version", examples: ["0.1.0"] }),
  uptime: t.Number({ description: "seconds since the node started", examples: [3600] }),
  keys: t.Integer({ description: "live keys in the store", examples: [42] }),
  memory: t.Object(
    {
      rss: t.Integer({ description: "resident set size of the process, bytes" }),
      heapUsed: t.Integer({ description: "JavaScript heap in use, bytes" }),
      storeBytes: t.Integer({ description: "bytes of keys and values held by the store" }),
    },
    { description: "memory use" },
  ),
});

export function healthRoute(source: HealthSource) {
  return new Elysia({ name: "owlcache-health" }).get(
    "/health",
    () => {
      const memory = process.memoryUsage();
      const stats = source.db.store.stats();
      return {
        status: "ok",
        version: VERSION,
        uptime: Math.max(0, (source.clock.now() - source.startedAt) / 1000),
        keys: stats.keys,
        memory: { rss: memory.rss, heapUsed: memory.heapUsed, storeBytes: stats.bytes },
      };
    },
    { response: { 200: healthSchema }, detail: { summary: "Node status", description: "Status, version, uptime, keys and memory of this node.", tags: ["node"] } },
  );
}
