// The Bun server of the HTTP/HTTPS API: records each client's socket address, limits bodies,
// answers plain `GET /data/` itself, and hands every other request to the Elysia app (app.ts).
// The app — Elysia, its schemas, the OpenAPI plugin and the route plugins of other modules — is
// imported and built on the first request that needs it, so a node whose HTTP API sees only plain
// gets, or nothing, never pays the ~20 MB of memory they take (bench/README.md, RSS).

import type { Server } from "bun";
import type { AnyElysia } from "elysia";
import { readFileSync } from "node:fs";
import { CommandError } from "../../commands/errors.ts";
import type { Config } from "../../config/keys.ts";
import type { HttpDeps } from "./app.ts";
import { rememberClientAddress, socketAddress } from "./client-address.ts";
import { errorResponse, newDataContext } from "./data-command.ts";
import { answeredEarly } from "./early-answer.ts";
import { answerQuery } from "./fast-get.ts";
import { readUpTo } from "../../common/read-stream.ts";
import { errorCode } from "../../common/system-error.ts";
import { STOP_GRACE_MS } from "../connections.ts";

/** Room for the fields and form encoding around the largest value. */
export const BODY_OVERHEAD_BYTES = 64 * 1024;
export const DOCS_PATH = "/swagger";

/** A route plugin, or what builds it when the app is first needed (a dynamic import, say). */
export type PluginSource = AnyElysia | (() => AnyElysia | Promise<AnyElysia>);

/** A POST route answered without Elysia (sync's peer endpoints), given the client's IP address. */
export type DirectPost = (request: Request, ip: string | undefined) => Promise<Response>;

export interface HttpServerDeps extends Omit<HttpDeps, "plugins"> {
  readonly plugins: readonly PluginSource[];
  /** POST routes by path that skip Elysia; their bodies are size-checked like every other */
  readonly directPosts?: Readonly<Record<string, DirectPost>>;
}

export function maxBodyBytes(config: Pick<Config, "MaxValueBytes">): number {
  return config.MaxValueBytes + BODY_OVERHEAD_BYTES;
}

export interface HttpServer {
  readonly port: number;
  /** http://host:port or https://host:port */
  readonly url: string;
  readonly docsUrl: string;
  /** whether a request has needed the Elysia app yet (it is built on the first one that does) */
  readonly appLoaded: boolean;
  /**
   * Stops accepting, lets requests in flight finish for up to `graceMs` (default STOP_GRACE_MS),
   * then closes every connection; 0 closes them at once (a second signal).
   */
  stop(graceMs?: number): Promise<void>;
}

/** A start-up problem (unreadable certificate, port taken), named for the operator. */
export class HttpStartError extends Error {}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const reason = errorCode(error) ?? String(error);
    throw new HttpStartError(`cannot read ${what} ${path} (${reason})`);
  }
}

/**
 * Elysia 1.4 looks for the path from the URL's 11th character on (`url.indexOf("/", 11)`), which
 * misroutes a request whose Host is shorter than 4 characters and has no port: "http://owl/data/"
 * became a 404 for "/". Such a request goes on with a longer host in its URL; nothing reads the
 * host from the URL (the Host header is left as sent).
 */
function routableByElysia(request: Request): Request {
  const url = request.url;
  const host = url.indexOf("//") + 2;
  const path = url.indexOf("/", host);
  return path >= 11 ? request : new Request(`${url.slice(0, host)}localhost${url.slice(path)}`, request);
}

export function startHttpServer(deps: HttpServerDeps): HttpServer {
  const { config } = deps;
  const tls = config.Open_Https ? { cert: readPem(config.Https_CertFile, "Https_CertFile"), key: readPem(config.Https_KeyFile, "Https_KeyFile") } : undefined;
  const data = newDataContext(deps);
  const limit = maxBodyBytes(config);
  const tooLargeEnvelope = (): Response => errorResponse(data, new CommandError(413, `request body larger than ${limit} bytes`));
  // With Cors 1 the 413 goes through the app (as every answer then does), for its CORS headers.
  const tooLarge = (request: Request): Response | Promise<Response> => (config.Cors ? handle(answeredEarly(request, tooLargeEnvelope())) : tooLargeEnvelope());

  // The Elysia app, built once by whichever request needs it first; the others wait for it.
  let appHandle: ((request: Request) => Promise<Response>) | undefined;
  let loading: Promise<(request: Request) => Promise<Response>> | undefined;
  const loadApp = async (): Promise<(request: Request) => Promise<Response>> => {
    const [{ buildHttpApp }, plugins] = await Promise.all([
      import("./app.ts"),
      Promise.all(deps.plugins.map((plugin) => (typeof plugin === "function" ? plugin() : plugin))),
    ]);
    const { app } = buildHttpApp({ ...deps, plugins }, data);
    appHandle = app.handle.bind(app) as (request: Request) => Promise<Response>;
    return appHandle;
  };
  const handle = (request: Request): Promise<Response> => {
    if (appHandle) return appHandle(request);
    loading ??= loadApp().catch((error: unknown) => {
      loading = undefined; // the next request tries again
      throw error;
    });
    return loading.then((run) => run(request));
  };

  /**
   * The body limit every request passes: by Content-Length, without reading; a chunked body is
   * read here within the limit, so the 413 is ours and exact, and `next` gets a copy holding it.
   */
  const limited = (
    request: Request,
    next: (request: Request) => Response | Promise<Response>,
    refuse: (request: Request) => Response | Promise<Response> = tooLarge,
  ): Response | Promise<Response> => {
    if (request.body === null) return next(request);
    const length = request.headers.get("content-length");
    if (length !== null) return Number(length) > limit ? refuse(request) : next(request);
    return readUpTo(request.body, limit).then((body) => (body === undefined ? refuse(request) : next(new Request(request, { body }))));
  };
  const fetch = (sent: Request, srv: Server<undefined>): Response | Promise<Response> => {
    const client = socketAddress(sent, srv);
    const request = routableByElysia(sent);
    rememberClientAddress(request, client);
    return limited(request, (passed) => {
      if (passed !== request) rememberClientAddress(passed, client);
      return handle(passed);
    });
  };
  // GET /data/ skips Elysia's per-request work (CORS needs Elysia's hooks, so only without it).
  // The socket address is looked up only by commands that use it (writes, pass).
  const addressOf = (request: Request): string => socketAddress(request, server);
  const fastGet = (request: Request, srv: Server<undefined>): Response | Promise<Response> => answerQuery(data, request, addressOf) ?? fetch(request, srv);
  // Direct POST routes: the same body limit, then the handler with the client's IP address.
  const direct = (post: DirectPost) => (request: Request, srv: Server<undefined>): Response | Promise<Response> => {
    const ip = srv.requestIP(request)?.address;
    return limited(request, (passed) => post(passed, ip), tooLargeEnvelope); // as their other answers: no CORS
  };
  const routes: Record<string, Partial<Record<"GET" | "POST", (request: Request, srv: Server<undefined>) => Response | Promise<Response>>>> = {};
  if (!config.Cors) routes["/data/"] = routes["/data"] = { GET: fastGet };
  for (const [path, post] of Object.entries(deps.directPosts ?? {})) routes[path] = { POST: direct(post) };

  let server: Server<undefined>;
  try {
    server = Bun.serve({
      hostname: config.Host,
      port: config.Httpport,
      tls,
      // Bun's own cap (which answers a bare 413) is lifted: every body passes our check in
      // `fetch` first, which refuses by Content-Length without reading and counts chunked bodies.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      routes,
      fetch,
      // A bug below the routes (the fast path has no Elysia around it): an envelope, not Bun's page.
      error(error) {
        deps.log.error("http request failed", { error });
        return errorResponse(data, new CommandError(500, "internal error"));
      },
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (tls) throw new HttpStartError(`cannot start HTTPS on ${config.Host}:${config.Httpport} with Https_CertFile ${config.Https_CertFile} and Https_KeyFile ${config.Https_KeyFile} (${reason})`);
    throw new HttpStartError(`cannot listen on ${config.Host}:${config.Httpport} (${reason})`);
  }
  const port = server.port!;
  data.responseHost = `${config.ResponseHost}:${port}`;
  const host = config.Host.includes(":") ? `[${config.Host}]` : config.Host;
  const url = `${tls ? "https" : "http"}://${host}:${port}`;
  return {
    port,
    url,
    docsUrl: `${url}${DOCS_PATH}`,
    get appLoaded() {
      return appHandle !== undefined;
    },
    async stop(graceMs = STOP_GRACE_MS) {
      if (graceMs > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
        await Promise.race([server.stop(false), graceOver]); // (a forced stop settles this one too)
        clearTimeout(timer);
      }
      await server.stop(true);
    },
  };
}
