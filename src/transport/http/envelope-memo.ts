// Memoised envelopes of `get` answers for hot keys. Such an envelope is a pure function of
// (ResponseHost, key, value, write time), so an entry is reused only when all four are equal:
// no invalidation is needed, whatever changed the store meanwhile.

import { bytesEqual } from "../../store/bytes.ts";
import { copyBytes } from "../../store/bytes.ts";

/** Only small values: comparing them must stay far cheaper than encoding them. */
export const MEMO_MAX_VALUE_BYTES = 1024;
/** Entries kept; past it the memo starts over (hot keys come back at once). */
export const MEMO_MAX_ENTRIES = 4096;

export class MemoEntry {
  constructor(
    readonly host: string,
    /** the key as UTF-8, reusable as the command's argument (never changed) */
    readonly keyBytes: Uint8Array,
    readonly value: Uint8Array,
    readonly writtenAt: number,
    readonly body: Uint8Array,
  ) {}

  /** True when this envelope is the answer for `value` written at `writtenAt`, from `host`. */
  answers(host: string, value: Uint8Array, writtenAt: number): boolean {
    return this.writtenAt === writtenAt && this.host === host && bytesEqual(this.value, value);
  }
}

export class EnvelopeMemo {
  private readonly entries = new Map<string, MemoEntry>();

  /** The entry of `key`, whichever value it was made for (check it with `answers`). */
  entry(key: string): MemoEntry | undefined {
    return this.entries.get(key);
  }

  remember(host: string, key: string, keyBytes: Uint8Array, value: Uint8Array, writtenAt: number, body: Uint8Array): void {
    if (value.length > MEMO_MAX_VALUE_BYTES || key.length > MEMO_MAX_VALUE_BYTES) return;
    if (this.entries.size >= MEMO_MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, new MemoEntry(host, copyBytes(keyBytes), copyBytes(value), writtenAt, body));
  }

  clear(): void {
    this.entries.clear();
  }
}
