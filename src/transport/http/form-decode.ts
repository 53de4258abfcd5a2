// Query strings and application/x-www-form-urlencoded bodies decoded to bytes, as the Go original
// read them (Go strings are bytes): `%FF%FE` is those two bytes, never U+FFFD nor the text
// "%FF%FE". Pure: text in, bytes or fields out.

const PERCENT = 37;
const PLUS = 43;
const SPACE = 32;

const encoder = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder("utf-8", { ignoreBOM: true });

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 65 && c <= 70) return c - 55; // A-F
  if (c >= 97 && c <= 102) return c - 87; // a-f
  return -1;
}

/**
 * The bytes a form or query value stands for: `%XX` is that byte, `+` a space (`plusIsSpace`),
 * any other character its UTF-8. A `%` not followed by two hex digits (`%G1`, a trailing `%`) is
 * kept as it is, with what follows: lenient, where Go's ParseQuery drops the whole field, because
 * a cache user would rather store the text sent than lose the request or the field.
 */
export function decodeFormValue(text: string, plusIsSpace = true): Uint8Array {
  // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 for 2); an escape, 1 for 3.
  const out = new Uint8Array(text.length * 3);
  let length = 0;
  let run = 0; // the start of the characters not yet written
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let byte: number;
    let next = i + 1;
    if (c === PERCENT && i + 2 < text.length && hexValue(text.charCodeAt(i + 1)) >= 0 && hexValue(text.charCodeAt(i + 2)) >= 0) {
      byte = hexValue(text.charCodeAt(i + 1)) * 16 + hexValue(text.charCodeAt(i + 2));
      next = i + 3;
    } else if (c === PLUS && plusIsSpace) byte = SPACE;
    else continue;
    if (run < i) length += encoder.encodeInto(text.slice(run, i), out.subarray(length)).written;
    out[length++] = byte;
    run = next;
    i = next - 1;
  }
  if (run < text.length) length += encoder.encodeInto(run === 0 ? text : text.slice(run), out.subarray(length)).written;
  return out.slice(0, length);
}

/** A decoded form value: its text, and its bytes when they are not UTF-8 (the text is then lossy, U+FFFD). */
export interface FormValue {
  readonly text: string;
  readonly bytes?: Uint8Array;
}

/** `text` decoded (see decodeFormValue); a value without `%` or `+` is itself. */
export function formValue(text: string): FormValue {
  if (text.indexOf("%") === -1 && text.indexOf("+") === -1) return { text };
  const bytes = decodeFormValue(text);
  try {
    return { text: strict.decode(bytes) };
  } catch {
    return { text: lenient.decode(bytes), bytes };
  }
}

/**
 * The fields of a query string or urlencoded body (`a=1&b=2`, no leading `?`): each name with its
 * FIRST value (a later repeat is not even decoded), `""` for a name without `=`. `bytes` holds the
 * exact bytes of each value that is not UTF-8; `fields` then holds its lossy text, so that schemas
 * and messages still see text. Names are compared as text (a name that is not UTF-8 names no field).
 */
export function parseForm(text: string): { fields: Record<string, string>; bytes: Map<string, Uint8Array> | undefined } {
  const fields: Record<string, string> = Object.create(null);
  let bytes: Map<string, Uint8Array> | undefined;
  let start = 0;
  while (start <= text.length) {
    let amp = text.indexOf("&", start);
    if (amp === -1) amp = text.length;
    let eq = text.indexOf("=", start);
    if (eq === -1 || eq > amp) eq = amp;
    if (amp > start) {
      const name = formValue(text.slice(start, eq)).text;
      if (!(name in fields)) {
        const value = eq === amp ? { text: "" } : formValue(text.slice(eq + 1, amp));
        fields[name] = value.text;
        if (value.bytes !== undefined) (bytes ??= new Map()).set(name, value.bytes);
      }
    }
    start = amp + 1;
  }
  return { fields, bytes };
}
