// How the HTTP routes read a request's fields, the same for every form of request (SPEC §7: GET
// query, POST form, multipart and JSON take the same fields with the same results): a field given
// more than once counts with its FIRST value, as in the original, which read fields with Go's
// r.FormValue. Elysia's own parsers give a repeated field as an array (bodies) or its last value
// (query), so the routes use these instead. Query strings and form bodies are percent-decoded to
// bytes (form-decode.ts): a value that is not UTF-8 reaches the command as its exact bytes.

import { CommandError } from "../../commands/errors.ts";
import { parseForm } from "./form-decode.ts";

export type Fields = Record<string, unknown>;

/**
 * Per request, the fields whose value came as bytes that are not UTF-8: the fields themselves hold
 * lossy text (U+FFFD) for the schemas and messages, and `withFieldBytes` gives the command the bytes.
 */
const fieldBytes = new WeakMap<Request, Map<string, Uint8Array>>();

function rememberBytes(request: Request, name: string, bytes: Uint8Array): void {
  let named = fieldBytes.get(request);
  if (named === undefined) fieldBytes.set(request, (named = new Map()));
  named.set(name, bytes);
}

/**
 * `fields` with each of `names` (a command's arguments) that came as bytes that are not UTF-8
 * given as those bytes (a copy then; else `fields` itself).
 */
export function withFieldBytes(request: Request, fields: Fields, names: readonly string[]): Fields {
  const named = fieldBytes.get(request);
  if (named === undefined) return fields;
  let copy: Fields | undefined;
  for (const name of names) {
    const bytes = named.get(name);
    if (bytes !== undefined) (copy ??= { ...fields })[name] = bytes;
  }
  return copy ?? fields;
}

/** The fields of the URL's query string, each with its first value (and the bytes of those that are not UTF-8). */
function queryForm(url: string): ReturnType<typeof parseForm> {
  const q = url.indexOf("?");
  return q === -1 ? { fields: Object.create(null), bytes: undefined } : parseForm(url.slice(q + 1));
}

/** The fields of the URL's query string, each with its first value. */
export function queryFields(url: string): Fields {
  return queryForm(url).fields;
}

/**
 * Most fields a body may carry. A request of any route uses fewer than ten; a body of up to 16 MiB
 * could otherwise hold a million empty ones, and building and checking an object of that many
 * names stalls the event loop for seconds (measured: 2.5 s for 1.5 million form fields, 2.4 s for
 * 700,000 JSON members) for every client, with no password needed.
 */
export const MAX_BODY_FIELDS = 256;

const tooManyFields = (): CommandError => new CommandError(500, `the body has more than ${MAX_BODY_FIELDS} fields`);

/** An application/x-www-form-urlencoded body: the query string's format. */
async function urlencodedFields(request: Request): Promise<Fields> {
  const text = await request.text(); // (UTF-8 text: a byte that is not UTF-8 must be %-escaped in a form)
  // Counted before parsing: at most MAX_BODY_FIELDS separators are looked for.
  let separators = 0;
  for (let at = text.indexOf("&"); at !== -1; at = text.indexOf("&", at + 1)) {
    if (++separators >= MAX_BODY_FIELDS) throw tooManyFields();
  }
  const { fields, bytes } = parseForm(text);
  if (bytes !== undefined) for (const [name, value] of bytes) rememberBytes(request, name, value);
  return fields;
}

/**
 * A multipart/form-data body: each part as it came (text, or a File for a file part). Unlike
 * Elysia's parser, no value is read as JSON and no name as a path (`a.b`, `a[0]`): a text part
 * means what the same field means in a query string.
 */
async function multipartFields(request: Request): Promise<Fields> {
  const type = request.headers.get("content-type") ?? "";
  const body = await request.arrayBuffer();
  // Counted before parsing, as a form's separators are: a part begins at each delimiter line,
  // and one more closes the body. (The boundary is case-sensitive: the header as sent.)
  const boundary = /;\s*boundary=(?:"([^"]*)"|([^;\s]*))/i.exec(type);
  if (boundary) {
    const bytes = Buffer.from(body);
    const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
    let delimiters = 0;
    for (let at = bytes.indexOf(delimiter); at !== -1; at = bytes.indexOf(delimiter, at + delimiter.length)) {
      if (++delimiters > MAX_BODY_FIELDS + 1) throw tooManyFields();
    }
  }
  const form = await new Response(body, { headers: { "content-type": type } }).formData();
  const fields: Fields = Object.create(null);
  let parts = 0;
  form.forEach((value, name) => {
    parts++;
    if (!(name in fields)) fields[name] = value;
  });
  if (parts > MAX_BODY_FIELDS) throw tooManyFields();
  return fields;
}

/** A request's fields: the query's, and the body's over them (a POST's body wins; an array or other non-object body adds none). */
export function fieldsOf(query: Record<string, unknown> | undefined, body: unknown): Record<string, unknown> {
  const fromBody = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  return { ...query, ...fromBody };
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/** The index just past the string that opens at `text[start]` (a `"`); -1 when it never closes. */
function stringEnd(text: string, start: number): number {
  let quote = text.indexOf('"', start + 1);
  for (;;) {
    if (quote === -1) return -1;
    let slashes = 0;
    while (text.charCodeAt(quote - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    quote = text.indexOf('"', quote + 1);
  }
}

/**
 * A JSON object with each repeated member name set to its FIRST value (JSON.parse keeps the
 * last). `text` is valid JSON whose value is `object`; only its top level is scanned (strings are
 * skipped with indexOf), and only a repeated name costs a second parse, of its first value.
 */
export function firstMembers(text: string, object: Fields): Fields {
  const first = new Map<string, [start: number, end: number]>();
  const repeated = new Set<string>();
  let depth = 0;
  let name: string | undefined; // the member whose value is being skipped, at depth 1
  let valueStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (depth === 1 && name === undefined) {
        name = JSON.parse(text.slice(i, end)) as string;
        valueStart = text.indexOf(":", end) + 1;
        i = valueStart - 1;
      } else i = end - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === COMMA && depth === 1) || (c === CLOSE_BRACE && depth === 1)) {
      if (name !== undefined) {
        if (first.has(name)) repeated.add(name);
        else first.set(name, [valueStart, i]);
      }
      name = undefined;
      if (c === CLOSE_BRACE) depth--;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  for (const member of repeated) {
    const [start, end] = first.get(member)!;
    // defineProperty: a member named __proto__ is a plain field, as JSON.parse made it.
    Object.defineProperty(object, member, { value: JSON.parse(text.slice(start, end)), writable: true, enumerable: true, configurable: true });
  }
  return object;
}

/**
 * The commas at the top level of a JSON text (members of an object after the first), counting no
 * further than `cap`. Any text, valid or not: strings are skipped with indexOf, an unterminated
 * one ends the count (JSON.parse then says what is wrong).
 */
export function topLevelCommas(text: string, cap: number): number {
  let depth = 0;
  let commas = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end === -1) return commas;
      i = end - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
    else if (c === COMMA && depth === 1 && ++commas >= cap) return commas;
  }
  return commas;
}

/**
 * A JSON body: an object of fields, or nothing (an empty body). Strict: malformed JSON, or JSON
 * that is not an object (null, an array, a string, a number), is a clear 500, never a silently
 * empty request.
 */
async function jsonFields(request: Request): Promise<Fields> {
  const text = await request.text();
  if (text.trim() === "") return {};
  const commas = topLevelCommas(text, MAX_BODY_FIELDS);
  if (commas >= MAX_BODY_FIELDS) throw tooManyFields();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CommandError(500, "the body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new CommandError(500, "the body is not a JSON object (of fields)");
  // A repeated member counts with its first value, as a repeated field does in every other form.
  // JSON.parse keeps one property per name, so as many properties as members (top-level commas
  // + 1) means no name repeats, and the body need not be read again.
  return commas === 0 || Object.keys(parsed).length === commas + 1 ? (parsed as Fields) : firstMembers(text, parsed as Fields);
}

/**
 * The route hooks that make a plugin read fields this way: `transform` replaces the query Elysia
 * parsed (before its schema checks it), `parseFields` reads JSON and form bodies (undefined: not
 * one of them, for the route's own parsers).
 */
export const firstValueHooks = {
  transform(context: { request: Request; query: Fields; body?: unknown }): void {
    const { fields, bytes } = queryForm(context.request.url);
    context.query = fields;
    // (the body is parsed before: a field it gives wins over the query's, bytes and all)
    const body = typeof context.body === "object" && context.body !== null ? context.body : {};
    if (bytes !== undefined) for (const [name, value] of bytes) if (!Object.hasOwn(body, name)) rememberBytes(context.request, name, value);
  },
  /** JSON and form bodies; `contentType` in lower case. */
  parseFields(request: Request, contentType: string): Promise<Fields> | undefined {
    if (contentType.startsWith("application/json")) return jsonFields(request);
    if (contentType.startsWith("application/x-www-form-urlencoded")) return urlencodedFields(request);
    if (contentType.startsWith("multipart/form-data")) return multipartFields(request);
    return undefined;
  },
};
