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

/** A peer's answer compressed though it was asked for none: never decoded (a zip bomb may be). */
export class CompressedAnswer extends Error {
  constructor(readonly encoding: string) {
    super(`answer is compressed (Content-Encoding: ${encoding}) though identity was asked for; not decoded`);
  }
}

/** Asking peers for uncompressed answers keeps a declared length honest. */
export const IDENTITY_ENCODING = { "accept-encoding": "identity" };

/**
 * Bun's fetch option that leaves a body as it came: by default fetch inflates gzip, deflate, br
 * and zstd itself, before any limit of ours sees a byte, so a small body could fill the memory.
 * (Not in bun-types' RequestInit, hence the spread of a constant.)
 */
export const NO_DECOMPRESSION = { decompress: false } as const;

/** The answer's Content-Encoding when it is one other than identity, else undefined. */
export function foreignEncoding(response: Response): string | undefined {
  const encoding = response.headers.get("content-encoding")?.trim();
  return encoding === undefined || encoding === "" || encoding.toLowerCase() === "identity" ? undefined : encoding;
}

/**
 * The body, or AnswerTooLarge, or CompressedAnswer for a body in any Content-Encoding but identity
 * (fetch is told not to decode one: NO_DECOMPRESSION). A declared length is then the body's size.
 */
export async function readCapped(response: Response, limit: number): Promise<Uint8Array> {
  const encoding = foreignEncoding(response);
  if (encoding !== undefined) {
    void response.body?.cancel().catch(() => {});
    throw new CompressedAnswer(encoding);
  }
  const declared = response.headers.get("content-length");
  if (declared !== null) {
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
  const encoding = foreignEncoding(response);
  if (encoding !== undefined) {
    void response.body?.cancel().catch(() => {});
    return new TextEncoder().encode(`(a body in Content-Encoding ${encoding.slice(0, 40)}, not read)`);
  }
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
