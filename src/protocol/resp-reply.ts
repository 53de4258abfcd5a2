// The Redis protocol reply encoder: writes Reply values into a ByteWriter as RESP2, or as RESP3
// for a connection that said HELLO 3 (there nil is "_" and maps are maps).

import { exactInteger, isMapReply } from "../commands/redis-reply.ts";
import { StoredBulk, type Reply } from "../commands/reply.ts";
import { copyRange } from "../store/bytes.ts";
import type { ByteWriter } from "./byte-writer.ts";

const CR = 13;
const LF = 10;

export function writeRespReply(w: ByteWriter, reply: Reply, resp3: boolean): void {
  switch (reply.kind) {
    case "ok":
      w.ensure(5);
      w.buf[w.length] = 43; // +OK\r\n
      w.buf[w.length + 1] = 79;
      w.buf[w.length + 2] = 75;
      w.buf[w.length + 3] = CR;
      w.buf[w.length + 4] = LF;
      w.length += 5;
      return;
    case "bulk": {
      // A value read in place (StoredBulk) is copied from the store's bytes without a view.
      const stored = reply instanceof StoredBulk;
      const bytes = stored ? reply.bytes : reply.value;
      const start = stored ? reply.start : 0;
      const length = stored ? reply.length : bytes.length;
      w.ensure(length + 24);
      w.buf[w.length++] = 36; // $
      writeInteger(w, length);
      copyRange(w.buf, w.length, bytes, start, start + length);
      w.length += length;
      w.buf[w.length++] = CR;
      w.buf[w.length++] = LF;
      return;
    }
    case "nil":
      if (resp3) {
        w.text("_\r\n");
        return;
      }
      w.text("$-1\r\n");
      return;
    case "int":
      w.ensure(24);
      w.buf[w.length++] = 58; // :
      if (Number.isSafeInteger(reply.value)) {
        writeInteger(w, reply.value);
      } else {
        w.text(String(exactInteger(reply) ?? BigInt(Math.trunc(reply.value))));
        w.byte(CR);
        w.byte(LF);
      }
      return;
    case "simple":
      w.byte(43);
      w.text(oneLine(reply.text));
      w.byte(CR);
      w.byte(LF);
      return;
    case "array": {
      const map = resp3 && isMapReply(reply);
      w.ensure(24);
      w.buf[w.length++] = map ? 37 : 42; // % or *
      writeInteger(w, map ? reply.items.length / 2 : reply.items.length);
      for (const item of reply.items) writeRespReply(w, item, resp3);
      return;
    }
    case "error":
      w.byte(45);
      w.text(reply.error.respPrefix);
      w.byte(32);
      w.text(oneLine(reply.error.message));
      w.byte(CR);
      w.byte(LF);
      return;
  }
}

/** Writes a safe integer and CRLF; the caller has ensured 24 bytes of room. */
function writeInteger(w: ByteWriter, n: number): void {
  const buf = w.buf;
  if (n >= 0 && n < 10) {
    buf[w.length] = 48 + n;
    buf[w.length + 1] = CR;
    buf[w.length + 2] = LF;
    w.length += 3;
    return;
  }
  if (n < 0) {
    buf[w.length++] = 45;
    n = -n;
  }
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let i = w.length + digits - 1; i >= w.length; i--) {
    buf[i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  w.length += digits;
  buf[w.length++] = CR;
  buf[w.length++] = LF;
}

/** Status and error lines must not break the framing: redis-server turns CR and LF into spaces. */
function oneLine(text: string): string {
  return text.includes("\r") || text.includes("\n") ? text.replace(/[\r\n]/g, " ") : text;
}

/** A protocol error line as redis-server sends it before closing the connection. */
export function protocolErrorLine(message: string): string {
  return `-ERR Protocol error: ${oneLine(message)}\r\n`;
}
