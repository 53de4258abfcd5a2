// Reads a key from Redis with Bun's built-in RedisClient for read-through (SPEC §8). The client
// is made on first use and thrown away after a failure or a timeout, so a request that Redis
// never answered cannot hold the next ones up.

import { RedisClient } from "bun";
import { BackendTimeoutError } from "./breaker.ts";

export interface RedisSourceOptions {
  /** host:port as in Redis_Addr (a redis:// or rediss:// URL is accepted too) */
  readonly address: string;
  readonly password: string;
  readonly db: number;
}

/** The connection URL for Redis_Addr, Redis_Password and Redis_DB. */
export function redisUrl({ address, password, db }: RedisSourceOptions): string {
  const url = new URL(/^rediss?:\/\//.test(address) ? address : `redis://${address}`);
  if (password !== "") url.password = password;
  url.pathname = `/${db}`;
  return url.toString();
}

export class RedisSource {
  private client: RedisClient | undefined;
  private readonly url: string;

  constructor(options: RedisSourceOptions) {
    this.url = redisUrl(options);
  }

  /** The value, or null when Redis does not hold the key as a string. Rejects on failure or timeout. */
  async get(key: Uint8Array, timeoutMs: number): Promise<Uint8Array | null> {
    const client = this.connected(timeoutMs);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BackendTimeoutError(timeoutMs)), timeoutMs);
    });
    try {
      // RedisClient.KeyLike takes bytes; Buffer views the same memory without copying.
      return await Promise.race([client.getBuffer(Buffer.from(key.buffer, key.byteOffset, key.length)), timeout]);
    } catch (error) {
      // Another type under the key is an answer, not a failure of the backend.
      if (error instanceof Error && error.message.startsWith("WRONGTYPE")) return null;
      this.discard(client);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    if (this.client) this.discard(this.client);
  }

  private connected(timeoutMs: number): RedisClient {
    if (this.client) return this.client;
    const client = new RedisClient(this.url, {
      connectionTimeout: timeoutMs,
      // We decide when to retry (the breaker); a client that reconnects by itself would queue
      // requests behind a dead server.
      autoReconnect: false,
      maxRetries: 0,
    });
    client.onclose = () => {
      if (this.client === client) this.client = undefined;
    };
    this.client = client;
    return client;
  }

  private discard(client: RedisClient): void {
    if (this.client === client) this.client = undefined;
    try {
      client.close();
    } catch {
      // already closed
    }
  }
}
