// The slice of memcached's text protocol read-through needs: encode `get <key>`, parse its answer
// (VALUE <key> <flags> <bytes> [<cas>] / data / END, or END alone). Pure: bytes and offsets in.

import { copyBytes } from "../store/bytes.ts";

const CR = 13;
const LF = 10;
const SPACE = 32;
/** memcached refuses longer keys (KEY_MAX_LENGTH) */
export const MAX_KEY_BYTES = 250;
/** A header line is at most "VALUE " + 250-byte key + three numbers; past this the peer is not memcached. */
const MAX_HEADER_BYTES = 512;

export type GetAnswer =
  /** `end` is the index just past the answer */
  | { readonly kind: "value"; readonly value: Uint8Array; readonly end: number }
  | { readonly kind: "miss"; readonly end: number }
  /** an error line the server sent for this request; the stream stays in step */
  | { readonly kind: "server-error"; readonly message: string; readonly end: number }
  | { readonly kind: "pending" }
  /** not memcached's protocol: the connection cannot be trusted any more */
  | { readonly kind: "protocol-error"; readonly message: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const GET = encoder.encode("get ");
const CRLF = encoder.encode("\r\n");
const END = "END";

/** memcached keys: 1..250 bytes, no spaces or control characters. */
export function isValidKey(key: Uint8Array): boolean {
  if (key.length === 0 || key.length > MAX_KEY_BYTES) return false;
  for (let i = 0; i < key.length; i++) {
    const b = key[i]!;
    if (b <= SPACE || b === 127) return false;
  }
  return true;
}

export function encodeGet(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(GET.length + key.length + CRLF.length);
  out.set(GET, 0);
  out.set(key, GET.length);
  out.set(CRLF, GET.length + key.length);
  return out;
}

/** Parses the answer to one `get` starting at `offset` in `buf[0..length)`. */
export function parseGetAnswer(buf: Uint8Array, offset: number, length = buf.length): GetAnswer {
  const lf = buf.subarray(0, length).indexOf(LF, offset);
  if (lf < 0) {
    return length - offset > MAX_HEADER_BYTES ? { kind: "protocol-error", message: "header line too long" } : { kind: "pending" };
  }
  if (lf === offset || buf[lf - 1] !== CR) return { kind: "protocol-error", message: "line without CRLF" };
  const line = decoder.decode(buf.subarray(offset, lf - 1));
  const afterLine = lf + 1;
  if (line === END) return { kind: "miss", end: afterLine };
  if (line === "ERROR" || line.startsWith("CLIENT_ERROR") || line.startsWith("SERVER_ERROR")) {
    return { kind: "server-error", message: line, end: afterLine };
  }
  const words = line.split(" ");
  if (words[0] !== "VALUE" || words.length < 4 || words.length > 5) return { kind: "protocol-error", message: `unexpected line ${JSON.stringify(line.slice(0, 80))}` };
  const bytes = words[3]!;
  if (!/^\d{1,10}$/.test(bytes)) return { kind: "protocol-error", message: `bad length ${JSON.stringify(bytes)}` };
  const size = Number(bytes);
  const dataEnd = afterLine + size;
  const end = dataEnd + 2 + END.length + 2;
  if (length < end) return { kind: "pending" };
  if (buf[dataEnd] !== CR || buf[dataEnd + 1] !== LF) return { kind: "protocol-error", message: "value not followed by CRLF" };
  const tail = dataEnd + 2;
  if (buf[tail] !== 69 || buf[tail + 1] !== 78 || buf[tail + 2] !== 68 || buf[tail + 3] !== CR || buf[tail + 4] !== LF) {
    return { kind: "protocol-error", message: "value not followed by END" };
  }
  return { kind: "value", value: copyBytes(buf.subarray(afterLine, dataEnd)), end };
}
