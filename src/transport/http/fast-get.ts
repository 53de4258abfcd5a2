// The hot path for `GET /data/?…` on Bun's native router: the query is split here and the command
// goes through the same runDataCommand (a plain `get` through runGet); anything unusual (a field
// %-escaped as bytes that are not UTF-8 or with a malformed escape, no cmd, a bad format) is
// handed to the Elysia route, which reads such bytes exactly (form-decode.ts) and validates. A
// repeated field counts with its first value, as everywhere (request-fields.ts).

import { runDataCommand, runGet, type DataContext } from "./data-command.ts";

/** The /data/ fields, in one fixed shape so that the engine path sees a single object layout. */
export interface QueryFields {
  cmd: string | undefined;
  key: string | undefined;
  valuedata: string | undefined;
  exptime: string | undefined;
  token: string | undefined;
  owl_token: string | undefined;
  pass: string | undefined;
  format: string | undefined;
}

type FieldName = keyof QueryFields;
const FIELD_NAMES = new Set<string>(["cmd", "key", "valuedata", "exptime", "token", "owl_token", "pass", "format"]);
const PERCENT = 37;
const PLUS = 43;

/**
 * The field a plain (unencoded) name at `url[from..to)` names, compared in place so that no
 * string is made for it; undefined for any other name.
 */
function fieldAt(url: string, from: number, to: number): FieldName | undefined {
  switch (to - from) {
    case 3:
      if (url.startsWith("cmd", from)) return "cmd";
      if (url.startsWith("key", from)) return "key";
      return undefined;
    case 4:
      return url.startsWith("pass", from) ? "pass" : undefined;
    case 5:
      return url.startsWith("token", from) ? "token" : undefined;
    case 6:
      return url.startsWith("format", from) ? "format" : undefined;
    case 7:
      return url.startsWith("exptime", from) ? "exptime" : undefined;
    case 9:
      if (url.startsWith("valuedata", from)) return "valuedata";
      if (url.startsWith("owl_token", from)) return "owl_token";
      return undefined;
    default:
      return undefined;
  }
}

/** True when `url[from..to)` holds a `%` or a `+`, i.e. needs decoding. */
function encoded(url: string, from: number, to: number): boolean {
  if (to - from > 64) {
    const percent = url.indexOf("%", from);
    const plus = url.indexOf("+", from);
    return (percent !== -1 && percent < to) || (plus !== -1 && plus < to);
  }
  for (let i = from; i < to; i++) {
    const c = url.charCodeAt(i);
    if (c === PERCENT || c === PLUS) return true;
  }
  return false;
}

function noFields(): QueryFields {
  return { cmd: undefined, key: undefined, valuedata: undefined, exptime: undefined, token: undefined, owl_token: undefined, pass: undefined, format: undefined };
}

/**
 * The fields of a plain query, or undefined when the Elysia route should judge it. Other names
 * are ignored, as the route's schema allows extra fields. Names are matched in place; only the
 * values of known fields become strings.
 */
export function plainQuery(url: string): (QueryFields & Record<string, unknown>) | undefined {
  const fields = noFields();
  return readQuery(url, fields) ? (fields as QueryFields & Record<string, unknown>) : undefined;
}

/** plainQuery into `fields` (every field is set); false when the Elysia route should judge it. */
function readQuery(url: string, fields: QueryFields): boolean {
  fields.cmd = fields.key = fields.valuedata = fields.exptime = fields.token = fields.owl_token = fields.pass = fields.format = undefined;
  const q = url.indexOf("?");
  if (q === -1) return false;
  const end = url.length;
  let start = q + 1;
  while (start <= end) {
    let amp = url.indexOf("&", start);
    if (amp === -1) amp = end;
    if (amp > start) {
      let eq = url.indexOf("=", start);
      if (eq === -1 || eq > amp) eq = amp;
      let name = fieldAt(url, start, eq);
      if (name === undefined && encoded(url, start, eq)) {
        // An encoded name (rare): decode it to see whether it is one of ours.
        const decoded = decode(url, start, eq);
        if (decoded === undefined) return false;
        if (FIELD_NAMES.has(decoded)) name = decoded as FieldName;
      }
      // A field seen before keeps its first value; a later one is not even decoded.
      if (name !== undefined && fields[name] === undefined) {
        // `cmd=get`, the usual case, as the literal: no string is made for it.
        const value = eq === amp ? "" : name === "cmd" && amp - eq === 4 && url.startsWith("get", eq + 1) ? "get" : decode(url, eq + 1, amp);
        if (value === undefined) return false;
        fields[name] = value;
      }
    }
    start = amp + 1;
  }
  if (fields.cmd === undefined) return false;
  if (fields.format !== undefined && fields.format !== "raw" && fields.format !== "json") return false;
  return true;
}

/**
 * The fields of the request being answered: a plain `get` only reads its key from them before
 * anything can wait, so one object serves every request; other commands get their own copy.
 */
const current = noFields();

/**
 * The answer to a `GET /data/` request, or undefined when the Elysia route should answer it.
 * `addressOf` gives the socket address; it is only asked by commands that use it (writes, pass).
 */
export function answerQuery(ctx: DataContext, request: Request, addressOf: (request: Request) => string): Response | Promise<Response> | undefined {
  if (!readQuery(request.url, current)) return undefined;
  if (current.key !== undefined && current.format !== "raw" && isGet(current.cmd!)) return runGet(ctx, current.key);
  return runDataCommand(ctx, request, addressOf, { ...current });
}

/** `cmd=get` in any case, as the engine looks names up. */
export function isGet(cmd: string): boolean {
  return cmd === "get" || (cmd.length === 3 && cmd.toLowerCase() === "get");
}

/** A field's text; undefined (the route judges) when it is not UTF-8 or has a malformed escape. */
function decode(url: string, from: number, to: number): string | undefined {
  const part = url.slice(from, to);
  if (!encoded(url, from, to)) return part;
  try {
    return decodeURIComponent(part.replaceAll("+", " "));
  } catch {
    return undefined;
  }
}
