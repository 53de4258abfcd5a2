// Redis keyspace commands (DEL, EXISTS, EXPIRE, PEXPIRE, TTL, PTTL, PERSIST, KEYS, SCAN, DBSIZE,
// FLUSHDB) with redis-server's semantics: EXPIRE with a time already past deletes the key.

import { CommandError } from "./errors.ts";
import { int64Arg, isWord, syntaxError } from "./redis-args.ts";
import { expiryTime, timeToLive } from "./redis-expiry.ts";
import { globMatch } from "./redis-glob.ts";
import { array, bulk, int, OK, type Reply } from "./reply.ts";
import type { CommandContext, CommandSpec } from "./spec.ts";
import { fromUtf8, utf8 } from "../store/bytes.ts";

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

function expireFlags(args: Uint8Array[]): number {
  let flags = 0;
  for (let j = 2; j < args.length; j++) {
    const opt = args[j]!;
    if (isWord(opt, "nx")) flags |= EXPIRE_NX;
    else if (isWord(opt, "xx")) flags |= EXPIRE_XX;
    else if (isWord(opt, "gt")) flags |= EXPIRE_GT;
    else if (isWord(opt, "lt")) flags |= EXPIRE_LT;
    else throw new CommandError(500, `Unsupported option ${new TextDecoder().decode(opt)}`);
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) {
    throw new CommandError(500, "NX and XX, GT or LT options at the same time are not compatible");
  }
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) throw new CommandError(500, "GT and LT options at the same time are not compatible");
  return flags;
}

function expire(unitMs: 1 | 1000, name: string) {
  return ({ db }: CommandContext, args: Uint8Array[]): Reply => {
    const flags = expireFlags(args);
    const now = db.now();
    const when = expiryTime(int64Arg(args[1]!), unitMs, now, name);
    const key = args[0]!;
    const entry = db.get(key);
    if (!entry) return int(0);
    if (flags) {
      const current = entry.expiresAt === 0 ? -1 : entry.expiresAt;
      if (flags & EXPIRE_NX && current !== -1) return int(0);
      if (flags & EXPIRE_XX && current === -1) return int(0);
      // No expiry counts as infinite: GT never beats it, LT always does.
      if (flags & EXPIRE_GT && (when <= current || current === -1)) return int(0);
      if (flags & EXPIRE_LT && current !== -1 && when >= current) return int(0);
    }
    if (when <= now) db.delete(key, now);
    else db.expire(key, when, now);
    return int(1);
  };
}

function ttl(inMs: boolean) {
  return ({ db }: CommandContext, [key]: Uint8Array[]): Reply => {
    const entry = db.get(key!);
    return int(entry ? timeToLive(entry, db.now(), inMs) : -2);
  };
}

function allKeys({ db }: CommandContext): Uint8Array[] {
  return db.store.scan(0, Number.MAX_SAFE_INTEGER).keys;
}

const U64_WRAP = 1n << 64n;

/**
 * A SCAN cursor as strtoul reads it in redis-server: optional sign, decimal digits (empty is 0),
 * past 2^64 − 1 invalid, a minus sign wrapping modulo 2^64 (`-1` is the largest cursor, not an
 * error). Undefined when invalid. Cursors past the store's last slot end the scan.
 */
function scanCursor(bytes: Uint8Array): number | undefined {
  const signed = bytes[0] === 43 || bytes[0] === 45;
  if (signed && bytes.length === 1) return undefined; // a sign and no digits: strtoul converts nothing
  const from = signed ? 1 : 0;
  let value = 0;
  for (let i = from; i < bytes.length; i++) {
    const digit = bytes[i]! - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  if (!signed && bytes.length <= 15) return value; // every cursor SCAN itself hands out
  const magnitude = bytes.length > from ? BigInt(fromUtf8(bytes.subarray(from))) : 0n;
  if (magnitude >= U64_WRAP) return undefined;
  return Number(bytes[0] === 45 ? (U64_WRAP - magnitude) % U64_WRAP : magnitude);
}

/** How many keys SCAN looks at when COUNT is not given (redis-server's default). */
const DEFAULT_SCAN_COUNT = 10;

function scan(ctx: CommandContext, args: Uint8Array[]): Reply {
  const cursor = scanCursor(args[0]!);
  if (cursor === undefined) throw new CommandError(500, "invalid cursor");
  let count = DEFAULT_SCAN_COUNT;
  let pattern: Uint8Array | undefined;
  let stringsOnly = true;
  for (let i = 1; i < args.length; i += 2) {
    const opt = args[i]!;
    if (i + 1 >= args.length) throw syntaxError();
    if (isWord(opt, "count")) {
      const n = int64Arg(args[i + 1]!);
      if (n < 1) throw syntaxError();
      count = Math.min(Number(n), 1_000_000);
    } else if (isWord(opt, "match")) {
      pattern = args[i + 1]!;
    } else if (isWord(opt, "type")) {
      stringsOnly = isWord(args[i + 1]!, "string"); // every value here is a string
    } else {
      throw syntaxError();
    }
  }
  const page = ctx.db.store.scan(cursor, count);
  const keys = stringsOnly ? page.keys.filter((key) => !pattern || globMatch(pattern, key)) : [];
  return array([bulk(utf8(String(page.cursor))), array(keys.map((key) => bulk(key)))]);
}

function spec(name: string, minArgs: number, maxArgs: number, write: boolean, usage: string, summary: string, run: CommandSpec["run"]): CommandSpec {
  return { name, dialects: ["resp"], minArgs, maxArgs, write, usage, summary, run };
}

export const redisKeyCommands: readonly CommandSpec[] = [
  spec("del", 1, Infinity, true, "key [key ...]", "Deletes keys; answers how many existed.", ({ db }, keys) => {
    const now = db.now();
    let n = 0;
    for (const key of keys) if (db.delete(key, now)) n++;
    return int(n);
  }),
  spec("exists", 1, Infinity, false, "key [key ...]", "How many of the keys exist (repeats count again).", ({ db }, keys) => {
    let n = 0;
    for (const key of keys) if (db.has(key)) n++;
    return int(n);
  }),
  spec("expire", 2, Infinity, true, "key seconds [NX|XX|GT|LT]", "Sets a time to live in seconds; a time already past deletes the key.", expire(1000, "expire")),
  spec("pexpire", 2, Infinity, true, "key milliseconds [NX|XX|GT|LT]", "Sets a time to live in milliseconds.", expire(1, "pexpire")),
  spec("ttl", 1, 1, false, "key", "Seconds left to live: -1 without expiry, -2 when missing.", ttl(false)),
  spec("pttl", 1, 1, false, "key", "Milliseconds left to live: -1 without expiry, -2 when missing.", ttl(true)),
  spec("persist", 1, 1, true, "key", "Removes the time to live; 1 if there was one.", ({ db }, [key]) => {
    const entry = db.get(key!);
    if (!entry || entry.expiresAt === 0) return int(0);
    db.expire(key!, 0, db.now());
    return int(1);
  }),
  spec("keys", 1, 1, false, "pattern", "Every key matching a glob pattern (use SCAN on big keyspaces).", (ctx, [pattern]) =>
    array(allKeys(ctx).filter((key) => globMatch(pattern!, key)).map((key) => bulk(key))),
  ),
  spec("scan", 1, Infinity, false, "cursor [MATCH pattern] [COUNT n] [TYPE type]", "Iterates over the keys a page at a time.", scan),
  spec("dbsize", 0, 0, false, "", "The number of keys.", ({ db }) => int(db.store.size)),
  spec("flushdb", 0, Infinity, true, "[ASYNC|SYNC]", "Deletes every key.", ({ db }, args) => {
    const mode = args[0];
    if (args.length > 1 || (mode && !isWord(mode, "async") && !isWord(mode, "sync"))) throw syntaxError();
    db.flush();
    return OK;
  }),
];
