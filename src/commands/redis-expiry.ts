// Expiry arithmetic of the Redis dialect: relative or absolute times in seconds or milliseconds,
// with redis-server's overflow rules and its TTL rounding.

import type { EntryView } from "../store/types.ts";
import { invalidExpireTime, LLONG_MAX, LLONG_MIN } from "./redis-args.ts";

/**
 * The absolute expiry in ms for `value` units of `unitMs` after `base` (0 for absolute times).
 * A plain number has at most 15 digits and cannot overflow; a bigint is checked as redis-server
 * checks its long long arithmetic.
 */
export function expiryTime(value: number | bigint, unitMs: 1 | 1000, base: number, command: string): number {
  if (typeof value === "number") return base + value * unitMs;
  if (unitMs === 1000 && (value > LLONG_MAX / 1000n || value < LLONG_MIN / 1000n)) throw invalidExpireTime(command);
  const ms = value * BigInt(unitMs);
  if (ms > LLONG_MAX - BigInt(base)) throw invalidExpireTime(command);
  return Number(ms + BigInt(base));
}

export function isPositive(value: number | bigint): boolean {
  return typeof value === "number" ? value > 0 : value > 0n;
}

/** TTL/PTTL of a live entry: -1 without expiry, else the time left (seconds rounded as Redis). */
export function timeToLive(entry: EntryView, now: number, inMs: boolean): number {
  if (entry.expiresAt === 0) return -1;
  const left = Math.max(0, entry.expiresAt - now);
  return inMs ? left : Math.floor((left + 500) / 1000);
}
