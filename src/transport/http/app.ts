// The HTTP/HTTPS API: the Elysia app (data, health, docs, CORS and other modules' route plugins)
// and the Bun server that runs it, which records each client's socket address and limits bodies.

import { cors } from "@elysiajs/cors";
import { Elysia, type AnyElysia } from "elysia";
import type { Server } from "bun";
import { readFileSync } from "node:fs";
import type { TokenService } from "../../auth/tokens.ts";
import type { Engine } from "../../commands/engine.ts";
import { CommandError } from "../../commands/errors.ts";
import type { Config } from "../../config/keys.ts";
import type { Logger } from "../../log/logger.ts";
import { systemClock, type Clock } from "../../store/types.ts";
import { rememberClientAddress, socketAddress } from "./client-address.ts";
import { errorResponse, type DataContext } from "./data-command.ts";
import { answerQuery } from "./fast-get.ts";
import { dataRoutes } from "./data-route.ts";
import { docsRoutes, DOCS_PATH } from "./docs.ts";
import { EnvelopeMemo } from "./envelope-memo.ts";
import { errorToResponse } from "./errors.ts";
import { healthRoute, type HealthSource } from "./health-route.ts";

/** Room for the fields and form encoding around the largest value. */
export const BODY_OVERHEAD_BYTES = 64 * 1024;

export type HttpConfig = Pick<
  Config,
  "Host" | "Httpport" | "ResponseHost" | "Open_Https" | "Https_CertFile" | "Https_KeyFile" | "Cors" | "Access_Control_Allow_Origin" | "MaxValueBytes"
>;

export interface HttpDeps {
  readonly engine: Engine;
  readonly config: HttpConfig;
  readonly log: Logger;
  readonly tokens: TokenService;
  /** other modules' routes (cluster, metrics), mounted as they are */
  readonly plugins: readonly AnyElysia[];
  readonly clock?: Clock;
  /** ms since the epoch, for /health's uptime; default: now */
  readonly startedAt?: number;
  /** /health lists these peers (the cluster, issue 5) */
  readonly peers?: HealthSource["peers"];
  readonly sync?: HealthSource["sync"];
  readonly persistence?: HealthSource["persistence"];
}

export interface HttpApp {
  readonly app: AnyElysia;
  /** shared with the routes: the server sets the real ResponseHost once it listens */
  readonly data: DataContext;
}

export function maxBodyBytes(config: Pick<Config, "MaxValueBytes">): number {
  return config.MaxValueBytes + BODY_OVERHEAD_BYTES;
}

function corsPlugin(config: HttpConfig) {
  const allowed = config.Access_Control_Allow_Origin.split(/[\s,]+/).filter((o) => o !== "");
  return cors({
    origin: allowed.includes("*") || allowed.length === 0 ? "*" : allowed,
    methods: ["GET", "POST", "OPTIONS"],
    allowedHeaders: ["Content-Type", "Authorization"],
    exposeHeaders: ["Content-Type"],
    // Tokens travel as fields or an Authorization header, never cookies: credentials are never
    // needed, and "*" with credentials would let any site act as the user.
    credentials: false,
    maxAge: 600,
  });
}

export function createHttpApp(deps: HttpDeps): AnyElysia {
  return buildHttpApp(deps).app;
}

export function buildHttpApp(deps: HttpDeps): HttpApp {
  const clock = deps.clock ?? systemClock;
  const data: DataContext = {
    engine: deps.engine,
    tokens: deps.tokens,
    responseHost: `${deps.config.ResponseHost}:${deps.config.Httpport}`,
    memo: new EnvelopeMemo(),
  };
  let app: AnyElysia = new Elysia({ name: "owlcache-http" });
  if (deps.config.Cors) app = app.use(corsPlugin(deps.config));
  app = app
    .onError({ as: "global" }, ({ code, error, request }) => errorToResponse(data, deps.log, code, error, request))
    .use(dataRoutes(data))
    .use(healthRoute({ db: deps.engine.db, clock, startedAt: deps.startedAt ?? clock.now(), peers: deps.peers, sync: deps.sync, persistence: deps.persistence }))
    .use(docsRoutes());
  for (const plugin of deps.plugins) app = app.use(plugin);
  return { app, data };
}

export interface HttpServer {
  readonly port: number;
  /** http://host:port or https://host:port */
  readonly url: string;
  readonly docsUrl: string;
  stop(): Promise<void>;
}

/** A start-up problem (unreadable certificate, port taken), named for the operator. */
export class HttpStartError extends Error {}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const reason = error instanceof Error && "code" in error ? String(error.code) : String(error);
    throw new HttpStartError(`cannot read ${what} ${path} (${reason})`);
  }
}

/** Reads a chunked body up to `limit` bytes; undefined when it is larger. */
async function readLimited(request: Request, limit: number): Promise<Uint8Array | undefined> {
  const reader = request.body!.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export function startHttpServer(deps: HttpDeps): HttpServer {
  const { config } = deps;
  const tls = config.Open_Https ? { cert: readPem(config.Https_CertFile, "Https_CertFile"), key: readPem(config.Https_KeyFile, "Https_KeyFile") } : undefined;
  const { app, data } = buildHttpApp(deps);
  const limit = maxBodyBytes(config);
  const tooLarge = (): Response => errorResponse(data, new CommandError(413, `request body larger than ${limit} bytes`));
  const handle = app.handle.bind(app) as (request: Request) => Promise<Response>;

  const fetch = (request: Request, srv: Server<undefined>): Response | Promise<Response> => {
    const client = socketAddress(request, srv);
    rememberClientAddress(request, client);
    if (request.body === null) return handle(request);
    const length = request.headers.get("content-length");
    if (length !== null) return Number(length) > limit ? tooLarge() : handle(request);
    // Chunked: read it here, within the limit, so the 413 is ours and exact.
    return readLimited(request, limit).then((body) => {
      if (body === undefined) return tooLarge();
      const copy = new Request(request, { body });
      rememberClientAddress(copy, client);
      return handle(copy);
    });
  };
  // GET /data/ skips Elysia's per-request work (CORS needs Elysia's hooks, so only without it).
  // The socket address is looked up only by commands that use it (writes, pass).
  const addressOf = (request: Request): string => socketAddress(request, server);
  const fastGet = (request: Request, srv: Server<undefined>): Response | Promise<Response> => answerQuery(data, request, addressOf) ?? fetch(request, srv);
  const routes = config.Cors ? undefined : { "/data/": { GET: fastGet }, "/data": { GET: fastGet } };

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
    async stop() {
      await server.stop(false); // finish in-flight requests
    },
  };
}
