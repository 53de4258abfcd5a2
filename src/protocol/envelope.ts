// The JSON envelope of the original owlcache (SPEC §3.1), written straight into a ByteWriter.
// Field order is fixed: Cmd, Status, Results, Key, Data, ResponseHost, KeyCreateTime[, Message].

import { RESULTS, type Status } from "../commands/errors.ts";
import { StoredBulk, type Reply } from "../commands/reply.ts";
import { fromUtf8 } from "../store/bytes.ts";
import { ByteWriter, Run, RUN_SLACK } from "./byte-writer.ts";

export const ZERO_TIME = "0001-01-01T00:00:00Z";

export interface EnvelopeFields {
  Cmd: string;
  Status: Status;
  Results: string;
  Key: string;
  Data: unknown;
  ResponseHost: string;
  KeyCreateTime: string;
  Message?: string;
}

/** The status a reply maps to: nil is 404, an error its own status, anything else 200. */
export function replyStatus(reply: Reply): Status {
  if (reply.kind === "nil") return 404;
  if (reply.kind === "error") return reply.error.status;
  return 200;
}

/** The envelope's `Data` for a reply, as a plain JSON value. */
export function replyData(reply: Reply): unknown {
  switch (reply.kind) {
    case "bulk":
      return fromUtf8(reply.value);
    case "simple":
      return reply.text;
    case "int":
      return reply.value;
    case "array":
      return reply.items.map(replyData);
    default:
      return null;
  }
}

export function keyCreateTime(reply: Reply): string {
  return reply.kind === "bulk" && reply.writtenAt > 0 ? rfc3339(reply.writtenAt) : ZERO_TIME;
}

/** The envelope as an object (HTTP answers and anything built from a plain JSON value). */
export function envelopeFields(cmd: string, key: string, reply: Reply, responseHost: string): EnvelopeFields {
  const status = replyStatus(reply);
  const fields: EnvelopeFields = {
    Cmd: cmd,
    Status: status,
    Results: RESULTS[status],
    Key: key,
    Data: replyData(reply),
    ResponseHost: responseHost,
    KeyCreateTime: keyCreateTime(reply),
  };
  if (reply.kind === "error") fields.Message = reply.error.message;
  return fields;
}

const encoder = new TextEncoder();
const run = (text: string): Run => new Run(encoder.encode(text));

/**
 * Pre-quoted JSON of command names and hosts (they repeat on every reply); the last two looked up
 * are checked first, since a caller that quotes both a command and its host per reply (HTTP)
 * alternates between two texts.
 */
const quotedTexts = new Map<string, string>();
const MAX_QUOTED = 1000;
const recentTexts = ["", ""];
const recentQuoted = ['""', '""'];
let replaceNext = 0;

/** `JSON.stringify(text)`, kept for texts that repeat: what `writeEnvelope` takes as `cmdJson` and `hostJson`. */
export function quoted(text: string): string {
  if (text === recentTexts[0]) return recentQuoted[0]!;
  if (text === recentTexts[1]) return recentQuoted[1]!;
  let q = quotedTexts.get(text);
  if (q === undefined) {
    q = JSON.stringify(text);
    if (quotedTexts.size < MAX_QUOTED) quotedTexts.set(text, q);
  }
  recentTexts[replaceNext] = text;
  recentQuoted[replaceNext] = q;
  replaceNext ^= 1;
  return q;
}

/**
 * Constant runs of the envelope, encoded once: `{"Cmd":…,"Key":` per command and status, and the
 * host run. Keyed by the pre-quoted strings the transports keep, so a lookup hashes no new string.
 */
const prefixes = new Map<string, Map<Status, Run>>();
const hostRuns = new Map<string, Run>();
const MAX_CACHED = 4096;
const DATA_RUN = run(',"Data":');
const NULL_RUN = run("null");
const EMPTY_STRING_RUN = run('""');
const ZERO_TIME_RUN = run(ZERO_TIME + '"');
const MESSAGE_RUN = run(',"Message":');

/**
 * The last prefix asked for: replies of a pipeline mostly repeat one command and status. (Runs
 * by status are in a Map: statuses such as 200 as keys of a plain object make it a sparse
 * array, whose reads take a slow path.)
 */
let lastCmdJson = "";
let lastStatus = -1;
let lastPrefix = run("");

function prefixOf(cmdJson: string, status: Status): Run {
  if (status === lastStatus && cmdJson === lastCmdJson) return lastPrefix;
  let byStatus = prefixes.get(cmdJson);
  if (byStatus === undefined) {
    byStatus = new Map();
    if (prefixes.size < MAX_CACHED) prefixes.set(cmdJson, byStatus);
  }
  let prefix = byStatus.get(status);
  if (prefix === undefined) {
    prefix = run(`{"Cmd":${cmdJson},"Status":${status},"Results":"${RESULTS[status]}","Key":`);
    byStatus.set(status, prefix);
  }
  lastCmdJson = cmdJson;
  lastStatus = status;
  lastPrefix = prefix;
  return prefix;
}

let lastHostJson = "";
let lastHost = run("");

function hostRunOf(hostJson: string): Run {
  if (hostJson === lastHostJson) return lastHost;
  let host = hostRuns.get(hostJson);
  if (host === undefined) {
    host = run(`,"ResponseHost":${hostJson},"KeyCreateTime":"`);
    if (hostRuns.size < MAX_CACHED) hostRuns.set(hostJson, host);
  }
  lastHostJson = hostJson;
  lastHost = host;
  return host;
}

let minuteCached = Number.NaN;
let minutePrefix = "";
let minuteRun = run("");

/** Keeps "YYYY-MM-DDTHH:MM:" of the minute of `ms` (as text and a run); returns the ms into it. */
function enterMinute(ms: number): number {
  const minute = Math.floor(ms / 60_000);
  if (minute !== minuteCached) {
    minuteCached = minute;
    minutePrefix = new Date(minute * 60_000).toISOString().slice(0, -7);
    minuteRun = run(minutePrefix);
  }
  return ms - minute * 60_000;
}

/** RFC 3339 in UTC with milliseconds, like toISOString, reusing the "YYYY-MM-DDTHH:MM:" of the minute. */
export function rfc3339(ms: number): string {
  const rest = enterMinute(ms);
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${minutePrefix}${seconds < 10 ? "0" : ""}${seconds}.${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`;
}

/** Bytes of "SS.mmmZ\"" after the minute's run. */
const TIME_TAIL_BYTES = 8;

/**
 * Writes the time `rest` ms into the minute last entered (`enterMinute`) and the closing quote at
 * `at`, where room for `minuteRun.length + TIME_TAIL_BYTES + RUN_SLACK` is ensured; returns
 * where it ends.
 */
function putTime(w: ByteWriter, at: number, rest: number): number {
  at = w.putRun(at, minuteRun);
  const buf = w.buf;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  buf[at++] = 48 + Math.floor(seconds / 10);
  buf[at++] = 48 + (seconds % 10);
  buf[at++] = 46; // .
  buf[at++] = 48 + Math.floor(millis / 100);
  buf[at++] = 48 + (Math.floor(millis / 10) % 10);
  buf[at++] = 48 + (millis % 10);
  buf[at++] = 90; // Z
  buf[at++] = 34; // "
  return at;
}

/** Bytes the one-pass envelope writes besides its runs, key, value and time: four quotes and `}`. */
const STORED_MARKS = 5;

/** Most bytes of a key or value the one-pass envelope copies by loop (longer: checked, then set). */
const LOOP_COPY_BYTES = 64;

/**
 * Copies bytes [from, to) of `src` to `at` as the inside of a JSON string when none needs
 * escaping (printable ASCII without `"` or `\`); returns where they end, or -1 (nothing usable
 * written) when one does.
 */
function putPlain(buf: Uint8Array, at: number, src: Uint8Array, from: number, to: number): number {
  if (to - from <= LOOP_COPY_BYTES) {
    for (let i = from; i < to; i++) {
      const c = src[i]!;
      if (c < 0x20 || c > 0x7e || c === 34 || c === 92) return -1;
      buf[at++] = c;
    }
    return at;
  }
  for (let i = from; i < to; i++) {
    const c = src[i]!;
    if (c < 0x20 || c > 0x7e || c === 34 || c === 92) return -1;
  }
  buf.set(src.subarray(from, to), at);
  return at + to - from;
}

/**
 * The envelope of a value read in place with its key, in one pass: one `ensure`, the constant runs
 * a word at a time, key and value checked as they are copied. False (and `w` unchanged) when the
 * key or value needs escaping: the caller then takes the general path.
 */
function writeStoredEnvelope(w: ByteWriter, prefix: Run, key: Uint8Array, reply: StoredBulk, host: Run): boolean {
  const rest = reply.writtenAt > 0 ? enterMinute(reply.writtenAt) : -1;
  const time = rest >= 0 ? minuteRun.length + TIME_TAIL_BYTES : ZERO_TIME_RUN.length;
  w.ensure(prefix.length + key.length + DATA_RUN.length + reply.length + host.length + time + STORED_MARKS + RUN_SLACK);
  const buf = w.buf;
  let at = w.putRun(w.length, prefix);
  buf[at++] = 34;
  at = putPlain(buf, at, key, 0, key.length);
  if (at < 0) return false;
  buf[at++] = 34;
  at = w.putRun(at, DATA_RUN);
  buf[at++] = 34;
  at = putPlain(buf, at, reply.bytes, reply.start, reply.start + reply.length);
  if (at < 0) return false;
  buf[at++] = 34;
  at = w.putRun(at, host);
  at = rest >= 0 ? putTime(w, at, rest) : w.putRun(at, ZERO_TIME_RUN);
  buf[at++] = 125; // }
  w.length = at;
  return true;
}

/**
 * Writes the envelope for one reply. `cmdJson` and `hostJson` are pre-quoted JSON strings (they
 * repeat on every reply, so their runs are encoded once); key and value bytes are escaped here
 * without building strings when they are plain ASCII.
 */
export function writeEnvelope(w: ByteWriter, cmdJson: string, key: Uint8Array | undefined, reply: Reply, hostJson: string): void {
  const prefix = prefixOf(cmdJson, replyStatus(reply));
  const host = hostRunOf(hostJson);
  // The common reply, a value read in place, in one pass when nothing needs escaping.
  if (reply instanceof StoredBulk && key !== undefined && writeStoredEnvelope(w, prefix, key, reply, host)) return;
  w.run(prefix);
  if (key) writeJsonString(w, key);
  else w.run(EMPTY_STRING_RUN);
  w.run(DATA_RUN);
  switch (reply.kind) {
    case "bulk":
      if (reply instanceof StoredBulk) writeJsonRange(w, reply.bytes, reply.start, reply.start + reply.length);
      else writeJsonString(w, reply.value);
      break;
    case "simple":
      w.text(JSON.stringify(reply.text));
      break;
    case "int":
      w.decimal(reply.value);
      break;
    case "array":
      w.text(JSON.stringify(replyData(reply)));
      break;
    default:
      w.run(NULL_RUN);
  }
  w.run(host);
  if (reply.kind === "bulk" && reply.writtenAt > 0) {
    const rest = enterMinute(reply.writtenAt);
    w.ensure(minuteRun.length + TIME_TAIL_BYTES + RUN_SLACK);
    w.length = putTime(w, w.length, rest);
  } else {
    w.run(ZERO_TIME_RUN);
  }
  if (reply.kind === "error") {
    w.run(MESSAGE_RUN);
    w.text(JSON.stringify(reply.error.message));
  }
  w.byte(125);
}

/**
 * Appends bytes (UTF-8; invalid sequences become U+FFFD) as a JSON string literal. Plain ASCII is
 * copied while it is checked; anything needing escapes goes through JSON.stringify.
 */
export function writeJsonString(w: ByteWriter, bytes: Uint8Array): void {
  const n = bytes.length;
  w.ensure(n + 2);
  const buf = w.buf;
  const start = w.length;
  let at = start;
  buf[at++] = 34;
  if (n <= 64) {
    // Short (keys, small values): check and copy in one pass.
    for (let i = 0; i < n; i++) {
      const c = bytes[i]!;
      if (c < 0x20 || c > 0x7e || c === 34 || c === 92) return escaped(w, start, bytes);
      buf[at++] = c;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const c = bytes[i]!;
      if (c < 0x20 || c > 0x7e || c === 34 || c === 92) return escaped(w, start, bytes);
    }
    buf.set(bytes, at);
    at += n;
  }
  buf[at++] = 34;
  w.length = at;
}

/**
 * writeJsonString for bytes [from, to) of `bytes` (a value read in place, StoredBulk), without a
 * view. (writeJsonString keeps a loop of its own: through this function, the general path of an
 * envelope with a key, such as `set`'s, measured ~20 ns slower.)
 */
export function writeJsonRange(w: ByteWriter, bytes: Uint8Array, from: number, to: number): void {
  w.ensure(to - from + 2);
  const buf = w.buf;
  const start = w.length;
  buf[start] = 34;
  const at = putPlain(buf, start + 1, bytes, from, to);
  if (at < 0) return escaped(w, start, bytes.subarray(from, to));
  buf[at] = 34;
  w.length = at + 1;
}

/** The slow path of writeJsonString and writeJsonRange: drop what was copied, escape through JSON.stringify. */
function escaped(w: ByteWriter, start: number, bytes: Uint8Array): void {
  w.length = start;
  w.text(JSON.stringify(fromUtf8(bytes)));
}

/** Encodes one envelope as a JSON line (tests, tools). */
export function encodeEnvelopeLine(cmd: string, key: Uint8Array | undefined, reply: Reply, responseHost: string): Uint8Array {
  const w = new ByteWriter(256);
  writeEnvelope(w, JSON.stringify(cmd), key, reply, JSON.stringify(responseHost));
  w.byte(10);
  return w.view().slice();
}
