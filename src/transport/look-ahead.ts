// The stream servers' look-ahead for the store's prefetch: the first argument (mostly the key)
// of the requests about to run, handed to the engine before they run so that the store's cache
// misses overlap instead of coming one request at a time — within a pipelined chunk, and across
// the connections of one turn of the event loop.

import type { Engine } from "../commands/engine.ts";

/** A protocol's look-ahead: [start, end) of the first argument of each complete request from `from` on, in `at`; how many. */
export type LookAhead = (buf: Uint8Array, from: number, at: Int32Array) => number;

/** Keys a chunk's look-ahead passes to the store at most: a pipelined chunk's worth. */
const LOOKAHEAD_KEYS = 64;
const lookahead = new Int32Array(2 * LOOKAHEAD_KEYS);
/** Below this a chunk holds one request, with nothing to look ahead to. */
const LOOKAHEAD_MIN_BYTES = 32;

/**
 * Before a chunk runs: finds the first argument of each request in it (`find`, the protocol's
 * look-ahead) and lets the engine prefetch those keys, so that the store's cache misses for a
 * pipeline overlap instead of coming one request at a time.
 */
export function prefetchChunk(engine: Engine, chunk: Uint8Array, find: LookAhead): void {
  if (chunk.length < LOOKAHEAD_MIN_BYTES || !engine.wantsPrefetch) return;
  engine.prefetch(chunk, lookahead, find(chunk, 0, lookahead)); // (fewer than two keys: nothing to overlap, ignored)
}

/** Most bytes of a key `prefetchFirstKeys` copies (longer ones are left out). */
const SCRATCH_KEY_BYTES = 64;
const scratchKeys = new Uint8Array(LOOKAHEAD_KEYS * SCRATCH_KEY_BYTES);
const firstKey = new Int32Array(2);

/**
 * The turn's look-ahead across connections: the first argument of each queued chunk (copied
 * into one buffer, as `prefetch` takes keys from one) goes to the engine's prefetch, so the
 * lookups of clients that send one request at a time overlap their cache misses as a pipeline's do.
 */
export function prefetchFirstKeys(engine: Engine, conns: readonly { readonly input: { readonly find: LookAhead } }[], chunks: Uint8Array[]): void {
  let count = 0;
  let used = 0;
  for (let i = 0; i < conns.length && count < LOOKAHEAD_KEYS; i++) {
    const chunk = chunks[i]!;
    if (conns[i]!.input.find(chunk, 0, firstKey) === 0) continue;
    const start = firstKey[0]!;
    const end = firstKey[1]!;
    if (end - start > SCRATCH_KEY_BYTES) continue;
    lookahead[2 * count] = used;
    for (let j = start; j < end; j++) scratchKeys[used++] = chunk[j]!;
    lookahead[2 * count + 1] = used;
    count++;
  }
  engine.prefetch(scratchKeys, lookahead, count);
}
