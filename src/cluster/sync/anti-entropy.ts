// One anti-entropy round with one peer: compare root hashes (equal → done, a few dozen bytes);
// else compare bucket hashes, and again a moment later: only buckets that differ both times are
// listed key by key (a bucket that differs only because a write is in flight settles by itself,
// so steady write traffic does not turn every round into a listing of the keyspace). Then pull
// what the peer has newer and push what it lacks. Run by each node with each peer every interval.

import { binaryStringToBytes } from "../../store/bytes.ts";
import { AnswerTooLarge } from "../read-capped.ts";
import { decodeBatch, encodeBatch } from "./codec.ts";
import type { KeyVersion } from "./digest.ts";
import type { Replica } from "./replica.ts";
import { recordSize, type SyncRecord } from "./records.ts";
import {
  json, listedToVersion, MAX_FETCH_KEYS, parseBucketBytes, parseDigest, parseJson, parseListed,
  type DigestAnswer, type ListedKey,
} from "./serve.ts";
import type { PeerTransport, SyncPath } from "./types.ts";
import { compareVersions, coveredBy, newerWatermark } from "./version.ts";

/**
 * buckets listed per request: ~250 keys each at a million keys, so an answer holds ~8,000 keys
 * (~0.6 MB), which either side parses or encodes in a few ms of one turn of its event loop (a
 * listing of 128 buckets took ~20 ms to parse)
 */
const BUCKETS_PER_LISTING = 32;
/** records per push or pull: what one request carries at most */
const RECORDS_PER_REQUEST = 1_000;
/** a pull asks for at most this many value bytes at once (one larger value goes alone) */
const PULL_BYTES = 4 * 1024 * 1024;
/** base64 key bytes per fetch request, far below any peer's body limit (≥ 64 KiB) */
const FETCH_KEY_BYTES = 32 * 1024;
/** a fetch's record framing, keys and origins beside its values (≤ 1,000 records): well below this */
const FETCH_FRAMING_BYTES = 1024 * 1024;
/** batch counts and digests (4096 bucket hashes: ~22 KB) are this small whatever the keyspace */
const SMALL_ANSWER_BYTES = 64 * 1024;

/**
 * The longest answer a healthy peer sends to a request of `path`, what sync's transport reads at
 * most: a fetch carries up to PULL_BYTES of values, or one larger value alone (≤ MaxValueBytes),
 * with their framing. A listing grows with the peer's keys, and a fetch's values may have grown
 * since they were listed: one a peer declares longer than this is asked for in halves
 * (`askInHalves`). With the default 16 MiB values: 21 MiB.
 */
export function syncAnswerLimit(path: SyncPath, maxValueBytes: number): number {
  if (path === "/sync/batch" || path === "/sync/digest") return SMALL_ANSWER_BYTES;
  return PULL_BYTES + maxValueBytes + FETCH_FRAMING_BYTES;
}

/**
 * Runs `ask` over `items` in one request or, when the peer declares its answer longer than sync
 * reads (AnswerTooLarge with a declared length: nothing was read), over each half in turn. A body
 * streamed past the limit with no length declared is a failure: it is not asked again.
 */
async function askInHalves<T>(items: readonly T[], ask: (part: readonly T[]) => Promise<void>): Promise<void> {
  try {
    await ask(items);
  } catch (error) {
    if (!(error instanceof AnswerTooLarge) || error.declared === undefined || items.length < 2) throw error;
    const half = Math.ceil(items.length / 2);
    await askInHalves(items.slice(0, half), ask);
    await askInHalves(items.slice(half), ask);
  }
}

/** Splits items into runs of at most `count` items and `bytes` bytes (an oversized item alone). */
function chunks<T>(items: readonly T[], size: (item: T) => number, count: number, bytes: number): T[][] {
  const out: T[][] = [];
  let run: T[] = [];
  let runBytes = 0;
  for (const item of items) {
    const s = size(item);
    if (run.length > 0 && (run.length >= count || runBytes + s > bytes)) {
      out.push(run);
      run = [];
      runBytes = 0;
    }
    run.push(item);
    runBytes += s;
  }
  if (run.length > 0) out.push(run);
  return out;
}

/** The peer is sweeping a flush: its digest is half done, the round is tried again soon. */
export class PeerSweeping extends Error {
  constructor(peer: string) {
    super(`${peer} is sweeping a flush`);
  }
}

export interface RoundResult {
  /** the roots matched: nothing to do */
  equal: boolean;
  differingBuckets: number;
  pulled: number;
  pushed: number;
  /** bytes sent + received */
  bytes: number;
}

export interface RoundLimits {
  readonly tombTtlMs: number;
  /** bytes of records per push (the peer's body limit) */
  readonly pushBytes: number;
  /** wait between the two bucket comparisons (longer than replication normally takes) */
  readonly confirm: () => Promise<void>;
}

export async function antiEntropyRound(replica: Replica, transport: PeerTransport, peer: string, limits: RoundLimits): Promise<RoundResult> {
  const result: RoundResult = { equal: false, differingBuckets: 0, pulled: 0, pushed: 0, bytes: 0 };
  const call = async (path: "/sync/digest" | "/sync/keys" | "/sync/fetch" | "/sync/batch", body: Uint8Array) => {
    const answer = await transport.request(peer, path, body);
    result.bytes += body.length + answer.length;
    return answer;
  };
  const digest = replica.digest;
  /**
   * Differing bucket numbers, or undefined when the roots match. Digests are compared only while
   * neither node sweeps a flush (its buckets are half done then): this one waits for its own.
   */
  const compare = async (): Promise<Set<number> | undefined> => {
    await replica.flushSweep.idle();
    const answer: DigestAnswer = parseDigest(parseJson(await call("/sync/digest", json({ root: digest.root(), watermark: digest.watermark }))));
    if (newerWatermark(answer.watermark, digest.watermark)) {
      replica.applyFlush(answer.watermark);
      if (replica.flushSweep.running) return compare();
    } else if (newerWatermark(digest.watermark, answer.watermark)) {
      const w = digest.watermark;
      await call("/sync/batch", encodeBatch([{ kind: "flush", writtenAt: w.at, origin: w.origin }], false));
    }
    if (answer.sweeping) throw new PeerSweeping(peer);
    if (answer.buckets === undefined) return undefined;
    const theirs = parseBucketBytes(answer.buckets);
    const out = new Set<number>();
    for (let b = 0; b < theirs.length; b++) if (theirs[b] !== digest.buckets[b]) out.add(b);
    return out;
  };
  const first = await compare();
  if (first === undefined) {
    result.equal = true;
    return result;
  }
  await limits.confirm();
  const second = await compare();
  if (second === undefined) {
    result.equal = true;
    return result;
  }
  const differing = [...second].filter((b) => first.has(b));
  result.differingBuckets = differing.length;

  // Both sides find the implicit keys of all differing buckets in one pass over their store (the
  // first listing request names them all), not one pass per listing.
  const index = differing.length > 0 ? await replica.indexImplicit(differing) : undefined;
  try {
    await listAndRepair();
  } finally {
    if (index) replica.dropIndex(index);
  }
  return result;

  async function listAndRepair(): Promise<void> {
    for (let i = 0; i < differing.length; i += BUCKETS_PER_LISTING) {
      const chunk = differing.slice(i, i + BUCKETS_PER_LISTING);
      const listed: ListedKey[] = [];
      await askInHalves(chunk, async (buckets) => {
        // (the first request names all the round's buckets, so the peer finds them in one pass)
        const request = i === 0 && buckets === chunk && differing.length > BUCKETS_PER_LISTING ? { buckets, round: differing } : { buckets };
        for (const e of parseListed(parseJson(await call("/sync/keys", json(request))))) listed.push(e);
      });
      // Every pass over the listed keys below goes by slices, with a turn of the event loop
      // between them: at a million keys a listing holds ~30,000 (see Replica.listBuckets).
      const slicer = replica.slicer();
      const now = replica.keyspace.now();
      const remote = new Map<string, KeyVersion>();
      const sizes = new Map<string, number>();
      for (const e of listed) {
        if (slicer.due()) await slicer.pause();
        let v = listedToVersion(e);
        // A value that has expired counts as the tombstone it leaves (Replica.onExpired), as this
        // node's own expired values do; tombstones past their grace count as absent on both sides.
        if (!v.tomb && v.expiresAt !== 0 && v.expiresAt <= now) v = { writtenAt: v.writtenAt, origin: v.origin, tomb: true, valueHash: 0, expiresAt: 0 };
        if (v.tomb && v.writtenAt + limits.tombTtlMs <= now) continue;
        remote.set(Buffer.from(e[0], "base64").toString("latin1"), v);
        sizes.set(e[0], e[6] + e[0].length);
      }
      const local = new Map<string, KeyVersion>();
      await replica.listBuckets(chunk, local, slicer);

      const pull: string[] = [];
      for (const [k, v] of remote) {
        if (slicer.due()) await slicer.pause();
        const mine = local.get(k);
        if (coveredBy(digest.watermark, v.writtenAt, v.origin)) continue;
        if (!mine || compareVersions(v, mine) > 0) pull.push(Buffer.from(k, "latin1").toString("base64"));
      }
      const pullBytes = (k: string): number => sizes.get(k) ?? 0;
      for (const keys of chunks(pull, (k) => k.length, Math.min(RECORDS_PER_REQUEST, MAX_FETCH_KEYS), FETCH_KEY_BYTES)) {
        for (const part of chunks(keys, pullBytes, RECORDS_PER_REQUEST, PULL_BYTES)) {
          await askInHalves(part, async (some) => {
            const batch = decodeBatch(await call("/sync/fetch", json({ keys: some })));
            result.pulled += replica.apply(batch.records, false).applied;
          });
        }
      }
      // What the peer lacks is read and sent a request at a time (RECORDS_PER_REQUEST records,
      // pushBytes bytes), not all read first: each key is read as it stands when its request goes.
      let push: SyncRecord[] = [];
      let pushBytes = 0;
      const send = async (): Promise<void> => {
        await call("/sync/batch", encodeBatch(push, false));
        result.pushed += push.length;
        push = [];
        pushBytes = 0;
      };
      for (const [k, v] of local) {
        if (slicer.due()) await slicer.pause();
        const theirsV = remote.get(k);
        if (theirsV && compareVersions(v, theirsV) <= 0) continue;
        const record = replica.recordOf(binaryStringToBytes(k));
        if (!record) continue;
        const size = recordSize(record);
        if (push.length > 0 && (push.length >= RECORDS_PER_REQUEST || pushBytes + size > limits.pushBytes)) await send();
        push.push(record);
        pushBytes += size;
      }
      if (push.length > 0) await send();
    }
  }
}
