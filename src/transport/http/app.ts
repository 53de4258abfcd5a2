// The HTTP/HTTPS API: the Elysia app (data, health, docs, CORS and other modules' route plugins)
// and the Bun server that runs it, which records each client's socket address and limits bodies.

import { cors } from "@elysiajs/cors";
import { Elysia, type AnyElysia } from "elysia";
import { readFileSync } from "node:fs";
import type { TokenService } from "../../auth/tokens.ts";
import type { Engine } from "../../commands/engine.ts";
import { CommandError } from "../../commands/errors.ts";
import type { Config } from "../../config/keys.ts";
import type { Logger } from "../../log/logger.ts";
import { systemClock, type Clock } from "../../store/types.ts";
import { rememberClientAddress, socketAddress } from "./client-address.ts";
import { errorResponse, type DataContext } from "./data-command.ts";
import { dataRoutes } from "./data-route.ts";
import { docsRoutes, DOCS_PATH } from "./docs.ts";
import { errorToResponse } from "./errors.ts";
import { healthRoute } from "./health-route.ts";

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
  const data: DataContext = { engine: deps.engine, tokens: deps.tokens, responseHost: `${deps.config.ResponseHost}:${deps.config.Httpport}` };
  let app: AnyElysia = new Elysia({ name: "owlcache-http" });
  if (deps.config.Cors) app = app.use(corsPlugin(deps.config));
  app = app
    .onError({ as: "global" }, ({ code, error, request }) => errorToResponse(data, deps.log, code, error, request))
    .use(dataRoutes(data))
    .use(healthRoute({ db: deps.engine.db, clock, startedAt: deps.startedAt ?? clock.now() }))
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

  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: config.Host,
      port: config.Httpport,
      tls,
      // Bun's own cap sits above ours so that our 413 envelope answers first.
      maxRequestBodySize: limit * 2,
      async fetch(request, srv) {
        const client = socketAddress(request, srv);
        rememberClientAddress(request, client);
        if (request.body !== null) {
          const length = request.headers.get("content-length");
          if (length !== null) {
            if (Number(length) > limit) return tooLarge();
          } else {
            const body = await readLimited(request, limit);
            if (body === undefined) return tooLarge();
            const copy = new Request(request, { body });
            rememberClientAddress(copy, client);
            return handle(copy);
          }
        }
        return handle(request);
      },
    });
  } catch (error) {
    throw new HttpStartError(`cannot listen on ${config.Host}:${config.Httpport} (${error instanceof Error ? error.message : String(error)})`);
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
