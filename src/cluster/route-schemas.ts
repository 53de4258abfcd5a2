// The fields and answers of `/group_data/` and `/server/` as TypeBox schemas: they validate the
// fields and describe both endpoints in the OpenAPI document as /data/ is described (the envelope
// per status, with what `Data` holds on each endpoint).

import { t, type TSchema } from "elysia";
import { envelopeSchema } from "../transport/http/schemas.ts";

const text = (description: string, example: string) => t.Optional(t.String({ description, example }));

export const groupFields = t.Object(
  {
    cmd: text("The command: `get` (the only one; anything else answers 501 UNKNOWN_COMMAND). Required, in the query string or the body.", "get"),
    key: text("The key to read on every node (at most MaxKeyBytes). Required.", "hello"),
    target: text("Ask only this node (host:port): this node or a peer of the owlcache list; anything else is a 500.", "127.0.0.1:7731"),
  },
  { additionalProperties: true, description: "Fields of a /group_data/ request." },
);

export const serverFields = t.Object(
  {
    cmd: text("`getall` (the list), `get` (one peer), `add` (adds or replaces a peer) or `delete`; anything else answers 501 UNKNOWN_COMMAND. Required.", "getall"),
    group_type: text("`owlcache` (the peers of group reads, default) or `gossip` (the peers of sync).", "owlcache"),
    address: text("The peer's address, host:port, optionally with http:// or https://; needed by get, add and delete.", "127.0.0.1:7731"),
    pass: text("The peer's password, for `add`: kept in the list file, never shown.", "peer-password"),
    token: text("The token answered by `/data/?cmd=pass`; needed for every cmd. Also accepted as `owl_token` or `Authorization: Bearer <token>`.", "eyJhbGciOiJIUzI1NiIs..."),
    owl_token: text("Same as `token` (the original owlcache's name).", "eyJhbGciOiJIUzI1NiIs..."),
  },
  { additionalProperties: true, description: "Fields of a /server/ request." },
);

/** The envelope with what `Data` holds on this endpoint. */
const envelopeWith = (data: TSchema, description: string) => t.Object({ ...envelopeSchema.properties, Data: data }, { description });
const TOO_LARGE = "ERROR: the request body is larger than the limit (MaxValueBytes + 64 KiB).";
/** An error's envelope: Data is null, Message says why. */
const errorEnvelope = (description: string) => envelopeWith(t.Null(), description);

const groupEntry = t.Object({
  Address: t.String({ description: "the node (ResponseHost:Httpport for this one)", example: "127.0.0.1:7731" }),
  Data: t.Union([t.String(), t.Null()], { description: "its value; null for a peer that failed", example: "world" }),
  KeyCreateTime: t.String({ description: "RFC 3339 time of the key's last write on that node", example: "2026-11-26T10:00:00.000Z" }),
  Status: t.Integer({ description: "200, or 500 for a peer that failed", example: 200 }),
  Message: t.Optional(t.String({ description: "why a peer failed: timeout, refused, bad answer, tls or skipped", example: "timeout: no answer within 2700 ms" })),
});
const groupEntries = t.Array(groupEntry, { description: "every node holding the key, newest first (ties by address); peers that failed follow" });

export const groupResponses = {
  200: envelopeWith(groupEntries, "SUCCESS: Data lists every node that holds the key, newest first; KeyCreateTime is the newest entry's."),
  404: envelopeWith(t.Union([groupEntries, t.Null()], { description: "the peers that failed, if any" }), "NOT_FOUND: no node holds the key; Data lists the peers that failed (with a Message), else null."),
  413: errorEnvelope(TOO_LARGE),
  500: errorEnvelope("ERROR: cmd or key missing, key too long, a target that is neither this node nor a listed peer, a field of the wrong type, or a bad JSON body (Message says which)."),
  501: errorEnvelope("UNKNOWN_COMMAND: cmd is not `get`."),
};

const peer = t.Object({
  Cmd: t.String({ description: "always empty (the original's format)", example: "" }),
  Address: t.String({ description: "as added", example: "127.0.0.1:7731" }),
  Pass: t.String({ description: "always shown as \"\"", example: "" }),
  Token: t.String({ description: "always shown as \"\"", example: "" }),
});

export const serverResponses = {
  200: envelopeWith(
    t.Union([t.Array(peer), peer, t.Null()], { description: "getall: the list; get: the peer; add and delete: null" }),
    "SUCCESS. The list file is saved before the answer. Pass and Token are always shown as \"\".",
  ),
  401: errorEnvelope("NOT_PASS: no valid token (token, owl_token or Authorization: Bearer)."),
  404: errorEnvelope("NOT_FOUND: get or delete of an address that is not in the list."),
  413: errorEnvelope(TOO_LARGE),
  500: errorEnvelope("ERROR: address missing or not host:port, group_type neither owlcache nor gossip, the list file could not be saved, a field of the wrong type, or a bad JSON body (Message says which)."),
  501: errorEnvelope("UNKNOWN_COMMAND: cmd is not getall, get, add or delete."),
};

export const groupDetail = {
  tags: ["cluster"],
  summary: "Group read: one key on every node, newest first",
  description:
    "Asks this node and every peer of the owlcache list in parallel. Data is a list of {Address, Data, KeyCreateTime, Status} for every node holding the key, newest first (ties by address); peers that did not answer follow with Status 500 and a Message (timeout, refused, bad answer, skipped). 404 when no node holds the key. No token needed. " +
    "The answer is the JSON envelope; the HTTP status equals `Status`. GET takes the fields in the query string; POST in a urlencoded, multipart or JSON body, which is optional: fields may also be in the query string (the body's win).",
};

export const serverDetail = {
  tags: ["cluster"],
  summary: "Peer lists: getall | get | add | delete",
  description:
    "Manages the owlcache (group reads) or gossip (sync) peer list, saved at once to server_group_config.json / server_group_gossip_config.json. Token required. Pass and Token are always shown as \"\". " +
    "The answer is the JSON envelope; the HTTP status equals `Status`. GET takes the fields in the query string; POST in a urlencoded, multipart or JSON body, which is optional: fields may also be in the query string (the body's win).",
};
