// Builds sync (GroupDataSync 1) for main.ts from the config: the node, its HTTP routes, and
// start/stop. Kept here so the composition root needs only a few lines.

import type { Config } from "../../config/keys.ts";
import { ConfigError } from "../../config/keys.ts";
import type { Logger } from "../../log/logger.ts";
import type { LoadedTombs, TombJournal } from "../../persistence/tombs.ts";
import type { Keyspace } from "../../store/keyspace.ts";
import { syncAnswerLimit } from "./anti-entropy.ts";
import { fetchTransport } from "./client.ts";
import { SyncNode, type SyncHealth } from "./node.ts";
import { DEFAULT_LINK_LIMITS } from "./peer-link.ts";
import { syncRoutes } from "./routes.ts";
import type { SyncPeers } from "./types.ts";

/** Shorter keys are accepted with a warning: the key is all that keeps strangers from writing. */
const RECOMMENDED_KEY_LENGTH = 16;

export type SyncConfig = Pick<
  Config,
  | "GossipDataSyncAuthKey" | "GossipAntiEntropyInterval" | "GossipTombstoneTTL" | "ResponseHost" | "Httpport" | "Open_Https"
  | "HttpsClient_InsecureSkipVerify" | "HttpClientRequestTimeout" | "MaxValueBytes" | "MaxMemory"
>;

export interface Sync {
  readonly node: SyncNode;
  readonly routes: ReturnType<typeof syncRoutes>;
  /** call once the HTTP server listens: its port makes this node's address */
  start(httpPort: number): void;
  stop(): void;
  health(): SyncHealth;
}

/** What persistence hands sync: the tombstones it loaded, and the log to report new ones to. */
export interface PersistedTombs {
  readonly loaded?: LoadedTombs;
  readonly journal?: TombJournal;
}

/** Throws ConfigError when sync cannot run safely (no auth key). */
export function createSync(config: SyncConfig, keyspace: Keyspace, peers: SyncPeers, log: Logger, persisted: PersistedTombs = {}): Sync {
  const key = config.GossipDataSyncAuthKey;
  if (key === "") throw new ConfigError("GroupDataSync 1 needs GossipDataSyncAuthKey: the key that authenticates sync peers");
  if (key.length < RECOMMENDED_KEY_LENGTH) log.warn("config", { message: `GossipDataSyncAuthKey is shorter than ${RECOMMENDED_KEY_LENGTH} characters` });
  // Known now when the port is fixed (production); with port 0 it is set once the server listens.
  let self = `${config.ResponseHost}:${config.Httpport}`;
  const clock = keyspace.clock;
  const node = new SyncNode({
    keyspace,
    self: () => self,
    peers,
    transport: fetchTransport({
      authKey: key,
      timeoutMs: config.HttpClientRequestTimeout,
      insecure: config.HttpsClient_InsecureSkipVerify,
      https: config.Open_Https,
      self: () => self,
      clock,
      maxAnswerBytes: (path) => syncAnswerLimit(path, config.MaxValueBytes),
    }),
    log,
    antiEntropyMs: config.GossipAntiEntropyInterval * 1000,
    tombstoneTtlMs: config.GossipTombstoneTTL * 1000,
    evicts: config.MaxMemory > 0,
    loadedTombs: persisted.loaded,
    tombJournal: persisted.journal,
    // A batch must fit the peer's HTTP body limit (MaxValueBytes + 64 KiB).
    limits: { ...DEFAULT_LINK_LIMITS, batchBytes: Math.min(DEFAULT_LINK_LIMITS.batchBytes, config.MaxValueBytes + 32 * 1024) },
  });
  return {
    node,
    routes: syncRoutes({ node, authKey: key, clock, log }),
    start(httpPort) {
      self = `${config.ResponseHost}:${httpPort}`;
      node.start();
      log.info("sync started", { node: self, antiEntropySeconds: config.GossipAntiEntropyInterval });
    },
    stop: () => node.stop(),
    health: () => node.health(),
  };
}
