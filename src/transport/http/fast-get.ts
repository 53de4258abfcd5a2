// The hot path for `GET /data/?…` on Bun's native router: the query is split here and the command
// goes through the same runDataCommand; anything unusual (a repeated or undecodable field, no
// cmd, a bad format) is handed to the Elysia route so that validation answers exactly as there.

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

/**
 * The fields of a plain query, or undefined when the Elysia route should judge it. Other names
 * are ignored, as the route's schema allows extra fields.
 */
export function plainQuery(url: string): (QueryFields & Record<string, unknown>) | undefined {
  const q = url.indexOf("?");
  if (q === -1) return undefined;
  const fields: QueryFields = { cmd: undefined, key: undefined, valuedata: undefined, exptime: undefined, token: undefined, owl_token: undefined, pass: undefined, format: undefined };
  const end = url.length;
  let start = q + 1;
  while (start <= end) {
    let amp = url.indexOf("&", start);
    if (amp === -1) amp = end;
    if (amp > start) {
      let eq = url.indexOf("=", start);
      if (eq === -1 || eq > amp) eq = amp;
      const name = decode(url, start, eq);
      if (name === undefined) return undefined;
      if (FIELD_NAMES.has(name)) {
        const value = eq === amp ? "" : decode(url, eq + 1, amp);
        if (value === undefined || fields[name as FieldName] !== undefined) return undefined;
        fields[name as FieldName] = value;
      }
    }
    start = amp + 1;
  }
  if (fields.cmd === undefined) return undefined;
  if (fields.format !== undefined && fields.format !== "raw" && fields.format !== "json") return undefined;
  return fields as QueryFields & Record<string, unknown>;
}

function decode(url: string, from: number, to: number): string | undefined {
  const part = url.slice(from, to);
  if (part.indexOf("%") === -1 && part.indexOf("+") === -1) return part;
  try {
    return decodeURIComponent(part.replaceAll("+", " "));
  } catch {
    return undefined;
  }
}
