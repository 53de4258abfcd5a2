// Commands return meanings, not bytes. Each protocol encodes a Reply its own way: the envelope
// turns `nil` into 404 NOT_FOUND, RESP into a null bulk string.

import type { CommandError } from "./errors.ts";
import type { ValueRef } from "../store/types.ts";

export type Reply =
  | { readonly kind: "ok" }
  | { readonly kind: "bulk"; readonly value: Uint8Array; readonly writtenAt: number }
  | { readonly kind: "simple"; readonly text: string }
  | { readonly kind: "nil" }
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "array"; readonly items: readonly Reply[] }
  | { readonly kind: "error"; readonly error: CommandError };

export const OK: Reply = { kind: "ok" };
export const NIL: Reply = { kind: "nil" };

/** A value read from the store; `writtenAt` 0 when the value has no write time (e.g. ECHO). */
export function bulk(value: Uint8Array, writtenAt = 0): Reply {
  return { kind: "bulk", value, writtenAt };
}

const NO_BYTES = new Uint8Array(0);

/**
 * A bulk reply that points into the store (filled by `Keyspace.read`): encoders copy
 * bytes[start, start + length) straight out; `value` makes a view only for readers that ask for
 * one. Valid as long as a view from `get` is (the rest of the turn).
 */
export class StoredBulk implements ValueRef {
  readonly kind = "bulk" as const;
  bytes = NO_BYTES;
  start = 0;
  length = 0;
  writtenAt = 0;
  expiresAt = 0;

  get value(): Uint8Array {
    return this.bytes.subarray(this.start, this.start + this.length);
  }
}

export function simple(text: string): Reply {
  return { kind: "simple", text };
}

export function int(value: number): Reply {
  return { kind: "int", value };
}

export function array(items: readonly Reply[]): Reply {
  return { kind: "array", items };
}

export function errorReply(error: CommandError): Reply {
  return { kind: "error", error };
}
