// Glob patterns of KEYS and SCAN MATCH, byte for byte as redis-server's stringmatchlen:
// * ? [abc] [^a-z] and \ escapes; bytes compare as C's signed chars do in ranges.

/** Recursion guard, as in redis-server: abusive patterns like "*a*a*a…" stop matching. */
const MAX_NESTING = 1000;

function signed(c: number): number {
  return (c << 24) >> 24;
}

export function globMatch(pattern: Uint8Array, subject: Uint8Array): boolean {
  if (pattern.length === 1 && pattern[0] === 42) return true;
  const state = { skipLonger: false };
  return match(pattern, 0, subject, 0, state, 0);
}

function match(pat: Uint8Array, p: number, str: Uint8Array, s: number, state: { skipLonger: boolean }, nesting: number): boolean {
  if (nesting > MAX_NESTING) return false;
  const plen = pat.length;
  const slen = str.length;
  while (p < plen && s < slen) {
    const c = pat[p]!;
    if (c === 42) {
      // '*'
      while (p + 1 < plen && pat[p + 1] === 42) p++;
      if (p + 1 === plen) return true;
      while (s < slen) {
        if (match(pat, p + 1, str, s, state, nesting + 1)) return true;
        if (state.skipLonger) return false;
        s++;
      }
      // The rest of the pattern matches nowhere in the rest of the string: an earlier '*'
      // taking more characters cannot help either.
      state.skipLonger = true;
      return false;
    } else if (c === 63) {
      // '?'
      s++;
    } else if (c === 91) {
      // '['
      p++;
      const not = pat[p] === 94;
      if (not) p++;
      let matched = false;
      const ch = str[s]!;
      for (;;) {
        if (pat[p] === 92 && plen - p >= 2) {
          p++;
          if (pat[p] === ch) matched = true;
        } else if (pat[p] === 93) {
          break;
        } else if (p >= plen) {
          p--;
          break;
        } else if (plen - p >= 3 && pat[p + 1] === 45) {
          let start = signed(pat[p]!);
          let end = signed(pat[p + 2]!);
          if (start > end) [start, end] = [end, start];
          p += 2;
          const sc = signed(ch);
          if (sc >= start && sc <= end) matched = true;
        } else if (pat[p] === ch) {
          matched = true;
        }
        p++;
      }
      if (not) matched = !matched;
      if (!matched) return false;
      s++;
    } else {
      if (c === 92 && plen - p >= 2) p++; // '\' escapes the next byte
      if (pat[p] !== str[s]) return false;
      s++;
    }
    p++;
    if (s === slen) {
      while (p < plen && pat[p] === 42) p++;
      break;
    }
  }
  return p === plen && s === slen;
}
