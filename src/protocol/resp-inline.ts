// Inline Redis commands ("SET k v" typed into nc or telnet): words split as redis-server's
// sdssplitargs does, with "double quotes" (\n \r \t \b \a \xHH escapes) and 'single quotes'.

const BACKSLASH = 92;
const DQUOTE = 34;
const SQUOTE = 39;

/** isspace() of the C locale */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const ESCAPES: Record<number, number> = { 110: 10, 114: 13, 116: 9, 98: 8, 97: 7 };

/**
 * The words of one line, or undefined for unbalanced quotes (or a closing quote followed by
 * something other than a space). Unquoted words are views of `line`; quoted ones are copies.
 * Like the C original, a NUL byte ends the line.
 */
export function splitInline(line: Uint8Array): Uint8Array[] | undefined {
  const n = line.indexOf(0) === -1 ? line.length : line.indexOf(0);
  const at = (i: number): number => (i < n ? line[i]! : 0);
  const words: Uint8Array[] = [];
  let p = 0;
  for (;;) {
    while (p < n && isSpace(line[p]!)) p++;
    if (p >= n) return words;
    const start = p;
    let copy: number[] | null = null; // set once a quote makes the word differ from its bytes
    let inDouble = false;
    let inSingle = false;
    let end = n;
    for (let done = false; !done; ) {
      const c = at(p);
      if (inDouble) {
        if (c === BACKSLASH && at(p + 1) === 120 && hexValue(at(p + 2)) >= 0 && hexValue(at(p + 3)) >= 0) {
          copy!.push(hexValue(at(p + 2)) * 16 + hexValue(at(p + 3)));
          p += 3;
        } else if (c === BACKSLASH && at(p + 1) !== 0) {
          p++;
          copy!.push(ESCAPES[at(p)] ?? at(p));
        } else if (c === DQUOTE) {
          if (at(p + 1) !== 0 && !isSpace(at(p + 1))) return undefined;
          done = true;
        } else if (c === 0) {
          return undefined;
        } else {
          copy!.push(c);
        }
      } else if (inSingle) {
        if (c === BACKSLASH && at(p + 1) === SQUOTE) {
          p++;
          copy!.push(SQUOTE);
        } else if (c === SQUOTE) {
          if (at(p + 1) !== 0 && !isSpace(at(p + 1))) return undefined;
          done = true;
        } else if (c === 0) {
          return undefined;
        } else {
          copy!.push(c);
        }
      } else if (c === 32 || c === 10 || c === 13 || c === 9 || c === 0) {
        end = p;
        done = true;
      } else if (c === DQUOTE || c === SQUOTE) {
        copy ??= Array.from(line.subarray(start, p));
        if (c === DQUOTE) inDouble = true;
        else inSingle = true;
      } else if (copy) {
        copy.push(c);
      }
      if (p < n) p++;
    }
    words.push(copy ? Uint8Array.from(copy) : line.subarray(start, end));
  }
}
