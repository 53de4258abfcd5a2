// Query strings and application/x-www-form-urlencoded bodies decoded to bytes, as the Go original
// read them (Go strings are bytes): `%FF%FE` is those two bytes, never U+FFFD nor the text
// "%FF%FE". Pure: text in, bytes or fields out.

const PERCENT = 37;
const PLUS = 43;
const SPACE = 32;

const encoder = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
/**
 * Text between escapes at least this long goes through TextEncoder (native, a copy for ASCII);
 * shorter text is written here character by character, where a slice and a call would cost more.
 */
const NATIVE_STRETCH = 64;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 65 && c <= 70) return c - 55; // A-F
  if (c >= 97 && c <= 102) return c - 87; // a-f
  return -1;
}

/** The byte of the escape `%XX` at `i`, or -1 when no two hex digits follow the `%`. */
function escapedByte(text: string, i: number): number {
  if (i + 2 >= text.length) return -1;
  const high = hexValue(text.charCodeAt(i + 1));
  const low = hexValue(text.charCodeAt(i + 2));
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

/** How many bytes decodeFormValue makes of `text`: its UTF-8, less 2 for each escape (3 characters, 1 byte). */
function decodedLength(text: string): number {
  let escapes = 0;
  for (let at = text.indexOf("%"); at !== -1; at = text.indexOf("%", at + 1)) {
    if (escapedByte(text, at) >= 0) {
      escapes++;
      at += 2;
    }
  }
  return Buffer.byteLength(text, "utf8") - 2 * escapes;
}

/**
 * The bytes a form or query value stands for: `%XX` is that byte, `+` a space (`plusIsSpace`),
 * any other character its UTF-8 (a lone surrogate U+FFFD, as TextEncoder writes it). A `%` not
 * followed by two hex digits (`%G1`, a trailing `%`) is kept as it is, with what follows:
 * lenient, where Go's ParseQuery drops the whole field, because a cache user would rather store
 * the text sent than lose the request or the field. The output is sized first (one array, no
 * copy after); 16 MiB take tens of milliseconds at most, escapes or not (bench/form-decode.bench.ts).
 */
export function decodeFormValue(text: string, plusIsSpace = true): Uint8Array {
  const out = new Uint8Array(decodedLength(text));
  const end = text.length;
  let at = 0;
  let run = 0; // characters since the last escape or +
  // where indexOf last found a `%` and a `+` (-1: none left, -2: not asked yet); each is asked
  // again only once passed, or a text with no `+` left would be searched to its end each time
  let percent = -2;
  let plus = plusIsSpace ? -2 : -1;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      const byte = c === PERCENT ? escapedByte(text, i) : c === PLUS && plusIsSpace ? SPACE : -1;
      if (byte >= 0) {
        out[at++] = byte;
        if (c === PERCENT) i += 2;
        run = 0;
        continue;
      }
      out[at++] = c;
    } else if (c < 0x800) {
      out[at++] = 0xc0 | (c >> 6);
      out[at++] = 0x80 | (c & 0x3f);
    } else {
      let point = c;
      if (c >= 0xd800 && c <= 0xdfff) {
        const low = c <= 0xdbff ? text.charCodeAt(i + 1) : NaN; // NaN past the end
        if (low >= 0xdc00 && low <= 0xdfff) {
          point = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          i++;
        } else point = 0xfffd; // a lone surrogate
      }
      if (point >= 0x10000) {
        out[at++] = 0xf0 | (point >> 18);
        out[at++] = 0x80 | ((point >> 12) & 0x3f);
      } else out[at++] = 0xe0 | (point >> 12);
      out[at++] = 0x80 | ((point >> 6) & 0x3f);
      out[at++] = 0x80 | (point & 0x3f);
    }
    if (++run === NATIVE_STRETCH) {
      // A long stretch without escapes: the rest of it goes through TextEncoder at once.
      if (percent !== -1 && percent <= i) percent = text.indexOf("%", i + 1);
      if (plus !== -1 && plus <= i) plus = text.indexOf("+", i + 1);
      let stop = percent === -1 ? end : percent;
      if (plus !== -1 && plus < stop) stop = plus;
      if (stop > i + 1) at += encoder.encodeInto(text.slice(i + 1, stop), out.subarray(at)).written;
      i = stop - 1;
      run = 0;
    }
  }
  return out;
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
