// Builds an engine with a read-through loader over a ManualClock, as main.ts does, for tests.

import { testAuthenticator } from "../ops/auth.ts";
import { Engine } from "../../src/commands/engine.ts";
import type { Reply } from "../../src/commands/reply.ts";
import type { Session } from "../../src/commands/spec.ts";
import { commandTable } from "../../src/commands/table.ts";
import { createReadThrough, type ReadThroughConfig } from "../../src/importers/from-config.ts";
import type { ReadThroughLoader } from "../../src/importers/read-through.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { CompactStore } from "../../src/store/compact-store.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock } from "../../src/store/types.ts";
import { recordingLogger } from "./backends.ts";

export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array) => new TextDecoder().decode(b);

const BASE: ReadThroughConfig = {
  Get_data_from_redis: false,
  Redis_Addr: "127.0.0.1:6379",
  Redis_Password: "",
  Redis_DB: 0,
  Get_redis_data_set_expire_time: 0,
  Get_data_from_memcache: false,
  Memcache_list: "127.0.0.1:11211",
  Get_memcache_data_set_expire_time: 0,
  HttpClientRequestTimeout: 1000,
  HttpClient_Request_Max_Error_Number: 2,
  HttpClient_Request_Timeout_Sleeptime: 2,
  MaxValueBytes: 16 * 1024 * 1024,
};

/** `maxMemory`: the node's MaxMemory, for a compact store that enforces it (else a plain map store). */
export function setup(config: Partial<ReadThroughConfig>, maxMemory = 0) {
  const clock = new ManualClock(Date.now());
  const db = new Keyspace(maxMemory > 0 ? new CompactStore(clock, { maxMemory }) : new MapStore(clock), clock);
  const { logger, lines } = recordingLogger();
  const loader = createReadThrough({ ...BASE, ...config }, { db, clock, log: logger }) as ReadThroughLoader;
  const engine = new Engine({
    table: commandTable,
    db,
    limits: { maxKeyBytes: 4096, maxValueBytes: 16 * 1024 * 1024 },
    auth: testAuthenticator(),
    loader,
  });
  const session: Session = { dialect: "owl", transport: "tcp", client: "127.0.0.1", canRead: true, canWrite: true };
  /** the engine's answer as is: a Reply, or a Promise when a backend is asked */
  const execute = (key: string | Uint8Array) => engine.execute(session, engine.lookup("owl", "get"), "get", [typeof key === "string" ? enc(key) : key]);
  const get = (key: string | Uint8Array): Promise<Reply> => Promise.resolve(execute(key));
  return { clock, db, loader, engine, get, execute, lines };
}

export function valueOf(reply: Reply): string | null {
  if (reply.kind === "nil") return null;
  if (reply.kind !== "bulk") throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
  return dec(reply.value);
}

