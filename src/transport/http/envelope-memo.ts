// Memoised envelopes of `get` answers for hot keys. Such an envelope is a pure function of
// (ResponseHost, key, value, write time), so an entry is reused only when all four are equal:
// no invalidation is needed, whatever changed the store meanwhile.

import { bytesEqual } from "../../store/bytes.ts";
import { copyBytes } from "../../store/bytes.ts";

/** Only small values: comparing them must stay far cheaper than encoding them. */
export const MEMO_MAX_VALUE_BYTES = 1024;
/** Entries kept; past it the memo starts over (hot keys come back at once). */
export const MEMO_MAX_ENTRIES = 4096;

interface Memo {
  readonly host: string;
  readonly writtenAt: number;
  readonly value: Uint8Array;
  readonly body: Uint8Array;
}

export class EnvelopeMemo {
  private readonly entries = new Map<string, Memo>();

  /** The memoised body, or undefined. */
  find(host: string, key: string, value: Uint8Array, writtenAt: number): Uint8Array | undefined {
    const memo = this.entries.get(key);
    if (memo === undefined || memo.writtenAt !== writtenAt || memo.host !== host || !bytesEqual(memo.value, value)) return undefined;
    return memo.body;
  }

  remember(host: string, key: string, value: Uint8Array, writtenAt: number, body: Uint8Array): void {
    if (value.length > MEMO_MAX_VALUE_BYTES || key.length > MEMO_MAX_VALUE_BYTES) return;
    if (this.entries.size >= MEMO_MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { host, writtenAt, value: copyBytes(value), body });
  }

  clear(): void {
    this.entries.clear();
  }
}
