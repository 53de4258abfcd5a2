// The engine: looks a command up in the table, checks arity and permission once, runs the
// handler and turns any failure into an error Reply. Every transport calls `execute`.

import { ArityError, CommandError, NotAuthenticatedError, UnknownCommandError } from "./errors.ts";
import { errorReply, NIL, type Reply } from "./reply.ts";
import type { CommandContext, CommandSpec, Dialect, Session, Authenticator, Limits, KeyLoader, Transport } from "./spec.ts";
import type { Keyspace } from "../store/keyspace.ts";
import { copyBytes, fromUtf8 } from "../store/bytes.ts";
import { StoreLimitError } from "../store/errors.ts";

export interface EngineOptions {
  readonly table: readonly CommandSpec[];
  readonly db: Keyspace;
  readonly limits: Limits;
  readonly auth: Authenticator;
  /** called on an unexpected exception inside a handler (a bug): log it, keep serving */
  readonly onInternalError?: (error: unknown, command: string) => void;
  /** read-through import on a miss of a command flagged `readThrough` (SPEC §8) */
  readonly loader?: KeyLoader;
}

/** Calls of one command per transport: a plain object so counting is one property increment. */
export type CallCounts = Record<Transport, number>;

export interface CommandCalls {
  readonly name: string;
  readonly dialect: Dialect;
  readonly counts: Readonly<CallCounts>;
}

/** Command names are short; anything longer is unknown without looking further. */
const MAX_NAME = 32;

/** A case-insensitive hash of ASCII name bytes `buf[start..end)` (letters folded to lower case). */
function nameHash(buf: Uint8Array, start: number, end: number): number {
  let h = 0;
  for (let i = start; i < end; i++) {
    let c = buf[i]!;
    if (c >= 65 && c <= 90) c += 32;
    h = (Math.imul(h, 31) + c) | 0;
  }
  return h;
}

function sameName(lower: string, buf: Uint8Array, start: number, end: number): boolean {
  if (lower.length !== end - start) return false;
  for (let i = start; i < end; i++) {
    let c = buf[i]!;
    if (c >= 65 && c <= 90) c += 32;
    if (lower.charCodeAt(i - start) !== c) return false;
  }
  return true;
}

export class Engine {
  private readonly specs: Record<Dialect, Map<string, CommandSpec>> = { owl: new Map(), resp: new Map() };
  private readonly beforeReplyHooks: (() => void)[] = [];
  private readonly pendingChecks: (() => boolean)[] = [];
  private readonly callCounts = new Map<CommandSpec, CallCounts>();
  /** the counts of the command executed last: a pipeline mostly repeats one command */
  private lastCounted: CommandSpec | undefined;
  private lastCounts: CallCounts | undefined;
  /** reads of a key by a `readThrough` command that found it locally / did not (before import) */
  hits = 0;
  misses = 0;

  private readonly byHash: Record<Dialect, Map<number, CommandSpec[]>> = { owl: new Map(), resp: new Map() };
  private readonly lastFound: Record<Dialect, CommandSpec | undefined> = { owl: undefined, resp: undefined };

  constructor(private readonly options: EngineOptions) {
    for (const spec of options.table) {
      for (const dialect of spec.dialects) {
        if (this.specs[dialect].has(spec.name)) throw new Error(`duplicate command ${dialect}:${spec.name}`);
        this.specs[dialect].set(spec.name, spec);
        const bytes = new TextEncoder().encode(spec.name);
        const hash = nameHash(bytes, 0, bytes.length);
        const list = this.byHash[dialect].get(hash) ?? [];
        list.push(spec);
        this.byHash[dialect].set(hash, list);
      }
      this.callCounts.set(spec, { tcp: 0, http: 0, resp: 0 });
    }
  }

  /** Calls by command name, summed over transports and dialects. */
  get calls(): Map<string, number> {
    const total = new Map<string, number>();
    for (const [spec, c] of this.callCounts) total.set(spec.name, (total.get(spec.name) ?? 0) + c.tcp + c.http + c.resp);
    return total;
  }

  /** Calls of every command per transport, for metrics. */
  callsByTransport(): CommandCalls[] {
    return [...this.callCounts].map(([spec, counts]) => ({ name: spec.name, dialect: spec.dialects[0]!, counts }));
  }

  get db(): Keyspace {
    return this.options.db;
  }

  get table(): readonly CommandSpec[] {
    return this.options.table;
  }

  lookup(dialect: Dialect, lowerName: string): CommandSpec | undefined {
    return this.specs[dialect].get(lowerName);
  }

  /**
   * Looks a command up straight from request bytes, case-insensitively, without making a string
   * (the hot path of every stream request). Undefined when unknown.
   */
  lookupBytes(dialect: Dialect, name: Uint8Array): CommandSpec | undefined {
    return this.lookupRange(dialect, name, 0, name.length);
  }

  /** `lookupBytes` for the name at `buf[start..end)`, without making a view of it. */
  lookupRange(dialect: Dialect, buf: Uint8Array, start: number, end: number): CommandSpec | undefined {
    // A pipeline mostly repeats one command: try the last one found first.
    const last = this.lastFound[dialect];
    if (last !== undefined && sameName(last.name, buf, start, end)) return last;
    if (end <= start || end - start > MAX_NAME) return undefined;
    const candidates = this.byHash[dialect].get(nameHash(buf, start, end));
    if (candidates === undefined) return undefined;
    for (let i = 0; i < candidates.length; i++) {
      const spec = candidates[i]!;
      if (sameName(spec.name, buf, start, end)) {
        this.lastFound[dialect] = spec;
        return spec;
      }
    }
    return undefined;
  }

  commands(dialect: Dialect): IterableIterator<CommandSpec> {
    return this.specs[dialect].values();
  }

  /**
   * Runs a command. `spec` undefined means the name was not found (answered 501). Handlers may be
   * async (e.g. issuing a token); plain commands stay synchronous so pipelines need no awaits.
   */
  execute(session: Session, spec: CommandSpec | undefined, name: string, args: Uint8Array[]): Reply | Promise<Reply> {
    if (spec === undefined) return errorReply(new UnknownCommandError(name, args.slice(0, 3).map(fromUtf8)));
    if (args.length < spec.minArgs || args.length > spec.maxArgs) return errorReply(new ArityError(spec.name));
    if (!spec.public && !(spec.write ? session.canWrite : session.canRead)) return errorReply(new NotAuthenticatedError());
    let counts = this.lastCounts;
    if (spec !== this.lastCounted) {
      counts = this.callCounts.get(spec);
      this.lastCounted = spec;
      this.lastCounts = counts;
    }
    if (counts) counts[session.transport]++;
    // A fresh context per command: a small object is cheaper in JavaScriptCore than keeping one on
    // the session and checking it still belongs to this engine (measured, bench/README.md).
    const ctx: CommandContext = { db: this.options.db, session, limits: this.options.limits, auth: this.options.auth };
    try {
      const reply = spec.run(ctx, args);
      if (reply instanceof Promise) return reply.catch((error: unknown) => this.failure(error, spec.name));
      if (spec.readThrough) {
        if (reply.kind === "nil") {
          this.misses++;
          const loader = this.options.loader;
          if (loader && (loader.available?.(args[0]!) ?? true)) return this.readThrough(loader, spec, ctx, args);
        } else if (reply.kind === "bulk") {
          this.hits++;
        }
      }
      return reply;
    } catch (error) {
      return this.failure(error, spec.name);
    }
  }

  /**
   * Registers work that must finish before replies leave (the append log's group commit);
   * `pending` tells whether there is any, so that transports can gather the replies of several
   * connections behind one run of it.
   */
  onBeforeReply(hook: () => void, pending?: () => boolean): void {
    this.beforeReplyHooks.push(hook);
    if (pending) this.pendingChecks.push(pending);
  }

  /** Whether a `beforeReply` hook has work waiting (replies sent now would have to wait for it). */
  get replyWorkPending(): boolean {
    for (const pending of this.pendingChecks) if (pending()) return true;
    return false;
  }

  /** Whether the store takes `prefetch` hints now: a transport looks ahead in its chunks only then. */
  get wantsPrefetch(): boolean {
    return this.options.db.wantsPrefetch;
  }

  /**
   * A hint from a transport before it runs a pipelined chunk: the first argument (mostly the key)
   * of each request in it, as [start, end) pairs into `buf`. The store may warm its caches.
   */
  prefetch(buf: Uint8Array, at: Int32Array, count: number): void {
    this.options.db.prefetch(buf, at, count);
  }

  /** Transports call this once per batch of replies, just before writing them. */
  beforeReply(): void {
    for (const hook of this.beforeReplyHooks) hook();
  }

  /** A local miss: let the loader import the key, then answer from the keyspace as usual. */
  private async readThrough(loader: KeyLoader, spec: CommandSpec, ctx: CommandContext, args: Uint8Array[]): Promise<Reply> {
    // The arguments may be views into a receive buffer that is reused once we return.
    const owned = args.map(copyBytes);
    let imported: boolean;
    try {
      imported = await loader.load(owned[0]!);
    } catch (error) {
      this.options.onInternalError?.(error, spec.name);
      return NIL;
    }
    if (!imported) return NIL;
    try {
      return await spec.run(ctx, owned);
    } catch (error) {
      return this.failure(error, spec.name);
    }
  }

  private failure(error: unknown, name: string): Reply {
    if (error instanceof CommandError) return errorReply(error);
    // The store's refusals (MaxMemory) are the client's problem, not a bug: 500 with the reason.
    if (error instanceof StoreLimitError) return errorReply(new CommandError(500, error.message, error.respPrefix));
    this.options.onInternalError?.(error, name);
    return errorReply(new CommandError(500, "internal error"));
  }
}
