// The sending side of sync over HTTP(S): signs each request, posts it with a timeout, and checks
// the answer's signature before handing its body back. Stream batches to plain-HTTP peers travel
// on a kept-alive connection of our own (http1.ts); everything else through fetch. Issue 5's peer client can replace this
// behind the same PeerTransport interface; sync needs only this much of it.

import type { Clock } from "../../store/types.ts";
import { answerMac, HEADER_MAC, HEADER_NODE, HEADER_NONCE, HEADER_TIME, macEqual, sign } from "./auth.ts";
import { Http1Connection, Http1Unsupported } from "./http1.ts";
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

/**
 * The connection for a peer's stream batches, when it can have one: plain HTTP peers only (HTTPS
 * goes through fetch, which also verifies certificates as configured).
 */
function streamConnection(connections: Map<string, Http1Connection | null>, url: string, timeoutMs: number): Http1Connection | undefined {
  let c = connections.get(url);
  if (c === undefined) {
    const u = new URL(url);
    c = u.protocol === "http:" ? new Http1Connection(u.hostname, Number(u.port || 80), timeoutMs) : null;
    connections.set(url, c);
  }
  return c ?? undefined;
}

export function fetchTransport(options: FetchTransportOptions): PeerTransport & { close(): void } {
  /** per batch URL: its keep-alive connection, or null once the peer needed fetch */
  const connections = new Map<string, Http1Connection | null>();
  return {
    close() {
      for (const c of connections.values()) c?.close();
      connections.clear();
    },
    async request(peer: string, path: SyncPath, body: Uint8Array): Promise<Uint8Array> {
      const sig = sign(options.authKey, path, body, options.clock.now());
      const url = peerUrl(peer, path, options.https);
      // Stream batches (one in flight per peer) go over a kept-alive connection of our own; the
      // rest (anti-entropy, a batch while the connection is busy) through fetch.
      const connection = path === "/sync/batch" ? streamConnection(connections, url, options.timeoutMs) : undefined;
      if (connection && !connection.busy) {
        try {
          const answer = await connection.post(path, {
            "content-type": "application/octet-stream",
            [HEADER_TIME]: sig.time,
            [HEADER_NONCE]: sig.nonce,
            [HEADER_MAC]: sig.mac,
            [HEADER_NODE]: options.self(),
          }, body);
          return checked(path, answer.status, answer.body, answer.headers.get(HEADER_MAC) ?? "", sig.nonce);
        } catch (error) {
          if (!(error instanceof Http1Unsupported)) throw error;
          connection.close();
          connections.set(url, null); // this peer answers in ways only fetch handles: fetch from now on
        }
      }
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
      const response = await fetch(url, init);
      const answer = new Uint8Array(await response.arrayBuffer());
      return checked(path, response.status, answer, response.headers.get(HEADER_MAC) ?? "", sig.nonce);
    },
  };

  /** The answer's body when it is a 200 signed with our key over the request's nonce. */
  function checked(path: SyncPath, status: number, answer: Uint8Array, mac: string, nonce: string): Uint8Array {
    if (status !== 200) {
      throw new SyncRequestError(`${path} answered ${status}: ${new TextDecoder().decode(answer.subarray(0, 200))}`);
    }
    if (!macEqual(mac, answerMac(options.authKey, nonce, answer))) throw new SyncRequestError(`${path} answer has a bad signature`);
    return answer;
  }
}
