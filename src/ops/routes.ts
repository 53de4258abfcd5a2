// The operational HTTP surface as an Elysia plugin: /metrics (Prometheus text format) and the
// status page at /ui with its data at /ui/status.json; `/` sends browsers to /ui.
// Both are read-only and unauthenticated, like /health: meant for a trusted network (README).

import { Elysia } from "elysia";
import type { Metrics } from "../metrics/registry.ts";
import type { NodeStatus } from "./status.ts";
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from "./status-page.ts";

export interface OpsDeps {
  readonly metrics: Metrics;
  readonly status: () => NodeStatus;
  /** also answer `/` with a redirect to /ui (off when another route owns `/`) */
  readonly rootRedirect?: boolean;
}

const NO_STORE = "no-store";

export function opsRoutes(deps: OpsDeps) {
  const page = (): Response =>
    new Response(STATUS_PAGE_HTML, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": STATUS_PAGE_CSP,
        "x-content-type-options": "nosniff",
        "cache-control": NO_STORE,
      },
    });
  const app = new Elysia({ name: "owlcache-ops" })
    .get(
      "/metrics",
      async () =>
        new Response(await deps.metrics.render(), {
          headers: { "content-type": deps.metrics.contentType, "cache-control": NO_STORE },
        }),
      { detail: { summary: "Prometheus metrics (text exposition format 0.0.4)", tags: ["ops"] } },
    )
    .get("/ui", page, { detail: { summary: "Status page (HTML)", tags: ["ops"] } })
    .get("/ui/", page, { detail: { hide: true } })
    .get("/ui/status.json", () => Response.json(deps.status(), { headers: { "cache-control": NO_STORE } }), {
      detail: { summary: "What the status page shows, as JSON", tags: ["ops"] },
    });
  if (deps.rootRedirect ?? true) {
    app.get("/", () => new Response(null, { status: 302, headers: { location: "/ui" } }), { detail: { hide: true } });
  }
  return app;
}
