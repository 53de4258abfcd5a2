// Asks one peer over HTTP(S) with fetch: keep-alive connections, a hard per-request deadline
// (AbortSignal) that covers the body too, a byte limit on the answer, and errors classified so
// that an answer can say why a peer is missing (timeout, refused, bad answer, tls).

import { baseUrl, type PeerAddress } from "./address.ts";
import { failed, parseGetAnswer, type PeerOutcome } from "./peer-answer.ts";

export interface PeerClientOptions {
  /** HttpClientRequestTimeout: the whole request, body included */
  readonly timeoutMs: number;
  /** the largest answer read; anything longer is a bad answer, read no further */
  readonly maxAnswerBytes: number;
  /** Open_Https: the scheme for addresses written without one */
  readonly https: boolean;
  /** HttpsClient_InsecureSkipVerify */
  readonly insecureSkipVerify: boolean;
}

/** How a peer's key is fetched; the group reader depends on this, tests may give it a real fake. */
export interface PeerFetcher {
  getKey(address: PeerAddress, key: string): Promise<PeerOutcome>;
  /** A cheap request showing whether the peer answers (health). */
  ping(address: PeerAddress): Promise<PeerOutcome>;
}

class TooLarge extends Error {}

/** Peers (owlcache nodes) answer uncompressed; asking for it keeps sizes honest. */
const IDENTITY = { "accept-encoding": "identity" };

export class PeerClient implements PeerFetcher {
  constructor(private readonly options: PeerClientOptions) {}

  getKey(address: PeerAddress, key: string): Promise<PeerOutcome> {
    return this.request(address, `/data/?cmd=get&key=${encodeURIComponent(key)}`, parseGetAnswer);
  }

  ping(address: PeerAddress): Promise<PeerOutcome> {
    return this.request(address, "/data/?cmd=ping", (body) => {
      const outcome = parseGetAnswer(body);
      // A pong is Status 200 with Data "PONG" and the zero time: any envelope with Status 200 will do.
      if (outcome.kind === "failed" && outcome.message.includes("KeyCreateTime")) return { kind: "missing" };
      return outcome;
    });
  }

  private async request(address: PeerAddress, path: string, parse: (body: string) => PeerOutcome): Promise<PeerOutcome> {
    const { timeoutMs, maxAnswerBytes } = this.options;
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response | undefined;
    try {
      response = await fetch(baseUrl(address, this.options.https) + path, {
        signal,
        keepalive: true,
        // A peer's redirect is not followed: it could point the node at any address.
        redirect: "manual",
        headers: IDENTITY,
        tls: this.options.insecureSkipVerify ? { rejectUnauthorized: false } : undefined,
      });
      if (response.status >= 300 && response.status < 400) {
        void response.body?.cancel().catch(() => {});
        return failed("bad answer", `peer answered a redirect (${response.status}), not followed`);
      }
      const declared = response.headers.get("content-length");
      const encoding = response.headers.get("content-encoding");
      // A compressed body's length says nothing about its decompressed size (zip bombs): only a
      // plain body of a known, allowed length takes the fast path.
      if (declared !== null && (encoding === null || encoding === "identity")) {
        if (Number(declared) > maxAnswerBytes) {
          void response.body?.cancel().catch(() => {});
          // Refused unread, at no cost: a peer configured for larger values answers this key so,
          // and is fine for every other. (A body streamed past the limit is read up to it, and
          // an owlcache peer always declares its length: that one counts against the peer.)
          return { ...failed("bad answer", `answer of ${declared} bytes is over the ${maxAnswerBytes}-byte limit`), peerAnswered: true };
        }
        // The length is known and allowed: the native reader is the cheapest way to the text.
        return parse(await response.text());
      }
      return parse(await readLimited(response, maxAnswerBytes));
    } catch (error) {
      if (error instanceof TooLarge) {
        void response?.body?.cancel().catch(() => {});
        return failed("bad answer", `answer is over the ${maxAnswerBytes}-byte limit`);
      }
      if (signal.aborted) return failed("timeout", `no answer within ${timeoutMs} ms`);
      return classify(error);
    }
  }
}

/** Reads the body up to `limit` bytes (counted after any decompression); throws TooLarge beyond. */
async function readLimited(response: Response, limit: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      void reader.cancel().catch(() => {});
      throw new TooLarge();
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
}

function classify(error: unknown): PeerOutcome {
  const code = typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : "";
  const message = error instanceof Error ? error.message : String(error);
  if (code === "ECONNREFUSED" || code === "ConnectionRefused") return failed("refused", "connection refused");
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code) || /certificate/i.test(message)) {
    return failed("tls", `certificate not accepted (${code || message})`);
  }
  if (code === "ECONNRESET" || code === "ConnectionClosed") return failed("error", "connection closed before an answer");
  return failed("error", code ? `${code}: ${message}` : message);
}
