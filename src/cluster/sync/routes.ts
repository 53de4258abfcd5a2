// The sync endpoints: POST /sync/batch, /digest, /keys, /fetch (raw bodies, authenticated by HMAC;
// size capped by the HTTP server) as plain Bun routes, and GET /sync/status (the /health section)
// in an Elysia plugin for the HTTP app (issue 3). The POST routes skip Elysia: peers are their
// only callers and they need none of its hooks. Going around it took a quarter to a third off
// what a peer spends on a request apart from its records (bench/sync-peer.ts).
// Refusals are logged once per (peer, reason) change, not once per request.

import { Elysia } from "elysia";
import type { Logger } from "../../log/logger.ts";
import type { DirectPost } from "../../transport/http/server.ts";
import type { Clock } from "../../store/types.ts";
import { answerMac, HEADER_MAC, HEADER_NODE, HEADER_NONCE, HEADER_TIME, RequestVerifier, type AuthFailure } from "./auth.ts";
import { CodecError } from "./codec.ts";
import { syncHealthSchema } from "./health-schema.ts";
import { SyncStopped, type SyncNode } from "./node.ts";
import { BadSyncRequest } from "./serve.ts";
import { SYNC_PATHS, type SyncPath } from "./types.ts";

export interface SyncRoutesOptions {
  readonly node: SyncNode;
  readonly authKey: string;
  readonly clock: Clock;
  readonly log: Logger;
}

/** refusing sources whose state is remembered (and logged) at most */
const MAX_SOURCES = 1000;

/** Logs a refusal when a peer's refusal reason changes; counts the rest. */
class RefusalLog {
  private readonly last = new Map<string, string>();
  refused = 0;
  constructor(private readonly log: Logger) {}
  /**
   * `from` is the client's IP and the node name it claims; since a stranger could vary the name,
   * at most MAX_SOURCES sources are tracked and further ones are only counted.
   */
  note(from: string, reason: string, detail?: string): void {
    this.refused++;
    if (this.last.get(from) === reason) return;
    if (!this.last.has(from) && this.last.size >= MAX_SOURCES) {
      if (this.last.size === MAX_SOURCES) this.log.warn("sync request refused: too many sources, counting only", { refusedSoFar: this.refused });
      this.last.set("", "full");
      return;
    }
    this.last.set(from, reason);
    this.log.warn("sync request refused", { from, reason, detail, refusedSoFar: this.refused });
  }
  accepted(from: string): void {
    if (this.last.delete(from)) this.log.info("sync requests accepted again", { from });
  }
}

const STATUS: Record<AuthFailure, number> = { missing: 401, stale: 401, replayed: 401, "bad-mac": 401, busy: 503 };

export function syncRoutes(options: SyncRoutesOptions) {
  const verifier = new RequestVerifier(options.authKey, options.clock);
  const refusals = new RefusalLog(options.log);
  const handle = async (path: SyncPath, request: Request, ip: string | undefined): Promise<Response> => {
    const from = `${ip ?? "?"} (${request.headers.get(HEADER_NODE) ?? "unnamed"})`;
    const body = new Uint8Array(await request.arrayBuffer());
    const failure = verifier.verify(path, body, {
      time: request.headers.get(HEADER_TIME) ?? undefined,
      nonce: request.headers.get(HEADER_NONCE) ?? undefined,
      mac: request.headers.get(HEADER_MAC) ?? undefined,
    });
    if (failure) {
      refusals.note(from, failure);
      return new Response(`sync request refused: ${failure}`, { status: STATUS[failure] });
    }
    let answer: Uint8Array;
    try {
      answer = await options.node.responder.answer(path, body);
    } catch (error) {
      if (error instanceof SyncStopped) return new Response("sync stopped: the node is shutting down", { status: 503 });
      if (!(error instanceof BadSyncRequest || error instanceof CodecError)) throw error;
      refusals.note(from, "malformed", error.message);
      return new Response(`bad sync request: ${error.message}`, { status: 400 });
    }
    refusals.accepted(from);
    const nonce = request.headers.get(HEADER_NONCE)!;
    return new Response(answer as Uint8Array<ArrayBuffer>, {
      status: 200,
      headers: { "content-type": "application/octet-stream", [HEADER_MAC]: answerMac(options.authKey, nonce, answer) },
    });
  };
  const post: Record<string, DirectPost> = {};
  for (const path of SYNC_PATHS) post[path] = (request, ip) => handle(path, request, ip);
  return {
    /** by path: the HTTP server checks a body's size before it calls them */
    post,
    plugin: new Elysia({ name: "owlcache-sync" }).get("/sync/status", () => options.node.health(), {
      response: { 200: syncHealthSchema },
      detail: { hide: true },
    }),
  };
}
