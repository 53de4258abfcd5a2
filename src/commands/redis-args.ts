// Argument parsing of the Redis dialect with redis-server's exact rules and error texts:
// 64-bit integers as string2ll reads them, option words compared without making strings.

import { CommandError } from "./errors.ts";

export const LLONG_MAX = 9223372036854775807n;
export const LLONG_MIN = -9223372036854775808n;
/** Up to 15 digits a double holds any integer exactly, so plain numbers are safe. */
const SAFE_DIGITS = 15;

export function notInteger(): CommandError {
  return new CommandError(500, "value is not an integer or out of range");
}

export function syntaxError(): CommandError {
  return new CommandError(500, "syntax error");
}

export function invalidExpireTime(command: string): CommandError {
  return new CommandError(500, `invalid expire time in '${command}' command`);
}

/**
 * A signed 64-bit integer as redis-server's string2ll accepts it ("0", "-5"; not "", "+1",
 * "01", "-0", " 1", "1.0", beyond ±2^63): a number when it has at most 15 digits, else a bigint.
 */
export function parseInt64(bytes: Uint8Array): number | bigint | undefined {
  const n = bytes.length;
  if (n === 0 || n > 20) return undefined;
  let i = 0;
  const negative = bytes[0] === 45;
  if (negative && ++i === n) return undefined;
  if (bytes[i] === 48) return n === 1 ? 0 : undefined;
  let value = 0;
  for (let j = i; j < n; j++) {
    const digit = bytes[j]! - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  if (n - i <= SAFE_DIGITS) return negative ? -value : value;
  let big = 0n;
  for (let j = i; j < n; j++) big = big * 10n + BigInt(bytes[j]! - 48);
  if (negative) big = -big;
  return big > LLONG_MAX || big < LLONG_MIN ? undefined : big;
}

/** As parseInt64, or the "not an integer" error. */
export function int64Arg(bytes: Uint8Array): number | bigint {
  const value = parseInt64(bytes);
  if (value === undefined) throw notInteger();
  return value;
}

/** True when `bytes` spells `word` (given in lower case, ASCII) in any case. */
export function isWord(bytes: Uint8Array, word: string): boolean {
  if (bytes.length !== word.length) return false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== word.charCodeAt(i)) return false;
  }
  return true;
}
