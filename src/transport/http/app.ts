// The Elysia app of the HTTP/HTTPS API: data, health, docs, CORS and other modules' route plugins.
// server.ts imports this module only when a request first needs it (see there).

import { cors } from "@elysiajs/cors";
import { Elysia, type AnyElysia } from "elysia";
import type { TokenService } from "../../auth/tokens.ts";
import type { Engine } from "../../commands/engine.ts";
import type { Config } from "../../config/keys.ts";
import type { Logger } from "../../log/logger.ts";
import { systemClock, type Clock } from "../../store/types.ts";
import { newDataContext, type DataContext } from "./data-command.ts";
import { dataRoutes } from "./data-route.ts";
import { docsRoutes } from "./docs.ts";
import { earlyAnswer } from "./early-answer.ts";
import { errorToResponse } from "./errors.ts";
import { healthRoute, type HealthSource } from "./health-route.ts";

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

/** `data` is shared with the server's fast path when it already exists. */
export function buildHttpApp(deps: HttpDeps, data: DataContext = newDataContext(deps)): HttpApp {
  const clock = deps.clock ?? systemClock;
  let app: AnyElysia = new Elysia({ name: "owlcache-http" });
  // With Cors, an answer the server decided early (a 413) goes through the app for the CORS
  // plugin's headers, answered by the hook after the plugin's; without it, nothing is sent here.
  if (deps.config.Cors) app = app.use(corsPlugin(deps.config)).onRequest(({ request }) => earlyAnswer(request));
  app = app
    .onError({ as: "global" }, ({ code, error, request, query, body }) => errorToResponse(data, deps.log, code, error, request, { query, body }))
    .use(dataRoutes(data))
    .use(healthRoute({ db: deps.engine.db, clock, startedAt: deps.startedAt ?? clock.now(), peers: deps.peers, sync: deps.sync, persistence: deps.persistence }))
    .use(docsRoutes());
  for (const plugin of deps.plugins) app = app.use(plugin);
  return { app, data };
}
