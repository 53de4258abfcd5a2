// /swagger (the API docs UI) and /swagger/json (the OpenAPI document). The UI's script and styles
// come from the swagger-ui-dist package and are served by the node, so the page works offline.

import { swagger } from "@elysiajs/swagger";
import { Elysia } from "elysia";
import { dirname, join } from "node:path";
import { VERSION } from "../../version.ts";
import { DOCS_PATH } from "./server.ts";

const ASSETS = `${DOCS_PATH}/assets`;
const SWAGGER_UI_DIR = dirname(Bun.resolveSync("swagger-ui-dist/package.json", import.meta.dir));

/** The only files the page loads; nothing else is served from the package directory. */
const ASSET_FILES: Record<string, string> = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
};

const DESCRIPTION =
  "owlcache: a decentralised key/value memory cache. Every answer is the JSON envelope " +
  "`{Cmd, Status, Results, Key, Data, ResponseHost, KeyCreateTime[, Message]}` and the HTTP status equals `Status`. " +
  "Reads are public; writes need the token that `cmd=pass` answers (as `token`, `owl_token` or `Authorization: Bearer`).";

/**
 * @elysiajs/swagger 1.3.1 renders Scalar from cdn.jsdelivr.net by default, and its swagger-ui page
 * always takes the script from unpkg.com; so the plugin only generates the document, and the page
 * registered after it here (the later route wins) loads its two assets from this node.
 */
function page(): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>owlcache ${VERSION} API</title>
  <link rel="stylesheet" href="${ASSETS}/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${ASSETS}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: "${DOCS_PATH}/json", dom_id: "#swagger-ui", validatorUrl: null, deepLinking: true });
  </script>
</body>
</html>`;
}

interface BodyDoc {
  required?: boolean;
  content?: Record<string, unknown>;
}
type OpenApiDoc = { paths?: Record<string, Record<string, { requestBody?: BodyDoc }>> };

/** The paths whose POST also takes the value itself as a raw body (the other fields in the query). */
const RAW_VALUE_PATHS = new Set(["/data/", "/data"]);

/**
 * The plugin lists JSON, multipart and text/plain for every body and marks it required; our POSTs
 * take JSON, urlencoded forms and multipart (and /data/ raw octet-stream values), and every body
 * is optional (a POST may carry its fields in the query string), so the document says exactly that.
 */
function describeBodies(doc: OpenApiDoc): void {
  for (const [path, methods] of Object.entries(doc.paths ?? {})) {
    const body = methods.post?.requestBody;
    const json = body?.content?.["application/json"];
    if (!body || !json) continue;
    body.required = false;
    body.content = {
      "application/json": json,
      "application/x-www-form-urlencoded": json,
      "multipart/form-data": body.content!["multipart/form-data"] ?? json,
    };
    if (RAW_VALUE_PATHS.has(path)) {
      body.content["application/octet-stream"] = {
        schema: { type: "string", format: "binary", description: "The value itself (`valuedata`); the other fields go in the query string." },
      };
    }
  }
}

export function docsRoutes() {
  const html = page();
  return new Elysia({ name: "owlcache-docs" })
    // The document is the only plain object with an `openapi` field that the app answers.
    .onAfterHandle({ as: "global" }, ({ responseValue }) => {
      if (typeof responseValue === "object" && responseValue !== null && "openapi" in responseValue) describeBodies(responseValue as OpenApiDoc);
    })
    .use(
      swagger({
        path: DOCS_PATH,
        specPath: `${DOCS_PATH}/json`,
        documentation: {
          info: { title: "owlcache HTTP API", version: VERSION, description: DESCRIPTION },
          tags: [
            { name: "data", description: "Commands on this node's keys" },
            { name: "node", description: "This node's status" },
            { name: "cluster", description: "Group reads across the nodes, and the peer lists" },
          ],
        },
      }),
    )
    // Registered after the plugin: replaces its CDN page.
    .get(DOCS_PATH, () => new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } }), { detail: { hide: true } })
    .get(`${ASSETS}/:file`, ({ params, status }) => {
      const type = ASSET_FILES[params.file];
      if (!type) return status(404, "not found");
      return new Response(Bun.file(join(SWAGGER_UI_DIR, params.file)), {
        headers: { "content-type": type, "cache-control": "public, max-age=86400", "x-content-type-options": "nosniff" },
      });
    }, { detail: { hide: true } });
}
