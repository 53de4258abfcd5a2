// Stand-in for issue 5's peer lists until they are merged: the `gossip` list read from
// DBfile/server_group_gossip_config.json (the original's format), re-read when the file changes.

import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../log/logger.ts";
import type { SyncPeers } from "./types.ts";

export const GOSSIP_LIST_FILE = "server_group_gossip_config.json";

export function gossipFilePeers(dataDir: string, log: Logger): SyncPeers {
  const path = join(dataDir, GOSSIP_LIST_FILE);
  let stamp = "";
  let peers: readonly string[] = [];
  return {
    list() {
      let next = "";
      try {
        const s = statSync(path);
        next = `${s.mtimeMs}:${s.size}`;
      } catch {
        next = "missing";
      }
      if (next === stamp) return peers;
      stamp = next;
      if (next === "missing") return (peers = []);
      try {
        const records = JSON.parse(readFileSync(path, "utf8")) as unknown;
        if (!Array.isArray(records)) throw new Error("not a JSON list");
        peers = records.map((r) => String((r as { Address?: unknown }).Address ?? "")).filter((a) => a !== "");
      } catch (error) {
        log.error("gossip list unreadable", { path, error });
      }
      return peers;
    },
  };
}
