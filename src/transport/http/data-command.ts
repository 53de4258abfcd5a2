// Runs one /data/ request through the engine: fields → the spec's positional arguments → a
// session whose write permission is the token → Reply → envelope (or raw bytes) Response.

import type { TokenService } from "../../auth/tokens.ts";
import type { Engine } from "../../commands/engine.ts";
import { CommandError, type Status } from "../../commands/errors.ts";
import { errorReply, type Reply } from "../../commands/reply.ts";
import type { HttpField, Session } from "../../commands/spec.ts";
import { ByteWriter } from "../../protocol/byte-writer.ts";
import { quoted, replyStatus, writeEnvelope } from "../../protocol/envelope.ts";
import { utf8 } from "../../store/bytes.ts";
import { EnvelopeMemo, type MemoEntry } from "./envelope-memo.ts";
import { withFieldBytes } from "./request-fields.ts";
import { tokenFromRequest } from "./request-token.ts";

export interface DataContext {
  readonly engine: Engine;
  readonly tokens: TokenService;
  /** ResponseHost:port, known once the server listens */
  responseHost: string;
  /** encoded `get` answers of hot keys (absent: always encode) */
  readonly memo?: EnvelopeMemo;
}

export function newDataContext(deps: { readonly engine: Engine; readonly tokens: TokenService; readonly config: { readonly ResponseHost: string; readonly Httpport: number } }): DataContext {
  return { engine: deps.engine, tokens: deps.tokens, responseHost: `${deps.config.ResponseHost}:${deps.config.Httpport}`, memo: new EnvelopeMemo() };
}

// Headers objects made once: Bun copies a Headers instance into each Response far faster than it
// builds one from a plain object (≈0.2 µs a response), and the copy keeps responses independent.
const JSON_HEADERS = new Headers({ "content-type": "application/json; charset=utf-8", "x-content-type-options": "nosniff" });
const RAW_HEADERS = new Headers({ "content-type": "application/octet-stream", "x-content-type-options": "nosniff" });
const RAW_FOUND: ResponseInit = { status: 200, headers: RAW_HEADERS };
const RAW_MISSING: ResponseInit = { status: 404, headers: RAW_HEADERS };
/** One ResponseInit per envelope status, reused by every answer. */
const jsonInits = new Map<Status, ResponseInit>();

export function jsonInit(status: Status): ResponseInit {
  let init = jsonInits.get(status);
  if (init === undefined) {
    init = { status, headers: JSON_HEADERS };
    jsonInits.set(status, init);
  }
  return init;
}
const JSON_OK = jsonInit(200);
const EMPTY = new Uint8Array(0);

/** One writer reused by every answer (a response body is a copy of its bytes). */
const writer = new ByteWriter(4096);
function encodeEnvelope(ctx: DataContext, cmd: string, key: string | Uint8Array, reply: Reply): Uint8Array {
  writer.length = 0;
  writeEnvelope(writer, quoted(cmd), typeof key === "string" ? utf8(key) : key, reply, quoted(ctx.responseHost));
  const body = writer.view().slice();
  if (writer.length > 64 * 1024) writer.buf = new Uint8Array(4096); // a huge value must not stay pinned
  return body;
}

/** The envelope (SPEC §3.1) as the body; the HTTP status is its Status. */
export function envelopeResponse(ctx: DataContext, cmd: string, key: string | Uint8Array, reply: Reply): Response {
  return new Response(encodeEnvelope(ctx, cmd, key, reply), jsonInit(replyStatus(reply)));
}

/** A successful `get`: the memoised envelope when the same value was answered before. */
function valueResponse(ctx: DataContext, keyText: string, keyBytes: Uint8Array, value: Uint8Array, writtenAt: number, reply: Reply): Response {
  const memo = ctx.memo;
  if (memo === undefined) return envelopeResponse(ctx, "get", keyBytes, reply);
  const entry = memo.entry(keyText);
  if (entry !== undefined && entry.answers(ctx.responseHost, value, writtenAt)) return new Response(entry.body, JSON_OK);
  const body = encodeEnvelope(ctx, "get", keyBytes, reply);
  memo.remember(ctx.responseHost, keyText, keyBytes, value, writtenAt, body);
  return new Response(body, JSON_OK);
}

/**
 * The session of every runGet: a read needs no token and no address. `get` only reads it (as
 * runDataCommand's reads, whose session is the same but for a fresh object).
 */
const PUBLIC_READ: Session = { dialect: "owl", transport: "http", client: "", canRead: true, canWrite: false };

/**
 * `cmd=get` of a text key with the envelope as the answer (the GET fast path): the same engine
 * call and answer as runDataCommand, in functions that see only this shape of request, so the JIT
 * keeps them monomorphic whatever the Elysia routes pass through runDataCommand. A key answered
 * before lends its memoised bytes as the argument, so nothing is encoded on a hit.
 */
export function runGet(ctx: DataContext, key: string): Response | Promise<Response> {
  const entry = ctx.memo?.entry(key);
  const keyBytes = entry === undefined ? utf8(key) : entry.keyBytes;
  const reply = ctx.engine.execute(PUBLIC_READ, ctx.engine.lookup("owl", "get"), "get", [keyBytes]);
  if (reply instanceof Promise) return reply.then((settled) => getAnswer(ctx, key, keyBytes, entry, settled));
  return getAnswer(ctx, key, keyBytes, entry, reply);
}

function getAnswer(ctx: DataContext, key: string, keyBytes: Uint8Array, entry: MemoEntry | undefined, reply: Reply): Response {
  ctx.engine.beforeReply(); // the append log's group commit, before the answer leaves
  if (reply.kind !== "bulk") return envelopeResponse(ctx, "get", keyBytes, reply);
  if (entry !== undefined && entry.answers(ctx.responseHost, reply.value, reply.writtenAt)) return new Response(entry.body, JSON_OK);
  return valueResponse(ctx, key, keyBytes, reply.value, reply.writtenAt, reply);
}

/** An error envelope for a request that never reached a command (bad body, validation, size). */
export function errorResponse(ctx: DataContext, error: CommandError, cmd = "", key = ""): Response {
  return envelopeResponse(ctx, cmd, key, errorReply(error));
}

/** A field as bytes: text as UTF-8, a JSON number as its digits; undefined when absent. */
function textBytes(value: unknown): Uint8Array | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return utf8(value);
  if (typeof value === "number") return utf8(String(value));
  throw new CommandError(500, "a field has a type that cannot be a command argument");
}

/**
 * The spec's arguments in order. A missing field in the middle becomes the empty value (a `set`
 * with exptime but no valuedata stores ""); missing fields at the end are left out, so the
 * engine's arity check answers "wrong number of arguments" as it does over TCP. File parts are
 * read by the caller first (`readFileFields`), so this stays synchronous for the common case.
 */
function argumentsOf(httpArgs: readonly HttpField[], fields: Record<string, unknown>): Uint8Array[] {
  const args: Uint8Array[] = [];
  let present = 0;
  for (let i = 0; i < httpArgs.length; i++) {
    const value = fields[httpArgs[i]!];
    const bytes = value instanceof Uint8Array ? value : textBytes(value);
    args.push(bytes ?? EMPTY);
    if (bytes !== undefined) present = i + 1;
  }
  return present === args.length ? args : args.slice(0, present);
}

/** Multipart file parts (and raw bodies) become bytes before the command runs. */
async function readFileFields(fields: Record<string, unknown>): Promise<Record<string, unknown>> {
  return { ...fields, valuedata: new Uint8Array(await (fields.valuedata as Blob).arrayBuffer()) };
}

function hasFiles(fields: Record<string, unknown>): boolean {
  // Only valuedata can usefully be a file; other fields must be text (validated by the route).
  return fields.valuedata instanceof Blob;
}

function keyText(value: unknown): string | Uint8Array {
  return typeof value === "string" || value instanceof Uint8Array ? value : "";
}

/**
 * Runs one request. Synchronous for reads with text fields (the hot path: no promise, no token
 * check, no socket-address lookup); writes wait for the token check, file parts for their bytes.
 * `client` may be a function of the request: the address is only looked up for commands that use it.
 */
export function runDataCommand(
  ctx: DataContext,
  request: Request,
  client: string | ((request: Request) => string),
  sent: Record<string, unknown>,
): Response | Promise<Response> {
  if (hasFiles(sent)) return readFileFields(sent).then((read) => runDataCommand(ctx, request, client, read));
  const { engine } = ctx;
  const cmd = typeof sent.cmd === "string" ? sent.cmd.toLowerCase() : "";
  const spec = engine.lookup("owl", cmd);
  // An argument sent %-escaped as bytes that are not UTF-8 is those bytes (a key too: then no memo).
  const fields = spec?.httpArgs ? withFieldBytes(request, sent, spec.httpArgs) : sent;
  let args: Uint8Array[];
  try {
    args = spec?.httpArgs ? argumentsOf(spec.httpArgs, fields) : [];
  } catch (error) {
    return finish(ctx, cmd, fields, undefined, spec?.name, failure(error));
  }
  const key = spec?.httpArgs?.[0] === "key" ? args[0] : undefined;
  const needsAddress = spec !== undefined && (spec.write || spec.public === true);
  const address = typeof client === "string" ? client : needsAddress ? client(request) : "";
  if (spec !== undefined && spec.write && !spec.public) {
    return ctx.tokens.verify(tokenFromRequest(request, fields), address).then((canWrite) => {
      const session: Session = { dialect: "owl", transport: "http", client: address, canRead: true, canWrite };
      return settle(ctx, cmd, fields, key, spec.name, engine.execute(session, spec, cmd, args));
    });
  }
  const session: Session = { dialect: "owl", transport: "http", client: address, canRead: true, canWrite: false };
  return settle(ctx, cmd, fields, key, spec?.name, engine.execute(session, spec, cmd, args));
}

function failure(error: unknown): Reply {
  if (error instanceof CommandError) return errorReply(error);
  throw error;
}

type KeyBytes = Uint8Array | undefined;

function settle(ctx: DataContext, cmd: string, fields: Record<string, unknown>, key: KeyBytes, name: string | undefined, reply: Reply | Promise<Reply>): Response | Promise<Response> {
  if (reply instanceof Promise) return reply.then((settled) => finish(ctx, cmd, fields, key, name, settled));
  return finish(ctx, cmd, fields, key, name, reply);
}

function finish(ctx: DataContext, cmd: string, fields: Record<string, unknown>, key: KeyBytes, name: string | undefined, reply: Reply): Response {
  ctx.engine.beforeReply(); // the append log's group commit, before the answer leaves
  if (name === "get" && fields.format === "raw") {
    // A copy: the store may reuse the memory a view points into once the next command runs.
    if (reply.kind === "bulk") return new Response(reply.value.slice(), RAW_FOUND);
    if (reply.kind === "nil") return new Response(null, RAW_MISSING);
  }
  if (name === "get" && reply.kind === "bulk" && key !== undefined && typeof fields.key === "string") {
    return valueResponse(ctx, fields.key, key, reply.value, reply.writtenAt, reply);
  }
  return envelopeResponse(ctx, cmd, key ?? keyText(fields.key), reply);
}
