// The one mapping from whatever stops an HTTP request before or around a command (validation,
// bad body, unknown path, a bug) to the JSON envelope, whose Status is also the HTTP status.

import { CommandError } from "../../commands/errors.ts";
import type { Logger } from "../../log/logger.ts";
import { errorResponse, type DataContext } from "./data-command.ts";

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

export function errorToResponse(ctx: DataContext, log: Logger, code: string | number, error: unknown, request: Request): Response {
  if (error instanceof CommandError) return errorResponse(ctx, error);
  switch (code) {
    case "VALIDATION":
      return errorResponse(ctx, new CommandError(500, validationMessage(error)));
    case "PARSE": {
      // Our own parsers throw CommandErrors with the reason; Elysia wraps them.
      const cause = (error as { cause?: unknown }).cause;
      return errorResponse(ctx, cause instanceof CommandError ? cause : new CommandError(500, "the request body could not be parsed"));
    }
    case "NOT_FOUND":
      return errorResponse(ctx, new CommandError(404, `no route for ${request.method} ${new URL(request.url).pathname}`));
    default:
      log.error("http request failed", { path: new URL(request.url).pathname, error });
      return errorResponse(ctx, new CommandError(500, "internal error"));
  }
}
