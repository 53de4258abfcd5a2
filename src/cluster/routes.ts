// The cluster's HTTP routes as an Elysia plugin: `/group_data/` (group read, no token) and
// `/server/` (peer lists, token required). GET query or POST form/JSON, with or without the
// trailing slash; the HTTP status is the envelope's Status.

import { Elysia, t } from "elysia";
import { RESULTS, type Status } from "../commands/errors.ts";
import { ZERO_TIME, type EnvelopeFields } from "../protocol/envelope.ts";
import { jsonInit } from "../transport/http/data-command.ts";
import { fieldsOf, firstValueHooks } from "../transport/http/request-fields.ts";
import type { GroupReader } from "./group-read.ts";
import type { PeerLists } from "./peer-list.ts";
import { groupDetail, groupFields, groupResponses, serverDetail, serverFields, serverResponses } from "./route-schemas.ts";
import { runServerCommand, serverEnvelope } from "./server-commands.ts";

export interface ClusterRouteDeps {
  readonly cluster: { readonly reader: GroupReader; readonly lists: PeerLists };
  /** Whether the request carries a valid token (field `token`/`owl_token` or Authorization: Bearer). */
  readonly checkToken: (request: Request, clientAddress: string, fields: Record<string, unknown>) => Promise<boolean>;
  /** The client's socket address (the HTTP server records it per request). */
  readonly clientAddress: (request: Request) => string;
  /** ResponseHost:Httpport of this node */
  readonly responseHost: () => string;
  readonly maxKeyBytes: number;
}

const encoder = new TextEncoder();

/**
 * The headers of /data/'s envelopes: nosniff, so that a browser never takes a value inside the
 * JSON for HTML. A Headers object made once, which Bun copies into each Response.
 */
/** An envelope as the HTTP answer: JSON in the envelope's field order, status = Status. */
export function envelopeResponse(env: EnvelopeFields): Response {
  return new Response(JSON.stringify(env), jsonInit(env.Status));
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function clusterRoutes(deps: ClusterRouteDeps) {
  const { cluster, checkToken, responseHost, maxKeyBytes, clientAddress } = deps;

  const groupRead = async (fields: Record<string, unknown>): Promise<Response> => {
    const cmd = (text(fields.cmd) ?? "").toLowerCase();
    const key = text(fields.key) ?? "";
    const reply = (status: Status, data: unknown, message?: string, time = ZERO_TIME): Response => {
      const env: EnvelopeFields = { Cmd: cmd, Status: status, Results: RESULTS[status], Key: key, Data: data, ResponseHost: responseHost(), KeyCreateTime: time };
      if (message !== undefined) env.Message = message;
      return envelopeResponse(env);
    };
    if (cmd === "") return reply(500, null, "cmd is required (get)");
    if (cmd !== "get") return reply(501, null, `unknown command '${cmd}': /group_data/ knows get`);
    if (key === "") return reply(500, null, "key is required");
    if (encoder.encode(key).length > maxKeyBytes) return reply(500, null, `key is longer than ${maxKeyBytes} bytes`);
    const target = text(fields.target);
    const result = await cluster.reader.read(key, target === "" ? undefined : target);
    if (result.status === 200) return reply(200, result.entries, result.message, result.entries[0]!.KeyCreateTime);
    return reply(result.status, result.entries.length > 0 ? result.entries : null, result.message);
  };

  const serverList = async (request: Request, client: string, fields: Record<string, unknown>): Promise<Response> => {
    const cmd = (text(fields.cmd) ?? "").toLowerCase();
    if (!(await checkToken(request, client, fields))) {
      return envelopeResponse(serverEnvelope(cmd, 401, null, responseHost(), "a valid token is required (token, owl_token or Authorization: Bearer)"));
    }
    const env = runServerCommand(
      cluster.lists,
      { cmd: text(fields.cmd), group_type: text(fields.group_type), address: text(fields.address), pass: text(fields.pass) },
      responseHost(),
    );
    return envelopeResponse(env);
  };

  // Validation and body errors reach the HTTP app's one error → envelope mapping.
  return new Elysia({ name: "owlcache-cluster" })
    // Fields are read as /data/ reads them: a repeated field counts with its first value, and a
    // JSON body must be an object (malformed JSON is a 500, not a request without fields).
    .onParse({ as: "local" }, ({ request, contentType }) => firstValueHooks.parseFields(request, contentType.toLowerCase()))
    .onTransform({ as: "local" }, firstValueHooks.transform)
    .get("/group_data/", ({ query }) => groupRead(fieldsOf(query, undefined)), { query: groupFields, response: groupResponses, detail: groupDetail })
    .post("/group_data/", ({ query, body }) => groupRead(fieldsOf(query, body)), {
      query: groupFields,
      body: t.Optional(groupFields),
      response: groupResponses,
      detail: groupDetail,
    })
    .get("/server/", ({ query, request }) => serverList(request, clientAddress(request), fieldsOf(query, undefined)), {
      query: serverFields,
      response: serverResponses,
      detail: serverDetail,
    })
    .post("/server/", ({ query, body, request }) => serverList(request, clientAddress(request), fieldsOf(query, body)), {
      query: serverFields,
      body: t.Optional(serverFields),
      response: serverResponses,
      detail: serverDetail,
    });
}
