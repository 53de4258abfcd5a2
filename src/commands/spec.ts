// The shape of one command in the table, and what a handler gets to work with.

import type { Keyspace } from "../store/keyspace.ts";
import type { Reply } from "./reply.ts";

/**
 * Command namespaces. `owl` is the original's vocabulary (TCP text lines and the HTTP `cmd=`
 * routes); `resp` is Redis's. Where the two disagree on meaning (owl `expire k 0` removes the TTL,
 * Redis `EXPIRE k 0` deletes the key) they are separate specs over the same keyspace.
 */
export type Dialect = "owl" | "resp";

/** An HTTP request field that becomes a positional argument (SPEC §7). */
export type HttpField = "key" | "valuedata" | "exptime" | "pass";

export type Transport = "tcp" | "http" | "resp";

/** Fills a missing key from a backing store (read-through import, SPEC §8). */
export interface KeyLoader {
  /**
   * Looks the key up in the backends and stores what it finds through the Keyspace. Resolves
   * true when the key is now present, false otherwise; never rejects, never outlasts its timeout.
   * `key` may be a view into a receive buffer: copy it before any await.
   */
  load(key: Uint8Array): Promise<boolean>;
  /**
   * False when no backend would be asked for this key right now (all skipped after failures, or
   * none can hold such a key): the miss is then answered at once, with no promise in the way.
   */
  available?(key: Uint8Array): boolean;
}

export interface Session {
  readonly dialect: Dialect;
  readonly transport: Transport;
  /** remote address, for tokens, throttling and logs */
  readonly client: string;
  /** may run commands that read */
  canRead: boolean;
  /** may run commands that write */
  canWrite: boolean;
  /** CLIENT SETNAME */
  name?: string;
  /** QUIT: close after this reply */
  closing?: boolean;
}

export interface Limits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
}

/** Password checks and tokens; the auth module implements it. */
export interface Authenticator {
  /**
   * Checks a password in constant time for `client`, counting failures; throws a CommandError
   * (401) when the client is throttled. Never logs the password.
   */
  verifyPassword(password: Uint8Array, client: string): boolean;
  /** A signed token for `client` (SPEC §5). */
  issueToken(client: string): Promise<string> | string;
}

export interface CommandContext {
  readonly db: Keyspace;
  readonly session: Session;
  readonly limits: Limits;
  readonly auth: Authenticator;
}

export interface CommandSpec {
  /** lower case */
  readonly name: string;
  readonly dialects: readonly Dialect[];
  readonly minArgs: number;
  /** Infinity for variadic */
  readonly maxArgs: number;
  /** changes data: needs write permission, goes to the append log */
  readonly write: boolean;
  /** runs before authentication (pass, auth, quit) */
  readonly public?: boolean;
  readonly summary: string;
  /** argument synopsis for --help and the docs, e.g. "<key> <value>" */
  readonly usage: string;
  /**
   * Owl text protocol: split the line into at most this many arguments; the last one takes the
   * rest of the line byte for byte (`set <key> <value with spaces>`). Absent: split on every space.
   */
  readonly owlSplit?: number;
  /** HTTP: request fields that become the positional arguments, in order. */
  readonly httpArgs?: readonly HttpField[];
  /**
   * A read of the key in the first argument: on a `nil` reply the engine asks the configured
   * read-through loader (SPEC §8) and, when it imported the key, runs the handler again.
   */
  readonly readThrough?: true;
  readonly run: (ctx: CommandContext, args: Uint8Array[]) => Reply | Promise<Reply>;
}
