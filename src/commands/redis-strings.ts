// Redis string commands (GET, SET, MGET, MSET, INCR/DECR/INCRBY/DECRBY, APPEND, STRLEN) with
// redis-server's semantics and error texts, over the same keyspace as the owl commands.

import { checkKey, checkValue } from "./args.ts";
import { CommandError } from "./errors.ts";
import { int64Arg, isWord, LLONG_MAX, LLONG_MIN, notInteger, parseInt64, syntaxError } from "./redis-args.ts";
import { expiryTime, isPositive } from "./redis-expiry.ts";
import { int64Reply } from "./redis-reply.ts";
import { invalidExpireTime } from "./redis-args.ts";
import { array, bulk, int, NIL, OK, StoredBulk, type Reply } from "./reply.ts";
import type { CommandContext, CommandSpec } from "./spec.ts";
import { bytesToBinaryString, utf8 } from "../store/bytes.ts";
import { ValueTooLargeError } from "../store/errors.ts";
import type { Keyspace } from "../store/keyspace.ts";

const NX = 1;
const XX = 2;
const GET = 4;
const KEEPTTL = 8;
const EX = 16;
const PX = 32;
const EXAT = 64;
const PXAT = 128;
const ANY_EXPIRY = EX | PX | EXAT | PXAT;

/** SET's options, accepted in the combinations redis-server accepts (7.0). */
const MSET_SUBJECT = "keys and values of MSET";

/**
 * MSET's pairs must fit in MaxMemory together. A key given twice is stored once (the last pair
 * wins), so the distinct total is worked out, only when the plain total is refused.
 */
function checkFitsTogether(db: Keyspace, args: Uint8Array[], total: number): void {
  try {
    db.checkFits(args[0]!, total, MSET_SUBJECT);
  } catch (error) {
    if (!(error instanceof ValueTooLargeError)) throw error;
    const seen = new Set<string>();
    let distinct = 0;
    for (let i = args.length - 2; i >= 0; i -= 2) {
      const key = bytesToBinaryString(args[i]!);
      if (seen.has(key)) continue;
      seen.add(key);
      distinct += args[i]!.length + args[i + 1]!.length;
    }
    db.checkFits(args[0]!, distinct, MSET_SUBJECT);
  }
}

function setOptions(args: Uint8Array[]): { flags: number; expire?: Uint8Array } {
  let flags = 0;
  let expire: Uint8Array | undefined;
  for (let j = 2; j < args.length; j++) {
    const opt = args[j]!;
    const hasNext = j + 1 < args.length;
    if (isWord(opt, "nx") && !(flags & XX)) flags |= NX;
    else if (isWord(opt, "xx") && !(flags & NX)) flags |= XX;
    else if (isWord(opt, "get")) flags |= GET;
    else if (isWord(opt, "keepttl") && !(flags & ANY_EXPIRY)) flags |= KEEPTTL;
    else {
      const unit = isWord(opt, "ex") ? EX : isWord(opt, "px") ? PX : isWord(opt, "exat") ? EXAT : isWord(opt, "pxat") ? PXAT : 0;
      if (unit === 0 || flags & KEEPTTL || flags & (ANY_EXPIRY & ~unit) || !hasNext) throw syntaxError();
      flags |= unit;
      expire = args[++j];
    }
  }
  return { flags, expire };
}

function set(ctx: CommandContext, args: Uint8Array[]): Reply {
  const { db, limits } = ctx;
  const key = args[0]!;
  const value = args[1]!;
  if (args.length === 2) {
    // plain SET key value: no options to parse, no need to look at the old entry
    checkKey(key, limits);
    checkValue(value, limits);
    const now = db.now();
    db.set(key, value, 0, now);
    return OK;
  }
  const { flags, expire } = setOptions(args);
  const now = db.now();
  let expiresAt = 0;
  if (expire) {
    const amount = int64Arg(expire);
    if (!isPositive(amount)) throw invalidExpireTime("set");
    const unitMs = flags & (EX | EXAT) ? 1000 : 1;
    expiresAt = expiryTime(amount, unitMs, flags & (EX | PX) ? now : 0, "set");
  }
  checkKey(key, limits);
  checkValue(value, limits);
  const old = db.get(key);
  const oldReply = flags & GET ? (old ? bulk(old.value.slice(), old.writtenAt) : NIL) : NIL;
  if ((flags & NX && old) || (flags & XX && !old)) return oldReply;
  if (flags & KEEPTTL && old) expiresAt = old.expiresAt;
  db.set(key, value, expiresAt, now);
  return flags & GET ? oldReply : OK;
}

/** The integer a stored value holds, as INCR reads it. */
function storedInteger(value: Uint8Array): number | bigint {
  const n = parseInt64(value);
  if (n === undefined) throw notInteger();
  return n;
}

function incrBy({ db, limits }: CommandContext, key: Uint8Array, delta: number | bigint): Reply {
  const entry = db.get(key);
  const current = entry ? storedInteger(entry.value) : 0;
  const expiresAt = entry ? entry.expiresAt : 0;
  let result: number | bigint;
  if (typeof current === "number" && typeof delta === "number") {
    result = current + delta; // both under 10^15: exact
  } else {
    result = BigInt(current) + BigInt(delta);
    if (result > LLONG_MAX || result < LLONG_MIN) throw new CommandError(500, "increment or decrement would overflow");
  }
  checkKey(key, limits);
  db.set(key, utf8(String(result)), expiresAt, db.now());
  return int64Reply(result);
}

function spec(name: string, minArgs: number, maxArgs: number, write: boolean, usage: string, summary: string, run: CommandSpec["run"]): CommandSpec {
  return { name, dialects: ["resp"], minArgs, maxArgs, write, usage, summary, run };
}

export const redisStringCommands: readonly CommandSpec[] = [
  // Hot handlers index their arguments: array destructuring goes through the iterator protocol.
  {
    ...spec("get", 1, 1, false, "key", "The value of a key, or nil; a miss may be imported (SPEC §8).", (ctx, args) => {
      const stored = new StoredBulk();
      return ctx.db.read(args[0]!, stored) ? stored : NIL;
    }),
    readThrough: true,
  },
  spec("set", 2, Infinity, true, "key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL]", "Stores a value, optionally with a time to live and conditions.", set),
  spec("mget", 1, Infinity, false, "key [key ...]", "The values of several keys (nil for missing ones).", ({ db }, keys) =>
    array(keys.map((key) => {
      const entry = db.get(key);
      return entry ? bulk(entry.value, entry.writtenAt) : NIL;
    })),
  ),
  spec("mset", 2, Infinity, true, "key value [key value ...]", "Stores several values at once (no time to live).", ({ db, limits }, args) => {
    if (args.length % 2 !== 0) throw new CommandError(500, "wrong number of arguments for 'mset' command");
    // Every pair, and then all of them together, is checked before any is stored: a refusal (too
    // long, or larger than MaxMemory) leaves none of them written, as MSET is all or nothing. Pairs
    // that do not fit together would evict each other (redis-server would exceed its limit).
    let total = 0;
    for (let i = 0; i < args.length; i += 2) {
      const key = checkKey(args[i]!, limits);
      const size = key.length + checkValue(args[i + 1]!, limits).length;
      db.checkFits(key, size);
      total += size;
    }
    if (args.length > 2) checkFitsTogether(db, args, total);
    const now = db.now();
    for (let i = 0; i < args.length; i += 2) db.set(args[i]!, args[i + 1]!, 0, now);
    return OK;
  }),
  spec("incr", 1, 1, true, "key", "Adds 1 to an integer value (a missing key counts as 0).", (ctx, args) => incrBy(ctx, args[0]!, 1)),
  spec("decr", 1, 1, true, "key", "Subtracts 1 from an integer value.", (ctx, args) => incrBy(ctx, args[0]!, -1)),
  spec("incrby", 2, 2, true, "key increment", "Adds an integer to an integer value.", (ctx, [key, by]) => incrBy(ctx, key!, int64Arg(by!))),
  spec("decrby", 2, 2, true, "key decrement", "Subtracts an integer from an integer value.", (ctx, [key, by]) => {
    const delta = int64Arg(by!);
    if (delta === LLONG_MIN) throw new CommandError(500, "decrement would overflow");
    return incrBy(ctx, key!, typeof delta === "number" ? -delta : -delta);
  }),
  spec("append", 2, 2, true, "key value", "Appends to a value (creates it if missing); answers the new length.", ({ db, limits }, [key, tail]) => {
    const entry = db.get(key!);
    if (!entry) {
      db.set(checkKey(key!, limits), checkValue(tail!, limits), 0, db.now());
      return int(tail!.length);
    }
    const joined = new Uint8Array(entry.value.length + tail!.length);
    joined.set(entry.value);
    joined.set(tail!, entry.value.length);
    const expiresAt = entry.expiresAt;
    db.set(key!, checkValue(joined, limits), expiresAt, db.now());
    return int(joined.length);
  }),
  spec("strlen", 1, 1, false, "key", "The length of a value, 0 when missing.", ({ db }, [key]) => int(db.get(key!)?.value.length ?? 0)),
];
