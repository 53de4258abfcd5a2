// Reply helpers of the Redis dialect: maps (HELLO, CONFIG GET) are arrays of key/value pairs in
// RESP2 and maps in RESP3, so the encoder needs to know which arrays are maps.

import { array, bulk, int, type Reply } from "./reply.ts";
import { utf8 } from "../store/bytes.ts";

const maps = new WeakSet<Reply>();

/** An array of alternating keys and values that RESP3 encodes as a map. */
export function mapReply(items: readonly Reply[]): Reply {
  const reply = array(items);
  maps.add(reply);
  return reply;
}

export function isMapReply(reply: Reply): boolean {
  return maps.has(reply);
}

/** A bulk string from text (replies that are not stored values). */
export function bulkText(text: string): Reply {
  return bulk(utf8(text));
}

const exactIntegers = new WeakMap<Reply, bigint>();

/**
 * An integer reply for a 64-bit result (INCR near 2^63): the Reply's number is rounded beyond
 * 2^53, so the exact value rides along for the encoder.
 */
export function int64Reply(value: number | bigint): Reply {
  if (typeof value === "number") return int(value);
  const reply = int(Number(value));
  if (!Number.isSafeInteger(Number(value))) exactIntegers.set(reply, value);
  return reply;
}

export function exactInteger(reply: Reply): bigint | undefined {
  return exactIntegers.get(reply);
}
