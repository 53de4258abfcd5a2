// Every configuration key: its default, how its text is parsed, and what is allowed. The Config
// type is derived from this table, so a key cannot be read without being declared here.

import { isIP } from "node:net";

/** A bad setting; `key`, when given, lets the caller add where the setting came from. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly key?: ConfigKey,
  ) {
    super(message);
  }
}

interface KeyDef<T> {
  readonly default: T;
  readonly allowed: string;
  readonly summary: string;
  readonly aliases?: readonly string[];
  parse(text: string): T | undefined;
}

function text(def: string, summary: string, aliases?: string[]): KeyDef<string> {
  return { default: def, allowed: "any text", summary, aliases, parse: (s) => s };
}

/** A path that must not be empty: "" would mean the current directory by accident. */
function directory(def: string, summary: string): KeyDef<string> {
  return { default: def, allowed: "a directory path (not empty)", summary, parse: (s) => (s === "" ? undefined : s) };
}

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i;

/**
 * A listen address: an IP address or a host name, one word. Checked here so that `999.1.1.1`, an
 * empty value or `127.0.0.1 # loopback` (comments go on their own line) is a bad value naming the
 * line, not a getaddrinfo failure deep in Bun.listen.
 */
function host(def: string, summary: string): KeyDef<string> {
  return {
    default: def,
    allowed: "an IP address or a host name, alone on the line (a # comment goes on a line of its own)",
    summary,
    parse: (s) => {
      if (isIP(s) !== 0) return s;
      // All digits and dots, or a colon: meant as an address, and not a valid one.
      if (/^[\d.]+$/.test(s) || s.includes(":")) return undefined;
      return HOST_NAME.test(s) ? s : undefined;
    },
  };
}

function integer(def: number, min: number, max: number, summary: string, aliases?: string[]): KeyDef<number> {
  return {
    default: def,
    allowed: `an integer from ${min} to ${max}`,
    summary,
    aliases,
    parse: (s) => {
      if (!/^-?\d+$/.test(s)) return undefined;
      const n = Number(s);
      return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
    },
  };
}

function flag(def: boolean, summary: string): KeyDef<boolean> {
  return {
    default: def,
    allowed: "0 or 1",
    summary,
    parse: (s) => (s === "1" ? true : s === "0" ? false : undefined),
  };
}

function oneOf<T extends string>(def: T, values: readonly T[], summary: string): KeyDef<T> {
  return {
    default: def,
    allowed: values.join(", "),
    summary,
    parse: (s) => (values as readonly string[]).includes(s) ? (s as T) : undefined,
  };
}

const DAY_SECONDS = 86_400;
const MAX = Number.MAX_SAFE_INTEGER;

export const CONFIG_KEYS = {
  Host: host("127.0.0.1", "listen address for all servers"),
  ResponseHost: text("127.0.0.1", "host written into ResponseHost and used as this node's own address in a cluster"),
  Logfile: directory("./log_file/", "log directory"),
  DBfile: directory("./db_file/", "data directory: snapshot, append log, auth secret, cluster lists"),
  Tcpport: integer(7720, 0, 65535, "owl text protocol port (0: any free port)"),
  CloseTcp: flag(true, "1 serves the owl text protocol, 0 turns it off (the original's name)"),
  Respport: integer(7379, 0, 65535, "Redis-protocol port; 0 = off"),
  Httpport: integer(7721, 0, 65535, "HTTP port"),
  Pass: text("", "password: at least 10 characters, not all digits; empty = generated on first start"),
  Tonken_expire_time: integer(0, 0, 100 * 365 * DAY_SECONDS, "token lifetime in seconds, 0 = no expiry", ["Token_expire_time"]),
  Tonken_jwt_secret: text("", "token signing secret; empty or hello_owlcache = generated once and kept in DBfile", ["Token_jwt_secret"]),
  TcpAuth: oneOf("auto", ["auto", "0", "1"], "TCP/RESP need `pass` first: auto = only when Host is not loopback"),
  Open_Https: flag(false, "serve HTTPS instead of HTTP on Httpport"),
  Https_CertFile: text("", "certificate file (PEM) for HTTPS"),
  Https_KeyFile: text("", "private key file (PEM) for HTTPS"),
  HttpsClient_InsecureSkipVerify: flag(false, "1 = peers' certificates are not verified"),
  Cors: flag(false, "send CORS headers"),
  Access_Control_Allow_Origin: text("*", "allowed CORS origin"),
  HttpClientRequestTimeout: integer(2700, 1, 600_000, "ms, per-peer timeout of a cluster request"),
  HttpClientRequestLocalCacheLifeTime: integer(5000, 0, 86_400_000, "ms a peer's answer is reused; 0 = never"),
  HttpClient_Request_Max_Error_Number: integer(2, 1, 1_000_000, "failures in a row before a peer is skipped"),
  HttpClient_Request_Timeout_Sleeptime: integer(2, 0, DAY_SECONDS, "seconds a failing peer is skipped"),
  GroupDataSync: flag(false, "replicate writes to the gossip peers"),
  GossipDataSyncAuthKey: text("", "key that authenticates sync peers"),
  GossipAntiEntropyInterval: integer(10, 1, DAY_SECONDS, "seconds between digest comparisons with each sync peer"),
  GossipTombstoneTTL: integer(DAY_SECONDS, 60, 365 * DAY_SECONDS, "seconds a sync tombstone (deleted or expired key) is kept so an old value cannot come back"),
  Get_data_from_redis: flag(false, "read-through from Redis on a miss"),
  Redis_Addr: text("127.0.0.1:6379", "Redis address host:port"),
  Redis_Password: text("", "Redis password"),
  Redis_DB: integer(0, 0, 65535, "Redis database number"),
  Get_redis_data_set_expire_time: integer(0, 0, MAX, "seconds to keep a value imported from Redis; 0 = no expiry"),
  Get_data_from_memcache: flag(false, "read-through from memcached on a miss"),
  Memcache_list: text("127.0.0.1:11211", "memcached addresses separated by |"),
  Get_memcache_data_set_expire_time: integer(0, 0, MAX, "seconds to keep a value imported from memcached; 0 = no expiry"),
  Task_DataBackup: integer(1, 1, 10 * DAY_SECONDS, "minutes between snapshots"),
  Task_DataBackupSeconds: integer(0, 0, 10 * DAY_SECONDS, "seconds between snapshots; > 0 overrides Task_DataBackup (busy nodes, tests)"),
  Task_ClearExpireData: integer(1, 0, 10 * DAY_SECONDS, "kept for compatibility; expiry is continuous"),
  Task_ServerListBackup: integer(1, 1, 10 * DAY_SECONDS, "minutes between writing the cluster lists"),
  Task_MemoryInfoToLog: integer(1, 0, 10 * DAY_SECONDS, "minutes between memory-use log lines; 0 = never"),
  Appendonly: flag(false, "append every write to owlcache.aof"),
  Appendfsync: oneOf("everysec", ["always", "everysec", "no"], "when the append log is fsynced"),
  MaxMemory: integer(0, 0, MAX, "bytes of keys+values held before eviction; 0 = unlimited"),
  MaxLineBytes: integer(1024 * 1024 + 1024, 64, 64 * 1024 * 1024, "longest owl text request line"),
  MaxKeyBytes: integer(4096, 1, 1024 * 1024, "longest key"),
  MaxValueBytes: integer(16 * 1024 * 1024, 0, 512 * 1024 * 1024, "largest value"),
  MaxInputBufferBytes: integer(1024 * 1024 * 1024, 0, MAX, "bytes all TCP and RESP clients together may hold in requests not yet complete; past it the client holding most is closed; 0 = unlimited"),
} as const;

export type ConfigKey = keyof typeof CONFIG_KEYS;
type ValueOf<K extends ConfigKey> = (typeof CONFIG_KEYS)[K] extends KeyDef<infer T> ? T : never;
export type Config = { readonly [K in ConfigKey]: ValueOf<K> };

const byLowerName = new Map<string, ConfigKey>();
for (const [name, def] of Object.entries(CONFIG_KEYS) as [ConfigKey, KeyDef<unknown>][]) {
  byLowerName.set(name.toLowerCase(), name);
  for (const alias of def.aliases ?? []) byLowerName.set(alias.toLowerCase(), name);
}

/** The declared key for a name as written (case-insensitive, aliases included). */
export function findKey(name: string): ConfigKey | undefined {
  return byLowerName.get(name.toLowerCase());
}

export function parseValue(key: ConfigKey, raw: string, where: string): unknown {
  const def = CONFIG_KEYS[key] as KeyDef<unknown>;
  const value = def.parse(raw.trim());
  if (value === undefined) {
    throw new ConfigError(`${where}: bad value ${JSON.stringify(raw)} for ${key}: allowed is ${def.allowed}`, key);
  }
  return value;
}

export function defaults(): Record<ConfigKey, unknown> {
  const out = {} as Record<ConfigKey, unknown>;
  for (const [name, def] of Object.entries(CONFIG_KEYS) as [ConfigKey, KeyDef<unknown>][]) out[name] = def.default;
  return out;
}

export function describeKeys(): string {
  return (Object.entries(CONFIG_KEYS) as [ConfigKey, KeyDef<unknown>][])
    .map(([name, def]) => `  ${name.padEnd(38)} ${def.summary} [${String(def.default === true ? 1 : def.default === false ? 0 : def.default)}]`)
    .join("\n");
}
