// The one mapping from whatever stops an HTTP request before or around a command (validation,
// bad body, unknown path, a bug) to the JSON envelope, whose Status is also the HTTP status.

import { CommandError } from "../../commands/errors.ts";
import type { Logger } from "../../log/logger.ts";
import { errorResponse, type DataContext } from "./data-command.ts";
import { fieldsOf } from "./request-fields.ts";

interface ValidationIssue {
  readonly path?: string;
  readonly message?: string;
}

function validationMessage(error: unknown): string {
  const all = (error as { all?: readonly ValidationIssue[] }).all;
  const first = Array.isArray(all) ? all[0] : undefined;
  if (!first) return "invalid request";
  const field = (first.path ?? "").replace(/^\//, "").replace(/\//g, ".");
  return field ? `invalid field ${field}: ${first.message ?? "wrong type"}` : `invalid request: ${first.message ?? "wrong type"}`;
}

/** What the request got parsed into before it failed (query before body; either may be missing). */
export interface RequestFields {
  readonly query?: unknown;
  readonly body?: unknown;
}

/**
 * A field of the request as its envelope echoes it: the body's, else the query's (the body wins,
 * as when the command runs); "" when absent or not text (a bad type is what failed).
 */
function echoed(fields: RequestFields, name: string): string {
  const query = typeof fields.query === "object" && fields.query !== null ? (fields.query as Record<string, unknown>) : undefined;
  const value = fieldsOf(query, fields.body)[name];
  return typeof value === "string" ? value : "";
}

export function errorToResponse(ctx: DataContext, log: Logger, code: string | number, error: unknown, request: Request, fields: RequestFields = {}): Response {
  // An error of a request whose cmd and key are known echoes them, as every other answer does
  // (SPEC §3.1); Cmd in lower case, as the commands answer it.
  const answer = (failure: CommandError) => errorResponse(ctx, failure, echoed(fields, "cmd").toLowerCase(), echoed(fields, "key"));
  if (error instanceof CommandError) return answer(error);
  switch (code) {
    case "VALIDATION":
      return answer(new CommandError(500, validationMessage(error)));
    case "PARSE": {
      // Our own parsers throw CommandErrors with the reason; Elysia wraps them.
      const cause = (error as { cause?: unknown }).cause;
      return answer(cause instanceof CommandError ? cause : new CommandError(500, "the request body could not be parsed"));
    }
    case "NOT_FOUND":
      return errorResponse(ctx, new CommandError(404, `no route for ${request.method} ${new URL(request.url).pathname}`));
    default:
      log.error("http request failed", { path: new URL(request.url).pathname, error });
      return errorResponse(ctx, new CommandError(500, "internal error"));
  }
}
