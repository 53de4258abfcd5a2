// Runs one /data/ request through the engine: fields → the spec's positional arguments → a
// session whose write permission is the token → Reply → envelope (or raw bytes) Response.

import type { TokenService } from "../../auth/tokens.ts";
import type { Engine } from "../../commands/engine.ts";
import { CommandError } from "../../commands/errors.ts";
import { errorReply, type Reply } from "../../commands/reply.ts";
import type { HttpField, Session } from "../../commands/spec.ts";
import { envelopeFields } from "../../protocol/envelope.ts";
import { utf8 } from "../../store/bytes.ts";
import { tokenFromRequest } from "./request-token.ts";

export interface DataContext {
  readonly engine: Engine;
  readonly tokens: TokenService;
  /** ResponseHost:port, known once the server listens */
  responseHost: string;
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "x-content-type-options": "nosniff" } as const;
const RAW_HEADERS = { "content-type": "application/octet-stream", "x-content-type-options": "nosniff" } as const;
const EMPTY = new Uint8Array(0);

export function envelopeResponse(ctx: DataContext, cmd: string, key: string, reply: Reply): Response {
  const fields = envelopeFields(cmd, key, reply, ctx.responseHost);
  return new Response(JSON.stringify(fields), { status: fields.Status, headers: JSON_HEADERS });
}

/** An error envelope for a request that never reached a command (bad body, validation, size). */
export function errorResponse(ctx: DataContext, error: CommandError, cmd = "", key = ""): Response {
  return envelopeResponse(ctx, cmd, key, errorReply(error));
}

/** A field as bytes: text as UTF-8, a file part as its bytes, a JSON number as its digits. */
async function fieldBytes(value: unknown): Promise<Uint8Array | undefined> {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return utf8(value);
  if (typeof value === "number") return utf8(String(value));
  if (value instanceof Blob) return new Uint8Array(await value.arrayBuffer());
  throw new CommandError(500, "a field has a type that cannot be a command argument");
}

/**
 * The spec's arguments in order. A missing field in the middle becomes the empty value (a `set`
 * with exptime but no valuedata stores ""); missing fields at the end are left out, so the
 * engine's arity check answers "wrong number of arguments" as it does over TCP.
 */
async function argumentsOf(httpArgs: readonly HttpField[], fields: Record<string, unknown>): Promise<Uint8Array[]> {
  const args: Uint8Array[] = [];
  let present = 0;
  for (const name of httpArgs) {
    const bytes = await fieldBytes(fields[name]);
    args.push(bytes ?? EMPTY);
    if (bytes !== undefined) present = args.length;
  }
  args.length = present;
  return args;
}

function keyText(value: unknown): string {
  return typeof value === "string" ? value : "";
}

export async function runDataCommand(ctx: DataContext, request: Request, client: string, fields: Record<string, unknown>): Promise<Response> {
  const { engine } = ctx;
  const cmd = typeof fields.cmd === "string" ? fields.cmd.toLowerCase() : "";
  const key = keyText(fields.key);
  const spec = engine.lookup("owl", cmd);
  let reply: Reply;
  try {
    const args = spec?.httpArgs ? await argumentsOf(spec.httpArgs, fields) : [];
    const canWrite = spec !== undefined && spec.write && (await ctx.tokens.verify(tokenFromRequest(request, fields), client));
    const session: Session = { dialect: "owl", transport: "http", client, canRead: true, canWrite };
    reply = await engine.execute(session, spec, cmd, args);
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    reply = errorReply(error);
  }
  engine.beforeReply(); // the append log's group commit, before the answer leaves
  if (fields.format === "raw" && spec?.name === "get") {
    if (reply.kind === "bulk") return new Response(reply.value, { status: 200, headers: RAW_HEADERS });
    if (reply.kind === "nil") return new Response(null, { status: 404, headers: RAW_HEADERS });
  }
  return envelopeResponse(ctx, cmd, key, reply);
}
