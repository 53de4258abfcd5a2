// Argument checks shared by handlers: keys, values and integers, validated the same way everywhere.

import { InvalidArgumentError } from "./errors.ts";
import type { Limits } from "./spec.ts";

export const EMPTY = new Uint8Array(0);

export function checkKey(key: Uint8Array, limits: Limits): Uint8Array {
  if (key.length === 0) throw new InvalidArgumentError("empty key");
  if (key.length > limits.maxKeyBytes) throw new InvalidArgumentError(`key longer than ${limits.maxKeyBytes} bytes`);
  return key;
}

export function checkValue(value: Uint8Array, limits: Limits): Uint8Array {
  if (value.length > limits.maxValueBytes) throw new InvalidArgumentError(`value longer than ${limits.maxValueBytes} bytes`);
  return value;
}

/**
 * A base-10 integer as Go's strconv.Atoi reads it (the original owlcache parsed seconds so): an
 * optional "+" or "-", then one or more digits, leading zeros allowed ("+5", "05", "-0"); undefined
 * for anything else ("", "+", " 5", "5s", "0x5", "1_0") and beyond the safe-integer range.
 */
export function parseAtoi(bytes: Uint8Array): number | undefined {
  const n = bytes.length;
  let i = 0;
  const sign = bytes[0];
  if (sign === 43 || sign === 45) i = 1;
  if (i >= n) return undefined;
  const value = digitsValue(bytes, i);
  return value === undefined ? undefined : sign === 45 && value !== 0 ? -value : value;
}

/** The value of bytes[from..] when all are decimal digits and it is a safe integer, else undefined. */
function digitsValue(bytes: Uint8Array, from: number): number | undefined {
  let value = 0;
  for (let i = from; i < bytes.length; i++) {
    const digit = bytes[i]! - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return Number.isSafeInteger(value) ? value : undefined;
}
