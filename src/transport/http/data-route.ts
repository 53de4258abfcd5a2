// The /data/ routes (GET query, POST form/multipart/JSON/octet-stream; with and without the
// trailing slash): validated by the schemas, run by the engine through runDataCommand.

import { Elysia, t } from "elysia";
import { CommandError } from "../../commands/errors.ts";
import { clientAddress } from "./client-address.ts";
import { runDataCommand, type DataContext } from "./data-command.ts";
import { firstValueHooks } from "./request-fields.ts";
import { dataBody, dataQuery, envelopeResponses } from "./schemas.ts";

const detail = {
  summary: "Run one command",
  description:
    "Runs `cmd` on this node and answers the JSON envelope; the HTTP status equals `Status`. Reads are public; " +
    "`set`, `expire` and `delete` need a token from `cmd=pass`.",
  tags: ["data"],
};

export function dataRoutes(ctx: DataContext) {
  return new Elysia({ name: "owlcache-data" })
    .onParse({ as: "local" }, async ({ request, contentType }) => {
      const type = contentType.toLowerCase();
      // A raw body is the value itself: binary values without form encoding.
      if (type.startsWith("application/octet-stream")) return { valuedata: new File([await request.arrayBuffer()], "valuedata") };
      return firstValueHooks.parseFields(request, type); // JSON, forms and multipart, as on every route
    })
    // A repeated query field counts with its first value, as in bodies (and the GET fast path).
    .onTransform({ as: "local" }, firstValueHooks.transform)
    .get("/data/", ({ request, query }) => runDataCommand(ctx, request, clientAddress(request), query), {
      query: dataQuery,
      response: envelopeResponses,
      detail: { ...detail, summary: "Run one command (fields in the query string)" },
    })
    .post(
      "/data/",
      ({ request, query, body }) => {
        // Fields may come in the query string too, as the original's FormValue allowed; the body wins.
        const fields: Record<string, unknown> = { ...query, ...(body ?? {}) };
        if (typeof fields.cmd !== "string") throw new CommandError(500, "missing field cmd");
        return runDataCommand(ctx, request, clientAddress(request), fields);
      },
      {
        body: t.Optional(dataBody),
        response: envelopeResponses,
        detail: {
          ...detail,
          summary: "Run one command (fields in a form, multipart or JSON body)",
          description: `${detail.description} Fields may also be in the query string. A multipart file part or an application/octet-stream body (with the other fields in the query) carries binary values.`,
        },
      },
    );
}
