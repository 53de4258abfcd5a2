// The unit of replication: the full state of one key (not the command that produced it), so
// applying a record twice or out of order is harmless — the newer version wins.

export type SyncRecord =
  | {
      readonly kind: "put";
      readonly key: Uint8Array;
      readonly value: Uint8Array;
      readonly writtenAt: number;
      /** absolute ms, 0 = none */
      readonly expiresAt: number;
      readonly origin: string;
    }
  | { readonly kind: "del"; readonly key: Uint8Array; readonly writtenAt: number; readonly origin: string }
  | { readonly kind: "flush"; readonly writtenAt: number; readonly origin: string };

/**
 * Where a node's own writes go, field by field (no record object per write). Their origin is the
 * node itself; `key` and `value` are views that die after the call.
 */
export interface RecordSink {
  put(key: Uint8Array, value: Uint8Array, writtenAt: number, expiresAt: number): void;
  del(key: Uint8Array, writtenAt: number): void;
  flush(writtenAt: number): void;
}

/** Rough bytes a record holds in memory and on the wire, for queue bounds and batch sizes. */
export function recordSize(record: SyncRecord): number {
  const fixed = 32 + record.origin.length;
  if (record.kind === "put") return fixed + record.key.length + record.value.length;
  if (record.kind === "del") return fixed + record.key.length;
  return fixed;
}
