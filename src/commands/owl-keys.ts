// The original owlcache's commands (TCP text protocol and HTTP `cmd=`): get, set, expire,
// delete, exist. Missing keys answer nil, which the envelope shows as 404 NOT_FOUND.

import { checkKey, checkValue, EMPTY, parseAtoi } from "./args.ts";
import { InvalidArgumentError } from "./errors.ts";
import { bulk, NIL, OK, StoredBulk } from "./reply.ts";
import type { CommandSpec } from "./spec.ts";

const MAX_TTL_SECONDS = 100 * 365 * 24 * 3600; // a century: beyond it, a typo rather than a TTL

/** Seconds as the original read them (Go's strconv.Atoi: "+5" and "05" are 5), then range-checked. */
function seconds(bytes: Uint8Array): number {
  const n = parseAtoi(bytes);
  if (n === undefined || n < 0 || n > MAX_TTL_SECONDS) {
    throw new InvalidArgumentError(`seconds must be an integer from 0 to ${MAX_TTL_SECONDS}`);
  }
  return n;
}

export const owlKeyCommands: readonly CommandSpec[] = [
  {
    name: "get",
    dialects: ["owl"],
    minArgs: 1,
    maxArgs: 2,
    write: false,
    summary: "Returns the value of a key; 404 when it is missing or expired.",
    usage: "<key> [info]",
    httpArgs: ["key"],
    readThrough: true,
    // (arguments indexed: destructuring goes through the iterator protocol)
    run: (ctx, args) => {
      const stored = new StoredBulk();
      return ctx.db.read(checkKey(args[0]!, ctx.limits), stored) ? stored : NIL;
    },
  },
  {
    name: "set",
    dialects: ["owl"],
    minArgs: 1,
    maxArgs: 3,
    write: true,
    summary: "Stores a value (everything after the space that follows the key); with exptime, its time to live in seconds too.",
    usage: "<key> <value>",
    owlSplit: 2,
    httpArgs: ["key", "valuedata", "exptime"],
    run: ({ db, limits }, [key, value, exptime]) => {
      checkKey(key!, limits);
      const ttl = exptime && exptime.length > 0 ? seconds(exptime) : 0;
      const now = db.now();
      db.set(key!, checkValue(value ?? EMPTY, limits), ttl > 0 ? now + ttl * 1000 : 0, now);
      return OK;
    },
  },
  {
    name: "expire",
    dialects: ["owl"],
    minArgs: 2,
    maxArgs: 2,
    write: true,
    summary: "Sets a key's time to live in seconds; 0 removes it. 404 when the key is missing.",
    usage: "<key> <seconds>",
    httpArgs: ["key", "exptime"],
    run: ({ db, limits }, [key, exptime]) => {
      checkKey(key!, limits);
      const ttl = seconds(exptime!);
      const now = db.now();
      return db.expire(key!, ttl > 0 ? now + ttl * 1000 : 0, now) ? OK : NIL;
    },
  },
  {
    name: "delete",
    dialects: ["owl"],
    minArgs: 1,
    maxArgs: 1,
    write: true,
    summary: "Deletes a key; 404 when it did not exist.",
    usage: "<key>",
    httpArgs: ["key"],
    run: ({ db, limits }, [key]) => (db.delete(checkKey(key!, limits)) ? OK : NIL),
  },
  {
    name: "exist",
    dialects: ["owl"],
    minArgs: 1,
    maxArgs: 1,
    write: false,
    summary: "200 when the key exists, 404 when not.",
    usage: "<key>",
    httpArgs: ["key"],
    run: ({ db, limits }, [key]) => (db.has(checkKey(key!, limits)) ? OK : NIL),
  },
];
