// The sending side of sync over HTTP(S): signs each request, posts it with a timeout, reads the
// answer up to a limit and checks its signature before handing its body back. Issue 5's peer
// client can replace this behind the same PeerTransport interface; sync needs only this much.

import type { Clock } from "../../store/types.ts";
import { AnswerTooLarge, CompressedAnswer, IDENTITY_ENCODING, NO_DECOMPRESSION, readCapped, readPrefix } from "../read-capped.ts";
import { answerMac, HEADER_MAC, HEADER_NODE, HEADER_NONCE, HEADER_TIME, macEqual, sign } from "./auth.ts";
import { peerUrl, type PeerTransport, type SyncPath } from "./types.ts";

export interface FetchTransportOptions {
  readonly authKey: string;
  /** ms per request (HttpClientRequestTimeout) */
  readonly timeoutMs: number;
  /** HttpsClient_InsecureSkipVerify */
  readonly insecure: boolean;
  /** Open_Https: the scheme for peer addresses written without one */
  readonly https: boolean;
  readonly self: () => string;
  readonly clock: Clock;
  /** the longest answer read for a path (syncAnswerLimit); a longer one is refused: AnswerTooLarge */
  readonly maxAnswerBytes: (path: SyncPath) => number;
}

/** bytes of an error answer's body kept for the message */
const ERROR_REASON_BYTES = 200;

export class SyncRequestError extends Error {}

export function fetchTransport(options: FetchTransportOptions): PeerTransport {
  return {
    async request(peer: string, path: SyncPath, body: Uint8Array): Promise<Uint8Array> {
      const sig = sign(options.authKey, path, body, options.clock.now());
      const init: RequestInit & { tls?: { rejectUnauthorized: boolean } } = {
        method: "POST",
        body,
        headers: {
          ...IDENTITY_ENCODING,
          "content-type": "application/octet-stream",
          [HEADER_TIME]: sig.time,
          [HEADER_NONCE]: sig.nonce,
          [HEADER_MAC]: sig.mac,
          [HEADER_NODE]: options.self(),
        },
        signal: AbortSignal.timeout(options.timeoutMs),
        ...NO_DECOMPRESSION,
      };
      if (options.insecure) init.tls = { rejectUnauthorized: false };
      const response = await fetch(peerUrl(peer, path, options.https), init);
      if (response.status !== 200) {
        // The status says it: only the start of the reason is read, whatever the peer sends.
        const reason = await readPrefix(response, ERROR_REASON_BYTES).catch(() => new Uint8Array(0));
        throw new SyncRequestError(`${path} answered ${response.status}: ${new TextDecoder().decode(reason)}`);
      }
      // Read up to the longest answer a healthy peer sends, no further (see syncAnswerLimit): a
      // peer sending without end costs that much, not what a timeout's worth of bytes fills.
      let answer: Uint8Array;
      try {
        answer = await readCapped(response, options.maxAnswerBytes(path));
      } catch (error) {
        if (error instanceof AnswerTooLarge || error instanceof CompressedAnswer) error.message = `${path} ${error.message}`;
        throw error;
      }
      const mac = response.headers.get(HEADER_MAC) ?? "";
      if (!macEqual(mac, answerMac(options.authKey, sig.nonce, answer))) throw new SyncRequestError(`${path} answer has a bad signature`);
      return answer;
    },
  };
}
