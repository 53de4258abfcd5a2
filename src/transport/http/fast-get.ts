// The hot path for `GET /data/?…` on Bun's native router: the query is split here and the command
// goes through the same runDataCommand; anything unusual (a repeated or undecodable field, no
// cmd, a bad format) is handed to the Elysia route so that validation answers exactly as there.

/** The fields of a plain query, or undefined when the Elysia route should judge it. */
export function plainQuery(url: string): Record<string, string> | undefined {
  const q = url.indexOf("?");
  if (q === -1) return undefined;
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  let start = q + 1;
  const end = url.length;
  while (start <= end) {
    let amp = url.indexOf("&", start);
    if (amp === -1) amp = end;
    if (amp > start) {
      const eq = url.indexOf("=", start);
      const split = eq === -1 || eq > amp ? amp : eq;
      const name = decode(url, start, split);
      const value = split === amp ? "" : decode(url, split + 1, amp);
      if (name === undefined || value === undefined || name in fields) return undefined;
      fields[name] = value;
    }
    start = amp + 1;
  }
  if (typeof fields.cmd !== "string") return undefined;
  const format = fields.format;
  if (format !== undefined && format !== "raw" && format !== "json") return undefined;
  return fields;
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
