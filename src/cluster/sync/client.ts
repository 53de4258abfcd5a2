// The sending side of sync over HTTP(S): signs each request, posts it with a timeout, and checks
// the answer's signature before handing its body back. Issue 5's peer client can replace this
// behind the same PeerTransport interface; sync needs only this much of it.

import type { Clock } from "../../store/types.ts";
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
}

export class SyncRequestError extends Error {}

export function fetchTransport(options: FetchTransportOptions): PeerTransport {
  return {
    async request(peer: string, path: SyncPath, body: Uint8Array): Promise<Uint8Array> {
      const sig = sign(options.authKey, path, body, options.clock.now());
      const init: RequestInit & { tls?: { rejectUnauthorized: boolean } } = {
        method: "POST",
        body,
        headers: {
          "content-type": "application/octet-stream",
          [HEADER_TIME]: sig.time,
          [HEADER_NONCE]: sig.nonce,
          [HEADER_MAC]: sig.mac,
          [HEADER_NODE]: options.self(),
        },
        signal: AbortSignal.timeout(options.timeoutMs),
      };
      if (options.insecure) init.tls = { rejectUnauthorized: false };
      const response = await fetch(peerUrl(peer, path, options.https), init);
      const answer = new Uint8Array(await response.arrayBuffer());
      if (response.status !== 200) {
        throw new SyncRequestError(`${path} answered ${response.status}: ${new TextDecoder().decode(answer.subarray(0, 200))}`);
      }
      const mac = response.headers.get(HEADER_MAC) ?? "";
      if (!macEqual(mac, answerMac(options.authKey, sig.nonce, answer))) throw new SyncRequestError(`${path} answer has a bad signature`);
      return answer;
    },
  };
}
