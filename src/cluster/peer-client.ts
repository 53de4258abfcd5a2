// Asks one peer over HTTP(S) with fetch: keep-alive connections, a hard per-request deadline
// (AbortSignal) that covers the body too, a byte limit on the answer, and errors classified so
// that an answer can say why a peer is missing (timeout, refused, bad answer, tls).

import { baseUrl, type PeerAddress } from "./address.ts";
import { failed, parseGetAnswer, type PeerOutcome } from "./peer-answer.ts";
import { AnswerTooLarge, CompressedAnswer, IDENTITY_ENCODING, NO_DECOMPRESSION, readCapped } from "./read-capped.ts";

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

/** A pong is a short envelope: a ping (health, shared by /health's readers) reads no more. */
const PING_ANSWER_BYTES = 64 * 1024;

export class PeerClient implements PeerFetcher {
  constructor(private readonly options: PeerClientOptions) {}

  getKey(address: PeerAddress, key: string): Promise<PeerOutcome> {
    // A lone surrogate (JSON "\ud800") makes encodeURIComponent throw; as UTF-8 it is U+FFFD,
    // which is what the Go original sent and what this node's own store holds for it.
    return this.request(address, `/data/?cmd=get&key=${encodeURIComponent(key.toWellFormed())}`, this.options.maxAnswerBytes, parseGetAnswer);
  }

  ping(address: PeerAddress): Promise<PeerOutcome> {
    return this.request(address, "/data/?cmd=ping", PING_ANSWER_BYTES, (body, status) => {
      const outcome = parseGetAnswer(body, status);
      // A pong is Status 200 with Data "PONG" and the zero time: any envelope with Status 200 will do.
      if (outcome.kind === "failed" && outcome.message.includes("KeyCreateTime")) return { kind: "missing" };
      return outcome;
    });
  }

  private async request(address: PeerAddress, path: string, maxAnswerBytes: number, parse: (body: string, status: number) => PeerOutcome): Promise<PeerOutcome> {
    const { timeoutMs } = this.options;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await fetch(baseUrl(address, this.options.https) + path, {
        signal,
        keepalive: true,
        // A peer's redirect is not followed: it could point the node at any address.
        redirect: "manual",
        headers: IDENTITY_ENCODING,
        ...NO_DECOMPRESSION,
        tls: this.options.insecureSkipVerify ? { rejectUnauthorized: false } : undefined,
      });
      if (response.status >= 300 && response.status < 400) {
        void response.body?.cancel().catch(() => {});
        return failed("bad answer", `peer answered a redirect (${response.status}), not followed`);
      }
      return parse(new TextDecoder().decode(await readCapped(response, maxAnswerBytes)), response.status);
    } catch (error) {
      if (error instanceof AnswerTooLarge) {
        // Refused unread by its declared length, at no cost: a peer configured for larger values
        // answers this key so, and is fine for every other. A body streamed past the limit was
        // read up to it, and an owlcache peer always declares its length: that one counts.
        const outcome = failed("bad answer", error.message);
        return error.declared !== undefined ? { ...outcome, peerAnswered: true } : outcome;
      }
      if (error instanceof CompressedAnswer) return failed("bad answer", error.message);
      if (signal.aborted) return failed("timeout", `no answer within ${timeoutMs} ms`);
      return classify(error);
    }
  }
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
