// The cluster's HTTP routes as an Elysia plugin: `/group_data/` (group read, no token) and
// `/server/` (peer lists, token required). GET query or POST form/JSON, with or without the
// trailing slash; the HTTP status is the envelope's Status.

import { Elysia, t } from "elysia";
import { RESULTS, type Status } from "../commands/errors.ts";
import { ZERO_TIME, type EnvelopeFields } from "../protocol/envelope.ts";
import { firstValueHooks } from "../transport/http/request-fields.ts";
import type { GroupReader } from "./group-read.ts";
import type { PeerLists } from "./peer-list.ts";
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

const optional = (description: string) => t.Optional(t.String({ description }));

const groupFields = t.Object(
  {
    cmd: optional("get"),
    key: optional("the key to read on every node"),
    target: optional("ask only this node (host:port): this node or a peer of the owlcache list"),
  },
  { additionalProperties: true },
);

const serverFields = t.Object(
  {
    cmd: optional("getall | get | add | delete"),
    group_type: optional("owlcache (group reads, default) | gossip (sync)"),
    address: optional("peer address host:port, optionally with http:// or https://"),
    pass: optional("the peer's password, kept in the list file, never shown"),
    token: optional("token from /data/?cmd=pass"),
    owl_token: optional("token (alternative name)"),
  },
  { additionalProperties: true },
);

const encoder = new TextEncoder();

/** An envelope as the HTTP answer: JSON in the envelope's field order, status = Status. */
export function envelopeResponse(env: EnvelopeFields): Response {
  return new Response(JSON.stringify(env), { status: env.Status, headers: { "content-type": "application/json; charset=utf-8" } });
}

function fieldsOf(query: Record<string, unknown> | undefined, body: unknown): Record<string, unknown> {
  const fromBody = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  return { ...query, ...fromBody };
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

  const groupDetail = {
    tags: ["cluster"],
    summary: "Group read: one key on every node, newest first",
    description:
      "Asks this node and every peer of the owlcache list in parallel. Data is a list of {Address, Data, KeyCreateTime, Status} for every node holding the key, newest first (ties by address); peers that did not answer follow with Status 500 and a Message (timeout, refused, bad answer, skipped). 404 when no node holds the key. No token needed.",
  };
  const serverDetail = {
    tags: ["cluster"],
    summary: "Peer lists: getall | get | add | delete",
    description:
      "Manages the owlcache (group reads) or gossip (sync) peer list, saved at once to server_group_config.json / server_group_gossip_config.json. Token required. Pass and Token are always shown as \"\".",
  };

  // Validation and body errors reach the HTTP app's one error → envelope mapping.
  return new Elysia({ name: "owlcache-cluster" })
    // Fields are read as /data/ reads them: a repeated field counts with its first value, and a
    // JSON body must be an object (malformed JSON is a 500, not a request without fields).
    .onParse({ as: "local" }, ({ request, contentType }) => firstValueHooks.parseFields(request, contentType.toLowerCase()))
    .onTransform({ as: "local" }, firstValueHooks.transform)
    .get("/group_data/", ({ query }) => groupRead(fieldsOf(query, undefined)), { query: groupFields, detail: groupDetail })
    .post("/group_data/", ({ query, body }) => groupRead(fieldsOf(query, body)), { query: groupFields, body: t.Optional(groupFields), detail: groupDetail })
    .get("/server/", ({ query, request }) => serverList(request, clientAddress(request), fieldsOf(query, undefined)), {
      query: serverFields,
      detail: serverDetail,
    })
    .post("/server/", ({ query, body, request }) => serverList(request, clientAddress(request), fieldsOf(query, body)), {
      query: serverFields,
      body: t.Optional(serverFields),
      detail: serverDetail,
    });
}
