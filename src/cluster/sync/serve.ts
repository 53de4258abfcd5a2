// The answering side of sync: what a node replies to a peer's (already authenticated) batch,
// digest, key-listing and fetch requests. Pure request → answer over the Replica; no HTTP here.

import { BUCKETS, type KeyVersion } from "./digest.ts";
import { encodeBatch } from "./codec.ts";
import { LIST_SLICE, type Replica } from "./replica.ts";
import type { SyncRecord } from "./records.ts";
import type { SyncPath } from "./types.ts";
import type { Watermark } from "./version.ts";

/** keys per fetch request: bounds one answer's size and the time the event loop spends on it */
export const MAX_FETCH_KEYS = 2_000;

export class BadSyncRequest extends Error {}

export interface DigestRequest {
  root: number;
  watermark: Watermark;
}

export interface DigestAnswer {
  root: number;
  watermark: Watermark;
  /** base64 of the bucket hashes (little-endian u32s), only when the roots differ */
  buckets?: string;
  /** the node is sweeping a flush (its buckets are half done): no buckets, ask again later */
  sweeping?: true;
}

/** [key base64, writtenAt, expiresAt, origin, tomb 0/1, valueHash, value bytes] */
export type ListedKey = [string, number, number, string, number, number, number];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function json(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(body));
  } catch {
    throw new BadSyncRequest("body is not JSON");
  }
}

function isWatermark(w: unknown): w is Watermark {
  const m = w as Watermark;
  return typeof m === "object" && m !== null && Number.isSafeInteger(m.at) && m.at >= 0 && typeof m.origin === "string";
}

export function parseDigest(value: unknown): DigestRequest & { buckets?: string } {
  const d = value as DigestAnswer;
  if (typeof d !== "object" || d === null || !Number.isInteger(d.root) || !isWatermark(d.watermark)) {
    throw new BadSyncRequest("digest needs root and watermark");
  }
  if (d.buckets !== undefined && typeof d.buckets !== "string") throw new BadSyncRequest("buckets must be base64");
  if (d.sweeping !== undefined && d.sweeping !== true) throw new BadSyncRequest("sweeping must be true when given");
  return d;
}

export function bucketBytes(hashes: Uint32Array): string {
  return Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength).toString("base64");
}

export function parseBucketBytes(text: string): Uint32Array {
  const bytes = Buffer.from(text, "base64");
  if (bytes.length !== BUCKETS * 4) throw new BadSyncRequest(`expected ${BUCKETS} bucket hashes`);
  return new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

export function listedToVersion(e: ListedKey): KeyVersion {
  return { writtenAt: e[1], expiresAt: e[2], origin: e[3], tomb: e[4] === 1, valueHash: e[5] };
}

export function parseListed(value: unknown): ListedKey[] {
  const entries = (value as { entries?: unknown }).entries;
  if (!Array.isArray(entries)) throw new BadSyncRequest("entries missing");
  for (const e of entries) {
    if (
      !Array.isArray(e) || e.length !== 7 || typeof e[0] !== "string" || !Number.isSafeInteger(e[1]) ||
      !Number.isSafeInteger(e[2]) || typeof e[3] !== "string" || (e[4] !== 0 && e[4] !== 1) || !Number.isInteger(e[5]) ||
      !Number.isSafeInteger(e[6]) || e[6] < 0
    ) {
      throw new BadSyncRequest("malformed key entry");
    }
  }
  return entries as ListedKey[];
}

export class SyncResponder {
  constructor(private readonly replica: Replica) {}

  /**
   * Rejects with BadSyncRequest or CodecError (codec.ts) for malformed input; nothing is applied
   * then. A listing gives the event loop turns while it reads the store (Replica.listBuckets).
   */
  async answer(path: SyncPath, body: Uint8Array): Promise<Uint8Array> {
    switch (path) {
      case "/sync/batch":
        return json(this.replica.applyBatch(body));
      case "/sync/digest": {
        const request = parseDigest(parseJson(body));
        const digest = this.replica.digest;
        const root = digest.root();
        const answer: DigestAnswer = { root, watermark: digest.watermark };
        // (a node of an older build takes an answer without buckets for equal roots: one round lost)
        if (this.replica.flushSweep.running) answer.sweeping = true;
        else if (request.root !== root) answer.buckets = bucketBytes(digest.buckets);
        return json(answer);
      }
      case "/sync/keys": {
        const request = parseJson(body) as { buckets?: unknown; round?: unknown };
        const isBuckets = (list: unknown): list is number[] =>
          Array.isArray(list) && list.length <= BUCKETS && list.every((b) => Number.isInteger(b) && b >= 0 && b < BUCKETS);
        if (!isBuckets(request.buckets) || (request.round !== undefined && !isBuckets(request.round))) {
          throw new BadSyncRequest(`buckets must be a list of integers below ${BUCKETS}`);
        }
        // The first listing of a round names all its buckets: one pass over the store for them all.
        if (request.round !== undefined) await this.replica.indexImplicit(request.round, true);
        return this.listingAnswer(await this.list(request.buckets));
      }
      case "/sync/fetch": {
        const keys = (parseJson(body) as { keys?: unknown }).keys;
        if (!Array.isArray(keys) || keys.length > MAX_FETCH_KEYS || !keys.every((k) => typeof k === "string")) {
          throw new BadSyncRequest(`keys must be a list of at most ${MAX_FETCH_KEYS} base64 strings`);
        }
        const records: SyncRecord[] = [];
        for (const k of keys as string[]) {
          const key = new Uint8Array(Buffer.from(k, "base64"));
          const record = key.length > 0 ? this.replica.recordOf(key) : undefined;
          if (record) records.push(record);
        }
        return encodeBatch(records, false);
      }
    }
  }

  /**
   * `{"entries":[…]}`, the same bytes as `json`, encoded LIST_SLICE entries per turn of the event
   * loop: a peer may ask for up to every bucket at once (an older node asks for 128, ~30,000 keys
   * at a million: ~10 ms of JSON.stringify in one turn).
   */
  private async listingAnswer(entries: readonly ListedKey[]): Promise<Uint8Array> {
    const parts: string[] = [];
    for (let i = 0; i < entries.length; i += LIST_SLICE) {
      if (i > 0) await this.replica.turn();
      parts.push(JSON.stringify(entries.slice(i, i + LIST_SLICE)).slice(1, -1));
    }
    return encoder.encode(`{"entries":[${parts.join(",")}]}`);
  }

  async list(buckets: readonly number[]): Promise<ListedKey[]> {
    const versions = new Map<string, KeyVersion>();
    const slicer = this.replica.slicer();
    await this.replica.listBuckets(buckets, versions, slicer);
    const out: ListedKey[] = [];
    for (const [k, v] of versions) {
      if (slicer.due()) await slicer.pause();
      const key = Buffer.from(k, "latin1");
      const size = v.tomb ? 0 : (this.replica.keyspace.store.get(key)?.value.length ?? 0);
      out.push([key.toString("base64"), v.writtenAt, v.expiresAt, v.origin, v.tomb ? 1 : 0, v.valueHash >>> 0, size]);
    }
    return out;
  }
}
