// Reads a peer's HTTP answer up to a byte limit, so a peer that sends without end costs at most
// the limit: a declared length over it is refused unread, a body streamed past it is cut off
// there. Shared by the group-read client and sync's.

import { readUpTo } from "../common/read-stream.ts";

export class AnswerTooLarge extends Error {
  constructor(
    readonly limit: number,
    /** the length the peer declared (refused unread), or undefined when the body ran past the limit */
    readonly declared: number | undefined,
  ) {
    super(declared === undefined ? `answer is over the ${limit}-byte limit` : `answer of ${declared} bytes is over the ${limit}-byte limit`);
  }
}

/** Asking peers for uncompressed answers keeps a declared length honest. */
export const IDENTITY_ENCODING = { "accept-encoding": "identity" };

/**
 * The body, or AnswerTooLarge. Only a plain body's declared length is believed: a compressed one
 * says nothing about its decompressed size (zip bombs), so it is counted as it is read.
 */
export async function readCapped(response: Response, limit: number): Promise<Uint8Array> {
  const declared = response.headers.get("content-length");
  const encoding = response.headers.get("content-encoding");
  if (declared !== null && (encoding === null || encoding === "identity")) {
    const length = Number(declared);
    if (length > limit) {
      void response.body?.cancel().catch(() => {});
      throw new AnswerTooLarge(limit, length);
    }
    // The length is known and allowed: the native reader is the cheapest way to the bytes.
    return new Uint8Array(await response.arrayBuffer());
  }
  if (!response.body) return new Uint8Array(0);
  const body = await readUpTo(response.body, limit);
  if (body === undefined) throw new AnswerTooLarge(limit, undefined);
  return body;
}

/**
 * Up to `limit` bytes of the body, the rest left unread (the reason a peer gives with an error
 * status: enough to log, never the whole of a body that may not end).
 */
export async function readPrefix(response: Response, limit: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
    }
  } finally {
    void reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, limit);
}
