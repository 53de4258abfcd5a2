// The one-shot algorithm Replica.applyFlush used before the flush sweep (src/cluster/sync/
// flush-sweep.ts), kept as the oracle of its differential test: one pass over the store and over
// every bucket of the digest, in one go. Moved here unchanged but for the Replica's public names.

import type { Replica } from "../../src/cluster/sync/replica.ts";
import { bucketOf } from "../../src/cluster/sync/digest.ts";
import { coveredBy, newerWatermark, type Watermark } from "../../src/cluster/sync/version.ts";
import { binaryStringToBytes, bytesToBinaryString } from "../../src/store/bytes.ts";

/** A remote flush: drop every version written before it. */
export function flushAtOnce(replica: Replica, watermark: Watermark): boolean {
  const { digest, keyspace } = replica;
  if (!newerWatermark(watermark, digest.watermark)) return false;
  digest.watermark = watermark;
  replica.journal?.watermark(watermark);
  // implicit keys: found in the store (collected first: no writes while iterating it)
  const covered: Uint8Array[] = [];
  for (const [key, entry] of keyspace.store.entries()) {
    const bucket = bucketOf(key);
    if (digest.implicit[bucket] === 0 || (digest.hasTracked(bucket) && digest.isTracked(bucket, bytesToBinaryString(key)))) continue;
    if (coveredBy(watermark, entry.writtenAt, digest.implicitOrigin(bucket, entry.writtenAt))) covered.push(key);
  }
  // (dropCovered: the delete, in the append log and not sent on, and the key's share out of the digest)
  for (const key of covered) replica.dropCovered(key, watermark.at);
  for (let bucket = 0; bucket < digest.buckets.length; bucket++) {
    for (const k of [...digest.liveKeys(bucket)]) {
      const key = binaryStringToBytes(k);
      const v = replica.versionOf(bucket, k, key);
      if (v && coveredBy(watermark, v.writtenAt, v.origin)) {
        replica.dropCovered(key, watermark.at);
        digest.forget(bucket, k);
      }
    }
    for (const k of [...digest.tombKeys(bucket)]) {
      const t = digest.tombOf(bucket, k);
      if (t && coveredBy(watermark, t.at, t.origin)) digest.forget(bucket, k);
    }
  }
  return true;
}
