// TypeBox schemas of the HTTP API: they validate every request field and describe it (with
// examples) in the OpenAPI document at /swagger/json.

import { t } from "elysia";
import { ZERO_TIME } from "../../protocol/envelope.ts";

const OWL_COMMANDS = ["get", "exist", "set", "expire", "delete", "pass", "ping"] as const;

function describeCommands(): string {
  return [
    "The command to run (case-insensitive).",
    "- `get` — the value of `key` (404 when missing); with `format=raw` the bytes themselves.",
    "- `exist` — 200 when `key` exists, 404 when not.",
    "- `set` — stores `valuedata` under `key`; with `exptime`, its time to live in seconds too. Needs a token.",
    "- `expire` — sets the time to live of `key` to `exptime` seconds (0 removes it). Needs a token.",
    "- `delete` — deletes `key` (404 when it did not exist). Needs a token.",
    "- `pass` — checks `pass` and answers a token in `Data`.",
    "- `ping` — answers `PONG`, or `valuedata` when given.",
    "Anything else answers 501 UNKNOWN_COMMAND.",
  ].join("\n");
}

const fieldDocs = {
  cmd: { description: describeCommands(), example: "get" },
  key: { description: "The key (any bytes but empty, UTF-8 in text forms; at most MaxKeyBytes).", example: "hello" },
  valuedata: {
    description: "The value for `set` (also the text for `ping`). In multipart/form-data it may be a file part: its bytes are stored as they are.",
    example: "world",
  },
  exptime: { description: "Seconds: the time to live for `set` and `expire` (0 removes it). A non-negative integer.", example: "60" },
  token: { description: "The token answered by `cmd=pass`; needed for `set`, `expire` and `delete`. Also accepted as `owl_token` or `Authorization: Bearer <token>`.", example: "eyJhbGciOiJIUzI1NiIs..." },
  owl_token: { description: "Same as `token` (the original owlcache's name).", example: "eyJhbGciOiJIUzI1NiIs..." },
  pass: { description: "The node's password, for `cmd=pass`.", example: "your-password" },
  format: { description: "`raw` with `cmd=get` answers the value's bytes as application/octet-stream (404 with an empty body when missing); `json` (default) answers the envelope.", example: "raw" },
} as const;

// OpenAPI 3.0 takes one `example` per schema (a parameter's `examples` must be a map, and Swagger
// UI fails to render an array there), so each field shows its first example.
const text = (doc: { description: string; example: string }) => t.String({ description: doc.description, example: doc.example });

/** GET /data/: every field is a query-string text. */
export const dataQuery = t.Object(
  {
    cmd: text(fieldDocs.cmd),
    key: t.Optional(text(fieldDocs.key)),
    valuedata: t.Optional(text(fieldDocs.valuedata)),
    exptime: t.Optional(text(fieldDocs.exptime)),
    token: t.Optional(text(fieldDocs.token)),
    owl_token: t.Optional(text(fieldDocs.owl_token)),
    pass: t.Optional(text(fieldDocs.pass)),
    format: t.Optional(t.Union([t.Literal("raw"), t.Literal("json")], { description: fieldDocs.format.description, example: fieldDocs.format.example })),
  },
  { additionalProperties: true, description: "Fields of a /data/ request." },
);

/** POST /data/: the same fields in a form or JSON body; JSON may give exptime as a number, multipart the value as a file. */
export const dataBody = t.Object(
  {
    cmd: t.Optional(t.String({ description: `${fieldDocs.cmd.description}\nRequired, in the body or the query string.`, example: fieldDocs.cmd.example })),
    key: t.Optional(text(fieldDocs.key)),
    valuedata: t.Optional(t.Union([text(fieldDocs.valuedata), t.File({ description: "the value's bytes" })], { description: fieldDocs.valuedata.description })),
    exptime: t.Optional(t.Union([text(fieldDocs.exptime), t.Integer({ minimum: 0, example: 60 })], { description: fieldDocs.exptime.description, example: 60 })),
    token: t.Optional(text(fieldDocs.token)),
    owl_token: t.Optional(text(fieldDocs.owl_token)),
    pass: t.Optional(text(fieldDocs.pass)),
    format: t.Optional(t.Union([t.Literal("raw"), t.Literal("json")], { description: fieldDocs.format.description, example: fieldDocs.format.example })),
  },
  { additionalProperties: true, description: "Fields of a /data/ request." },
);

export type DataFields = Record<string, unknown>;

/** The JSON envelope every answer is (SPEC §3.1). */
export const envelopeSchema = t.Object(
  {
    Cmd: t.String({ description: "the command, lower case", example: "get" }),
    Status: t.Integer({ description: "200, 401, 404, 413, 500 or 501; also the HTTP status", example: 200 }),
    Results: t.String({ description: "SUCCESS, NOT_PASS, NOT_FOUND, ERROR or UNKNOWN_COMMAND", example: "SUCCESS" }),
    Key: t.String({ description: "the key of the request, or empty", example: "hello" }),
    Data: t.Any({ description: "the value (get), the token (pass), the text (ping), or null", example: "world" }),
    ResponseHost: t.String({ description: "ResponseHost:port of the node that answered", example: "127.0.0.1:7721" }),
    KeyCreateTime: t.String({ description: `RFC 3339 time of the key's last write (get), else ${ZERO_TIME}`, example: "2026-11-26T10:00:00.000Z" }),
    Message: t.Optional(t.String({ description: "a human-readable reason, on errors", example: "wrong number of arguments for 'get' command" })),
  },
  { description: "The JSON envelope of owlcache (field order fixed)." },
);

const envelopeAs = (description: string) => t.Object(envelopeSchema.properties, { description });

/** One documented response per status; each is the envelope (raw `get` aside). */
export const envelopeResponses = {
  200: envelopeAs("SUCCESS. With `cmd=get&format=raw`: the value's bytes as application/octet-stream instead."),
  401: envelopeAs("NOT_PASS: no valid token for a write, a wrong password, or too many wrong passwords (Message says which)."),
  404: envelopeAs("NOT_FOUND: the key is missing (an empty body with `format=raw`)."),
  413: envelopeAs("ERROR: the request body is larger than the limit."),
  500: envelopeAs("ERROR: a missing or invalid field (Message says which)."),
  501: envelopeAs("UNKNOWN_COMMAND: `cmd` is not one of the commands above."),
};

export const OWL_HTTP_COMMANDS = OWL_COMMANDS;
