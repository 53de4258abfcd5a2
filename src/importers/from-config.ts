// Builds the read-through loader from the config keys of SPEC §2/§8, or nothing when neither
// Get_data_from_redis nor Get_data_from_memcache is on.

import type { Config } from "../config/keys.ts";
import { ConfigError } from "../config/keys.ts";
import type { Logger } from "../log/logger.ts";
import type { Keyspace } from "../store/keyspace.ts";
import type { Clock } from "../store/types.ts";
import { MemcachedClient } from "./memcached-client.ts";
import { isValidKey } from "./memcached-text.ts";
import { ReadThroughLoader, type Backend, type Tier } from "./read-through.ts";
import { RedisSource } from "./redis-source.ts";

export type ReadThroughConfig = Pick<
  Config,
  | "Get_data_from_redis"
  | "Redis_Addr"
  | "Redis_Password"
  | "Redis_DB"
  | "Get_redis_data_set_expire_time"
  | "Get_data_from_memcache"
  | "Memcache_list"
  | "Get_memcache_data_set_expire_time"
  | "HttpClientRequestTimeout"
  | "HttpClient_Request_Max_Error_Number"
  | "HttpClient_Request_Timeout_Sleeptime"
  | "MaxValueBytes"
>;

/** "host:port" or "[v6]:port" → parts; throws ConfigError naming the key. */
export function parseAddress(text: string, key: string): { host: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:\s]+):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) throw new ConfigError(`bad address ${JSON.stringify(text)} in ${key}: allowed is host:port`);
  return { host: match[1]!, port };
}

/**
 * Redis_Addr as it may be shown: a redis:// URL's user and password (`redis://:PW@host:6379`,
 * accepted by RedisSource) become `***`. Every backend name and message built from the address
 * goes through this, since they reach the log, /metrics and the status page.
 */
export function redactedAddress(address: string): string {
  return address.replace(/^(rediss?:\/\/)[^@/]*@/i, "$1***@");
}

/** Memcache_list: addresses separated by `|` (spaces around them ignored). */
export function memcachedAddresses(list: string): { host: string; port: number }[] {
  const parts = list.split("|").map((part) => part.trim()).filter((part) => part !== "");
  if (parts.length === 0) throw new ConfigError("Memcache_list is empty: allowed is host:port|host:port…");
  return parts.map((part) => parseAddress(part, "Memcache_list"));
}

/** Redis_Addr that is no URL (`nothing:abc`) is a bad setting, not a TypeError at start. */
function redisSource(config: ReadThroughConfig): RedisSource {
  try {
    return new RedisSource({ address: config.Redis_Addr, password: config.Redis_Password, db: config.Redis_DB });
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new ConfigError(`bad value ${JSON.stringify(redactedAddress(config.Redis_Addr))} for Redis_Addr: allowed is host:port or a redis:// URL`, "Redis_Addr");
  }
}

export function createReadThrough(
  config: ReadThroughConfig,
  parts: { readonly db: Keyspace; readonly clock: Clock; readonly log: Logger },
): ReadThroughLoader | undefined {
  const tiers: Tier[] = [];
  if (config.Get_data_from_redis) {
    const redis = redisSource(config);
    const backend: Backend = { name: `redis ${redactedAddress(config.Redis_Addr)}`, get: (key, ms) => redis.get(key, ms), close: () => redis.close() };
    tiers.push({ kind: "redis", ttlSeconds: config.Get_redis_data_set_expire_time, backends: [backend] });
  }
  if (config.Get_data_from_memcache) {
    const backends = memcachedAddresses(config.Memcache_list).map(({ host, port }): Backend => {
      const client = new MemcachedClient(host, port);
      return { name: `memcached ${host}:${port}`, get: (key, ms) => client.get(key, ms), close: () => client.close() };
    });
    tiers.push({ kind: "memcached", ttlSeconds: config.Get_memcache_data_set_expire_time, backends, accepts: isValidKey });
  }
  if (tiers.length === 0) return undefined;
  return new ReadThroughLoader({
    ...parts,
    tiers,
    timeoutMs: config.HttpClientRequestTimeout,
    maxErrors: config.HttpClient_Request_Max_Error_Number,
    sleepMs: config.HttpClient_Request_Timeout_Sleeptime * 1000,
    maxValueBytes: config.MaxValueBytes,
  });
}
